"""Solution vector -> the same result frames as rules mode (lots, bids, awards, allocation, supply).

Award prices follow the pricing rule: pay-as-bid (own price, or the active tier's price), uniform (the
lot's highest accepted comparable price, converted to each spec by its comparable factor), revival (Rule-1
winners their own price; revived winners min(revival price, own comparable price), as in rules mode).
Backups with ``backup = "auto"`` rotate through the lot's winners in price order, skipping the region's
primary (cost-neutral, so any rotation is optimal); ``pick_round`` and ``pick_order`` are -1 (no picking).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from procurement.model.result import TenderResult
from procurement.optimize.build import BuiltModel, ModelData

_ON = 0.5      # a binary above this is 1
_SHARE_TOL = 1e-6


def award_comparable(d: ModelData, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per candidate: (won, comparable price paid; NaN if lost)."""
    won = values[d.cols["win"]] > _ON
    # a winner that supplies nothing does not count when every winner must supply (it cannot happen)
    own = d.cand_comp.copy()
    if len(d.tier_cand):
        active = values[d.cols["tier"]] > _ON
        own[d.tier_cand[active]] = d.tier_comp[active]
    pay = np.where(won, own, np.nan)
    if d.pricing == "uniform":
        top = np.full(len(d.lot_ids), -np.inf)
        np.maximum.at(top, d.cand_lot[won], own[won])
        pay = np.where(won, top[d.cand_lot], np.nan)
    elif d.pricing == "revival" and d.cand_revivable.any():
        rule1 = won & ~d.cand_revivable
        count = np.bincount(d.cand_lot[rule1], minlength=len(d.lot_ids))
        top = np.full(len(d.lot_ids), -np.inf)
        np.maximum.at(top, d.cand_lot[rule1], own[rule1])
        ratio = d.tender.rules.revival_sole_winner_ratio
        revival_price = np.where(count > 1, top, ratio * top)
        revived = won & d.cand_revivable
        pay[revived] = np.minimum(revival_price[d.cand_lot[revived]], d.cand_comp[revived])
    return won, pay


def extract(built: BuiltModel, values: np.ndarray, solve_info: dict[str, Any]) -> TenderResult:
    """Turn a solution into a :class:`TenderResult` with ``mode == "optimal"``.

    Args:
        built: the built model.
        values: column values from the solver.
        solve_info: status, objective, gap, solve_time_s, solver (copied into the summary).
    """
    from procurement.rules.engine import summarise

    d = built.data
    tender, rules = d.tender, d.tender.rules
    won, pay = award_comparable(d, values)
    x = values[d.cols["assign"]]
    split = d.options.allocation == "split"
    sel = np.flatnonzero(x > (_SHARE_TOL if split else _ON))
    frac = np.clip(x[sel], 0.0, 1.0) if split else np.ones(len(sel))
    sel_cand, sel_lr = d.br_cand[sel], d.br_lr[sel]

    # bids
    source = d.bids
    cand_of_bid = np.full(len(source), -1)
    cand_of_bid[d.cand_bid] = np.arange(d.n_cand)
    is_cand = cand_of_bid >= 0
    no_volume = source["no_volume"].to_numpy(bool) if "no_volume" in source else np.zeros(len(source), bool)
    bid_won = no_volume.copy()  # batch 12: selected without agreed volume, as in rules mode
    bid_won[d.cand_bid] = won
    award = np.where(no_volume, source["award_comparable_price"].to_numpy(float), np.nan)
    award[d.cand_bid] = pay
    reasons = source["reason"].to_numpy(object).copy()
    rules_won = source["won"].to_numpy(bool)
    reasons[d.cand_bid[won]] = [f"won (optimal, {d.pricing}): paid comparable price {p:.4g}"
                                for p in pay[won].tolist()]
    reasons[d.cand_bid[~won]] = "lost (optimal): not in the cost-optimal solution"
    off = ~is_cand & rules_won & ~no_volume
    reasons[off] = f"not eligible under pricing {d.pricing}: fails every price condition"
    changed = {
        "won": bid_won, "revived": bid_won & source["revivable"].to_numpy(bool), "shortlisted": is_cand,
        "award_comparable_price": award,
        "cap": np.where(is_cand | source["valid"].to_numpy(bool),
                        d.max_winners[pd.Index(d.lot_ids).get_indexer(source["lot_id"])], source["cap"]),
        "reason": reasons}
    # one frame from the columns, without the model's own (assigning seven columns one by one into a copy
    # cost more)
    bids_out = pd.DataFrame({c: changed.get(c, source[c]) for c in source.columns
                             if c not in ("factor", "eligible", "revivable")}, index=source.index)

    # lots: the rules frame's columns, those the solution changes replaced (the frame is built once,
    # with the totals, below)
    winners = np.bincount(d.cand_lot[won], minlength=len(d.lot_ids))
    lot_index = pd.Index(d.lot_ids)
    without = np.bincount(lot_index.get_indexer(source["lot_id"].to_numpy(object)[no_volume]),
                          minlength=len(d.lot_ids))
    failure = np.where(winners > 0, "", d.lots["failure_reason"].to_numpy(object))
    failure[(winners == 0) & (failure == "")] = f"no bid eligible under pricing {d.pricing}"
    lo = np.full(len(d.lot_ids), np.inf)
    hi = np.full(len(d.lot_ids), -np.inf)
    np.minimum.at(lo, d.cand_lot[won], pay[won])
    np.maximum.at(hi, d.cand_lot[won], pay[won])
    term = tender.lots["term_years"].to_numpy(float)
    lot_changes = {
        "winners": winners + without, "cap": d.max_winners,
        "status": np.where(winners > 0, "awarded", "failed"), "failure_reason": failure,
        "lowest_winning": np.where(winners > 0, lo, np.nan), "highest_winning": np.where(winners > 0, hi, np.nan),
        "volume_share": np.where(winners > 0, d.share, 0.0),
        "term_years": np.where(winners == 0, 0.0, np.where(np.isnan(term), [
            rules.contract_term(int(w)) for w in winners.tolist()], term))}
    if "winners_without_volume" in d.lots:
        lot_changes["winners_without_volume"] = without
    lot_columns = {c: lot_changes.get(c, d.lots[c]) for c in d.lots.columns}
    lot_columns.update({c: v for c, v in lot_changes.items() if c not in lot_columns})

    # supply: demand rows of awarded (lot, region) pairs, one row per supplier serving the pair
    dem = tender.demand
    n_reg = len(d.region_ids)
    d_lot, d_reg = d.dem_lot, d.dem_region
    lr_key = d.lr_lot * n_reg + d.lr_region
    d_key = d_lot * n_reg + d_reg
    pos = np.searchsorted(lr_key, d_key)
    pos = np.minimum(pos, max(len(lr_key) - 1, 0))
    has_lr = (len(lr_key) > 0) & (lr_key[pos] == d_key) if len(lr_key) else np.zeros(len(dem), bool)
    d_rows = np.flatnonzero(has_lr)
    d_lr = pos[d_rows]
    # pair each demand row with each selected (cand, lr) of its lr
    order = np.argsort(sel_lr, kind="stable")
    s_lr, s_cand, s_frac = sel_lr[order], sel_cand[order], frac[order]
    first = np.searchsorted(s_lr, d_lr, side="left")
    count = np.searchsorted(s_lr, d_lr, side="right") - first
    rep_rows = np.repeat(d_rows, count)
    pick = np.repeat(first, count) + (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count))
    cand = s_cand[pick]
    f = s_frac[pick]
    spec_ids = dem["spec_id"].to_numpy(object)[rep_rows]
    factor = d.dem_factor[rep_rows]
    # reference price of each demand row's spec, looked up once per demand row
    dem_reference = tender.specs["reference_price"].to_numpy(float)[
        pd.Index(tender.specs["spec_id"]).get_indexer(dem["spec_id"])]
    reference = dem_reference[rep_rows]
    bid_rows = d.cand_bid[cand]
    own_spec = d.bids["spec_id"].to_numpy(object)[bid_rows] == spec_ids
    pay_c = pay[cand]
    own_price = d.bids["price"].to_numpy(float)[bid_rows]
    exact_own = own_spec & np.isclose(pay_c, d.cand_comp[cand], rtol=1e-12, atol=0)
    award_price = np.where(exact_own, own_price, pay_c / factor)
    reported = dem["volume"].to_numpy(float)[rep_rows] * f
    lot_of = d.cand_lot[cand]
    agreed_rows = reported * d.share[lot_of]
    order = np.lexsort((d.cand_supplier[cand], rep_rows, d_reg[rep_rows], lot_of))
    supply = pd.DataFrame({
        "lot_id": d.lot_ids[lot_of[order]], "region_id": dem["region_id"].to_numpy(object)[rep_rows[order]],
        "spec_id": spec_ids[order], "supplier_id": d.supplier_ids[d.cand_supplier[cand[order]]],
        "reported_volume": reported[order], "agreed_volume": agreed_rows[order],
        "award_price": award_price[order], "reference_price": reference[order],
        "award_spend": agreed_rows[order] * award_price[order],
        "reference_spend": agreed_rows[order] * reference[order]})

    # allocation: one row per (lot, region)
    primary = _primary_per_lr(d, sel_cand, sel_lr, frac)
    backup = _backups(d, values, primary, won, pay)
    row_lr = d_lr[np.repeat(np.arange(len(d_rows)), count)]
    award_spend_rows = agreed_rows * award_price
    ref_rows = agreed_rows * reference
    alloc = pd.DataFrame({
        "lot_id": d.lot_ids[d.lr_lot], "region_id": d.region_ids[d.lr_region],
        "primary_supplier_id": d.supplier_ids[d.cand_supplier[primary]],
        "backup_supplier_id": pd.Series(np.where(backup >= 0, d.supplier_ids[d.cand_supplier[np.maximum(backup, 0)]],
                                                 None), dtype=object),
        "pick_round": -1, "pick_order": -1,
        "reported_volume": d.lr_reported, "agreed_volume": d.lr_units, "price": pay[primary],
        "award_spend": _sum_by(row_lr, award_spend_rows, len(d.lr_lot)),
        "reference_spend": _sum_by(row_lr, ref_rows, len(d.lr_lot))})
    awards = _awards(d, bids_out, source["factor"].to_numpy(float), cand_of_bid, lot_columns, cand,
                     award_spend_rows, ref_rows, agreed_rows, primary, backup)
    lot_columns.update(_lot_totals(len(d.lot_ids), lot_of, reported, agreed_rows, award_spend_rows, ref_rows))
    lots = pd.DataFrame(lot_columns, index=d.lots.index)
    del order

    circ_br = d.br_circulation[sel] * frac
    circulation = pd.DataFrame({"lot_id": d.lot_ids[d.cand_lot[sel_cand]],
                                "region_id": d.region_ids[d.lr_region[sel_lr]],
                                "supplier_id": d.supplier_ids[d.cand_supplier[sel_cand]],
                                "agreed_volume": d.lr_units[sel_lr] * frac, "circulation_cost": circ_br})
    summary = summarise(tender, lots, bids_out, awards, supply, mode="optimal")
    payment = float(supply["award_spend"].sum())
    risk = 0.0
    if d.options.risk_weight > 0 and len(sel):
        vol = np.bincount(sel_cand, weights=d.lr_units[sel_lr] * frac, minlength=d.n_cand)
        top = np.zeros(len(d.lot_ids))
        np.maximum.at(top, d.cand_lot, vol)
        risk = float(d.options.risk_weight * top.sum())
    summary.update({
        "solver": solve_info.get("solver"), "status": solve_info.get("status"),
        "objective": solve_info.get("objective"), "gap": solve_info.get("gap"),
        "solve_time_s": solve_info.get("solve_time_s"), "build_time_s": built.build_time_s,
        "evaluate_time_s": built.evaluate_time_s,
        "pricing": d.pricing, "allocation": d.options.allocation, "circulation": d.circulation,
        "payment": payment, "circulation_cost": float(circ_br.sum()), "risk_term": risk,
        "columns": built.matrix.num_col, "rows": built.matrix.num_row, "nonzeros": built.matrix.num_nz,
        "constraint_families": list(built.families),
    })
    return TenderResult(tender=tender, mode="optimal", lots=lots, bids=bids_out, awards=awards,
                        allocation=alloc, supply=supply, summary=summary,
                        extra={"circulation": circulation})


def _primary_per_lr(d: ModelData, sel_cand: np.ndarray, sel_lr: np.ndarray, frac: np.ndarray) -> np.ndarray:
    """Candidate with the largest share of each (lot, region) (ties: cheaper bid, then table order)."""
    primary = np.full(len(d.lr_lot), -1)
    order = np.lexsort((sel_cand, d.cand_comp[sel_cand], -frac, sel_lr))
    lr_sorted = sel_lr[order]
    first = np.ones(len(order), bool)
    first[1:] = lr_sorted[1:] != lr_sorted[:-1]
    primary[lr_sorted[first]] = sel_cand[order][first]
    return primary


def _backups(d: ModelData, values: np.ndarray, primary: np.ndarray, won: np.ndarray,
             pay: np.ndarray) -> np.ndarray:
    n_lr = len(d.lr_lot)
    if d.backup == "none":
        return np.full(n_lr, -1)
    if d.backup == "required" and "backup" in d.cols:
        z = values[d.cols["backup"]] > _ON
        out = np.full(n_lr, -1)
        out[d.br_lr[z]] = d.br_cand[z]
        return out
    # auto: rotate through the lot's winners in price order, skipping the region's primary
    win = np.flatnonzero(won)
    win = win[np.lexsort((win, pay[win], d.cand_lot[win]))]
    n_win = np.bincount(d.cand_lot[win], minlength=len(d.lot_ids))
    start = np.concatenate([[0], np.cumsum(n_win)[:-1]])
    lot = d.lr_lot
    n = n_win[lot]
    pos_in_lot = np.arange(n_lr) - d.lot_lr_start[lot]
    ok = n > 1
    out = np.full(n_lr, -1)
    k = np.where(ok, pos_in_lot % np.maximum(n, 1), 0)
    cand = win[np.minimum(start[lot] + k, len(win) - 1)] if len(win) else np.zeros(n_lr, int)
    clash = ok & (cand == primary)
    k2 = np.where(clash, (k + 1) % np.maximum(n, 1), k)
    cand = win[np.minimum(start[lot] + k2, len(win) - 1)] if len(win) else cand
    out[ok] = cand[ok]
    return out


def _sum_by(index: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Sum of values per index, NaN values skipped, NaN where every value is NaN (pandas min_count=1)."""
    ok = ~np.isnan(values)
    total = np.bincount(index[ok], weights=values[ok], minlength=n)
    seen = np.bincount(index[ok], minlength=n)
    return np.where(seen > 0, total, np.nan)


def _awards(d: ModelData, bids: pd.DataFrame, factor: np.ndarray, cand_of_bid: np.ndarray, lots: dict[str, Any],
            cand: np.ndarray, award_spend: np.ndarray, reference_spend: np.ndarray, agreed: np.ndarray,
            primary: np.ndarray, backup: np.ndarray) -> pd.DataFrame:
    """One row per winner, columns as rules mode's awards (procurement.rules.engine._awards).

    ``factor`` and ``cand_of_bid`` (candidate of each bid, -1 for none) are per row of ``bids``.
    """
    # winners by lot (string order, as sort_values would give) then rank, stable; numpy keys are cheaper
    won_rows = np.flatnonzero(bids["won"].to_numpy(bool))
    lot_key = pd.Index(np.sort(d.lot_ids.astype(str))).get_indexer(bids["lot_id"].to_numpy(object)[won_rows])
    rows = won_rows[np.lexsort((bids["rank"].to_numpy()[won_rows], lot_key))]
    cols = ["lot_id", "supplier_id", "spec_id", "rank", "price", "comparable_price", "award_comparable_price",
            "reference_price", "revived"] + (["no_volume"] if "no_volume" in bids else [])
    # the bid columns taken once (string columns keep their dtype), the new ones added in one concat:
    # column-by-column assignment into a frame cost more than all the arithmetic here
    taken = bids.iloc[rows]
    kept = taken[cols].reset_index(drop=True)
    wc = cand_of_bid[rows]
    price, comparable = taken["price"].to_numpy(float), taken["comparable_price"].to_numpy(float)
    paid = taken["award_comparable_price"].to_numpy(float)
    exact = np.isclose(paid, comparable, rtol=1e-12, atol=0)
    award_price = np.where(exact, price, paid / factor[rows])
    n = d.n_cand + 1  # last slot: winners without a candidate (no volume)
    slot = np.where(wc >= 0, wc, d.n_cand)
    has = primary >= 0
    regions = np.bincount(primary[has], minlength=n)
    order = np.argsort(np.where(has, primary, n), kind="stable")
    bounds = np.searchsorted(primary[order], np.arange(n + 1)) if has.any() else np.zeros(n + 1, int)
    region_of_lr = d.region_ids[d.lr_region].tolist()
    order_list, bounds_list = order.tolist(), bounds.tolist()
    provinces = [";".join([region_of_lr[k] for k in order_list[bounds_list[c]:bounds_list[c + 1]]])
                 if c < d.n_cand else "" for c in slot.tolist()]
    ref = _sum_by(cand, reference_spend, n)
    reference = taken["reference_price"].to_numpy(float)
    lot_pos = pd.Index(d.lot_ids).get_indexer(kept["lot_id"])
    added = pd.DataFrame({
        "award_price": award_price,
        "regions": np.where(wc >= 0, regions[slot], 0).astype(np.int64),
        "provinces": provinces,
        "backup_regions": np.where(wc >= 0, np.bincount(backup[backup >= 0], minlength=n)[slot], 0
                                   ).astype(np.int64),
        "agreed_volume": np.where(wc >= 0, np.bincount(cand, weights=agreed, minlength=n)[slot], 0.0),
        "award_spend": np.where(wc >= 0, np.bincount(cand, weights=award_spend, minlength=n)[slot], 0.0),
        "reference_spend": np.where(wc >= 0, ref[slot], np.nan),
        "cut": 1 - award_price / reference,
        "volume_share": np.asarray(lots["volume_share"], dtype=float)[lot_pos],
        "term_years": np.asarray(lots["term_years"], dtype=float)[lot_pos]})
    return pd.concat([kept, added], axis=1)


def _lot_totals(n: int, lot_of: np.ndarray, reported: np.ndarray, agreed: np.ndarray, award_spend: np.ndarray,
                reference_spend: np.ndarray) -> dict[str, np.ndarray]:
    """Per-lot volumes and spend, the columns of rules mode's lots frame (procurement.rules.engine._lot_totals)."""
    priced = ~np.isnan(reference_spend)
    seen = np.bincount(lot_of[priced], minlength=n) > 0
    reference = np.where(seen, np.bincount(lot_of[priced], weights=reference_spend[priced], minlength=n), np.nan)
    award_priced = np.where(seen, np.bincount(lot_of[priced], weights=award_spend[priced], minlength=n), np.nan)
    return {"reported_volume": np.bincount(lot_of, weights=reported, minlength=n),
            "agreed_volume": np.bincount(lot_of, weights=agreed, minlength=n),
            "award_spend": np.bincount(lot_of, weights=award_spend, minlength=n),
            "reference_spend": reference, "award_spend_priced": award_priced,
            "cut": 1 - award_priced / reference}
