"""Calibration of the market parameters to the published bids of national batches 2 and 4.

:func:`published_tender` rebuilds a batch as a tender: one lot per published lot with the ceiling of its
most-bid spec (published ceilings of other specs already follow the 差比价 ratios, so bid / own-ceiling
ratios are comparable), one potential bid per published bid (same firm count and originator flags) and
the published first-year agreed volumes as demand. :func:`bid_statistics` computes the same statistics
from published bids and from simulated draws (vbp-rules.md section 9.1), and :func:`fit` searches the
cost-model parameters that bring them closest. ``scripts/calibrate.py`` prints the fit.

The data folder comes from the environment variable ``PROCUREMENT_VBP_DATA`` (default
``<repo>/../shared/data/vbp``); nothing from it is copied into the project.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import pandas as pd

from procurement.model.tender import Tender
from procurement.model.validate import tender_from_frames
from procurement.rules.ruleset import RuleSet
from procurement.simulate.draws import PreparedScenario, draw_bids, run_seed
from procurement.simulate.market import compile_market, evaluate
from procurement.simulate.params import MarketParams

#: Batch-2 winner cap table (表2 最多入围企业数, vbp-rules.md section 4.3), used when no `batch2` preset
#: is registered.
BATCH2_CAPS = (1, 2, 2, 3, 4, 4, 5, 5, 6)

#: Statistics compared, with the weight of their squared relative error in :func:`fit`.
TARGET_WEIGHTS = {"median_lowest_ratio": 2.0, "winners_per_lot": 1.0, "valid_win_share": 1.0,
                  "median_award_ratio": 1.0, "originator_win_rate": 0.5, "median_spread": 0.5}


def data_dir() -> Path:
    """Folder of the published data: ``$PROCUREMENT_VBP_DATA`` or ``<repo>/../shared/data/vbp``."""
    env = os.environ.get("PROCUREMENT_VBP_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data" / "vbp"


def read_bids(folder: str | Path | None = None) -> pd.DataFrame:
    """Published bids (bids.csv) with ``ratio`` = bid price / ceiling of its spec.

    Raises:
        FileNotFoundError: the data folder has no bids.csv.
    """
    path = Path(folder or data_dir()) / "bids.csv"
    if not path.is_file():
        raise FileNotFoundError(f"published bids not found: {path} (set PROCUREMENT_VBP_DATA)")
    bids = pd.read_csv(path)
    bids["ratio"] = bids["bid_price"] / bids["ceiling_price"]
    return bids


def batch_rules(batch: int) -> RuleSet:
    """The rule set of a published batch: preset ``batch<N>`` if registered, else batch 4 (with the
    batch-2 cap table for batch 2)."""
    from procurement.errors import UnknownNameError
    from procurement.rules.presets import get_preset

    try:
        return get_preset(f"batch{batch}")
    except UnknownNameError:
        base = get_preset("batch4")
        return base.with_overrides(winner_caps=list(BATCH2_CAPS)) if batch == 2 else base


def published_tender(batch: int, folder: str | Path | None = None) -> Tender:
    """A tender mirroring a published batch's lots, bidders, ceilings and agreed volumes (see module doc)."""
    folder = Path(folder or data_dir())
    bids = read_bids(folder)
    bids = bids[bids["batch"] == batch]
    volumes = pd.read_csv(folder / "volumes.csv")
    volumes = volumes[volumes["batch"] == batch]
    provinces = pd.read_csv(folder / "provinces.csv")
    lots, specs, suppliers, bid_rows, demand = [], [], [], [], []
    for lot_no, g in bids.groupby("lot_no", sort=True):
        lot_id = f"B{batch}L{int(lot_no):02d}"
        rep = g["spec"].value_counts().index[0]
        rep_rows = g[g["spec"] == rep]
        ceiling = float(rep_rows["ceiling_price"].iloc[0])
        ref = rep_rows["pre_median_price"].dropna()
        spec_id = f"{lot_id}S"
        lots.append({"lot_id": lot_id, "molecule": str(g["lot"].iloc[0]), "dosage_form": "oral-solid",
                     "rep_spec_id": spec_id, "share_class": "general", "term_years": None})
        specs.append({"spec_id": spec_id, "lot_id": lot_id, "strength": 1.0, "unit": "unit", "pack_size": 1,
                      "fill_volume": None, "ceiling_price": ceiling,
                      "reference_price": float(ref.iloc[0]) if len(ref) else None})
        for k, row in enumerate(g.itertuples(index=False)):
            sid = f"{lot_id}F{k + 1:02d}"
            suppliers.append({"supplier_id": sid, "name": str(row.firm_short), "originator": bool(row.originator),
                              "group_id": None, "capacity": None, "latitude": None, "longitude": None})
            # the published ratio on this lot's ceiling (published prices are per own spec)
            bid_rows.append({"supplier_id": sid, "spec_id": spec_id, "price": float(row.ratio) * ceiling})
        vol = volumes[volumes["lot"] == g["lot"].iloc[0]].groupby("province")["agreed_volume_units"].sum()
        for prov in provinces["province"]:
            v = float(vol.get(prov, 0.0))
            demand.append({"region_id": prov, "spec_id": spec_id, "volume": v if v > 0 else 1.0})
    regions = provinces.rename(columns={"province": "region_id", "name_en": "name",
                                        "capital_lat": "latitude", "capital_lon": "longitude"})
    frames = {"lots": pd.DataFrame(lots), "specs": pd.DataFrame(specs), "suppliers": pd.DataFrame(suppliers),
              "bids": pd.DataFrame(bid_rows), "demand": pd.DataFrame(demand),
              "regions": regions[["region_id", "name", "latitude", "longitude"]]}
    tender = tender_from_frames(frames, {"name": f"published-batch{batch}", "currency": "CNY",
                                         "rules": {"preset": "batch4"}})
    return tender.replace(rules=batch_rules(batch))


def bid_statistics(ratio: np.ndarray, won: np.ndarray, lot: np.ndarray, originator: np.ndarray,
                   award_ratio: np.ndarray | None = None) -> dict[str, float]:
    """Statistics of one set of bids (one row per bid; ratio = price / ceiling, NaN or > 1 invalid).

    ``award_ratio`` is the price a winner is paid over the ceiling (default its bid).
    """
    frame = pd.DataFrame({"ratio": ratio, "won": won.astype(bool), "lot": lot, "originator": originator})
    frame["award"] = frame["ratio"] if award_ratio is None else award_ratio
    valid = frame[frame["ratio"] <= 1.0 + 1e-9]
    by_lot = frame.groupby("lot")
    wins = frame[frame["won"]]
    spread = wins.groupby("lot")["award"].agg(lambda s: s.max() / s.min())
    orig = frame[frame["originator"]]
    return {
        "bids_per_lot": float(by_lot.size().mean()),
        "median_lowest_ratio": float(valid.groupby("lot")["ratio"].min().median()),
        "winners_per_lot": float(by_lot["won"].sum().mean()),
        "win_share": float(frame["won"].mean()),
        "valid_win_share": float(valid["won"].mean()),
        "median_award_ratio": float(wins["award"].median()),
        "mean_award_ratio": float(wins["award"].mean()),
        "median_spread": float(spread.median()),
        "originator_win_rate": float(orig["won"].mean()) if len(orig) else float("nan"),
    }


def published_statistics(batch: int, folder: str | Path | None = None) -> dict[str, float]:
    """:func:`bid_statistics` of the published bids of one batch."""
    bids = read_bids(folder)
    b = bids[bids["batch"] == batch]
    return bid_statistics(b["ratio"].to_numpy(float), b["won"].to_numpy(bool), b["lot_no"].to_numpy(),
                          b["originator"].to_numpy(bool))


def simulated_statistics(tender: Tender, params: MarketParams, draws: int = 50,
                         master_seed: int = 0) -> dict[str, float]:
    """:func:`bid_statistics` of ``draws`` simulated draws of a tender, pooled (lots of every draw)."""
    market = compile_market(tender)
    prepared = PreparedScenario("calibration", "rules", market, params)
    spec_ceiling = dict(zip(market.spec_id, market.ceiling, strict=True))
    ratios, won, lots, orig, award = [], [], [], [], []
    for seed in range(draws):
        rng = np.random.default_rng(run_seed(master_seed, seed))
        price, _, _ = draw_bids(prepared, rng)
        ev = evaluate(market, price, details=True)
        entered = ~np.isnan(price)
        winners = {(w["lot_id"], w["supplier_id"]): w["award_price"] for w in ev.winners}
        lot_ids = np.array(market.lot_ids, dtype=object)[market.lot_index[entered]]
        sup = market.supplier_id[entered]
        ratios.append(price[entered] / market.ceiling[entered])
        key = list(zip(lot_ids, sup, strict=True))
        won.append(np.array([k in winners for k in key]))
        award.append(np.array([winners.get(k, np.nan) / spec_ceiling[s] for k, s in
                               zip(key, market.spec_id[entered], strict=True)]))
        lots.append(np.array([f"{seed}:{lot}" for lot in lot_ids], dtype=object))
        orig.append(market.originator[entered])
    return bid_statistics(np.concatenate(ratios), np.concatenate(won), np.concatenate(lots),
                          np.concatenate(orig), np.concatenate(award))


def loss(simulated: dict[str, float], target: dict[str, float]) -> float:
    """Weighted sum of squared relative errors over :data:`TARGET_WEIGHTS`."""
    total = 0.0
    for key, weight in TARGET_WEIGHTS.items():
        if np.isfinite(target[key]) and target[key] != 0:
            total += weight * ((simulated[key] - target[key]) / target[key]) ** 2
    return total


def fit(tenders: dict[int, Tender], targets: dict[int, dict[str, float]], grid: dict[str, list[float]],
        base: MarketParams | None = None, draws: int = 30) -> pd.DataFrame:
    """Grid search of market parameters; returns one row per grid point with its loss, best first.

    Args:
        tenders: batch -> published tender.
        targets: batch -> published statistics.
        grid: parameter name -> values to try.
        base: parameters not in the grid.
        draws: draws per batch and grid point.
    """
    base = base or MarketParams()
    rows = []
    names = list(grid)
    for values in itertools.product(*(grid[n] for n in names)):
        params = base.with_overrides(**dict(zip(names, values, strict=True)))
        total = sum(loss(simulated_statistics(t, params, draws), targets[b]) for b, t in tenders.items())
        rows.append({**dict(zip(names, values, strict=True)), "loss": total})
    return pd.DataFrame(rows).sort_values("loss", kind="stable").reset_index(drop=True)
