"""Rules mode: a tender run procedurally, as the joint procurement office runs it.

validate -> comparable prices -> winner selection per lot (:mod:`procurement.rules.selection`) ->
agreed volumes (share by number of winners) -> province picking (:mod:`procurement.rules.allocation`)
-> result frames and summary.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from procurement.geo import distance_matrix_km
from procurement.model.result import TenderResult
from procurement.model.tender import Tender
from procurement.rules.allocation import pick_regions
from procurement.rules.comparable import comparable_factors
from procurement.rules.selection import explain_bids, select_lot, stack_selections


def evaluate_bids(tender: Tender) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply the price rules to every bid; return (bids audit frame, per-lot frame).

    The bids frame has, per bid: comparable price, validity, each price condition, rank, shortlist,
    ``won``, the comparable price it is paid (``award_comparable_price``) and a human ``reason``.
    """
    # Speed matters: this is the first step of rules mode and of optimal mode. Only winner selection
    # (select_lot, which holds the rules) runs lot by lot; key look-ups, reasons and frames work on
    # whole columns.
    rules = tender.rules
    bids, specs, suppliers, lot_table = tender.bids, tender.specs, tender.suppliers, tender.lots
    n, n_lots = len(bids), len(lot_table)
    # keys to positions with one get_indexer each (Series.map on string columns costs several times more)
    spec_of_bid = pd.Index(specs["spec_id"]).get_indexer(bids["spec_id"])
    supplier_of_bid = pd.Index(suppliers["supplier_id"]).get_indexer(bids["supplier_id"])
    lot_of_bid = pd.Index(lot_table["lot_id"]).get_indexer(bids["lot_id"])
    price = bids["price"].to_numpy(float)
    ceiling = _at(specs["ceiling_price"].to_numpy(float), spec_of_bid)
    factor = _at(comparable_factors(specs, lot_table, rules).to_numpy(float), spec_of_bid)
    comparable = price * factor
    group = _at(suppliers["group_id"].to_numpy(), supplier_of_bid)
    # tie-break key: dense rank of the supplier id (code among the sorted distinct ids, plus 1)
    order_key = pd.factorize(bids["supplier_id"], sort=True)[0].astype(np.int64) + 1
    low_forms = set(rules.low_price_dosage_forms)

    # bids sorted by lot (file order kept within a lot), so that each lot is a slice [lo, hi); bids of
    # no lot (none in a validated tender) sort first and stay out of every lot
    order = np.argsort(lot_of_bid, kind="stable")
    bounds = np.searchsorted(lot_of_bid[order], np.arange(n_lots + 1)).tolist()
    price_s, ceiling_s, comparable_s, key_s, group_s = (x[order] for x in (price, ceiling, comparable,
                                                                          order_key, group))
    selections = [
        select_lot(rules, price_s[lo:hi], ceiling_s[lo:hi], comparable_s[lo:hi], key_s[lo:hi], group_s[lo:hi],
                   low_price_applies=not low_forms or form in low_forms)
        for lo, hi, form in zip(bounds[:-1], bounds[1:], lot_table["dosage_form"], strict=True)]
    sel = stack_selections(selections)  # every bid of a lot, in sorted order from bounds[0]
    in_lot = order[bounds[0]:]  # their bid rows

    def per_bid(values: np.ndarray, fill: object) -> np.ndarray:
        """Stacked values in bid row order (``fill`` for a bid of no lot)."""
        out = np.full(n, fill, dtype=values.dtype)
        out[in_lot] = values
        return out

    reasons = explain_bids(rules, sel, price_s[bounds[0]:], ceiling_s[bounds[0]:], comparable_s[bounds[0]:])
    columns = {"ceiling_price": ceiling, "reference_price": _at(specs["reference_price"].to_numpy(float),
                                                               spec_of_bid),
               "factor": factor, "comparable_price": comparable}
    for name in ("valid", "within_fuse", "under_low_price", "cut_vs_ceiling", "price_condition",
                 "shortlisted", "won", "revived", "no_volume"):
        columns[name] = per_bid(getattr(sel, name), False)
    columns["valid_bidders"], columns["cap"] = per_bid(sel.valid_bidders, 0), per_bid(sel.cap, 0)
    columns["anchor"], columns["rank"] = per_bid(sel.anchor, np.nan), per_bid(sel.rank, 0)
    columns["award_comparable_price"] = per_bid(sel.award_comparable, np.nan)
    columns["reason"] = per_bid(np.array(reasons, dtype=object), "")
    # the bid columns followed by the new ones (a column the bids already have keeps its place)
    audit = pd.DataFrame({**{c: bids[c] for c in bids.columns}, **columns}, index=bids.index)

    # per lot: counts by lot code of the stacked bids, winning price range by fmin/fmax (NaN-skipping,
    # as nanmin/nanmax)
    lot_s = lot_of_bid[in_lot]
    bidders = np.diff(bounds).astype(np.int64)
    any_valid = np.bincount(lot_s[sel.valid], minlength=n_lots) > 0
    winners = np.bincount(lot_s[sel.won], minlength=n_lots)
    without_volume = np.bincount(lot_s[sel.no_volume], minlength=n_lots)
    lowest, highest = np.full(n_lots, np.nan), np.full(n_lots, np.nan)
    np.fmin.at(lowest, lot_s, sel.award_comparable)
    np.fmax.at(highest, lot_s, sel.award_comparable)
    failure = [_failure(b, v, w) for b, v, w in zip(bidders.tolist(), any_valid.tolist(), winners.tolist(),
                                                    strict=True)]
    lots = pd.DataFrame({
        "lot_id": lot_table["lot_id"].to_numpy(), "molecule": lot_table["molecule"].to_numpy(),
        "dosage_form": lot_table["dosage_form"].to_numpy(), "bidders": bidders,
        "valid_bidders": np.array([s.valid_bidders for s in selections], dtype=np.int64),
        "cap": np.array([s.cap for s in selections], dtype=np.int64),
        "winners": winners, "winners_without_volume": without_volume,
        "status": ["failed" if f else "awarded" for f in failure], "failure_reason": failure,
        "anchor": np.array([s.anchor for s in selections], dtype=float),
        "lowest_winning": lowest, "highest_winning": highest,
        "share_class": lot_table["share_class"].to_numpy(), "term_years": lot_table["term_years"].to_numpy()})
    return audit, lots


def _at(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """``values`` at ``positions`` of a get_indexer, NaN where it found nothing (as Series.map)."""
    out = values[positions]
    missing = positions < 0
    if missing.any():
        out = out.astype(object if out.dtype == object else float)
        out[missing] = np.nan
    return out


def _failure(bidders: int, any_valid: bool, winners: int) -> str:
    """Why a lot is not awarded ("" when it is)."""
    if bidders == 0:
        return "no bids"
    if not any_valid:
        return "no valid bid (every bid above its ceiling)"
    if winners == 0:
        return "no shortlisted bid meets a price condition"
    return ""


def run_rules(tender: Tender) -> TenderResult:
    """Run a tender in rules mode.

    Args:
        tender: a validated tender.

    Returns:
        :class:`~procurement.model.result.TenderResult` with ``mode == "rules"``.
    """
    rules = tender.rules
    bids, lots = evaluate_bids(tender)
    # winners selected without agreed volume (batch 12) do not count for the share table
    with_volume = lots["winners"] - lots["winners_without_volume"]
    lots["volume_share"] = [rules.volume_share(w, c) for w, c in zip(with_volume, lots["share_class"],
                                                                      strict=True)]
    lots["term_years"] = [t if pd.notna(t) else rules.contract_term(w)
                          for t, w in zip(lots["term_years"], lots["winners"], strict=True)]
    lots.loc[lots["winners"] == 0, "term_years"] = 0.0
    supply, allocation = allocate(tender, bids, lots)
    supply["award_spend"] = supply["agreed_volume"] * supply["award_price"]
    supply["reference_spend"] = supply["agreed_volume"] * supply["reference_price"]
    keyed = supply.groupby(["lot_id", "region_id"], sort=False)[["award_spend", "reference_spend"]].sum(
        min_count=1)
    allocation = allocation.join(keyed, on=["lot_id", "region_id"])
    awards = _awards(bids, allocation, supply, lots)
    lots = _lot_totals(lots, supply)
    return TenderResult(tender=tender, mode="rules", lots=lots, bids=bids.drop(columns=["factor"]),
                        awards=awards, allocation=allocation, supply=supply,
                        summary=summarise(tender, lots, bids, awards, supply, mode="rules"))


def allocate(tender: Tender, bids: pd.DataFrame, lots: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Agreed volumes and province picking for every awarded lot.

    Args:
        tender: the tender.
        bids: the bids audit frame of :func:`evaluate_bids` (``won``, ``rank``, ``award_comparable_price``,
            ``factor``, ``revived``).
        lots: per-lot frame with ``volume_share``.

    Returns:
        (supply, allocation) frames without spend columns: supply has one row per (lot, region, spec)
        with demand, allocation one per (lot, region).
    """
    rules = tender.rules
    specs = tender.specs
    spec_pos = pd.Index(specs["spec_id"])
    factors = comparable_factors(specs, tender.lots, rules).to_numpy(float)
    reference = specs["reference_price"].to_numpy(float)
    lot_pos = pd.Index(tender.lots["lot_id"])
    region_index = pd.Index(tender.regions["region_id"])
    d_spec = spec_pos.get_indexer(tender.demand["spec_id"])
    d_lot = lot_pos.get_indexer(specs["lot_id"].to_numpy()[d_spec])
    d_region = region_index.get_indexer(tender.demand["region_id"])
    d_volume = tender.demand["volume"].to_numpy(float)
    order = np.lexsort((d_spec, d_region, d_lot))
    d_spec, d_lot, d_region, d_volume = d_spec[order], d_lot[order], d_region[order], d_volume[order]
    bounds = np.searchsorted(d_lot, np.arange(len(lot_pos) + 1))
    share = lots["volume_share"].to_numpy(float)
    rng = np.random.default_rng(tender.seed)
    sup_lat = tender.suppliers.set_index("supplier_id")["latitude"]
    sup_lon = tender.suppliers.set_index("supplier_id")["longitude"]
    reg_lat = tender.regions["latitude"].to_numpy(float)
    reg_lon = tender.regions["longitude"].to_numpy(float)
    won = bids[bids["won"] & ~bids["no_volume"]].sort_values(["lot_id", "rank"], kind="stable")
    winners_by_lot = {lot: g for lot, g in won.groupby("lot_id", sort=False)}

    supply_cols: dict[str, list] = {k: [] for k in ("lot", "region", "spec", "supplier", "volume", "agreed",
                                                    "price")}
    alloc_cols: dict[str, list] = {k: [] for k in ("lot", "region", "primary", "backup", "round", "order",
                                                   "reported", "agreed", "price")}
    for k, lot_id in enumerate(lot_pos):
        win = winners_by_lot.get(lot_id)
        lo, hi = bounds[k], bounds[k + 1]
        if win is None or lo == hi:
            continue
        s = share[k]
        rows_region = d_region[lo:hi]
        starts = np.flatnonzero(np.r_[True, rows_region[1:] != rows_region[:-1]])
        regions = rows_region[starts]
        reported = np.add.reduceat(d_volume[lo:hi], starts)
        win_ids = win["supplier_id"].to_numpy()
        distance = None
        if tender.pick_policy == "nearest":
            distance = distance_matrix_km(sup_lat[win_ids], sup_lon[win_ids], reg_lat[regions], reg_lon[regions])
        picks = pick_regions(len(win), reported * s, tender.pick_policy, distance=distance, rng=rng,
                             first_pick_regions=rules.first_pick_regions, backup=rules.backup_supplier)
        win_comp = win["award_comparable_price"].to_numpy(float)
        win_spec = spec_pos.get_indexer(win["spec_id"])
        own_price = np.where(win["revived"].to_numpy(bool), np.nan, win["price"].to_numpy(float))
        # each supply row: its region's primary, paid the comparable award price converted to the row's
        # spec (its own bid price exactly on the spec it bid)
        row_winner = np.repeat(picks.primary, np.diff(np.r_[starts, hi - lo]))
        row_spec = d_spec[lo:hi]
        price = win_comp[row_winner] / factors[row_spec]
        own = (win_spec[row_winner] == row_spec) & ~np.isnan(own_price[row_winner])
        price[own] = own_price[row_winner][own]
        supply_cols["lot"].append(np.full(hi - lo, k))
        supply_cols["region"].append(rows_region)
        supply_cols["spec"].append(row_spec)
        supply_cols["supplier"].append(win_ids[row_winner])
        supply_cols["volume"].append(d_volume[lo:hi])
        supply_cols["agreed"].append(d_volume[lo:hi] * s)
        supply_cols["price"].append(price)
        alloc_cols["lot"].append(np.full(len(regions), k))
        alloc_cols["region"].append(regions)
        alloc_cols["primary"].append(win_ids[picks.primary])
        alloc_cols["backup"].append(np.where(picks.backup >= 0, win_ids[np.maximum(picks.backup, 0)], None))
        alloc_cols["round"].append(picks.pick_round)
        alloc_cols["order"].append(picks.pick_order)
        alloc_cols["reported"].append(reported)
        alloc_cols["agreed"].append(reported * s)
        alloc_cols["price"].append(win_comp[picks.primary])

    def cat(parts: list, dtype: object = None) -> np.ndarray:
        return np.concatenate(parts) if parts else np.array([], dtype=dtype)

    spec_rows = cat(supply_cols["spec"], np.int64)
    supply = pd.DataFrame({
        "lot_id": lot_pos.to_numpy()[cat(supply_cols["lot"], np.int64)],
        "region_id": region_index.to_numpy()[cat(supply_cols["region"], np.int64)],
        "spec_id": spec_pos.to_numpy()[spec_rows],
        "supplier_id": cat(supply_cols["supplier"], object),
        "reported_volume": cat(supply_cols["volume"], float),
        "agreed_volume": cat(supply_cols["agreed"], float),
        "award_price": cat(supply_cols["price"], float),
        "reference_price": reference[spec_rows],
    })
    allocation = pd.DataFrame({
        "lot_id": lot_pos.to_numpy()[cat(alloc_cols["lot"], np.int64)],
        "region_id": region_index.to_numpy()[cat(alloc_cols["region"], np.int64)],
        "primary_supplier_id": cat(alloc_cols["primary"], object),
        "backup_supplier_id": cat(alloc_cols["backup"], object),
        "pick_round": cat(alloc_cols["round"], np.int64),
        "pick_order": cat(alloc_cols["order"], np.int64),
        "reported_volume": cat(alloc_cols["reported"], float),
        "agreed_volume": cat(alloc_cols["agreed"], float),
        "price": cat(alloc_cols["price"], float),
    })
    return supply, allocation


def _awards(bids: pd.DataFrame, allocation: pd.DataFrame, supply: pd.DataFrame,
            lots: pd.DataFrame) -> pd.DataFrame:
    win = bids[bids["won"]].sort_values(["lot_id", "rank"], kind="stable")
    awards = win[["lot_id", "supplier_id", "spec_id", "rank", "price", "comparable_price",
                  "award_comparable_price", "reference_price", "revived", "no_volume"]].copy()
    awards["award_price"] = np.where(awards["revived"],
                                     win["award_comparable_price"] / win["factor"], awards["price"])
    key = ["lot_id", "supplier_id"]
    prim = allocation.groupby(["lot_id", "primary_supplier_id"], sort=False)["region_id"].agg(
        lambda r: ";".join(r))
    prim.index = prim.index.set_names(key)
    n_prim = allocation.groupby(["lot_id", "primary_supplier_id"], sort=False).size()
    n_prim.index = n_prim.index.set_names(key)
    n_back = allocation.dropna(subset=["backup_supplier_id"]).groupby(
        ["lot_id", "backup_supplier_id"], sort=False).size()
    n_back.index = n_back.index.set_names(key)
    spend = supply.groupby(key, sort=False)[["agreed_volume", "award_spend", "reference_spend"]].sum(min_count=1)
    awards = awards.join(n_prim.rename("regions"), on=key).join(prim.rename("provinces"), on=key)
    awards = awards.join(n_back.rename("backup_regions"), on=key).join(spend, on=key)
    awards["regions"] = awards["regions"].fillna(0).astype(np.int64)
    awards["backup_regions"] = awards["backup_regions"].fillna(0).astype(np.int64)
    awards["provinces"] = awards["provinces"].fillna("")
    awards[["agreed_volume", "award_spend"]] = awards[["agreed_volume", "award_spend"]].fillna(0.0)
    awards["cut"] = 1 - awards["award_price"] / awards["reference_price"]
    lot_info = lots.set_index("lot_id")
    awards["volume_share"] = awards["lot_id"].map(lot_info["volume_share"])
    awards["term_years"] = awards["lot_id"].map(lot_info["term_years"])
    return awards.reset_index(drop=True)


def _lot_totals(lots: pd.DataFrame, supply: pd.DataFrame) -> pd.DataFrame:
    priced = supply[supply["reference_price"].notna()]
    totals = supply.groupby("lot_id")[["reported_volume", "agreed_volume", "award_spend"]].sum()
    ref = priced.groupby("lot_id")[["reference_spend", "award_spend"]].sum().rename(
        columns={"award_spend": "award_spend_priced"})
    lots = lots.join(totals, on="lot_id").join(ref, on="lot_id")
    for col in ("reported_volume", "agreed_volume", "award_spend"):
        lots[col] = lots[col].fillna(0.0)
    lots["cut"] = 1 - lots["award_spend_priced"] / lots["reference_spend"]
    return lots


def summarise(tender: Tender, lots: pd.DataFrame, bids: pd.DataFrame, awards: pd.DataFrame,
              supply: pd.DataFrame, mode: str) -> dict:
    """Headline figures of a run.

    Spend is on the agreed volume. ``reference_spend`` and ``award_spend_priced`` cover only supply rows
    whose spec has a reference price, so their ratio gives the volume-weighted cut; ``award_spend`` covers
    every row. The simple average cut is the mean over winners of 1 - award price / reference price.
    """
    # numpy sums laid out as pandas' (NaN as 0, then one pairwise sum), so the figures keep every bit;
    # boolean .loc selections on the supply frame cost more than the rest of the summary
    priced = ~np.isnan(supply["reference_price"].to_numpy(float))
    ref_spend = _nansum(supply["reference_spend"].to_numpy(float)[priced])
    award_priced = _nansum(supply["award_spend"].to_numpy(float)[priced])
    agreed = supply["agreed_volume"].to_numpy(float)
    cuts = awards["cut"].dropna()
    return {
        "tender": tender.name,
        "mode": mode,
        "rules": tender.rules.name,
        "rule_overrides": {k: list(v) if isinstance(v, tuple) else v for k, v in tender.rules.overrides},
        "pick_policy": tender.pick_policy,
        "seed": tender.seed,
        "currency": tender.currency,
        "lots": int(len(lots)),
        "awarded_lots": int((lots["status"] == "awarded").sum()),
        "failed_lots": lots.loc[lots["status"] == "failed", "lot_id"].tolist(),
        "bids": int(len(bids)),
        "valid_bids": int(bids["valid"].sum()),
        "winners": int(bids["won"].sum()),
        "reported_volume": float(supply["reported_volume"].sum()),
        "agreed_volume": _nansum(agreed),
        "award_spend": float(supply["award_spend"].sum()),
        "reference_spend": ref_spend,
        "award_spend_priced": award_priced,
        "reference_price_coverage": _nansum(agreed[priced]) / _nansum(agreed) if len(supply) else 0.0,
        "saving": ref_spend - award_priced,
        "volume_weighted_cut": 1 - award_priced / ref_spend if ref_spend > 0 else None,
        "simple_average_cut": float(cuts.mean()) if len(cuts) else None,
    }


def _nansum(values: np.ndarray) -> float:
    """Sum skipping NaN, computed as pandas' ``Series.sum`` does (same bits)."""
    return float(np.where(np.isnan(values), 0.0, values).sum())
