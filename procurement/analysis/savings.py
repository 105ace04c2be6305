"""Savings by stakeholder: the circulation chain applied to a tender result (circulation.md 5.3-5.7).

For every supply row (lot, region, spec, primary supplier) with a reference price:

* before procurement, the whole reported volume ``Q0`` is bought at the reference price through the
  state-0 chain;
* after, the winner sells ``Q1 = agreed (1 + g_use)`` at the award price through the state-1 chain,
  and non-winners keep the residual ``Qn = reported - agreed`` at their old price and old chain, but
  the payment standard (section 5.3) caps what the fund reimburses: the winner's price if the old price
  is at most ``standard_cap_multiple`` times it, else ``standard_stepdown`` times the old price.
  Patients pay the rest.

Money flows are annual, in the currency of the prices. Every yuan of the payer price is some
stakeholder's income (hospital markup and rebates, VAT, distributor and maker profit, the promotion
channel's share of sales & marketing) or a resource cost (COGS, logistics, other opex, financing),
so the accounting identity

    payer saving (fund + patients) = -(sum of party gains) + (resource costs saved)

holds exactly and is checked on every call. Payment-timing values (hospital supplier credit and
prepayment float, the fund's cost of prepaying) are not in the price and are reported as memo rows
outside the identity.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from procurement.analysis.chain import (
    CUT_GROUPS,
    DAYS_PER_YEAR,
    PRICE_LAYERS,
    ChainParams,
    decompose_cut,
    floor_price,
    parameter_table,
    post_chain,
    pre_chain,
    sweep_ranges,
)
from procurement.analysis.logistics import LogisticsParams, distribution_cost
from procurement.io.atomic import atomic_dir
from procurement.io.results import jsonable

SUPPLY_COLUMNS = ("lot_id", "region_id", "spec_id", "supplier_id", "reported_volume", "agreed_volume",
                  "award_price", "reference_price")
AWARD_COLUMNS = ("lot_id", "supplier_id", "spec_id", "award_price", "reference_price")

#: Stakeholder rows in output order: (name, group, description).
STAKEHOLDERS: tuple[tuple[str, str, str], ...] = (
    ("insurance_fund", "payer", "fund spending (reimbursement, plus savings retained by hospitals)"),
    ("patients", "payer", "out-of-pocket spending, including excess over the payment standard"),
    ("hospitals", "party", "markup, hidden rebates and retained fund savings"),
    ("makers", "party", "makers' pre-tax profit, winners and non-winners"),
    ("distributors", "party", "distributors' profit"),
    ("promotion_channel", "party", "sales & marketing spend net of hidden rebates (reps, CSOs, 'water')"),
    ("state", "party", "VAT revenue"),
    ("production_cost", "cost", "COGS; the change includes scale economies and volume effects"),
    ("logistics_cost", "cost", "distributors' logistics and operations"),
    ("other_opex_cost", "cost", "makers' G&A, R&D and other opex"),
    ("financing_cost", "cost", "working-capital cost of distributors and makers"),
    ("hospital_payment_timing", "memo", "value to hospitals of paying late plus holding the prepayment"),
    ("fund_prepayment_cost", "memo", "fund's financing cost of prepaying hospitals (negative = cost)"),
)
STAKEHOLDER_NAMES = tuple(s[0] for s in STAKEHOLDERS)
TOTAL = "TOTAL"
#: Parameters that a tender result fixes (its own prices), so they are not swept on a result.
NOT_SWEPT_ON_RESULT = ("price_cut",)
#: Sensitivity outputs, in table order.
METRICS = ("payer_saving", "circulation_share", "makers_change", "supply_risk_bids")
DEFAULT_DRAWS = 500
_MC_CHUNK = 50


@dataclass
class SavingsResult:
    """Output of :func:`savings`.

    Attributes:
        by_stakeholder: one row per (lot_id, stakeholder) plus ``lot_id == "TOTAL"`` rows: ``group``
            (payer, party, cost, memo), ``before``, ``after`` (annual money), ``change`` (gain to the
            stakeholder: spending saved for payers, income gained for parties, resources saved for
            cost rows, value gained for memo rows) and ``change_per_100`` (per 100 of the lot's
            spending before procurement).
        cut_decomposition: one row per supply row used: the per-unit price cut split into layer
            changes (``d_<layer>``) and the circulation/margin/tax/opex/production shares.
        floor_prices: one row per winning bid: ``floor_price``, ``max_sustainable_cut``, unit maker
            profit at the award price and the ``supply_risk`` flag (award below the floor).
        sensitivity: tornado rows (``method == "one_at_a_time"``) and Monte-Carlo rows
            (``method == "monte_carlo"``); empty when sensitivity was not requested.
        summary: headline figures, counts of skipped rows, the identity residual and the parameters.
        params: the chain parameters used.
    """

    by_stakeholder: pd.DataFrame
    cut_decomposition: pd.DataFrame
    floor_prices: pd.DataFrame
    sensitivity: pd.DataFrame
    summary: dict[str, Any]
    params: ChainParams = field(default_factory=ChainParams)


@dataclass
class _Rows:
    """Supply rows with a usable reference and award price, as arrays."""

    ids: pd.DataFrame
    p0: np.ndarray
    p1: np.ndarray
    q0: np.ndarray
    qa: np.ndarray
    l1_distance: np.ndarray  # logistics share from the distance model; NaN where coordinates unknown
    lot_codes: np.ndarray
    lot_names: list[str]


@dataclass
class _Awards:
    frame: pd.DataFrame
    p0: np.ndarray
    price: np.ndarray
    l1_distance: np.ndarray
    usable: np.ndarray


# ---------------------------------------------------------------------------------------------------
# Input preparation


def _frame(obj: Any, name: str) -> pd.DataFrame | None:
    value = getattr(obj, name, None)
    return value if isinstance(value, pd.DataFrame) else None


def _coordinates(table: pd.DataFrame | None, key: str) -> pd.DataFrame | None:
    if table is None or not {key, "latitude", "longitude"} <= set(table.columns):
        return None
    out = table[[key, "latitude", "longitude"]].drop_duplicates(key).set_index(key)
    return out.astype(float)


def _distance_l1(ids: pd.DataFrame, result: Any, logistics: LogisticsParams | None) -> np.ndarray:
    """Logistics share per row from the distance model; NaN where a coordinate is missing."""
    n = len(ids)
    tender = getattr(result, "tender", None)
    sup = _coordinates(_frame(tender, "suppliers"), "supplier_id")
    reg = _coordinates(_frame(tender, "regions"), "region_id")
    if sup is None or reg is None or n == 0:
        return np.full(n, np.nan)
    rate = distribution_cost(sup["latitude"].to_numpy(), sup["longitude"].to_numpy(),
                             reg["latitude"].to_numpy(), reg["longitude"].to_numpy(), params=logistics)
    i = sup.index.get_indexer(ids["supplier_id"])
    j = reg.index.get_indexer(ids["region_id"])
    found = (i >= 0) & (j >= 0)
    out = np.full(n, np.nan)
    out[found] = rate[i[found], j[found]]
    return out


def _prepare(result: Any, logistics: LogisticsParams | None) -> tuple[_Rows, dict[str, int]]:
    supply = _frame(result, "supply")
    if supply is None:
        raise ValueError("savings: result.supply must be a pandas DataFrame")
    missing = [c for c in SUPPLY_COLUMNS if c not in supply.columns]
    if missing:
        raise ValueError(f"savings: result.supply lacks column(s) {', '.join(missing)}; "
                         f"required: {', '.join(SUPPLY_COLUMNS)}")
    num = {c: pd.to_numeric(supply[c], errors="coerce").to_numpy(dtype=float)
           for c in ("reported_volume", "agreed_volume", "award_price", "reference_price")}
    no_ref = ~(np.isfinite(num["reference_price"]) & (num["reference_price"] > 0))
    invalid = ~no_ref & ~(np.isfinite(num["award_price"]) & (num["award_price"] > 0)
                          & np.isfinite(num["reported_volume"]) & (num["reported_volume"] >= 0)
                          & np.isfinite(num["agreed_volume"]) & (num["agreed_volume"] >= 0))
    keep = ~no_ref & ~invalid
    counts = {"rows_total": len(supply), "rows_used": int(keep.sum()),
              "rows_skipped_no_reference": int(no_ref.sum()), "rows_skipped_invalid": int(invalid.sum())}
    if not keep.any():
        raise ValueError(f"savings: no usable supply row ({counts['rows_skipped_no_reference']} without a "
                         f"reference price, {counts['rows_skipped_invalid']} with a missing or non-positive "
                         "award price or volume)")
    ids = supply.loc[keep, ["lot_id", "region_id", "spec_id", "supplier_id"]].reset_index(drop=True)
    codes, names = pd.factorize(ids["lot_id"])
    rows = _Rows(ids=ids, p0=num["reference_price"][keep], p1=num["award_price"][keep],
                 q0=num["reported_volume"][keep], qa=num["agreed_volume"][keep],
                 l1_distance=_distance_l1(ids, result, logistics), lot_codes=codes,
                 lot_names=[str(x) for x in names])
    return rows, counts


def _prepare_awards(result: Any, rows: _Rows) -> _Awards:
    """Winning bids with the volume-weighted distance-based logistics share of their supply rows."""
    keys = ["lot_id", "spec_id", "supplier_id"]
    per_row = rows.ids[keys].assign(w=rows.qa, p0w=rows.p0 * rows.qa, p1w=rows.p1 * rows.qa,
                                    l1w=np.where(np.isnan(rows.l1_distance), 0.0, rows.l1_distance * rows.qa),
                                    wl=np.where(np.isnan(rows.l1_distance), 0.0, rows.qa))
    grouped = per_row.groupby(keys, sort=False, dropna=False).sum().reset_index()
    awards = _frame(result, "awards")
    if awards is not None and all(c in awards.columns for c in AWARD_COLUMNS):
        extra = [c for c in ("rank", "price", "agreed_volume") if c in awards.columns]
        frame = awards[list(AWARD_COLUMNS) + extra].reset_index(drop=True)
    else:
        # Without an awards table, each (lot, spec, supplier) of the whole supply (rows without a
        # reference price included) is one winning bid, priced at its volume-weighted means.
        supply = result.supply
        w = pd.to_numeric(supply["agreed_volume"], errors="coerce").fillna(0.0)
        ref = pd.to_numeric(supply["reference_price"], errors="coerce")
        price = pd.to_numeric(supply["award_price"], errors="coerce")
        sums = supply[keys].assign(w=w, p0w=ref * w, p1w=price * w).groupby(
            keys, sort=False, dropna=False).sum(min_count=1).reset_index()
        wsum = sums["w"].to_numpy(dtype=float)
        safe = np.where(wsum > 0, wsum, np.nan)
        frame = sums[keys].assign(award_price=sums["p1w"].to_numpy(dtype=float) / safe,
                                  reference_price=sums["p0w"].to_numpy(dtype=float) / safe, agreed_volume=wsum)
    merged = frame[keys].merge(grouped[keys + ["l1w", "wl"]], on=keys, how="left")
    wl = merged["wl"].to_numpy(dtype=float)
    l1 = np.divide(merged["l1w"].to_numpy(dtype=float), wl, out=np.full(len(wl), np.nan),
                   where=np.nan_to_num(wl) > 0)
    p0 = pd.to_numeric(frame["reference_price"], errors="coerce").to_numpy(dtype=float)
    price = pd.to_numeric(frame["award_price"], errors="coerce").to_numpy(dtype=float)
    usable = np.isfinite(p0) & (p0 > 0) & np.isfinite(price)
    return _Awards(frame=frame, p0=p0, price=price, l1_distance=l1, usable=usable)


# ---------------------------------------------------------------------------------------------------
# Evaluation (vectorised: parameters may be (draws, 1) arrays)


def _row_l1(l1_distance: np.ndarray, p: Any, base: ChainParams) -> Any:
    # The distance model sets the regional pattern; a swept l1 scales it around the base level.
    scale = p.l1 / base.l1 if base.l1 > 0 else 1.0
    return np.where(np.isnan(l1_distance), p.l1, np.nan_to_num(l1_distance) * scale)


def _evaluate(rows: _Rows, p: Any, base: ChainParams) -> SimpleNamespace:
    """Chain layers and stakeholder flows (before, after) per row for parameters ``p``."""
    l1 = _row_l1(rows.l1_distance, p, base)
    pre = pre_chain(rows.p0, p)
    post = post_chain(rows.p1, pre["cogs"], p, l1=l1)
    ratio = p.v / base.v
    qa = np.minimum(rows.qa * ratio, np.maximum(rows.q0, rows.qa))
    q0 = rows.q0
    q1 = qa * (1 + p.g_use)
    qn = np.maximum(q0 - qa, 0.0)

    markup_n = p.mu1 * rows.p0
    ppat_n = rows.p0 + markup_n
    std_bid = np.where(rows.p0 <= p.standard_cap_multiple * rows.p1, rows.p1, p.standard_stepdown * rows.p0)
    covered_n = np.minimum(ppat_n, std_bid * (1 + p.mu1))

    def split(layer_pre: Any, layer_post: Any, layer_nonwinner: Any = None) -> tuple[Any, Any]:
        nonwinner = layer_pre if layer_nonwinner is None else layer_nonwinner
        return layer_pre * q0, layer_post * q1 + nonwinner * qn

    fund0 = p.rho * pre["p_pat"] * q0
    fund1 = p.rho * (post["p_pat"] * q1 + covered_n * qn)
    retained = p.phi_retain * (fund0 - fund1)
    pat0 = (1 - p.rho) * pre["p_pat"] * q0
    pat1 = (1 - p.rho) * post["p_pat"] * q1 + (ppat_n - p.rho * covered_n) * qn
    hosp0, hosp1 = split(pre["markup"] + pre["hidden_rebate"], post["markup"] + post["hidden_rebate"],
                         markup_n + pre["hidden_rebate"])
    contract_value = post["p_bid"] * q1
    float_value = p.r_h * p.alpha * contract_value * p.t_hold
    credit0 = p.r_h * p.dso_h0 / DAYS_PER_YEAR * pre["p_bid"] * q0
    credit1 = p.r_h * (p.dso_h1 * post["p_bid"] * q1 + p.dso_h0 * pre["p_bid"] * qn) / DAYS_PER_YEAR
    flows = {
        "insurance_fund": (fund0, fund1 + retained),
        "patients": (pat0, pat1),
        "hospitals": (hosp0, hosp1 + retained),
        "makers": split(pre["maker_profit"], post["maker_profit"]),
        "distributors": split(pre["distributor_profit"], post["distributor_profit"]),
        "promotion_channel": split(pre["promotion"] - pre["hidden_rebate"],
                                   post["promotion"] - post["hidden_rebate"]),
        "state": split(pre["vat"], post["vat"]),
        "production_cost": split(pre["cogs"], post["cogs"]),
        "logistics_cost": split(pre["logistics"], post["logistics"]),
        "other_opex_cost": split(pre["other_opex"], post["other_opex"]),
        "financing_cost": split(pre["distributor_financing"] + pre["maker_financing"],
                                post["distributor_financing"] + post["maker_financing"]),
        "hospital_payment_timing": (credit0, credit1 + float_value),
        "fund_prepayment_cost": (0.0 * fund0, p.r_f * p.alpha * contract_value * p.t_hold),
    }
    return SimpleNamespace(pre=pre, post=post, q0=q0, q1=q1, qa=qa, qn=qn, flows=flows, l1=l1)


def _gain(name: str, group: str, before: Any, after: Any) -> Any:
    if group in ("payer", "cost") or name == "fund_prepayment_cost":
        return before - after
    return after - before


def _identity_residual(flows: dict[str, tuple[Any, Any]]) -> Any:
    total = 0.0
    for name, group, _ in STAKEHOLDERS:
        before, after = flows[name]
        gain = np.sum(_gain(name, group, before, after), axis=-1)
        if group in ("payer", "party"):
            total = total + gain
        elif group == "cost":
            total = total - gain
    return total


def _metrics(ev: SimpleNamespace, awards: _Awards, p: Any, base: ChainParams) -> dict[str, Any]:
    f = ev.flows
    payer = sum(np.sum(f[k][0] - f[k][1], axis=-1) for k in ("insurance_fund", "patients"))
    makers = np.sum(f["makers"][1] - f["makers"][0], axis=-1)
    d_pat = np.sum((ev.pre["p_pat"] - ev.post["p_pat"]) * ev.q1, axis=-1)
    circ = sum(np.sum((ev.pre[layer] - ev.post[layer]) * ev.q1, axis=-1) for layer in CUT_GROUPS["circulation"])
    share = np.divide(circ, d_pat, out=np.full(np.shape(d_pat), np.nan), where=np.asarray(d_pat) != 0)
    ok = awards.usable
    if ok.any():
        floor = floor_price(awards.p0[ok], p, l1=_row_l1(awards.l1_distance[ok], p, base))
        risk = np.sum(awards.price[ok] < floor, axis=-1).astype(float)
    else:
        risk = np.zeros(np.shape(payer))
    return {"payer_saving": payer, "circulation_share": share, "makers_change": makers,
            "supply_risk_bids": risk}


# ---------------------------------------------------------------------------------------------------
# Output frames


def _by_stakeholder(rows: _Rows, ev: SimpleNamespace) -> pd.DataFrame:
    n_lots = len(rows.lot_names)
    spend0 = np.bincount(rows.lot_codes, weights=ev.pre["p_pat"] * ev.q0, minlength=n_lots)
    records = []
    for lot_index, lot in [*enumerate(rows.lot_names), (None, TOTAL)]:
        mask = slice(None) if lot_index is None else rows.lot_codes == lot_index
        base = spend0.sum() if lot_index is None else spend0[lot_index]
        for name, group, _ in STAKEHOLDERS:
            before = float(np.sum(np.broadcast_to(ev.flows[name][0], rows.p0.shape)[mask]))
            after = float(np.sum(np.broadcast_to(ev.flows[name][1], rows.p0.shape)[mask]))
            change = float(_gain(name, group, before, after))
            records.append({"lot_id": lot, "stakeholder": name, "group": group, "before": before,
                            "after": after, "change": change,
                            "change_per_100": change / base * 100 if base > 0 else np.nan})
    return pd.DataFrame.from_records(records)


def _cut_decomposition(rows: _Rows, ev: SimpleNamespace, params: ChainParams) -> pd.DataFrame:
    parts = decompose_cut(ev.pre, ev.post)
    out = rows.ids.copy()
    out["reference_price"] = rows.p0
    out["award_price"] = rows.p1
    out["cut"] = 1 - rows.p1 / rows.p0
    out["agreed_volume"] = rows.qa
    out["logistics_rate"] = np.broadcast_to(ev.l1, rows.p0.shape)
    out["d_pat"] = parts["d_pat"]
    for layer in PRICE_LAYERS:
        out["d_" + layer] = parts["d_" + layer]
    for group in CUT_GROUPS:
        out[group + "_share"] = parts[group + "_share"]
    out["maker_profit_before"] = ev.pre["maker_profit"]
    out["maker_profit_after"] = ev.post["maker_profit"]
    out["floor_price"] = floor_price(rows.p0, params, l1=ev.l1)
    return out


def _floor_prices(awards: _Awards, params: ChainParams) -> pd.DataFrame:
    out = awards.frame.copy()
    l1 = _row_l1(awards.l1_distance, params, params)
    floor = np.full(len(out), np.nan)
    profit = np.full(len(out), np.nan)
    ok = awards.usable
    if ok.any():
        floor[ok] = floor_price(awards.p0[ok], params, l1=l1[ok])
        pre = pre_chain(awards.p0[ok], params)
        profit[ok] = post_chain(awards.price[ok], pre["cogs"], params, l1=l1[ok])["maker_profit"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["cut"] = 1 - awards.price / awards.p0
        out["max_sustainable_cut"] = 1 - floor / awards.p0
    out["floor_price"] = floor
    out["maker_profit_per_unit"] = profit
    out["supply_risk"] = ok & (awards.price < np.nan_to_num(floor, nan=-np.inf))
    return out


def _sensitivity(rows: _Rows, awards: _Awards, params: ChainParams, base_metrics: dict[str, Any],
                 draws: int, seed: int) -> pd.DataFrame:
    ranges = sweep_ranges(exclude=NOT_SWEPT_ON_RESULT)
    info = {r["name"]: r for r in parameter_table()}
    records = []
    for name, (low, high) in ranges.items():
        at = {}
        for label, value in (("low", low), ("high", high)):
            # no validation: a corner of the ranges may break a well-posedness check, the sums still hold
            p = dataclasses.replace(params, **{name: value})
            at[label] = _metrics(_evaluate(rows, p, params), awards, p, params)
        for metric in METRICS:
            lo, hi = float(at["low"][metric]), float(at["high"][metric])
            records.append({"method": "one_at_a_time", "parameter": name, "symbol": info[name]["symbol"],
                            "metric": metric, "base_value": getattr(params, name), "low_value": low,
                            "high_value": high, "base": float(base_metrics[metric]), "at_low": lo,
                            "at_high": hi, "swing": abs(hi - lo)})
    oat = pd.DataFrame.from_records(records)
    oat = oat.sort_values(["metric", "swing"], ascending=[True, False], kind="stable", na_position="last")
    oat["metric"] = pd.Categorical(oat["metric"], categories=list(METRICS), ordered=True)
    oat = oat.sort_values("metric", kind="stable")
    oat["metric"] = oat["metric"].astype(str)
    frames = [oat]
    if draws > 0:
        frames.append(_monte_carlo(rows, awards, params, base_metrics, ranges, draws, seed))
    return pd.concat(frames, ignore_index=True)


def _monte_carlo(rows: _Rows, awards: _Awards, params: ChainParams, base_metrics: dict[str, Any],
                 ranges: dict[str, tuple[float, float]], draws: int, seed: int) -> pd.DataFrame:
    """Independent triangular draws over the section 5.5 ranges, mode at the current value."""
    rng = np.random.default_rng(seed)
    samples = {}
    for name, (low, high) in ranges.items():
        mode = min(max(getattr(params, name), low), high)
        samples[name] = rng.triangular(low, mode, high, size=draws)
    values: dict[str, list[np.ndarray]] = {m: [] for m in METRICS}
    fixed = {k: getattr(params, k) for k in (r["name"] for r in parameter_table())}
    for start in range(0, draws, _MC_CHUNK):
        chunk = {k: v[start:start + _MC_CHUNK, None] for k, v in samples.items()}
        p = SimpleNamespace(**{**fixed, **chunk})
        out = _metrics(_evaluate(rows, p, params), awards, p, params)
        for metric in METRICS:
            values[metric].append(np.broadcast_to(out[metric], (len(chunk["tau"]),)).ravel())
    records = []
    for metric in METRICS:
        x = np.concatenate(values[metric])
        x = x[np.isfinite(x)]
        stats = (np.mean(x), *np.percentile(x, [5, 50, 95])) if len(x) else (np.nan,) * 4
        records.append({"method": "monte_carlo", "parameter": "all", "symbol": "", "metric": metric,
                        "base": float(base_metrics[metric]), "mean": float(stats[0]), "p05": float(stats[1]),
                        "p50": float(stats[2]), "p95": float(stats[3]), "draws": draws, "seed": seed})
    return pd.DataFrame.from_records(records)


# ---------------------------------------------------------------------------------------------------
# Public API


def savings(result: Any, params: ChainParams | None = None, *, reimbursement_rate: float | None = None,
            logistics: LogisticsParams | None = None, use_distance: bool = True, sensitivity: bool = True,
            monte_carlo_draws: int = DEFAULT_DRAWS, seed: int = 0) -> SavingsResult:
    """Where did the money come from: apply the circulation chain to a tender result.

    Args:
        result: object with a ``supply`` DataFrame (columns :data:`SUPPLY_COLUMNS`), optionally
            ``awards`` (columns :data:`AWARD_COLUMNS`; else winning bids are taken from the supply) and
            ``tender.suppliers`` / ``tender.regions`` with ``latitude``/``longitude`` for the
            distance-based logistics cost.
        params: chain parameters; None for the section 5.5 defaults.
        reimbursement_rate: overrides ``params.rho`` when given.
        logistics: parameters of the distance model; None for the defaults.
        use_distance: use the distance model for the post-procurement logistics share where both
            coordinates are known (else the flat ``params.l1`` everywhere).
        sensitivity: compute the tornado table and Monte-Carlo rows.
        monte_carlo_draws: number of joint draws (0 to skip Monte-Carlo).
        seed: seed of ``numpy.random.default_rng`` for the Monte-Carlo draws.

    Returns:
        :class:`SavingsResult`.

    Raises:
        ValueError: ``result.supply`` missing or lacking columns, no usable row, invalid parameters.
        AssertionError: the accounting identity fails (a bug, never an input problem).
    """
    started = time.perf_counter()
    params = params or ChainParams()
    if reimbursement_rate is not None:
        params = params.replace(rho=float(reimbursement_rate))
    params.validate()
    if logistics is not None:
        logistics.validate()
    if monte_carlo_draws < 0:
        raise ValueError(f"savings: monte_carlo_draws must be >= 0, got {monte_carlo_draws}")
    rows, counts = _prepare(result, logistics)
    if not use_distance:
        rows.l1_distance = np.full(len(rows.p0), np.nan)
    awards = _prepare_awards(result, rows)
    ev = _evaluate(rows, params, params)

    spend_before = float(np.sum(ev.pre["p_pat"] * ev.q0))
    residual = float(_identity_residual(ev.flows))
    if not abs(residual) <= 1e-9 * max(1.0, spend_before):
        raise AssertionError(f"savings: accounting identity off by {residual!r} on spending {spend_before!r}")

    by_stakeholder = _by_stakeholder(rows, ev)
    cut = _cut_decomposition(rows, ev, params)
    floors = _floor_prices(awards, params)
    base_metrics = _metrics(ev, awards, params, params)
    sens = (_sensitivity(rows, awards, params, base_metrics, monte_carlo_draws, seed) if sensitivity
            else pd.DataFrame(columns=["method", "parameter", "symbol", "metric", "base"]))

    total = by_stakeholder[by_stakeholder["lot_id"] == TOTAL].set_index("stakeholder")["change"]
    d_pat = float(np.sum(cut["d_pat"].to_numpy() * ev.q1))
    shares = {f"{g}_share": (float(np.sum(sum(cut["d_" + x].to_numpy() for x in layers) * ev.q1)) / d_pat
                             if d_pat else float("nan")) for g, layers in CUT_GROUPS.items()}
    summary: dict[str, Any] = {
        **counts,
        "rows_distance_logistics": int(np.isfinite(rows.l1_distance).sum()),
        "lots": len(rows.lot_names),
        "spend_before": spend_before,
        "spend_after": spend_before - float(total["insurance_fund"] + total["patients"]),
        "saving_rate": (float(total["insurance_fund"] + total["patients"]) / spend_before if spend_before
                        else float("nan")),
        "payer_saving": float(total["insurance_fund"] + total["patients"]),
        "fund_saving": float(total["insurance_fund"]),
        "patients_saving": float(total["patients"]),
        **{f"{name}_change": float(total[name]) for name, group, _ in STAKEHOLDERS if group != "payer"},
        **shares,
        "induced_volume_cost": float(np.sum(ev.post["p_pat"] * (ev.q1 - ev.qa))),
        "identity_residual": residual,
        "awards": len(floors),
        "awards_without_reference": int((~awards.usable).sum()),
        "supply_risk_bids": int(floors["supply_risk"].sum()),
        "reimbursement_rate": params.rho,
        "monte_carlo_draws": monte_carlo_draws if sensitivity else 0,
        "seed": seed,
        "params": {r["name"]: getattr(params, r["name"]) for r in parameter_table()},
        "logistics": dataclasses.asdict(logistics or LogisticsParams()),
    }
    summary["seconds"] = time.perf_counter() - started
    return SavingsResult(by_stakeholder=by_stakeholder, cut_decomposition=cut, floor_prices=floors,
                         sensitivity=sens, summary=summary, params=params)


def worked_example(cut: float | None = None, params: ChainParams | None = None,
                   p_bid0: float = 100.0) -> pd.DataFrame:
    """The section 5.6 worked example: one product, 100 of pre-procurement spend, all volume to the winner.

    Args:
        cut: price cut δ; None for ``params.price_cut`` (default 0.55).
        params: chain parameters; None for the defaults.
        p_bid0: pre-procurement bid price (100 gives figures "per 100 yuan").

    Returns:
        Tidy frame with columns ``item``, ``group``, ``before``, ``after``, ``change`` and
        ``share_of_cut``. Groups: ``layer`` (additive layers of the patient price; ``change`` = after -
        before, ``share_of_cut`` = share of the patient-price cut), ``distributor`` (the distributor
        margin's parts), ``price`` (bid, patient and floor price), ``ratio`` (maker margins on
        revenue), ``share`` (section 5.4 shares, in ``share_of_cut``) and ``stakeholder`` (as in
        :attr:`SavingsResult.by_stakeholder`: ``change`` is the gain, the payers' saving).

    Raises:
        ValueError: invalid parameters or a cut outside [0, 1).
    """
    params = params or ChainParams()
    params.validate()
    delta = params.price_cut if cut is None else float(cut)
    if not 0.0 <= delta < 1.0:
        raise ValueError(f"worked_example: cut must be in [0, 1), got {delta}")
    rows = _Rows(ids=pd.DataFrame({"lot_id": ["example"], "region_id": ["-"], "spec_id": ["-"],
                                   "supplier_id": ["-"]}),
                 p0=np.array([p_bid0]), p1=np.array([p_bid0 * (1 - delta)]), q0=np.array([1.0]),
                 qa=np.array([1.0]), l1_distance=np.array([np.nan]), lot_codes=np.array([0]),
                 lot_names=["example"])
    ev = _evaluate(rows, params, params)
    pre = {k: float(v[0]) for k, v in ev.pre.items()}
    post = {k: float(v[0]) for k, v in ev.post.items()}
    d_pat = pre["p_pat"] - post["p_pat"]
    records = []

    def add(item: str, group: str, before: float, after: float, change: float | None = None,
            share: float | None = None) -> None:
        records.append({"item": item, "group": group, "before": before, "after": after,
                        "change": after - before if change is None else change,
                        "share_of_cut": share if share is not None
                        else ((before - after) / d_pat if d_pat else np.nan)})

    for layer in ("vat", "distributor_margin", "cogs", "promotion", "other_opex", "maker_financing",
                  "maker_profit", "markup"):
        add(layer, "layer", pre[layer], post[layer])
    for layer in ("logistics", "distributor_financing", "distributor_profit"):
        add(layer, "distributor", pre[layer], post[layer])
    add("p_bid", "price", pre["p_bid"], post["p_bid"])
    add("p_pat", "price", pre["p_pat"], post["p_pat"])
    floor = float(floor_price(p_bid0, params))
    add("floor_price", "price", floor, floor, share=np.nan)
    for item, key in (("maker_margin", "maker_profit"), ("maker_gross_margin", None)):
        num0 = pre[key] if key else pre["maker_revenue"] - pre["cogs"]
        num1 = post[key] if key else post["maker_revenue"] - post["cogs"]
        add(item, "ratio", num0 / pre["maker_revenue"], num1 / post["maker_revenue"], share=np.nan)
    parts = decompose_cut(ev.pre, ev.post)
    for group in CUT_GROUPS:
        add(group + "_share", "share", np.nan, np.nan, change=np.nan, share=float(parts[group + "_share"][0]))
    table = _by_stakeholder(rows, ev)
    for rec in table[table["lot_id"] == TOTAL].itertuples():
        add(rec.stakeholder, "stakeholder", rec.before, rec.after, change=rec.change, share=np.nan)
    return pd.DataFrame.from_records(records)


def _number(x: float) -> str:
    return f"{x:,.2f}" if np.isfinite(x) else "n/a"


def format_savings_table(savings_result: SavingsResult) -> str:
    """Plain-text summary: one line per stakeholder (TOTAL rows) with before, after and change.

    Args:
        savings_result: output of :func:`savings`.

    Returns:
        The table and a few headline lines, newline-separated, without a trailing newline.
    """
    df = savings_result.by_stakeholder
    total = df[df["lot_id"] == TOTAL]
    s = savings_result.summary
    header = ("stakeholder", "group", "before", "after", "change", "per 100")
    body = [(r.stakeholder, r.group, _number(r.before), _number(r.after), _number(r.change),
             _number(r.change_per_100)) for r in total.itertuples()]
    widths = [max(len(str(row[i])) for row in [header, *body]) for i in range(len(header))]

    def line(row: tuple) -> str:
        cells = [str(c).ljust(widths[i]) if i < 2 else str(c).rjust(widths[i]) for i, c in enumerate(row)]
        return "  ".join(cells).rstrip()

    out = [line(header), "  ".join("-" * w for w in widths)] + [line(r) for r in body]
    out.append("")
    out.append("change: gain to the stakeholder (payers: spending saved; cost rows: resources saved); "
               "memo rows are outside the identity")
    out.append(f"payer saving {_number(s['payer_saving'])} of {_number(s['spend_before'])} "
               f"({s['saving_rate']:.1%}); fund {_number(s['fund_saving'])}, "
               f"patients {_number(s['patients_saving'])}")
    out.append("share of the price cut: " + ", ".join(
        f"{g} {s[g + '_share']:.1%}" for g in CUT_GROUPS))
    out.append(f"winning bids below the floor price (supply risk): {s['supply_risk_bids']} of {s['awards']}")
    out.append(f"supply rows used {s['rows_used']} of {s['rows_total']} (skipped: "
               f"{s['rows_skipped_no_reference']} without reference price, {s['rows_skipped_invalid']} "
               f"invalid); identity residual {s['identity_residual']:.2e}")
    return "\n".join(out)


OUTPUT_FILES = {"by_stakeholder": "savings_by_stakeholder.csv", "cut_decomposition": "cut_decomposition.csv",
                "floor_prices": "floor_prices.csv", "sensitivity": "sensitivity.csv"}
SUMMARY_FILE = "savings_summary.json"


def write_savings(savings_result: SavingsResult, out_dir: str | Path, force: bool = False) -> Path:
    """Write the four CSV files and ``savings_summary.json`` into ``out_dir``, atomically.

    Files are written into a temporary sibling folder that then replaces ``out_dir`` in one rename, so
    a reader never sees a half-written folder.

    Args:
        savings_result: output of :func:`savings`.
        out_dir: folder to create.
        force: replace ``out_dir`` if it exists.

    Returns:
        The output folder.

    Raises:
        OutputExistsError: ``out_dir`` exists and ``force`` is false, or it is a file.
    """
    with atomic_dir(out_dir, force=force) as tmp:
        for attr, name in OUTPUT_FILES.items():
            getattr(savings_result, attr).to_csv(tmp / name, index=False)
        (tmp / SUMMARY_FILE).write_text(json.dumps(jsonable(savings_result.summary), indent=2,
                                                   ensure_ascii=False) + "\n", encoding="utf-8")
    return Path(out_dir)
