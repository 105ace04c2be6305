"""Infeasibility diagnosis: which constraint family, which lots / regions / suppliers.

Two stages. :func:`precheck` tests necessary conditions family by family on the model data (no
solver) and names the lots, regions and suppliers involved with the numbers. When the solver still
reports infeasibility (families that only conflict jointly), :func:`relaxation_diagnosis` re-solves
with one optional family left out at a time and reports the families whose removal restores
feasibility.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from procurement.optimize.build import OPTIONAL_FAMILIES, ModelData


def _units(v: float) -> str:
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:.3g}{suffix} units"
    return f"{v:.3g} units"


def precheck(d: ModelData, families: list[str]) -> list[str]:
    """Necessary conditions per family; one message per violation (empty list: nothing found)."""
    out: list[str] = []
    lots = np.flatnonzero(d.awardable)
    n_cand = np.bincount(d.cand_lot, minlength=len(d.lot_ids))
    sup_of_lot = [np.unique(d.cand_supplier[d.cand_lot == lot]) for lot in range(len(d.lot_ids))]
    for lot in lots:
        lid = d.lot_ids[lot]
        lo, hi = int(d.min_winners[lot]), int(d.max_winners[lot])
        if "winner-count" in families:
            if lo > hi:
                out.append(f"winner-count: lot {lid} needs at least {lo} winners but the cap is {hi}")
            elif lo > n_cand[lot]:
                out.append(f"winner-count: lot {lid} needs at least {lo} winners but only {n_cand[lot]} "
                           f"bid(s) are eligible")
        if "winner-region" in families and lo > d.lot_lr_count[lot]:
            out.append(f"winner-region: lot {lid} needs {lo} winners, each with a region, but has demand in "
                       f"only {d.lot_lr_count[lot]} region(s)")
        if "backup" in families and min(hi, n_cand[lot]) < 2:
            out.append(f"backup: lot {lid} needs a backup supplier per region but can have at most "
                       f"{min(hi, n_cand[lot])} winner")
    vol = d.lot_volume
    lr_max = np.zeros(len(d.lot_ids))
    np.maximum.at(lr_max, d.lr_lot, d.lr_units)
    primary = d.options.allocation == "primary"
    for fam, cap, owners in (("share-cap-lot", d.options.share_cap_lot, None),
                             ("group-share-cap-lot", d.options.group_share_cap_lot, d.supplier_group)):
        if fam not in families or cap is None:
            continue
        word = "suppliers" if owners is None else "groups"
        for lot in lots:
            sups = sup_of_lot[lot]
            n_own = len(sups) if owners is None else len(np.unique(owners[sups]))
            if n_own * cap < 1 - 1e-9:
                out.append(f"{fam}: share cap {cap:.0%} with {n_own} eligible {word} cannot cover lot "
                           f"{d.lot_ids[lot]}")
            elif primary and lr_max[lot] > cap * vol[lot] * (1 + 1e-9):
                lr = np.flatnonzero((d.lr_lot == lot) & (d.lr_units == lr_max[lot]))[0]
                out.append(f"{fam}: share cap {cap:.0%}: region {d.region_ids[d.lr_region[lr]]} alone is "
                           f"{lr_max[lot] / vol[lot]:.0%} of lot {d.lot_ids[lot]} (one primary per region)")
    for fam, cap, owners in (("share-cap-tender", d.options.share_cap_tender, None),
                             ("group-share-cap-tender", d.options.group_share_cap_tender, d.supplier_group)):
        if fam in families and cap is not None:
            sups = np.unique(d.cand_supplier)
            n_own = len(sups) if owners is None else len(np.unique(owners[sups]))
            if n_own * cap < 1 - 1e-9:
                word = "suppliers" if owners is None else "groups"
                out.append(f"{fam}: tender share cap {cap:.0%} with {n_own} eligible {word} cannot cover the "
                           f"tender's agreed volume")
    if "capacity" in families:
        for lot in lots:
            cap_sum = d.capacity[sup_of_lot[lot]].sum()
            if cap_sum < vol[lot] * (1 - 1e-9):
                out.append(f"capacity: capacity short of lot {d.lot_ids[lot]} demand by "
                           f"{_units(vol[lot] - cap_sum)} (eligible suppliers "
                           f"{', '.join(d.supplier_ids[sup_of_lot[lot]])})")
            elif primary:
                biggest = d.capacity[sup_of_lot[lot]].max()
                if lr_max[lot] > biggest * (1 + 1e-9):
                    lr = np.flatnonzero((d.lr_lot == lot) & (d.lr_units == lr_max[lot]))[0]
                    out.append(f"capacity: region {d.region_ids[d.lr_region[lr]]} of lot {d.lot_ids[lot]} "
                               f"needs {_units(lr_max[lot])}, more than any eligible supplier's capacity "
                               f"({_units(biggest)})")
        sups = np.unique(d.cand_supplier)
        total_cap = d.capacity[sups].sum()
        if not out and total_cap < vol.sum() * (1 - 1e-9):
            out.append(f"capacity: capacity of all eligible suppliers short of the tender's agreed volume by "
                       f"{_units(vol.sum() - total_cap)}")
    if "region-diversity" in families:
        k = d.options.min_suppliers_per_region
        n_lots = np.bincount(d.lr_region, minlength=len(d.region_ids))
        for r in np.unique(d.lr_region):
            sups = np.unique(d.cand_supplier[d.br_cand[d.lr_region[d.br_lr] == r]])
            if n_lots[r] < k:
                out.append(f"region-diversity: region {d.region_ids[r]} has {n_lots[r]} awarded lot(s), so "
                           f"it cannot have {k} distinct primary suppliers")
            elif len(sups) < k:
                out.append(f"region-diversity: region {d.region_ids[r]} has only {len(sups)} eligible "
                           f"supplier(s) over its lots, fewer than {k}")
    return out


def relaxation_diagnosis(families: list[str], is_feasible_without: Callable[[str], bool]) -> list[str]:
    """Re-solve leaving out one optional family at a time; name those whose removal restores feasibility.

    Args:
        families: families present in the model.
        is_feasible_without: returns whether the model without the named family is feasible.
    """
    optional = [f for f in OPTIONAL_FAMILIES if f in families]
    culprits = [f for f in optional if is_feasible_without(f)]
    if culprits:
        return [f"{f}: the tender becomes feasible without this constraint family" for f in culprits]
    if optional:
        return ["the constraint families " + ", ".join(optional) + " conflict jointly (no single one "
                "removed restores feasibility)"]
    return ["cover: some (lot, region) cannot be served under the pricing rule's eligible bids"]
