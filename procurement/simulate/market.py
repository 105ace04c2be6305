"""A tender compiled to arrays, and the lean per-draw rules-mode evaluation used inside simulations.

:func:`procurement.rules.engine.run_rules` builds audit frames for every bid, region and spec; a sweep of
1000 draws x 60 lots cannot afford that. :func:`evaluate` runs the same procedure on arrays: winner
selection with :func:`~procurement.rules.selection.select_lot`, the agreed share by number of winners,
province picking with :func:`~procurement.rules.allocation.pick_regions` (cached per number of winners
under the deterministic ``largest-volume`` policy) and per-spec award prices exactly as ``run_rules``
prices them (a winner's own declared price on its own spec, its comparable award price converted by the
差比价 factor on the others). ``tests/test_simulate_market.py`` proves that winners, award prices, agreed
volumes and spend equal ``run_rules`` on random draws.

Per-lot metrics (columns of a sweep, see :data:`LOT_METRICS`) are defined once here, for both the lean path
and :func:`metrics_from_result` (any mode's :class:`~procurement.model.result.TenderResult`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from procurement.model.result import TenderResult
from procurement.model.tender import Tender
from procurement.rules.allocation import great_circle_km, pick_regions
from procurement.rules.comparable import comparable_factors
from procurement.rules.ruleset import RuleSet
from procurement.rules.selection import select_lot

#: Per-lot metrics of one draw, in column order, with their meaning (documented in docs/simulate.md).
LOT_METRICS: dict[str, str] = {
    "bidders": "bids submitted (valid or not)",
    "valid_bids": "bids at or under their spec's ceiling",
    "winners": "selected bids",
    "failed": "no winner (流标)",
    "win_share": "winners / bids submitted",
    "lowest_bid_ratio": "lowest valid declared price / its spec's ceiling",
    "award_ratio": "mean over winners of award price / ceiling of the winner's spec",
    "price_spread": "highest / lowest comparable award price among winners",
    "hhi": "Herfindahl-Hirschman index of the winners' agreed volumes, 0-10000",
    "originator_wins": "winners that are originators",
    "agreed_volume": "agreed volume, smallest units",
    "spend": "award spend on the agreed volume",
    "reference_spend": "agreed volume priced at reference prices (specs with one)",
    "spend_priced": "award spend on the agreed volume of specs with a reference price",
    "price_cut": "1 - spend_priced / reference_spend (volume-weighted cut vs reference prices)",
}


_COL = {name: k for k, name in enumerate(LOT_METRICS)}
_BIDDERS, _VALID, _WINNERS, _FAILED = _COL["bidders"], _COL["valid_bids"], _COL["winners"], _COL["failed"]
_WIN_SHARE, _LOWEST, _AWARD_RATIO, _SPREAD = (_COL["win_share"], _COL["lowest_bid_ratio"], _COL["award_ratio"],
                                              _COL["price_spread"])
_HHI, _ORIGINATOR, _AGREED, _SPEND = _COL["hhi"], _COL["originator_wins"], _COL["agreed_volume"], _COL["spend"]
_REF, _SPEND_PRICED, _CUT = _COL["reference_spend"], _COL["spend_priced"], _COL["price_cut"]
_ZERO_IF_FAILED = [_COL[n] for n in ("agreed_volume", "spend", "reference_spend", "spend_priced",
                                     "originator_wins")]


@dataclass(frozen=True, eq=False)
class LotArrays:
    """One lot of a compiled market.

    Attributes:
        lot_id, share_class: as in lots.csv.
        start, stop: slice of the lot's potential bids in the market's bid arrays.
        low_price_applies: the lot's dosage form may use the low-price route.
        rep_ceiling: ceiling of the representative spec (comparable-price scale of the lot).
        spec_ids: the lot's demanded specs, sorted (columns of ``demand``).
        spec_factor, spec_ref: comparable factor and reference price per spec (NaN: no reference).
        region_ids: regions with demand for the lot, in regions-table order (rows of ``demand``).
        demand: reported volume, regions x specs.
        reported: reported volume per region (row sums, summed as ``run_rules`` does).
        region_lat, region_lon: region coordinates (``nearest`` pick policy).
    """

    lot_id: str
    share_class: str
    start: int
    stop: int
    low_price_applies: bool
    rep_ceiling: float
    spec_ids: tuple[str, ...]
    spec_factor: np.ndarray
    spec_ref: np.ndarray
    region_ids: tuple[str, ...]
    demand: np.ndarray
    reported: np.ndarray
    region_lat: np.ndarray
    region_lon: np.ndarray
    _picks: dict = field(default_factory=dict, repr=False)

    @property
    def priced(self) -> np.ndarray:
        """Specs with a reference price."""
        return ~np.isnan(self.spec_ref)

    @property
    def all_priced(self) -> bool:
        return bool(self.priced.all())


@dataclass(frozen=True, eq=False)
class Market:
    """A tender compiled to arrays under one rule set (picklable; shipped once to every worker).

    Potential bids are the tender's bids (one per supplier and lot): each names the supplier and the spec
    it would bid. Arrays of length B follow the lots' order, each lot's bids contiguous.
    """

    name: str
    rules: RuleSet
    pick_policy: str
    seed: int
    lots: tuple[LotArrays, ...]
    supplier_id: np.ndarray
    spec_id: np.ndarray
    lot_index: np.ndarray
    spec_col: np.ndarray
    ceiling: np.ndarray
    factor: np.ndarray
    reference_price: np.ndarray
    order_key: np.ndarray
    group: np.ndarray
    originator: np.ndarray
    capacity: np.ndarray
    supplier_lat: np.ndarray
    supplier_lon: np.ndarray

    @property
    def n_bids(self) -> int:
        return len(self.supplier_id)

    @property
    def lot_ids(self) -> list[str]:
        return [lot.lot_id for lot in self.lots]

    def bids_frame(self, prices: np.ndarray) -> pd.DataFrame:
        """Tender bids frame (lot_id, supplier_id, spec_id, price) of the entered bids (price not NaN)."""
        entered = ~np.isnan(prices)
        lot_ids = np.array(self.lot_ids, dtype=object)
        return pd.DataFrame({"lot_id": lot_ids[self.lot_index[entered]],
                             "supplier_id": self.supplier_id[entered], "spec_id": self.spec_id[entered],
                             "price": prices[entered]})


def compile_market(tender: Tender, rules: RuleSet | None = None) -> Market:
    """Compile a tender into a :class:`Market` (under ``rules``, default the tender's own).

    The comparable factors depend on the rule set's normalisation, so a market is compiled per rule set.
    """
    rules = rules or tender.rules
    factors = comparable_factors(tender.specs, tender.lots, rules)
    specs = tender.specs.set_index("spec_id")
    sup = tender.suppliers.set_index("supplier_id")
    low_forms = set(rules.low_price_dosage_forms)
    # run_rules breaks ties by the dense rank of supplier_id over the tender's bids: same order here
    all_sup = np.array(sorted(set(tender.suppliers["supplier_id"])), dtype=object)
    key_of = {s: i + 1 for i, s in enumerate(all_sup)}
    region_pos = {r: i for i, r in enumerate(tender.regions["region_id"])}
    reg = tender.regions.set_index("region_id")
    demand = tender.demand.copy()
    demand["lot_id"] = demand["spec_id"].map(specs["lot_id"])
    demand["_pos"] = demand["region_id"].map(region_pos)
    demand = demand.sort_values(["lot_id", "_pos", "spec_id"], kind="stable")
    demand_by_lot = dict(tuple(demand.groupby("lot_id", sort=False)))
    bids_by_lot = tender.bids.groupby("lot_id", sort=False).indices
    order: list[np.ndarray] = []
    lots: list[LotArrays] = []
    start = 0
    spec_cols: list[np.ndarray] = []
    for lot in tender.lots.itertuples(index=False):
        idx = np.asarray(bids_by_lot.get(lot.lot_id, np.array([], dtype=np.int64)), dtype=np.int64)
        order.append(idx)
        dem = demand_by_lot[lot.lot_id]
        spec_ids = tuple(sorted(set(dem["spec_id"]) | set(tender.bids["spec_id"].iloc[idx])))
        col = {s: j for j, s in enumerate(spec_ids)}
        region_ids = tuple(dem["region_id"].drop_duplicates())
        rpos = {r: i for i, r in enumerate(region_ids)}
        mat = np.zeros((len(region_ids), len(spec_ids)))
        for r, s, v in zip(dem["region_id"], dem["spec_id"], dem["volume"], strict=True):
            mat[rpos[r], col[s]] += v
        reported = dem.groupby("region_id", sort=False)["volume"].sum().reindex(list(region_ids)).to_numpy(float)
        spec_cols.append(np.array([col[s] for s in tender.bids["spec_id"].iloc[idx]], dtype=np.int64))
        lots.append(LotArrays(
            lot_id=lot.lot_id, share_class=lot.share_class, start=start, stop=start + len(idx),
            low_price_applies=not low_forms or lot.dosage_form in low_forms,
            rep_ceiling=float(specs.at[lot.rep_spec_id, "ceiling_price"]), spec_ids=spec_ids,
            spec_factor=np.array([factors[s] for s in spec_ids], dtype=float),
            spec_ref=specs.loc[list(spec_ids), "reference_price"].to_numpy(float),
            region_ids=region_ids, demand=mat, reported=reported,
            region_lat=reg.loc[list(region_ids), "latitude"].to_numpy(float),
            region_lon=reg.loc[list(region_ids), "longitude"].to_numpy(float)))
        start += len(idx)
    pos = np.concatenate(order) if order else np.array([], dtype=np.int64)
    bids = tender.bids.iloc[pos]
    sid = bids["supplier_id"].to_numpy(object)
    spec = bids["spec_id"].to_numpy(object)
    capacity = sup.loc[sid, "capacity"].to_numpy(float)
    return Market(
        name=tender.name, rules=rules, pick_policy=tender.pick_policy, seed=tender.seed, lots=tuple(lots),
        supplier_id=sid, spec_id=spec,
        lot_index=np.repeat(np.arange(len(lots)), [lot.stop - lot.start for lot in lots]),
        spec_col=np.concatenate(spec_cols) if spec_cols else np.array([], dtype=np.int64),
        ceiling=specs.loc[spec, "ceiling_price"].to_numpy(float),
        factor=np.array([factors[s] for s in spec], dtype=float),
        reference_price=specs.loc[spec, "reference_price"].to_numpy(float),
        order_key=np.array([key_of[s] for s in sid], dtype=np.int64),
        group=sup.loc[sid, "group_id"].to_numpy(object),
        originator=sup.loc[sid, "originator"].to_numpy(bool),
        capacity=np.where(np.isnan(capacity), np.inf, capacity),
        supplier_lat=sup.loc[sid, "latitude"].to_numpy(float),
        supplier_lon=sup.loc[sid, "longitude"].to_numpy(float))


@dataclass
class Evaluation:
    """Outcome of one draw: per-lot metric arrays, and optionally one row per winner.

    Attributes:
        metrics: metric name (see :data:`LOT_METRICS`) -> array over lots.
        winners: when requested, one dict per winner (lot_id, supplier_id, spec_id, rank,
            award_comparable_price, award_price, agreed_volume, award_spend, regions).
    """

    metrics: dict[str, np.ndarray]
    winners: list[dict] | None = None


def _lot_volumes(lot: LotArrays, market: Market, n_win: int, share: float, win_pos: np.ndarray,
                 pick_rng: np.random.Generator | None) -> tuple[np.ndarray, np.ndarray]:
    """Agreed volume per spec of each ranked winner (n_win x S) and the primary of each region."""
    policy = market.pick_policy
    rules = market.rules
    if policy == "largest-volume":
        key = (n_win, share)
        hit = lot._picks.get(key)
        if hit is not None:
            return hit
    distance = None
    if policy == "nearest":
        distance = great_circle_km(market.supplier_lat[win_pos][:, None], market.supplier_lon[win_pos][:, None],
                                   lot.region_lat[None, :], lot.region_lon[None, :])
    picks = pick_regions(n_win, lot.reported * share, policy, distance=distance, rng=pick_rng,
                         first_pick_regions=rules.first_pick_regions, backup=False)
    onehot = np.zeros((n_win, len(lot.region_ids)))
    onehot[picks.primary, np.arange(len(lot.region_ids))] = 1.0
    out = (onehot @ lot.demand * share, picks.primary)
    if policy == "largest-volume":
        lot._picks[(n_win, share)] = out
    return out


def evaluate(market: Market, prices: np.ndarray, *, pick_rng: np.random.Generator | None = None,
             details: bool = False) -> Evaluation:
    """Run one draw of bids through the rules on arrays.

    Args:
        market: the compiled market (its ``rules`` apply).
        prices: declared price per potential bid (length ``market.n_bids``); NaN = the supplier does not bid.
        pick_rng: generator of the ``random`` pick policy (``run_rules`` uses ``default_rng(tender.seed)``).
        details: also return one row per winner (slower; used by tests and reports).

    Returns:
        :class:`Evaluation`.
    """
    rules = market.rules
    n_lots = len(market.lots)
    res = np.full((n_lots, len(LOT_METRICS)), np.nan)
    rows: list[dict] | None = [] if details else None
    if market.pick_policy == "random" and pick_rng is None:
        pick_rng = np.random.default_rng(market.seed)
    entered_all = ~np.isnan(prices)
    comp_all = prices * market.factor
    # the group codes matter only when related firms count as one bidder
    group_all = market.group if rules.count_related_as_one else None
    shares = {}
    for li, lot in enumerate(market.lots):
        row = res[li]
        ent = entered_all[lot.start:lot.stop]
        if ent.all():  # the common case: views, no fancy indexing
            pos = slice(lot.start, lot.stop)
            n_bid = lot.stop - lot.start
            offset = np.arange(lot.start, lot.stop)
        else:
            offset = np.flatnonzero(ent) + lot.start
            pos = offset
            n_bid = len(offset)
        price, ceiling = prices[pos], market.ceiling[pos]
        sel = select_lot(rules, price, ceiling, comp_all[pos], market.order_key[pos],
                         None if group_all is None else group_all[pos], low_price_applies=lot.low_price_applies)
        won = sel.won
        n_win = int(np.count_nonzero(won))
        valid = sel.valid
        n_valid = int(np.count_nonzero(valid))
        row[_BIDDERS] = n_bid
        row[_VALID] = n_valid
        row[_WINNERS] = n_win
        row[_FAILED] = float(n_win == 0)
        if n_bid:
            row[_WIN_SHARE] = n_win / n_bid
        if n_valid:
            ratio = price / ceiling
            row[_LOWEST] = ratio[valid].min() if n_valid < n_bid else ratio.min()
        if n_win == 0:
            row[_ZERO_IF_FAILED] = 0.0
            continue
        w = np.flatnonzero(won)
        if n_win > 1:
            w = w[np.argsort(sel.rank[w], kind="stable")]
        win_pos = offset[w]
        award_comp = sel.award_comparable[w]
        key = (n_win, lot.share_class)
        share = shares.get(key)
        if share is None:
            share = shares[key] = rules.volume_share(n_win, lot.share_class)
        vol, primary = _lot_volumes(lot, market, n_win, share, win_pos, pick_rng)
        own_col = market.spec_col[win_pos]
        own_price = price[w]
        if len(lot.spec_ids) == 1:
            unit = (award_comp / lot.spec_factor[0])[:, None]
        else:
            unit = award_comp[:, None] / lot.spec_factor[None, :]
        # per-spec award price: own declared price on its own spec (unless revived), else converted
        if sel.revived.any():
            own = np.flatnonzero(~sel.revived[w])
            unit[own, own_col[own]] = own_price[own]
        else:
            unit[np.arange(n_win), own_col] = own_price
        spend_units = vol * unit
        spend_w = spend_units.sum(axis=1)
        agreed_w = vol.sum(axis=1)
        total = float(agreed_w.sum())
        own_unit = unit[np.arange(n_win), own_col]
        row[_AWARD_RATIO] = float((own_unit / ceiling[w]).mean())
        row[_SPREAD] = float(award_comp.max() / award_comp.min()) if n_win > 1 else 1.0
        if total > 0:
            row[_HHI] = float(((agreed_w / total) ** 2).sum() * 1e4)
        row[_ORIGINATOR] = float(np.count_nonzero(market.originator[win_pos]))
        row[_AGREED] = total
        row[_SPEND] = float(spend_w.sum())
        if lot.all_priced:
            ref = float(vol.sum(axis=0) @ lot.spec_ref)
            spend_priced = row[_SPEND]
        else:
            priced = lot.priced
            ref = float((vol[:, priced] * lot.spec_ref[priced]).sum())
            spend_priced = float(spend_units[:, priced].sum())
        row[_REF] = ref
        row[_SPEND_PRICED] = spend_priced
        row[_CUT] = 1 - spend_priced / ref if ref > 0 else np.nan
        if rows is not None:
            for j in range(n_win):
                rows.append({"lot_id": lot.lot_id, "supplier_id": market.supplier_id[win_pos[j]],
                             "spec_id": market.spec_id[win_pos[j]], "rank": int(sel.rank[w[j]]),
                             "award_comparable_price": float(award_comp[j]), "award_price": float(own_unit[j]),
                             "agreed_volume": float(agreed_w[j]), "award_spend": float(spend_w[j]),
                             "regions": int((primary == j).sum())})
    out = {name: res[:, k] for k, name in enumerate(LOT_METRICS)}
    return Evaluation(out, rows)


def metrics_from_result(result: TenderResult, market: Market) -> dict[str, np.ndarray]:
    """The per-lot metrics of :data:`LOT_METRICS` from a full :class:`TenderResult` (any mode).

    Lots are in the market's order; the definitions match :func:`evaluate`.
    """
    lots = result.lots.set_index("lot_id").reindex(market.lot_ids)
    bids = result.bids
    awards = result.awards
    ids = market.lot_ids
    out: dict[str, np.ndarray] = {}
    n_bid = bids.groupby("lot_id").size().reindex(ids).fillna(0).to_numpy(float)
    won = bids["won"].to_numpy(bool)
    valid = bids["valid"].to_numpy(bool)
    n_win = bids[won].groupby("lot_id").size().reindex(ids).fillna(0).to_numpy(float)
    out["bidders"] = n_bid
    out["valid_bids"] = bids[valid].groupby("lot_id").size().reindex(ids).fillna(0).to_numpy(float)
    out["winners"] = n_win
    out["failed"] = (n_win == 0).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["win_share"] = np.where(n_bid > 0, n_win / n_bid, np.nan)
    ratio = bids.loc[valid, "price"] / bids.loc[valid, "ceiling_price"]
    out["lowest_bid_ratio"] = ratio.groupby(bids.loc[valid, "lot_id"]).min().reindex(ids).to_numpy(float)
    spec_ceiling = dict(zip(market.spec_id, market.ceiling, strict=True))
    aw = awards.assign(_ratio=awards["award_price"] / awards["spec_id"].map(spec_ceiling))
    out["award_ratio"] = aw.groupby("lot_id")["_ratio"].mean().reindex(ids).to_numpy(float)
    comp = awards.groupby("lot_id")["award_comparable_price"]
    out["price_spread"] = (comp.max() / comp.min()).reindex(ids).to_numpy(float)
    vol = awards.groupby("lot_id")["agreed_volume"]
    shares = awards["agreed_volume"] / awards["lot_id"].map(vol.sum())
    out["hhi"] = ((shares ** 2).groupby(awards["lot_id"]).sum() * 1e4).reindex(ids).to_numpy(float)
    orig = dict(zip(market.supplier_id, market.originator, strict=True))
    out["originator_wins"] = awards["supplier_id"].map(orig).astype(float).groupby(awards["lot_id"]).sum() \
        .reindex(ids).fillna(0).to_numpy(float)
    out["agreed_volume"] = lots["agreed_volume"].fillna(0).to_numpy(float)
    out["spend"] = lots["award_spend"].fillna(0).to_numpy(float)
    out["reference_spend"] = lots["reference_spend"].fillna(0).to_numpy(float)
    out["spend_priced"] = lots["award_spend_priced"].fillna(0).to_numpy(float)
    out["price_cut"] = lots["cut"].to_numpy(float)
    return {name: out[name] for name in LOT_METRICS}
