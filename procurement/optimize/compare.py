"""Rules mode and optimal mode on the same tender: cost by lot, regions that change hands, concentration."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from procurement.model.result import TenderResult
from procurement.model.tender import Tender


@dataclass(frozen=True, eq=False)
class ComparisonResult:
    """Rules mode against optimal mode.

    Attributes:
        rules, optimal: the two results.
        lots: per lot: winners, spend (award prices on agreed volume), circulation cost and total cost in
            each mode, difference (optimal - rules) and relative difference.
        regions: per (lot, region): primary supplier in each mode and ``changed``.
        concentration: per mode and lot: suppliers with volume, Herfindahl index of volume shares (0-1),
            largest supplier share, and a tender-wide row (``lot_id`` = ``ALL``).
        summary: totals: cost in each mode, saving of optimal mode, regions changing hands.
    """

    rules: TenderResult
    optimal: TenderResult
    lots: pd.DataFrame
    regions: pd.DataFrame
    concentration: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def _circulation_by_lot(result: TenderResult, built) -> pd.Series:
    """Circulation cost of a result's primary allocation under the optimal model's cost model."""
    d = built.data
    if d.circulation == "none" or len(d.br_cand) == 0:
        return pd.Series(0.0, index=pd.Index(d.lot_ids, name="lot_id"))
    pairs = pd.Series(d.br_circulation, index=pd.MultiIndex.from_arrays([
        d.lot_ids[d.lr_lot[d.br_lr]], d.region_ids[d.lr_region[d.br_lr]],
        d.supplier_ids[d.cand_supplier[d.br_cand]]]))
    unit = pairs / d.lr_units[d.br_lr]
    s = result.supply.groupby(["lot_id", "region_id", "supplier_id"], sort=False)["agreed_volume"].sum()
    cost = s * unit.reindex(s.index).to_numpy(float)
    return cost.groupby(level=0).sum(min_count=1).reindex(d.lot_ids).fillna(0.0)


def _concentration(result: TenderResult, mode: str) -> pd.DataFrame:
    vol = result.supply.groupby(["lot_id", "supplier_id"], sort=False)["agreed_volume"].sum()
    rows = []
    for lot_id, v in vol.groupby(level=0, sort=False):
        share = v.to_numpy(float) / v.sum()
        rows.append({"mode": mode, "lot_id": lot_id, "suppliers": int((share > 0).sum()),
                     "hhi": float((share ** 2).sum()), "top_share": float(share.max())})
    total = result.supply.groupby("supplier_id")["agreed_volume"].sum()
    if total.sum() > 0:
        share = total.to_numpy(float) / total.sum()
        rows.append({"mode": mode, "lot_id": "ALL", "suppliers": int((share > 0).sum()),
                     "hhi": float((share ** 2).sum()), "top_share": float(share.max())})
    return pd.DataFrame(rows, columns=["mode", "lot_id", "suppliers", "hhi", "top_share"])


def compare_modes(tender: Tender, **solve_options: Any) -> ComparisonResult:
    """Run rules mode and optimal mode on one tender and compare them.

    Args:
        tender: a validated tender.
        **solve_options: passed to :func:`procurement.optimize.solve_tender` (solver, time_limit, mip_gap,
            options).

    Returns:
        :class:`ComparisonResult`.

    Raises:
        InfeasibleTenderError: optimal mode is infeasible.
    """
    from procurement.optimize.build import build_model, resolve_options
    from procurement.optimize.solve import solve_tender
    from procurement.rules.engine import run_rules

    rules_res = run_rules(tender)
    opt_res = solve_tender(tender, **solve_options)
    built = build_model(tender, resolve_options(tender, solve_options.get("options")))
    by_lot = []
    for mode, res in (("rules", rules_res), ("optimal", opt_res)):
        spend = res.supply.groupby("lot_id")["award_spend"].sum()
        lots = res.lots.set_index("lot_id")
        frame = pd.DataFrame({f"{mode}_winners": lots["winners"],
                              f"{mode}_spend": spend.reindex(lots.index).fillna(0.0),
                              f"{mode}_circulation": _circulation_by_lot(res, built).reindex(lots.index)})
        frame[f"{mode}_cost"] = frame[f"{mode}_spend"] + frame[f"{mode}_circulation"]
        by_lot.append(frame)
    lots = pd.concat(by_lot, axis=1)
    lots.insert(0, "molecule", rules_res.lots.set_index("lot_id")["molecule"])
    lots["difference"] = lots["optimal_cost"] - lots["rules_cost"]
    lots["difference_pct"] = np.where(lots["rules_cost"] > 0, lots["difference"] / lots["rules_cost"], np.nan)
    lots = lots.reset_index()

    key = ["lot_id", "region_id"]
    a = rules_res.allocation[key + ["primary_supplier_id"]].rename(
        columns={"primary_supplier_id": "rules_primary"})
    b = opt_res.allocation[key + ["primary_supplier_id"]].rename(
        columns={"primary_supplier_id": "optimal_primary"})
    regions = a.merge(b, on=key, how="outer")
    regions["changed"] = regions["rules_primary"].astype(object).to_numpy() != \
        regions["optimal_primary"].astype(object).to_numpy()
    concentration = pd.concat([_concentration(rules_res, "rules"), _concentration(opt_res, "optimal")],
                              ignore_index=True)
    rules_cost, opt_cost = float(lots["rules_cost"].sum()), float(lots["optimal_cost"].sum())
    summary = {
        "tender": tender.name, "rules_cost": rules_cost, "optimal_cost": opt_cost,
        "saving": rules_cost - opt_cost, "saving_pct": (rules_cost - opt_cost) / rules_cost if rules_cost else None,
        "rules_spend": float(lots["rules_spend"].sum()), "optimal_spend": float(lots["optimal_spend"].sum()),
        "regions": int(len(regions)), "regions_changed": int(regions["changed"].sum()),
        "rules_winners": int(rules_res.summary["winners"]), "optimal_winners": int(opt_res.summary["winners"]),
        "status": opt_res.summary["status"], "solver": opt_res.summary["solver"],
        "pricing": opt_res.summary["pricing"],
    }
    return ComparisonResult(rules=rules_res, optimal=opt_res, lots=lots, regions=regions,
                            concentration=concentration, summary=summary)
