"""Small hand-checkable tenders for the optimal-mode tests."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from procurement.model.validate import tender_from_frames

REGIONS = {"R1": 100.0, "R2": 200.0, "R3": 300.0}


def make_tender(lots: dict[str, dict[str, float]], *, regions: dict[str, float] | None = None,
                ceiling: float = 10.0, capacity: dict[str, float] | None = None,
                groups: dict[str, str] | None = None, optimize: dict | None = None,
                overrides: dict | None = None, extra: dict[str, pd.DataFrame] | None = None,
                coords: bool = False, suppliers: list[str] | None = None):
    """A tender with one spec per lot (comparable price = declared price).

    Args:
        lots: lot id -> {supplier id: price}; the spec id is ``P<lot id>``.
        regions: region id -> reported volume of every lot (default :data:`REGIONS`).
        ceiling: ceiling price of every spec; the reference price is 1.2 x ceiling.
        capacity, groups: per supplier.
        optimize, overrides: the ``[optimize]`` and ``[rules.overrides]`` tables.
        extra: optional tables (costs, tiers) as raw frames.
        coords: give suppliers and regions coordinates (distance-based circulation).
    """
    regions = regions or REGIONS
    sup_ids = suppliers or sorted({s for bids in lots.values() for s in bids})
    rng = np.random.default_rng(1)
    frames = {
        "lots": pd.DataFrame({"lot_id": list(lots), "molecule": [f"m-{k}" for k in lots],
                              "dosage_form": "oral-solid", "rep_spec_id": [f"P{k}" for k in lots]}),
        "specs": pd.DataFrame({"spec_id": [f"P{k}" for k in lots], "lot_id": list(lots), "strength": 10.0,
                               "unit": "mg", "pack_size": 10, "ceiling_price": ceiling,
                               "reference_price": 1.2 * ceiling}),
        "suppliers": pd.DataFrame({
            "supplier_id": sup_ids, "name": sup_ids, "originator": False,
            "group_id": [(groups or {}).get(s, "") for s in sup_ids],
            "capacity": [(capacity or {}).get(s, "") for s in sup_ids],
            "latitude": list(np.round(rng.uniform(22, 40, len(sup_ids)), 2)) if coords else "",
            "longitude": list(np.round(rng.uniform(100, 120, len(sup_ids)), 2)) if coords else ""}),
        "bids": pd.DataFrame([{"supplier_id": s, "spec_id": f"P{k}", "price": p}
                              for k, bids in lots.items() for s, p in bids.items()]),
        "regions": pd.DataFrame({"region_id": list(regions), "name": list(regions),
                                 "latitude": list(np.round(rng.uniform(22, 40, len(regions)), 2)) if coords else "",
                                 "longitude": list(np.round(rng.uniform(100, 120, len(regions)), 2)) if coords
                                 else ""}),
        "demand": pd.DataFrame([{"region_id": r, "spec_id": f"P{k}", "volume": v}
                                for k in lots for r, v in regions.items()]),
    }
    frames.update(extra or {})
    config = {"name": "t", "rules": {"preset": "batch4", "overrides": overrides or {}}}
    if optimize:
        config["optimize"] = optimize
    return tender_from_frames(frames, config)


def brute_force(tender, pricing: str, min_winners: int = 1, share_cap_lot: float | None = None,
                capacity: bool = True) -> float:
    """Cheapest feasible primary assignment by enumeration (one spec per lot, no circulation cost)."""
    from procurement.rules.engine import evaluate_bids

    bids, lots = evaluate_bids(tender)
    rules = tender.rules
    cap_of = dict(zip(tender.suppliers["supplier_id"], tender.suppliers["capacity"], strict=True))
    demand = tender.demand.merge(tender.specs[["spec_id", "lot_id"]], on="spec_id")
    per_lot = []
    for lot in lots.itertuples(index=False):
        cand = bids[(bids["lot_id"] == lot.lot_id) & bids["valid"] & bids["price_condition"]]
        if cand.empty:
            continue
        share = rules.volume_share(max(lot.winners, 1), lot.share_class)
        vol = demand[demand["lot_id"] == lot.lot_id].set_index("region_id")["volume"] * share
        options = []
        for assign in itertools.product(range(len(cand)), repeat=len(vol)):
            used = sorted(set(assign))
            if not min_winners <= len(used) <= lot.cap:
                continue
            load = np.bincount(assign, weights=vol.to_numpy(), minlength=len(cand))
            if share_cap_lot is not None and load.max() > share_cap_lot * vol.sum() + 1e-9:
                continue
            price = cand["comparable_price"].to_numpy()
            cost = price[used].max() * vol.sum() if pricing == "uniform" else float((price * load).sum())
            options.append((cost, {cand["supplier_id"].iloc[i]: load[i] for i in used}))
        per_lot.append(options)
    best = np.inf
    for combo in itertools.product(*per_lot):
        if capacity:
            load: dict[str, float] = {}
            for _, loads in combo:
                for s, v in loads.items():
                    load[s] = load.get(s, 0.0) + v
            if any(pd.notna(cap_of[s]) and v > cap_of[s] + 1e-9 for s, v in load.items()):
                continue
        best = min(best, sum(c for c, _ in combo))
    return best
