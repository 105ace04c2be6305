"""Pure model building: a tender -> one mixed-integer program over all its lots (matrix form).

Index sets: lots l, regions r, candidate bids b (a supplier's bid on a lot that may win under the
pricing rule), (b, r) pairs for the regions of b's lot, suppliers s, related-party groups g.
Constants per (l, r): U = agreed volume in smallest units, A = the same volume in representative-spec
units (sum over specs of volume / comparable factor), so a bid of unit comparable price p is paid p * A.

Every constraint family is one function ``add_<family>(m, d)`` whose docstring states its math; a
family can be disabled by name (the infeasibility diagnosis re-solves without one family at a time).
Nothing here solves or imports a solver.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from procurement.errors import InputProblem, TenderFileErrors
from procurement.model.tender import Tender
from procurement.optimize.config import OptimizeOptions
from procurement.optimize.matrix import INF, MatrixModel, ModelBuilder

#: Optional constraint families, in the order the diagnosis tries dropping them.
OPTIONAL_FAMILIES = ("winner-count", "winner-region", "backup", "share-cap-lot", "group-share-cap-lot",
                     "share-cap-tender", "group-share-cap-tender", "capacity", "region-diversity",
                     "split-min-award")


def circulation_share_of_value(sup_lat: np.ndarray, sup_lon: np.ndarray, reg_lat: np.ndarray,
                               reg_lon: np.ndarray) -> np.ndarray:
    """Distance-based circulation cost as a share of value, supplier x region.

    The one logistics model of the package (:func:`procurement.analysis.logistics.distribution_cost`);
    kept behind this function so the optimiser has a single call site.
    """
    from procurement.analysis.logistics import distribution_cost

    return distribution_cost(sup_lat, sup_lon, reg_lat, reg_lon, unit_value=1.0)


@dataclass
class ModelData:
    """Index arrays and constants of one tender's model (everything extraction needs)."""

    tender: Tender
    options: OptimizeOptions
    pricing: str
    circulation: str
    backup: str
    disabled: frozenset[str]
    bids: pd.DataFrame            # evaluate_bids audit frame (+ factor, eligible, revivable)
    lots: pd.DataFrame            # evaluate_bids per-lot frame
    lot_ids: np.ndarray
    region_ids: np.ndarray
    supplier_ids: np.ndarray
    group_ids: np.ndarray         # per group code
    supplier_group: np.ndarray    # group code per supplier
    capacity: np.ndarray          # per supplier (inf = unlimited)
    share: np.ndarray             # agreed share per lot
    min_winners: np.ndarray       # per lot
    max_winners: np.ndarray       # per lot
    awardable: np.ndarray         # per lot: has a candidate bid
    lot_volume: np.ndarray        # agreed units per lot
    # candidates
    cand_bid: np.ndarray          # row of ``bids``
    cand_lot: np.ndarray
    cand_supplier: np.ndarray
    cand_comp: np.ndarray         # unit comparable price of the bid
    cand_revivable: np.ndarray    # wins only through revival
    # (lot, region) pairs of awardable lots
    lr_lot: np.ndarray
    lr_region: np.ndarray
    lr_units: np.ndarray          # U
    lr_equiv: np.ndarray          # A
    lr_reported: np.ndarray
    lot_lr_start: np.ndarray
    lot_lr_count: np.ndarray
    # (candidate, region) pairs
    br_cand: np.ndarray
    br_lr: np.ndarray
    br_circulation: np.ndarray    # circulation cost of the whole (b, r) volume
    # demand rows (tender.demand order): lot and region positions, comparable factor of the spec
    dem_lot: np.ndarray
    dem_region: np.ndarray
    dem_factor: np.ndarray
    # tiers (one row per tier of a tiered candidate; tier 0 = the bids.csv price)
    tier_cand: np.ndarray
    tier_lo: np.ndarray
    tier_hi: np.ndarray
    tier_comp: np.ndarray
    tier_price: np.ndarray
    factors: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))  # comparable factor by spec
    evaluate_time_s: float = 0.0  # the rules engine's evaluation of the bids (validity, price conditions)
    cols: dict[str, np.ndarray] = field(default_factory=dict)   # family -> global column indices

    @property
    def n_cand(self) -> int:
        return len(self.cand_bid)

    def active(self, family: str) -> bool:
        return family not in self.disabled


@dataclass
class BuiltModel:
    """A built model: the matrix, the data behind it and the build time."""

    matrix: MatrixModel
    data: ModelData
    build_time_s: float
    families: list[str]
    evaluate_time_s: float = 0.0


def resolve_options(tender: Tender, options: OptimizeOptions | None = None) -> OptimizeOptions:
    """The tender's ``[optimize]`` options, or ``options`` when given."""
    if options is not None:
        return options
    stored = tender.extra.get("optimize")
    return stored if isinstance(stored, OptimizeOptions) else OptimizeOptions()


def prepare(tender: Tender, options: OptimizeOptions, disabled: frozenset[str] = frozenset()) -> ModelData:
    """Compute index sets and constants (rules evaluation, volumes, costs, tiers) of a tender.

    Raises:
        TenderFileErrors: costs.csv / tiers.csv rows inconsistent with the bids or incomplete.
        ValueError: an unsupported combination of options.
    """
    from procurement.rules.comparable import comparable_factors
    from procurement.rules.engine import evaluate_bids

    rules = tender.rules
    pricing = options.pricing
    if pricing == "auto":
        pricing = "revival" if rules.revival != "none" else "pay-as-bid"
    if pricing == "revival" and options.allocation == "split":
        raise ValueError("pricing = \"revival\" needs allocation = \"primary\" (a revived bid's payment is "
                         "linearised on a 0/1 assignment)")
    backup = options.backup
    if backup == "auto":
        backup = "auto" if rules.backup_supplier else "none"
    started = time.perf_counter()
    bids, lots = evaluate_bids(tender)
    evaluate_time_s = time.perf_counter() - started
    factors = comparable_factors(tender.specs, tender.lots, rules)
    # bids["factor"] is evaluate_bids' (the same factors, per bid)
    counted = bids["rank"].to_numpy() > 0  # ranked = valid and counted as a bidder
    revivable = bids["valid"].to_numpy(bool) & counted & ~bids["price_condition"].to_numpy(bool)
    eligible = bids["valid"].to_numpy(bool) & bids["price_condition"].to_numpy(bool)
    if "no_volume" in bids:  # batch 12: selected without agreed volume, never a volume candidate
        eligible &= ~bids["no_volume"].to_numpy(bool)
        revivable &= ~bids["no_volume"].to_numpy(bool)
    if pricing != "revival":
        revivable = np.zeros(len(bids), bool)
    bids["eligible"] = eligible
    bids["revivable"] = revivable

    lot_ids = tender.lots["lot_id"].to_numpy()
    region_ids = tender.regions["region_id"].to_numpy()
    sup = tender.suppliers
    supplier_ids = sup["supplier_id"].to_numpy()
    group_codes, group_ids = pd.factorize(sup["group_id"])
    capacity = sup["capacity"].to_numpy(float, na_value=np.nan)
    capacity = np.where(np.isnan(capacity), INF, capacity)

    # candidates
    cand_mask = eligible | revivable
    cand_bid = np.flatnonzero(cand_mask)
    cand_lot = pd.Index(lot_ids).get_indexer(bids["lot_id"]).astype(np.int64)[cand_bid]
    order = np.lexsort((cand_bid, cand_lot))
    cand_bid, cand_lot = cand_bid[order], cand_lot[order]
    cand_supplier = pd.Index(supplier_ids).get_indexer(bids["supplier_id"]).astype(np.int64)[cand_bid]
    cand_comp = bids["comparable_price"].to_numpy(float)[cand_bid]
    cand_revivable = revivable[cand_bid]
    n_lots = len(lot_ids)
    awardable = np.bincount(cand_lot[~cand_revivable], minlength=n_lots) > 0

    # agreed share and winner bounds per lot
    rules_winners = lots["winners"].to_numpy(np.int64)
    share_class = tender.lots["share_class"].to_numpy()
    if options.share == "rules":
        share = np.array([rules.volume_share(max(int(w), 1), c) for w, c in zip(rules_winners, share_class,
                                                                                   strict=True)])
    else:
        share = np.full(n_lots, float(options.share))
    max_w = lots["cap"].to_numpy(np.int64) if options.max_winners == "preset" else \
        np.full(n_lots, int(options.max_winners))
    min_w = np.maximum(rules_winners, 1) if options.min_winners == "rules" else \
        np.full(n_lots, int(options.min_winners))

    # (lot, region) volumes
    # positions through one hash lookup per column (Series.map on string columns costs several times more)
    dem = tender.demand
    d_spec = pd.Index(tender.specs["spec_id"]).get_indexer(dem["spec_id"])
    d_lot = pd.Index(lot_ids).get_indexer(tender.specs["lot_id"])[d_spec].astype(np.int64)
    d_reg = pd.Index(region_ids).get_indexer(dem["region_id"]).astype(np.int64)
    d_vol = dem["volume"].to_numpy(float)
    d_fac = factors.reindex(tender.specs["spec_id"]).to_numpy(float)[d_spec]
    keep = awardable[d_lot]
    key = d_lot[keep] * len(region_ids) + d_reg[keep]
    uniq, inv = np.unique(key, return_inverse=True)
    lr_lot, lr_region = uniq // len(region_ids), uniq % len(region_ids)
    lr_reported = np.bincount(inv, weights=d_vol[keep], minlength=len(uniq))
    lr_units = lr_reported * share[lr_lot]
    lr_equiv = np.bincount(inv, weights=d_vol[keep] / d_fac[keep], minlength=len(uniq)) * share[lr_lot]
    lot_lr_count = np.bincount(lr_lot, minlength=n_lots)
    lot_lr_start = np.concatenate([[0], np.cumsum(lot_lr_count)[:-1]])
    lot_volume = np.bincount(lr_lot, weights=lr_units, minlength=n_lots)

    # (candidate, region) pairs: every region of the candidate's lot
    n_br = lot_lr_count[cand_lot]
    br_cand = np.repeat(np.arange(len(cand_bid)), n_br)
    first = np.repeat(lot_lr_start[cand_lot], n_br)
    within = np.arange(len(br_cand)) - np.repeat(np.cumsum(n_br) - n_br, n_br)
    br_lr = first + within

    problems: list[InputProblem] = []
    circulation, br_circ = _circulation(tender, options, cand_supplier, cand_comp, br_cand, br_lr, lr_lot,
                                        lr_region, lr_units, lr_equiv, lot_ids, region_ids, supplier_ids,
                                        problems)
    tiers = _tiers(tender, bids, cand_bid, cand_lot, cand_revivable, lot_volume, problems)
    if problems:
        raise TenderFileErrors(problems, tender.source)
    return ModelData(
        tender=tender, options=options, pricing=pricing, circulation=circulation, backup=backup,
        disabled=frozenset(disabled), bids=bids, lots=lots, lot_ids=lot_ids, region_ids=region_ids,
        supplier_ids=supplier_ids, group_ids=np.asarray(group_ids), supplier_group=group_codes,
        capacity=capacity, share=share, min_winners=min_w, max_winners=max_w, awardable=awardable,
        lot_volume=lot_volume, cand_bid=cand_bid, cand_lot=cand_lot, cand_supplier=cand_supplier,
        cand_comp=cand_comp, cand_revivable=cand_revivable, lr_lot=lr_lot, lr_region=lr_region,
        lr_units=lr_units, lr_equiv=lr_equiv, lr_reported=lr_reported, lot_lr_start=lot_lr_start,
        lot_lr_count=lot_lr_count, br_cand=br_cand, br_lr=br_lr, br_circulation=br_circ, factors=factors,
        dem_lot=d_lot, dem_region=d_reg, dem_factor=d_fac,
        evaluate_time_s=evaluate_time_s, **tiers)


def _circulation(tender, options, cand_supplier, cand_comp, br_cand, br_lr, lr_lot, lr_region, lr_units,
                 lr_equiv, lot_ids, region_ids, supplier_ids, problems) -> tuple[str, np.ndarray]:
    mode = options.circulation
    costs = tender.extra.get("costs")
    sup, reg = tender.suppliers, tender.regions
    has_coords = not (sup[["latitude", "longitude"]].isna().any().any()
                      or reg[["latitude", "longitude"]].isna().any().any())
    if mode == "auto":
        mode = "table" if costs is not None else ("distance" if has_coords else "none")
    if mode == "none" or len(br_cand) == 0:
        return mode, np.zeros(len(br_cand))
    s_of_br = cand_supplier[br_cand]
    r_of_br = lr_region[br_lr]
    if mode == "distance":
        if not has_coords:
            problems.append(InputProblem("tender.toml", None, "optimize.circulation", "distance",
                                         "needs latitude and longitude of every supplier and region"))
            return mode, np.zeros(len(br_cand))
        rate = circulation_share_of_value(sup["latitude"].to_numpy(float), sup["longitude"].to_numpy(float),
                                          reg["latitude"].to_numpy(float), reg["longitude"].to_numpy(float))
        # value shipped = the bid's own comparable price x equivalent units of the region's volume
        return mode, rate[s_of_br, r_of_br] * cand_comp[br_cand] * lr_equiv[br_lr]
    if costs is None:
        problems.append(InputProblem("tender.toml", None, "optimize.circulation", "table",
                                     "needs the costs table (costs.csv)"))
        return mode, np.zeros(len(br_cand))
    if (costs["cost"] < 0).any():
        for i in np.flatnonzero(costs["cost"].to_numpy(float) < 0)[:10]:
            problems.append(InputProblem("costs.csv", int(i) + 2, "cost", str(costs["cost"].iloc[i]),
                                         "expected a number >= 0"))
    n_r, n_l = len(region_ids), len(lot_ids)
    s_pos = pd.Index(supplier_ids).get_indexer(costs["supplier_id"])
    r_pos = pd.Index(region_ids).get_indexer(costs["region_id"])
    l_pos = pd.Index(lot_ids).get_indexer(costs["lot_id"].where(costs["lot_id"].notna(), "\0"))
    value = costs["cost"].to_numpy(float)
    generic = pd.Series(value[l_pos < 0], index=s_pos[l_pos < 0] * n_r + r_pos[l_pos < 0])
    specific = pd.Series(value[l_pos >= 0], index=(s_pos[l_pos >= 0] * n_r + r_pos[l_pos >= 0]) * n_l
                         + l_pos[l_pos >= 0])
    l_of_br = lr_lot[br_lr]
    sr = s_of_br * n_r + r_of_br
    per_unit = np.array(specific.reindex(sr * n_l + l_of_br).to_numpy(float))
    missing = np.isnan(per_unit)
    per_unit[missing] = generic.reindex(sr[missing]).to_numpy(float)
    missing = np.isnan(per_unit)
    if missing.any():
        pairs = sorted({(supplier_ids[s], region_ids[r], lot_ids[lo]) for s, r, lo in
                        zip(s_of_br[missing], r_of_br[missing], l_of_br[missing], strict=True)})
        shown = "; ".join(f"{s} -> {r} (lot {lo})" for s, r, lo in pairs[:5])
        problems.append(InputProblem("costs.csv", None, None, None,
                                     f"circulation = \"table\" needs a cost for every eligible supplier and "
                                     f"region of its lots; {len(pairs)} missing, e.g. {shown}"))
        per_unit[missing] = 0.0
    return mode, per_unit * lr_units[br_lr]


def _tiers(tender, bids, cand_bid, cand_lot, cand_revivable, lot_volume, problems) -> dict[str, np.ndarray]:
    tiers = tender.extra.get("tiers")
    empty = {"tier_cand": np.zeros(0, np.int64), "tier_lo": np.zeros(0), "tier_hi": np.zeros(0),
             "tier_comp": np.zeros(0), "tier_price": np.zeros(0)}
    if tiers is None or len(tiers) == 0:
        return empty
    bid_key = pd.Index(bids["supplier_id"] + "\0" + bids["spec_id"])
    pos = bid_key.get_indexer(tiers["supplier_id"] + "\0" + tiers["spec_id"])
    for i in np.flatnonzero(pos < 0)[:20]:
        problems.append(InputProblem("tiers.csv", int(i) + 2, "spec_id", tiers["spec_id"].iloc[i],
                                     f"supplier {tiers['supplier_id'].iloc[i]} has no bid on this spec"))
    if (pos < 0).any():
        return empty
    cand_of_bid = np.full(len(bids), -1)
    cand_of_bid[cand_bid] = np.arange(len(cand_bid))
    t = pd.DataFrame({"cand": cand_of_bid[pos], "lo": tiers["min_volume"].to_numpy(float),
                      "price": tiers["price"].to_numpy(float)})
    t = t[(t["cand"] >= 0)]
    t = t[~cand_revivable[t["cand"].to_numpy()]]  # revived bids are paid the revival price
    if len(t) == 0:
        return empty
    tiered = np.unique(t["cand"].to_numpy())
    base = pd.DataFrame({"cand": tiered, "lo": 0.0,
                         "price": bids["price"].to_numpy(float)[cand_bid[tiered]]})
    t = pd.concat([base, t], ignore_index=True).sort_values(["cand", "lo"], kind="stable")
    cand = t["cand"].to_numpy(np.int64)
    lo = t["lo"].to_numpy(float)
    nxt = np.append(lo[1:], INF)
    last = np.append(cand[1:] != cand[:-1], True)
    hi = np.where(last, lot_volume[cand_lot[cand]], nxt)
    factor = bids["factor"].to_numpy(float)[cand_bid[cand]]
    price = t["price"].to_numpy(float)
    return {"tier_cand": cand, "tier_lo": lo, "tier_hi": np.maximum(hi, lo), "tier_comp": price * factor,
            "tier_price": price}


# ---- constraint families ------------------------------------------------------------------------------

def add_assignment(m: ModelBuilder, d: ModelData) -> None:
    """Cover: sum_b x[b,r] = 1 for every (l, r) of an awarded lot (primary: x binary; split: x share in [0,1])."""
    split = d.options.allocation == "split"
    keys = _br_keys(d)
    d.cols["assign"] = m.add_columns("assign" if not split else "share", keys, upper=1.0, integer=not split)
    m.add_rows("cover", (d.lot_ids[d.lr_lot], d.region_ids[d.lr_region]), lower=1.0, upper=1.0,
               rows=d.br_lr, cols=d.cols["assign"], vals=1.0)
    if split:
        d.cols["use"] = m.add_columns("use", keys, upper=1.0, integer=True)


def add_split_min_award(m: ModelBuilder, d: ModelData) -> None:
    """Split shares: min_award * use[b,r] <= x[b,r] <= use[b,r] (use binary)."""
    n = len(d.br_cand)
    rows = np.arange(n)
    lower = d.options.min_award if d.active("split-min-award") else 0.0
    m.add_rows("split_link", _br_keys(d), lower=-INF, upper=0.0, rows=np.concatenate([rows, rows]),
               cols=np.concatenate([d.cols["assign"], d.cols["use"]]),
               vals=np.concatenate([np.ones(n), -np.ones(n)]))
    if lower > 0:
        m.add_rows("split_min_award", _br_keys(d), lower=0.0, upper=INF, rows=np.concatenate([rows, rows]),
                   cols=np.concatenate([d.cols["assign"], d.cols["use"]]),
                   vals=np.concatenate([np.ones(n), -lower * np.ones(n)]))


def add_winners(m: ModelBuilder, d: ModelData) -> None:
    """Winner link: y[b,r] <= w[b] for every (b, r) (y = primary or use), w binary per candidate bid.

    One row per (b, r) rather than the aggregated sum_r y[b,r] <= n_l w[b]: the same integer points, but
    the LP relaxation then forces w[b] up to the largest fraction of any region b serves instead of the
    average, which closes most of the root gap (31x100x40 benchmark: 4.5 s -> 1.3 s). With a backup
    requirement the backup family's row y + z <= w implies this one, so it is not added twice.
    """
    keys = _cand_keys(d)
    d.cols["win"] = m.add_columns("win", keys, upper=1.0, integer=True)
    if d.backup == "required" and d.active("backup"):
        return
    y = _y(d)
    n = len(y)
    rows = np.arange(n)
    m.add_rows("win_link", _br_keys(d), lower=-INF, upper=0.0, rows=np.concatenate([rows, rows]),
               cols=np.concatenate([y, d.cols["win"][d.br_cand]]),
               vals=np.concatenate([np.ones(n), -np.ones(n)]))


def add_winner_region(m: ModelBuilder, d: ModelData) -> None:
    """Every winner gets a region: sum_r y[b,r] >= w[b]."""
    y = _y(d)
    m.add_rows("win_region", _cand_keys(d), lower=0.0, upper=INF,
               rows=np.concatenate([d.br_cand, np.arange(d.n_cand)]), cols=np.concatenate([y, d.cols["win"]]),
               vals=np.concatenate([np.ones(len(y)), -np.ones(d.n_cand)]))


def add_winner_count(m: ModelBuilder, d: ModelData) -> None:
    """Winners per lot: min_l <= sum_{b in l} w[b] <= max_l (max from the preset's cap table or explicit)."""
    lots = np.flatnonzero(d.awardable)
    local = np.full(len(d.lot_ids), -1)
    local[lots] = np.arange(len(lots))
    m.add_rows("win_count", (d.lot_ids[lots],), lower=d.min_winners[lots].astype(float),
               upper=d.max_winners[lots].astype(float), rows=local[d.cand_lot], cols=d.cols["win"], vals=1.0)


def add_backup(m: ModelBuilder, d: ModelData) -> None:
    """Backup: sum_b z[b,r] = 1 per (l, r); y[b,r] + z[b,r] <= w[b] (a backup is a winner, distinct from
    the region's primary; this row is also the winner link, see :func:`add_winners`)."""
    keys = _br_keys(d)
    z = m.add_columns("backup", keys, upper=1.0, integer=True)
    d.cols["backup"] = z
    n = len(d.br_cand)
    m.add_rows("backup_cover", (d.lot_ids[d.lr_lot], d.region_ids[d.lr_region]), lower=1.0, upper=1.0,
               rows=d.br_lr, cols=z, vals=1.0)
    rows = np.arange(n)
    m.add_rows("backup_link", keys, lower=-INF, upper=0.0, rows=np.concatenate([rows, rows, rows]),
               cols=np.concatenate([_y(d), z, d.cols["win"][d.br_cand]]),
               vals=np.concatenate([np.ones(2 * n), -np.ones(n)]))


def add_share_cap_lot(m: ModelBuilder, d: ModelData) -> None:
    """Supplier share per lot: sum_r U[l,r] x[b,r] <= cap * V_l."""
    cap = d.options.share_cap_lot
    m.add_rows("share_cap_lot", _cand_keys(d), lower=-INF, upper=cap * d.lot_volume[d.cand_lot],
               rows=d.br_cand, cols=d.cols["assign"], vals=d.lr_units[d.br_lr])


def add_group_share_cap_lot(m: ModelBuilder, d: ModelData) -> None:
    """Group share per lot: sum_{b of g in l} sum_r U[l,r] x[b,r] <= cap * V_l."""
    group = d.supplier_group[d.cand_supplier]
    key = d.cand_lot * (len(d.group_ids) + 1) + group
    uniq, inv = np.unique(key, return_inverse=True)
    lot = uniq // (len(d.group_ids) + 1)
    m.add_rows("group_share_cap_lot", (d.lot_ids[lot], d.group_ids[uniq % (len(d.group_ids) + 1)]),
               lower=-INF, upper=d.options.group_share_cap_lot * d.lot_volume[lot],
               rows=inv[d.br_cand], cols=d.cols["assign"], vals=d.lr_units[d.br_lr])


def add_share_cap_tender(m: ModelBuilder, d: ModelData) -> None:
    """Supplier share of the tender: sum_{b of s} sum_r U x[b,r] <= cap * sum_l V_l."""
    _per_owner(m, d, "share_cap_tender", d.cand_supplier, d.supplier_ids,
               d.options.share_cap_tender * d.lot_volume.sum())


def add_group_share_cap_tender(m: ModelBuilder, d: ModelData) -> None:
    """Group share of the tender: sum_{b of g} sum_r U x[b,r] <= cap * sum_l V_l."""
    _per_owner(m, d, "group_share_cap_tender", d.supplier_group[d.cand_supplier], d.group_ids,
               d.options.group_share_cap_tender * d.lot_volume.sum())


def add_capacity(m: ModelBuilder, d: ModelData) -> None:
    """Capacity shared across lots: sum_{b of s} sum_r U[l,r] x[b,r] <= capacity_s (finite ones)."""
    finite = np.isfinite(d.capacity)
    if not finite[d.cand_supplier].any():
        return
    uniq, inv = np.unique(d.cand_supplier, return_inverse=True)
    keep = finite[uniq]
    local = np.full(len(uniq), -1)
    local[keep] = np.arange(keep.sum())
    row_of_cand = local[inv]
    sel = row_of_cand[d.br_cand] >= 0
    m.add_rows("capacity", (d.supplier_ids[uniq[keep]],), lower=-INF, upper=d.capacity[uniq[keep]],
               rows=row_of_cand[d.br_cand][sel], cols=d.cols["assign"][sel], vals=d.lr_units[d.br_lr][sel])


def add_region_diversity(m: ModelBuilder, d: ModelData) -> None:
    """Distinct suppliers per region: v[s,r] <= sum_{b of s} y[b,r]; sum_s v[s,r] >= k (v binary)."""
    k = d.options.min_suppliers_per_region
    n_r = len(d.region_ids)
    key = d.cand_supplier[d.br_cand] * n_r + d.lr_region[d.br_lr]
    uniq, inv = np.unique(key, return_inverse=True)
    s, r = uniq // n_r, uniq % n_r
    v = m.add_columns("serves", (d.supplier_ids[s], d.region_ids[r]), upper=1.0, integer=True)
    nv = len(uniq)
    m.add_rows("serves_link", (d.supplier_ids[s], d.region_ids[r]), lower=-INF, upper=0.0,
               rows=np.concatenate([np.arange(nv), inv]), cols=np.concatenate([v, _y(d)]),
               vals=np.concatenate([np.ones(nv), -np.ones(len(inv))]))
    regions = np.unique(r)
    local = np.full(n_r, -1)
    local[regions] = np.arange(len(regions))
    m.add_rows("region_diversity", (d.region_ids[regions],), lower=float(k), upper=INF, rows=local[r], cols=v,
               vals=1.0)


def add_tiers(m: ModelBuilder, d: ModelData) -> None:
    """Tiered bids (all-units): sum_t k[b,t] = w[b]; lo_t k <= Q[b,t] <= hi_t k; sum_t Q = sum_r U x;
    sum_t E[b,t] = sum_r A x; E[b,t] <= A_l k[b,t]; payment sum_t p_t E[b,t] (k binary)."""
    if len(d.tier_cand) == 0:
        return
    tc = d.tier_cand
    nt = len(tc)
    tier_no = np.arange(nt) - np.searchsorted(tc, tc)
    keys = (d.lot_ids[d.cand_lot[tc]], d.supplier_ids[d.cand_supplier[tc]], tier_no)
    k = m.add_columns("tier", keys, upper=1.0, integer=True)
    q = m.add_columns("tier_units", keys)
    e = m.add_columns("tier_equiv", keys)
    d.cols["tier"], d.cols["tier_equiv"] = k, e
    tiered, first = np.unique(tc, return_index=True)
    local = np.full(d.n_cand, -1)
    local[tiered] = np.arange(len(tiered))
    tkeys = (d.lot_ids[d.cand_lot[tiered]], d.supplier_ids[d.cand_supplier[tiered]])
    m.add_rows("tier_pick", tkeys, lower=0.0, upper=0.0, rows=np.concatenate([local[tc], np.arange(len(tiered))]),
               cols=np.concatenate([k, d.cols["win"][tiered]]),
               vals=np.concatenate([np.ones(nt), -np.ones(len(tiered))]))
    sel = local[d.br_cand] >= 0
    for name, col, coef in (("tier_units_sum", q, d.lr_units), ("tier_equiv_sum", e, d.lr_equiv)):
        m.add_rows(name, tkeys, lower=0.0, upper=0.0,
                   rows=np.concatenate([local[tc], local[d.br_cand][sel]]),
                   cols=np.concatenate([col, d.cols["assign"][sel]]),
                   vals=np.concatenate([np.ones(nt), -coef[d.br_lr][sel]]))
    rows = np.arange(nt)
    m.add_rows("tier_min", keys, lower=0.0, upper=INF, rows=np.concatenate([rows, rows]),
               cols=np.concatenate([q, k]), vals=np.concatenate([np.ones(nt), -d.tier_lo]))
    m.add_rows("tier_max", keys, lower=-INF, upper=0.0, rows=np.concatenate([rows, rows]),
               cols=np.concatenate([q, k]), vals=np.concatenate([np.ones(nt), -d.tier_hi]))
    equiv_total = np.bincount(d.lr_lot, weights=d.lr_equiv, minlength=len(d.lot_ids))
    m.add_rows("tier_equiv_max", keys, lower=-INF, upper=0.0, rows=np.concatenate([rows, rows]),
               cols=np.concatenate([e, k]), vals=np.concatenate([np.ones(nt), -equiv_total[d.cand_lot[tc]]]))
    del first


def add_pricing(m: ModelBuilder, d: ModelData) -> None:
    """Payment. pay-as-bid: sum p_b A[l,r] x[b,r] (tiered: sum p_t E[b,t]); uniform: P_l * sum_r A[l,r] with
    P_l >= p_b w[b] (tiered: P_l >= sum_t p_t k[b,t]); revival: Rule-1 bids as pay-as-bid, revived bids
    pay[b,r] >= A[l,r] (R_l - Rmax_l (1 - x[b,r])), R_l >= p_b w[b], R_l >= ratio p_b (w[b] - m_l),
    sum_{Rule-1 b} w[b] >= 2 m_l."""
    x = d.cols["assign"]
    tiered = np.zeros(d.n_cand, bool)
    tiered[d.tier_cand] = True
    if d.pricing == "uniform":
        lots = np.flatnonzero(d.awardable)
        equiv_total = np.bincount(d.lr_lot, weights=d.lr_equiv, minlength=len(d.lot_ids))
        top = np.zeros(len(d.lot_ids))
        np.maximum.at(top, d.cand_lot, d.cand_comp)
        p = m.add_columns("price", (d.lot_ids[lots],), upper=top[lots], cost=equiv_total[lots])
        d.cols["price"] = p
        local = np.full(len(d.lot_ids), -1)
        local[lots] = np.arange(len(lots))
        flat = np.flatnonzero(~tiered)
        rows_p = np.arange(len(flat))
        m.add_rows("price_link", _cand_keys(d, flat), lower=0.0, upper=INF,
                   rows=np.concatenate([rows_p, rows_p]), cols=np.concatenate([p[local[d.cand_lot[flat]]],
                                                                             d.cols["win"][flat]]),
                   vals=np.concatenate([np.ones(len(flat)), -d.cand_comp[flat]]))
        if len(d.tier_cand):
            tc = d.tier_cand
            tiered_c = np.unique(tc)
            loc = np.full(d.n_cand, -1)
            loc[tiered_c] = np.arange(len(tiered_c))
            m.add_rows("price_link_tiered", _cand_keys(d, tiered_c), lower=0.0, upper=INF,
                       rows=np.concatenate([np.arange(len(tiered_c)), loc[tc]]),
                       cols=np.concatenate([p[local[d.cand_lot[tiered_c]]], d.cols["tier"]]),
                       vals=np.concatenate([np.ones(len(tiered_c)), -d.tier_comp]))
        return
    own = ~tiered[d.br_cand] & ~d.cand_revivable[d.br_cand]
    m.add_cost(x[own], (d.cand_comp[d.br_cand] * d.lr_equiv[d.br_lr])[own])
    if len(d.tier_cand):
        m.add_cost(d.cols["tier_equiv"], d.tier_comp)
    if d.pricing != "revival" or not d.cand_revivable.any():
        return
    ratio = d.tender.rules.revival_sole_winner_ratio
    lots = np.unique(d.cand_lot[d.cand_revivable])
    local = np.full(len(d.lot_ids), -1)
    local[lots] = np.arange(len(lots))
    rule1 = np.flatnonzero(~d.cand_revivable & (local[d.cand_lot] >= 0))
    r_max = np.zeros(len(d.lot_ids))
    np.maximum.at(r_max, d.cand_lot[rule1], ratio * d.cand_comp[rule1])
    big_r = m.add_columns("revival_price", (d.lot_ids[lots],), upper=r_max[lots])
    several = m.add_columns("rule1_several", (d.lot_ids[lots],), upper=1.0, integer=True)
    d.cols["revival_price"] = big_r
    n1 = len(rule1)
    rows1 = np.arange(n1)
    lot_r = local[d.cand_lot[rule1]]
    m.add_rows("revival_max", _cand_keys(d, rule1), lower=0.0, upper=INF, rows=np.concatenate([rows1, rows1]),
               cols=np.concatenate([big_r[lot_r], d.cols["win"][rule1]]),
               vals=np.concatenate([np.ones(n1), -d.cand_comp[rule1]]))
    m.add_rows("revival_sole", _cand_keys(d, rule1), lower=0.0, upper=INF,
               rows=np.concatenate([rows1, rows1, rows1]),
               cols=np.concatenate([big_r[lot_r], d.cols["win"][rule1], several[lot_r]]),
               vals=np.concatenate([np.ones(n1), -ratio * d.cand_comp[rule1], ratio * d.cand_comp[rule1]]))
    m.add_rows("rule1_count", (d.lot_ids[lots],), lower=0.0, upper=INF,
               rows=np.concatenate([lot_r, np.arange(len(lots))]),
               cols=np.concatenate([d.cols["win"][rule1], several]),
               vals=np.concatenate([np.ones(n1), -2.0 * np.ones(len(lots))]))
    rev_br = np.flatnonzero(d.cand_revivable[d.br_cand])
    pay = m.add_columns("revival_pay", _br_keys(d, rev_br), cost=1.0)
    a = d.lr_equiv[d.br_lr[rev_br]]
    rmax = r_max[d.cand_lot[d.br_cand[rev_br]]]
    rows = np.arange(len(rev_br))
    lot_of = local[d.cand_lot[d.br_cand[rev_br]]]
    m.add_rows("revival_pay_link", _br_keys(d, rev_br), lower=-a * rmax, upper=INF,
               rows=np.concatenate([rows, rows, rows]), cols=np.concatenate([pay, big_r[lot_of], x[rev_br]]),
               vals=np.concatenate([np.ones(len(rows)), -a, -a * rmax]))


def add_circulation(m: ModelBuilder, d: ModelData) -> None:
    """Circulation cost: sum c[s,r,l] U[l,r] x[b,r] (c per unit from costs.csv, or the logistics model's
    share of value times the bid's own price)."""
    if d.circulation != "none":
        m.add_cost(d.cols["assign"], d.br_circulation)


def add_risk(m: ModelBuilder, d: ModelData) -> None:
    """Supply risk: risk_weight * sum_l C_l with C_l >= sum_r U[l,r] x[b,r] for every b of l."""
    lam = d.options.risk_weight
    if lam <= 0:
        return
    lots = np.flatnonzero(d.awardable)
    local = np.full(len(d.lot_ids), -1)
    local[lots] = np.arange(len(lots))
    c = m.add_columns("concentration", (d.lot_ids[lots],), cost=lam)
    m.add_rows("concentration_link", _cand_keys(d), lower=0.0, upper=INF,
               rows=np.concatenate([np.arange(d.n_cand), d.br_cand]),
               cols=np.concatenate([c[local[d.cand_lot]], d.cols["assign"]]),
               vals=np.concatenate([np.ones(d.n_cand), -d.lr_units[d.br_lr]]))


# ---- helpers ----------------------------------------------------------------------------------------

def _y(d: ModelData) -> np.ndarray:
    """Columns that say "b supplies r": x in primary mode, use in split mode."""
    return d.cols["use"] if "use" in d.cols else d.cols["assign"]


def _br_keys(d: ModelData, sel: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    cand = d.br_cand if sel is None else d.br_cand[sel]
    lr = d.br_lr if sel is None else d.br_lr[sel]
    return (d.lot_ids[d.cand_lot[cand]], d.region_ids[d.lr_region[lr]], d.supplier_ids[d.cand_supplier[cand]])


def _cand_keys(d: ModelData, sel: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    cand = np.arange(d.n_cand) if sel is None else sel
    return (d.lot_ids[d.cand_lot[cand]], d.supplier_ids[d.cand_supplier[cand]])


def _per_owner(m: ModelBuilder, d: ModelData, name: str, owner_of_cand: np.ndarray, owner_ids: np.ndarray,
               bound: float) -> None:
    uniq, inv = np.unique(owner_of_cand, return_inverse=True)
    m.add_rows(name, (np.asarray(owner_ids)[uniq],), lower=-INF, upper=bound, rows=inv[d.br_cand],
               cols=d.cols["assign"], vals=d.lr_units[d.br_lr])


def build_model(tender: Tender, options: OptimizeOptions | None = None,
                disabled: frozenset[str] = frozenset()) -> BuiltModel:
    """Build the tender's MIP in matrix form (pure; no solver involved).

    Args:
        tender: a validated tender.
        options: optimal-mode options; None = the tender's ``[optimize]`` section.
        disabled: optional constraint families to leave out (see :data:`OPTIONAL_FAMILIES`).

    Returns:
        :class:`BuiltModel`.

    Raises:
        TenderFileErrors: inconsistent optional tables (costs.csv, tiers.csv).
        ValueError: an unsupported combination of options.
    """
    start = time.perf_counter()
    options = resolve_options(tender, options)
    d = prepare(tender, options, disabled)
    m = ModelBuilder()
    o = options
    families = ["cover"]
    add_assignment(m, d)
    if o.allocation == "split":
        add_split_min_award(m, d)
        families.append("split-min-award")
    add_winners(m, d)
    steps = [("winner-count", True, add_winner_count),
             ("winner-region", o.winner_needs_region, add_winner_region),
             ("backup", d.backup == "required", add_backup),
             ("share-cap-lot", o.share_cap_lot is not None, add_share_cap_lot),
             ("group-share-cap-lot", o.group_share_cap_lot is not None, add_group_share_cap_lot),
             ("share-cap-tender", o.share_cap_tender is not None, add_share_cap_tender),
             ("group-share-cap-tender", o.group_share_cap_tender is not None, add_group_share_cap_tender),
             ("capacity", o.capacity, add_capacity),
             ("region-diversity", o.min_suppliers_per_region > 0, add_region_diversity)]
    for family, wanted, add in steps:
        if wanted and d.active(family):
            add(m, d)
            families.append(family)
    add_tiers(m, d)
    add_pricing(m, d)
    add_circulation(m, d)
    add_risk(m, d)
    matrix = m.finish()
    # the bids' evaluation by the rules engine is timed apart: it is the rules step both modes share
    return BuiltModel(matrix=matrix, data=d, build_time_s=time.perf_counter() - start - d.evaluate_time_s,
                      families=families, evaluate_time_s=d.evaluate_time_s)
