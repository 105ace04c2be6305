"""Annual savings of replayed national batches on their first-year agreed volume.

For every row of the published agreed volumes (batch, lot, province, spec) the saving is

    agreed volume x (pre-tender reference price - award price)

summed by lot and batch, with the fund/patient split at a reimbursement rate ``rho``
(fund = ``rho`` x saving, patients = the rest). Prices are yuan per smallest unit, volumes smallest units
per year (first contract year), so spends are yuan per year.

Choices (see ``docs/circulation.md``, "Savings on replayed batches 2 and 4"):

- **Volume**: the published first-year *agreed* volume only (约定采购量), never reported demand or total
  use. What the agreed volume leaves out is quantified separately: reported demand is agreed volume /
  the preset's agreed share for the published number of winners (50-80%), and ``saving_on_demand`` is
  the saving if the same per-lot cut applied to all reported demand.
- **Pre-tender price** (``reference="spec-median"``, the default): the published ``pre_median_price`` is
  a *per-bid* figure (each firm's own median purchase price before the tender, per smallest unit of the
  spec it bid; blank when unpublished), not one figure per spec: one spec of one lot carries up to 11
  different values. The reference of a spec is the median of the published figures of the bids on that
  spec. A spec with volume but no published figure (not bid, or bid only by firms without one) takes the
  median of the lot's figures converted to it by the NDRC content ratio (差比价, the preset's
  ``comparable_factors``), flagged ``derived``. A lot without any published figure has no reference: its
  rows are counted, listed in ``missing`` and left out of the saving (never priced at zero).
  Alternatives (``reference=``): ``winner-own`` (the province winner's own published median, converted
  to the row's spec; rows whose winner has none are unpriced) and ``ceiling`` (the published maximum
  valid bid price; a conservative reference, it is itself below most pre-tender prices).
- **Award price**: each province's volume at the price of the firm the *published* results name as its
  primary supplier (``provinces`` column), converted to the row's spec by the same ratios when the
  winner bid another strength (exactly its bid on the spec it bid). Also at the *replay's predicted*
  awards: the preset's winners and rank-order province picking (``procurement.rules.engine.run_rules``
  on the replayed tender, pick policy ``largest-volume``), priced on the same published agreed volume.
- **Missing data** is never dropped silently: volume of failed lots (no bid), provinces with volume but
  no published winner, specs that match no tendered spec, rows without reference or predicted price,
  non-numeric or negative volumes: every one is a row of :attr:`BatchSavings.missing` and a count in
  the summary.

Published national figures (``../shared/domain/vbp-rules.md`` section 7) give no per-batch saving for
batch 2 or batch 4; :data:`PUBLISHED_FIGURES` holds the comparable figures derived from the published
aggregates, with the arithmetic and the citations.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from procurement.io.atomic import atomic_dir
from procurement.io.results import jsonable

if TYPE_CHECKING:
    from procurement.io.published import PublishedBatch
    from procurement.replay import ReplayResult

#: Pre-tender reference price bases (see the module docstring).
REFERENCE_BASES = ("spec-median", "winner-own", "ceiling")
VOLUME_COLUMNS = ("batch", "province", "lot", "spec", "agreed_volume_units")
BN = 1e9

#: Kinds of rows in :attr:`BatchSavings.missing`.
MISSING_KINDS = {
    "failed_lot": "volume of a lot without any bid (failed lot): no award price; not in the saving",
    "unmatched_spec": "volume spec matches no spec of the replayed tender: not in the saving",
    "bad_volume": "agreed volume not a number or negative: not in the saving",
    "no_published_winner": "province with volume but no published primary supplier: not in the saving",
    "duplicate_winner": "province listed by two published winners: priced at the first in file order",
    "no_reference": "no pre-tender reference price on the chosen basis: not in the saving",
    "derived_reference": "reference derived from the lot's other specs by the content ratio (still priced)",
    "no_predicted_award": "no predicted award for the row: not in the predicted saving",
}


@dataclass(frozen=True)
class PublishedFigure:
    """A published national figure to compare a batch's measured saving with.

    Attributes:
        batch: batch label.
        saving_bn: annual saving, bn yuan per year, as published or derived from published aggregates.
        fund_bn, patients_bn: the published fund/patient split carried over, or None.
        average_cut: the official average price cut of the batch, or None.
        derivation: how ``saving_bn`` follows from the published figures.
        source: citation (section of ``vbp-rules.md`` and the original sources with their tags).
    """

    batch: str
    saving_bn: float
    fund_bn: float | None
    patients_bn: float | None
    average_cut: float | None
    derivation: str
    source: str


_SCIO = ("vbp-rules.md s.7, 'Cumulative and aggregate claims', Nov 2020: 3 rounds (pilot, extension, batches "
         "2-3), 112 molecules, 53.9 bn yuan/yr saved, 32.3 bn fund + 21.6 bn patients at 60% reimbursement "
         "[C] english.scio.gov.cn/pressroom/2020-11/20/content_77176027.htm; chinadaily 2020-12-04")
_EVERSANA = ("vbp-rules.md s.7, Jun 2021: four rounds, 157 molecules, annual savings about 67 bn since the pilot "
             "[C2] eversana.com/ja/2021/06/23/chinas-5th-round-vbp-largest-yet/")

#: Comparable national figures for batches 2 and 4. Section 7 of vbp-rules.md lists no per-batch saving
#: for either ("n/a"), so both are derived [D] from the published aggregates.
PUBLISHED_FIGURES: dict[str, PublishedFigure] = {
    "2": PublishedFigure(
        batch="2", saving_bn=53.9 * 32 / 112, fund_bn=32.3 * 32 / 112, patients_bn=21.6 * 32 / 112,
        average_cut=0.53,
        derivation="53.9 bn for the 112 molecules of rounds 1-3 apportioned by molecule count: "
                   "53.9 x 32/112 = 15.4 bn (no per-batch figure published; average cut 53% is [U])",
        source=_SCIO),
    "4": PublishedFigure(
        batch="4", saving_bn=67.0 - 53.9, fund_bn=None, patients_bn=None, average_cut=0.52,
        derivation="about 67 bn for four rounds (157 molecules) minus 53.9 bn for the first three (112): "
                   "67 - 53.9 = 13.1 bn for batch 4's 45 molecules (157 - 112 = 45); average cut 52% [C2]",
        source=_EVERSANA + "; " + _SCIO),
}


@dataclass(frozen=True, eq=False)
class BatchSavings:
    """Output of :func:`batch_savings`.

    Attributes:
        batches: one row per batch: ``lots``, ``lots_priced``, ``agreed_volume`` (units/yr),
            ``agreed_volume_priced``, ``spend_before`` and ``spend_after`` (yuan/yr, priced rows),
            ``saving``, ``cut``, ``fund``, ``patients``; the same at the replay's predicted awards
            (``*_predicted``); ``spend_after_all`` (award spend of every row with a winner, priced or
            not), ``unpriced_volume``, ``unpriced_spend_after``; ``reported_demand``, ``agreed_share``
            and ``saving_on_demand``; sensitivity savings ``saving_winner_own`` / ``saving_ceiling`` with
            the volume they cover; the published figure and ``ratio`` (measured / published).
        lots: one row per lot, the same columns as ``batches`` (batch totals are exactly the sums of
            their lots), plus ``lot_id``, ``lot``, ``winners``, ``agreed_share_rule``.
        rows: one row per published volume row of a replayed lot: prices on every basis, the chosen
            ``reference_price`` and ``reference_source`` (published / derived / none), the published
            and predicted supplier and price, and the spends.
        missing: one row per (kind, batch, lot, spec): ``rows``, ``provinces``, ``volume``, ``note``.
        summary: parameters, row counts by kind and the headline figures.
    """

    batches: pd.DataFrame
    lots: pd.DataFrame
    rows: pd.DataFrame
    missing: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------
# Inputs


def _typed_volumes(volumes: pd.DataFrame | str | Path) -> pd.DataFrame:
    if isinstance(volumes, str | Path):
        from procurement.io.published import read_volumes

        frame = read_volumes(volumes)
    elif isinstance(volumes, pd.DataFrame):
        frame = volumes
    else:
        raise TypeError(f"volumes must be a path or a DataFrame, got {type(volumes).__name__}")
    missing = [c for c in VOLUME_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"batch_savings: the volumes table lacks column(s) {', '.join(missing)}; "
                         f"required: {', '.join(VOLUME_COLUMNS)}")
    out = pd.DataFrame({c: frame[c].astype(str).str.strip() for c in ("batch", "province", "lot", "spec")})
    out["agreed_volume_units"] = pd.to_numeric(frame["agreed_volume_units"], errors="coerce").to_numpy(float)
    return out.reset_index(drop=True)


def _volumes_from_tenders(result: ReplayResult) -> pd.DataFrame:
    """Published agreed volumes rebuilt from the replayed tenders: demand x published agreed share.

    ``build_batches`` sets reported demand = agreed volume / share(published winners), so this gives the
    published volumes back (zero-volume rows, which are not demand, excepted; they add nothing).
    """
    parts = []
    for pb in result.batches:
        t = pb.tender
        winners = pb.rows.groupby("lot_id")["won"].sum()
        klass = t.lots.set_index("lot_id")["share_class"]
        share = {lot: (t.rules.volume_share(int(winners.get(lot, 0)), klass[lot]) if winners.get(lot, 0) else 1.0)
                 for lot in t.lots["lot_id"]}
        specs = t.specs.set_index("spec_id")
        lot_id = specs.loc[t.demand["spec_id"], "lot_id"].to_numpy()
        names = pb.rows.groupby("lot_id")["lot"].first()
        text = _spec_text(pb)
        parts.append(pd.DataFrame({
            "batch": pb.batch, "province": t.demand["region_id"].to_numpy(), "lot": names.loc[lot_id].to_numpy(),
            "spec": [text[s] for s in t.demand["spec_id"]],
            "agreed_volume_units": t.demand["volume"].to_numpy(float) * np.array([share[x] for x in lot_id])}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(VOLUME_COLUMNS))


def _spec_text(pb: PublishedBatch) -> dict[str, str]:
    """spec_id -> a specification string (as bid; specs never bid get their parsed strength)."""
    out = dict(zip(pb.rows["spec_id"], pb.rows["spec"], strict=True))
    for sid, strength, unit, fill in zip(pb.tender.specs["spec_id"], pb.tender.specs["strength"],
                                         pb.tender.specs["unit"], pb.tender.specs["fill_volume"], strict=True):
        if sid not in out:
            out[sid] = (f"{fill:g}ml:" if pd.notna(fill) else "") + f"{strength:g}{unit}"
    return out


def _replay_inputs(source: Any, volumes: Any) -> tuple[ReplayResult, pd.DataFrame]:
    from procurement.replay import ReplayResult, replay

    if isinstance(source, ReplayResult):
        vol = _volumes_from_tenders(source) if volumes is None else _typed_volumes(volumes)
        return source, vol
    if isinstance(source, str | Path):
        bids_path = Path(source)
        if volumes is None:
            sibling = bids_path.with_name("volumes.csv")
            if not sibling.is_file():
                raise ValueError(f"batch_savings: no volumes given and {sibling} does not exist")
            volumes = sibling
        if isinstance(volumes, str | Path):
            return replay(bids_path, volumes), _typed_volumes(volumes)
        with tempfile.TemporaryDirectory(prefix="batch-savings-") as tmp:
            vpath = Path(tmp) / "volumes.csv"
            _typed_volumes(volumes).to_csv(vpath, index=False)
            return replay(bids_path, vpath), _typed_volumes(volumes)
    if isinstance(source, pd.DataFrame):
        if volumes is None:
            raise ValueError("batch_savings: a bids DataFrame needs a volumes table (DataFrame or path)")
        vol = _typed_volumes(volumes)
        with tempfile.TemporaryDirectory(prefix="batch-savings-") as tmp:
            bpath, vpath = Path(tmp) / "bids.csv", Path(tmp) / "volumes.csv"
            source.to_csv(bpath, index=False)
            vol.to_csv(vpath, index=False)
            return replay(bpath, vpath), vol
    raise TypeError("batch_savings: source must be a ReplayResult, a path to a bids.csv-format table or "
                    f"a DataFrame in that format, got {type(source).__name__}")


# ---------------------------------------------------------------------------------------------------
# One batch


def _match_specs(pb: PublishedBatch, vol: pd.DataFrame) -> np.ndarray:
    """spec_id of every volume row (lot_id already set); None where no tendered spec matches."""
    from procurement.io.published import parse_spec

    by_text = dict(zip(zip(pb.rows["lot_id"], pb.rows["spec"], strict=True), pb.rows["spec_id"], strict=True))
    specs = pb.tender.specs
    out = np.empty(len(vol), dtype=object)
    cache: dict[tuple[str, str], str | None] = {}
    for k, (lot_id, spec) in enumerate(zip(vol["lot_id"], vol["spec"], strict=True)):
        key = (lot_id, spec)
        if key not in cache:
            sid = by_text.get(key)
            if sid is None:
                try:
                    p = parse_spec(spec)
                except ValueError:
                    p = None
                if p is not None:
                    cand = specs[(specs["lot_id"] == lot_id) & (specs["unit"] == p.unit)
                                 & np.isclose(specs["strength"].to_numpy(float), p.strength, rtol=1e-9)]
                    fill = cand["fill_volume"].to_numpy(float)
                    same_fill = np.isnan(fill) if p.fill_volume is None else np.isclose(fill, p.fill_volume)
                    cand = cand[same_fill]
                    sid = str(cand["spec_id"].iloc[0]) if len(cand) == 1 else None
            cache[key] = sid
        out[k] = cache[key]
    return out


def _missing_rows(kind: str, frame: pd.DataFrame, batch: str) -> list[dict]:
    if frame.empty:
        return []
    g = frame.groupby(["lot", "spec"], sort=False).agg(rows=("province", "size"),
                                                       provinces=("province", "nunique"),
                                                       volume=("agreed_volume_units", "sum"))
    return [{"kind": kind, "batch": batch, "lot": lot, "spec": spec, "rows": int(r.rows),
             "provinces": int(r.provinces), "volume": float(r.volume), "note": MISSING_KINDS[kind]}
            for (lot, spec), r in g.iterrows()]


def _batch_rows(pb: PublishedBatch, vol: pd.DataFrame, reference: str,
                predicted: bool) -> tuple[pd.DataFrame, pd.DataFrame, list[dict]]:
    from procurement.rules.comparable import comparable_factors
    from procurement.rules.engine import run_rules

    t = pb.tender
    rows = pb.rows
    missing: list[dict] = []
    factors = comparable_factors(t.specs, t.lots, t.rules)
    lot_of = rows.groupby("lot", sort=False)["lot_id"].first()
    vol = vol.copy()
    vol["lot_id"] = vol["lot"].map(lot_of)
    failed = vol[vol["lot_id"].isna()]
    missing += _missing_rows("failed_lot", failed, pb.batch)
    vol = vol[vol["lot_id"].notna()].copy()
    vol["spec_id"] = _match_specs(pb, vol)
    missing += _missing_rows("unmatched_spec", vol[vol["spec_id"].isna()], pb.batch)
    vol = vol[vol["spec_id"].notna()]
    bad = ~(np.isfinite(vol["agreed_volume_units"].to_numpy(float)) & (vol["agreed_volume_units"] >= 0))
    missing += _missing_rows("bad_volume", vol[bad], pb.batch)
    vol = vol[~bad].reset_index(drop=True)

    f_row = factors.loc[vol["spec_id"]].to_numpy(float)
    # published winners by (lot, province)
    won = rows[rows["won"]].assign(_f=lambda d: factors.loc[d["spec_id"]].to_numpy(float))
    won = won.assign(province=won["provinces"].fillna("").str.split(";")).explode("province")
    won["province"] = won["province"].astype(str).str.strip()
    won = won[won["province"] != ""]
    dup = won.duplicated(["lot_id", "province"], keep="first")
    if dup.any():
        keys = set(zip(won.loc[dup, "lot_id"], won.loc[dup, "province"], strict=True))
        hit = [k in keys for k in zip(vol["lot_id"], vol["province"], strict=True)]
        missing += _missing_rows("duplicate_winner", vol[hit], pb.batch)
    won = won[~dup]
    win = vol[["lot_id", "province"]].merge(
        won[["lot_id", "province", "supplier_id", "firm_short", "bid_price", "pre_median_price", "_f"]],
        on=["lot_id", "province"], how="left")
    award = win["bid_price"].to_numpy(float) * win["_f"].to_numpy(float) / f_row
    own = win["pre_median_price"].to_numpy(float) * win["_f"].to_numpy(float) / f_row
    has_volume = vol["agreed_volume_units"].to_numpy(float) > 0
    no_winner = win["supplier_id"].isna().to_numpy() & has_volume
    missing += _missing_rows("no_published_winner", vol[no_winner], pb.batch)

    # spec-median reference: median of the published per-bid figures on the spec; else the lot's
    # figures converted by the content ratio
    spec_med = rows.groupby("spec_id")["pre_median_price"].median()
    comp = rows["pre_median_price"] * factors.loc[rows["spec_id"]].to_numpy(float)
    lot_comp = comp.groupby(rows["lot_id"]).median()
    published_med = vol["spec_id"].map(spec_med).to_numpy(float)
    derived_med = vol["lot_id"].map(lot_comp).to_numpy(float) / f_row
    spec_median = np.where(np.isfinite(published_med), published_med, derived_med)
    ceiling = t.specs.set_index("spec_id").loc[vol["spec_id"], "ceiling_price"].to_numpy(float)
    basis = {"spec-median": spec_median, "winner-own": own, "ceiling": ceiling}
    ref = basis[reference]
    if reference == "spec-median":
        source = np.where(np.isfinite(published_med), "published",
                          np.where(np.isfinite(derived_med), "derived", "none"))
    else:
        source = np.where(np.isfinite(ref), "published", "none")
    derived = (source == "derived") & has_volume
    missing += _missing_rows("derived_reference", vol[derived], pb.batch)
    no_ref = ~np.isfinite(ref) & has_volume & ~no_winner
    missing += _missing_rows("no_reference", vol[no_ref], pb.batch)

    out = vol[["lot_id", "lot", "province", "spec", "spec_id", "agreed_volume_units"]].rename(
        columns={"agreed_volume_units": "agreed_volume"})
    out.insert(0, "batch", pb.batch)
    out["supplier_id"] = win["supplier_id"].to_numpy()
    out["winner"] = win["firm_short"].to_numpy()
    out["award_price"] = award
    out["reference_price"] = ref
    out["reference_source"] = source
    out["ref_spec_median"] = spec_median
    out["ref_winner_own"] = own
    out["ref_ceiling"] = ceiling
    out["predicted_supplier_id"] = None
    out["predicted_award_price"] = np.nan
    if predicted:
        supply = run_rules(t).supply
        key = supply.set_index(["lot_id", "region_id", "spec_id"])[["supplier_id", "award_price"]]
        idx = key.index.get_indexer(pd.MultiIndex.from_arrays([out["lot_id"], out["province"], out["spec_id"]]))
        found = idx >= 0
        pred_sup = np.full(len(out), None, dtype=object)
        pred_price = np.full(len(out), np.nan)
        pred_sup[found] = key["supplier_id"].to_numpy()[idx[found]]
        pred_price[found] = key["award_price"].to_numpy(float)[idx[found]]
        out["predicted_supplier_id"] = pred_sup
        out["predicted_award_price"] = pred_price
        missing += _missing_rows("no_predicted_award", vol[~found & has_volume], pb.batch)

    q = out["agreed_volume"].to_numpy(float)
    priced = np.isfinite(ref) & np.isfinite(award)
    out["priced"] = priced
    out["spend_before"] = np.where(priced, q * ref, np.nan)
    out["spend_after"] = np.where(np.isfinite(award), q * award, np.nan)
    pred_ok = priced & np.isfinite(out["predicted_award_price"].to_numpy(float))
    out["spend_after_predicted"] = np.where(pred_ok, q * out["predicted_award_price"].to_numpy(float), np.nan)
    for name, r in (("winner_own", own), ("ceiling", ceiling)):
        ok = np.isfinite(r) & np.isfinite(award)
        out[f"saving_{name}"] = np.where(ok, q * (r - award), np.nan)
        out[f"volume_{name}"] = np.where(ok, q, 0.0)

    winners = rows.groupby("lot_id", sort=False)["won"].sum()
    klass = t.lots.set_index("lot_id")["share_class"]
    lot_info = pd.DataFrame({"lot_id": winners.index, "winners": winners.to_numpy(np.int64)})
    lot_info["agreed_share_rule"] = [t.rules.volume_share(int(w), klass[lot]) if w > 0 else np.nan
                                     for lot, w in zip(lot_info["lot_id"], lot_info["winners"], strict=True)]
    lot_info["lot"] = lot_info["lot_id"].map(rows.groupby("lot_id")["lot"].first())
    lot_info.insert(0, "batch", pb.batch)
    return out, lot_info, missing


# ---------------------------------------------------------------------------------------------------
# Totals

_SUMS = ("agreed_volume", "agreed_volume_priced", "spend_before", "spend_after", "spend_before_predicted",
         "spend_after_predicted", "spend_after_all", "unpriced_volume", "unpriced_spend_after",
         "derived_reference_volume", "saving_winner_own", "volume_winner_own", "saving_ceiling",
         "volume_ceiling", "reported_demand", "saving_on_demand")


def _lot_table(rows: pd.DataFrame, lot_info: pd.DataFrame) -> pd.DataFrame:
    q = rows["agreed_volume"].to_numpy(float)
    priced = rows["priced"].to_numpy(bool)
    pred = np.isfinite(rows["spend_after_predicted"].to_numpy(float))
    after = rows["spend_after"].to_numpy(float)
    per_row = pd.DataFrame({
        "batch": rows["batch"], "lot_id": rows["lot_id"],
        "agreed_volume": q,
        "agreed_volume_priced": np.where(priced, q, 0.0),
        "spend_before": np.where(priced, rows["spend_before"], 0.0),
        "spend_after": np.where(priced, after, 0.0),
        "spend_before_predicted": np.where(pred, rows["spend_before"], 0.0),
        "spend_after_predicted": np.where(pred, rows["spend_after_predicted"], 0.0),
        "spend_after_all": np.nan_to_num(after),
        "unpriced_volume": np.where(priced, 0.0, q),
        "unpriced_spend_after": np.where(priced, 0.0, np.nan_to_num(after)),
        "derived_reference_volume": np.where(rows["reference_source"] == "derived", q, 0.0),
        "saving_winner_own": np.nan_to_num(rows["saving_winner_own"].to_numpy(float)),
        "volume_winner_own": rows["volume_winner_own"].to_numpy(float),
        "saving_ceiling": np.nan_to_num(rows["saving_ceiling"].to_numpy(float)),
        "volume_ceiling": rows["volume_ceiling"].to_numpy(float),
    })
    lots = per_row.groupby(["batch", "lot_id"], sort=False).sum().reset_index()
    lots = lot_info.merge(lots, on=["batch", "lot_id"], how="left")
    for col in per_row.columns[2:]:
        lots[col] = lots[col].fillna(0.0)
    share = lots["agreed_share_rule"].to_numpy(float)
    lots["reported_demand"] = np.where(share > 0, lots["agreed_volume"] / share, lots["agreed_volume"])
    lots["saving"] = lots["spend_before"] - lots["spend_after"]
    lots["saving_on_demand"] = np.where(share > 0, lots["saving"] / share, lots["saving"])
    lots["lots_priced"] = (lots["agreed_volume_priced"] > 0).astype(np.int64)
    return lots


def _derive(frame: pd.DataFrame, rho: float) -> pd.DataFrame:
    """Ratios and splits from the summed columns (applied alike to lots and batches)."""
    f = frame
    with np.errstate(invalid="ignore", divide="ignore"):
        f["saving"] = f["spend_before"] - f["spend_after"]
        f["cut"] = np.where(f["spend_before"] > 0, f["saving"] / f["spend_before"], np.nan)
        f["fund"] = rho * f["saving"]
        f["patients"] = f["saving"] - f["fund"]
        f["saving_predicted"] = f["spend_before_predicted"] - f["spend_after_predicted"]
        f["cut_predicted"] = np.where(f["spend_before_predicted"] > 0,
                                      f["saving_predicted"] / f["spend_before_predicted"], np.nan)
        f["fund_predicted"] = rho * f["saving_predicted"]
        f["patients_predicted"] = f["saving_predicted"] - f["fund_predicted"]
        f["agreed_share"] = np.where(f["reported_demand"] > 0, f["agreed_volume"] / f["reported_demand"], np.nan)
    return f


def _batch_table(lots: pd.DataFrame, rho: float) -> pd.DataFrame:
    cols = list(_SUMS) + ["lots_priced"]
    g = lots.groupby("batch", sort=False)
    batches = g[cols].sum().reset_index()
    batches.insert(1, "lots", g.size().to_numpy(np.int64))
    batches = _derive(batches, rho)
    pub = [PUBLISHED_FIGURES.get(str(b)) for b in batches["batch"]]
    batches["published_saving"] = [p.saving_bn * BN if p else np.nan for p in pub]
    batches["published_average_cut"] = [p.average_cut if p and p.average_cut is not None else np.nan for p in pub]
    batches["ratio"] = batches["saving"] / batches["published_saving"]
    batches["published_source"] = [f"{p.derivation}. Source: {p.source}" if p else "" for p in pub]
    return batches


def batch_savings(source: ReplayResult | pd.DataFrame | str | Path,
                  volumes: pd.DataFrame | str | Path | None = None, *, reimbursement: float = 0.6,
                  reference: str = "spec-median", predicted: bool = True) -> BatchSavings:
    """Annual savings of replayed national batches on their first-year agreed volume.

    Args:
        source: a :class:`~procurement.replay.ReplayResult`, or a published-results table in the format
            of ``../shared/data/vbp/bids.csv`` (path or DataFrame), which is then replayed under the
            batch presets.
        volumes: first-year agreed volumes in the format of ``volumes.csv`` (path or DataFrame). None:
            ``volumes.csv`` next to a bids path, or, for a ReplayResult, the volumes rebuilt from its
            tenders (demand x published agreed share; the failed lots' volume is then unknown).
        reimbursement: the fund's share of each yuan saved (fund = rate x saving, patients = the rest).
        reference: pre-tender price basis, one of :data:`REFERENCE_BASES`.
        predicted: also price the volume at the replay's predicted awards (runs the rules engine).

    Returns:
        :class:`BatchSavings`. Money in yuan per year; ``cut`` = saving / spend before.

    Raises:
        ValueError: bad ``reimbursement`` or ``reference``, or a volumes table lacking a column.
        TypeError: unsupported ``source`` or ``volumes`` type.
        TenderFileErrors: the published tables are invalid (as :func:`procurement.replay.replay`).
    """
    if not (isinstance(reimbursement, int | float) and 0.0 <= float(reimbursement) <= 1.0):
        raise ValueError(f"reimbursement must be a number in [0, 1], got {reimbursement!r}")
    if reference not in REFERENCE_BASES:
        raise ValueError(f"unknown reference basis {reference!r}; valid: {', '.join(REFERENCE_BASES)}")
    rho = float(reimbursement)
    result, vol = _replay_inputs(source, volumes)
    row_parts, info_parts, missing = [], [], []
    known = {pb.batch for pb in result.batches}
    for pb in result.batches:
        vb = vol[vol["batch"] == pb.batch]
        for lot in pb.skipped_lots:
            if lot not in set(vb["lot"]):  # volumes rebuilt from the tenders: the failed lot's volume is unknown
                missing.append({"kind": "failed_lot", "batch": pb.batch, "lot": lot, "spec": "", "rows": 0,
                                "provinces": 0, "volume": np.nan,
                                "note": MISSING_KINDS["failed_lot"] + " (volume unknown without a volumes table)"})
        rows, info, miss = _batch_rows(pb, vb, reference, predicted)
        row_parts.append(rows)
        info_parts.append(info)
        missing += miss
    other = vol[~vol["batch"].isin(known)]
    for batch in pd.unique(other["batch"]):
        missing += _missing_rows("failed_lot", other[other["batch"] == batch], str(batch))
    rows = pd.concat(row_parts, ignore_index=True)
    lots = _derive(_lot_table(rows, pd.concat(info_parts, ignore_index=True)), rho)
    batches = _batch_table(lots, rho)
    if not predicted:
        pred_cols = [c for c in batches.columns if c.endswith("_predicted")]
        lots[pred_cols] = np.nan
        batches[pred_cols] = np.nan
    missing_frame = pd.DataFrame(missing, columns=["kind", "batch", "lot", "spec", "rows", "provinces",
                                                   "volume", "note"])
    counts = {}
    for kind in MISSING_KINDS:
        part = missing_frame[missing_frame["kind"] == kind]
        counts[kind] = {"entries": int(len(part)), "rows": int(part["rows"].sum()),
                        "volume": float(part["volume"].sum()),  # known volume; unknown ones are NaN entries
                        "volume_unknown_entries": int(part["volume"].isna().sum())}
    summary = {
        "reimbursement": rho, "reference": reference, "predicted": predicted,
        "volume_basis": "first-year agreed volume (published volumes.csv); not reported demand, not total use",
        "volume_rows": int(len(vol)), "rows_replayed": int(len(rows)),
        "rows_zero_volume": int((rows["agreed_volume"] == 0).sum()),
        "rows_priced": int(rows["priced"].sum()), "missing": counts,
        "saving": float(batches["saving"].sum()), "spend_before": float(batches["spend_before"].sum()),
        "spend_after": float(batches["spend_after"].sum()),
        "batches": {str(b): {"saving": float(s), "cut": float(c)}
                    for b, s, c in zip(batches["batch"], batches["saving"], batches["cut"], strict=True)},
        "replay_seconds": float(result.seconds),
    }
    return BatchSavings(batches=batches, lots=lots, rows=rows, missing=missing_frame, summary=summary)


# ---------------------------------------------------------------------------------------------------
# Output


def _bn(x: float) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x / BN:.2f}"


def _pct(x: float) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.1%}"


TABLE_COLUMNS = ("batch", "lots", "agreed volume (bn units)", "spend before", "spend after", "saving",
                 "cut", "fund", "patients", "published", "ratio")


def format_batch_savings_table(result: BatchSavings, predicted: bool = True) -> str:
    """The per-batch table (money in bn yuan per year) with notes on coverage and the published figures."""
    b = result.batches
    s = result.summary
    table = pd.DataFrame({
        "batch": b["batch"].astype(str),
        "lots": [f"{p}/{n}" for p, n in zip(b["lots_priced"], b["lots"], strict=True)],
        "agreed volume (bn units)": [f"{v / BN:.2f}" for v in b["agreed_volume"]],
        "spend before": b["spend_before"].map(_bn), "spend after": b["spend_after"].map(_bn),
        "saving": b["saving"].map(_bn), "cut": b["cut"].map(_pct),
        "fund": b["fund"].map(_bn), "patients": b["patients"].map(_bn),
        "published": b["published_saving"].map(_bn),
        "ratio": [("n/a" if not math.isfinite(r) else f"{r:.2f}") for r in b["ratio"]],
    })
    out = [f"Annual savings on the first-year agreed volume, bn yuan/yr (pre-tender price basis: {s['reference']}; "
           f"award prices: published winners; fund {s['reimbursement']:.0%} / patients "
           f"{1 - s['reimbursement']:.0%}; lots = priced/replayed)",
           table.to_string(index=False)]
    if predicted and s.get("predicted"):
        for _, r in b.iterrows():
            out.append(f"batch {r['batch']} at the replay's predicted awards: saving {_bn(r['saving_predicted'])} bn, "
                       f"cut {_pct(r['cut_predicted'])} (published awards: {_bn(r['saving'])} bn)")
    for _, r in b.iterrows():
        out.append(f"batch {r['batch']}: agreed volume is {_pct(r['agreed_share'])} of reported demand "
                   f"(saving if the cut applied to all reported demand: {_bn(r['saving_on_demand'])} bn); "
                   f"unpriced volume {r['unpriced_volume'] / BN:.3f} bn units "
                   f"(award spend {_bn(r['unpriced_spend_after'])} bn); reference derived by content ratio "
                   f"on {r['derived_reference_volume'] / BN:.3f} bn units")
    miss = s["missing"]
    out.append("missing: " + "; ".join(
        f"{k} {v['rows']} rows ({v['volume'] / BN:.3f} bn units"
        + (f", {v['volume_unknown_entries']} lot(s) of unknown volume" if v["volume_unknown_entries"] else "") + ")"
        for k, v in miss.items() if v["entries"]))
    for _, r in b.iterrows():
        if r["published_source"]:
            out.append(f"published, batch {r['batch']}: {r['published_source']}")
    return "\n".join(out)


OUTPUT_FILES = {"batches": "batch_savings.csv", "lots": "batch_savings_lots.csv",
                "rows": "batch_savings_rows.csv", "missing": "batch_savings_missing.csv"}
SUMMARY_FILE = "batch_savings_summary.json"


def write_batch_savings(result: BatchSavings, out_dir: str | Path, force: bool = False) -> Path:
    """Write the four CSV tables and ``batch_savings_summary.json`` into ``out_dir``, atomically.

    Raises:
        OutputExistsError: ``out_dir`` exists and ``force`` is false.
    """
    with atomic_dir(out_dir, force=force) as tmp:
        write_batch_savings_files(result, tmp)
    return Path(out_dir)


def write_batch_savings_files(result: BatchSavings, folder: Path) -> None:
    """Write the tables and summary into an existing folder (e.g. the temporary folder of an atomic write)."""
    for attr, name in OUTPUT_FILES.items():
        getattr(result, attr).to_csv(folder / name, index=False)
    (folder / SUMMARY_FILE).write_text(json.dumps(jsonable(result.summary), indent=2, ensure_ascii=False)
                                       + "\n", encoding="utf-8")
