"""One simulated draw: supplier costs, entry, bids, and the tender run on them.

Randomness: a draw's generator is ``numpy.random.default_rng(run_seed)``, where ``run_seed`` is the child
seed of the draw's seed (:func:`run_seed`, recorded in every sweep row). The draws always come in the same
order and shapes (lot factors, firm factors, markup normals, uniforms, pick seed) whatever the strategy,
so two scenarios of one sweep see the same cost shocks for the same seed (common random numbers: scenario
differences are not sampling noise).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from procurement.model.tender import Tender
from procurement.simulate.equilibrium import CostBelief, LotGame
from procurement.simulate.market import LOT_METRICS, Market, evaluate, metrics_from_result
from procurement.simulate.params import MarketParams
from procurement.simulate.strategies import BidTable, get_strategy


def run_seed(master_seed: int, seed: int) -> int:
    """Child seed of draw ``seed`` under ``master_seed`` (a SeedSequence child, as a 63-bit integer)."""
    seq = np.random.SeedSequence(entropy=int(master_seed), spawn_key=(int(seed),))
    return int(seq.generate_state(1, np.uint64)[0] >> np.uint64(1))


def lot_game(market: Market, lot_index: int, params: MarketParams) -> LotGame:
    """The symmetric game of one lot as a strategy's bidder sees it (see :mod:`.equilibrium`)."""
    lot = market.lots[lot_index]
    n = lot.stop - lot.start
    sigma = float(np.hypot(params.lot_sigma, params.firm_sigma))
    return LotGame(rules=market.rules, n_bidders=max(n, 1),
                   belief=CostBelief("lognormal", median=params.cost_median, sigma=max(sigma, 1e-6)),
                   ceiling=lot.rep_ceiling, region_volume=lot.reported, share_class=lot.share_class,
                   low_price_applies=lot.low_price_applies)


@dataclass(frozen=True, eq=False)
class PreparedScenario:
    """Everything a worker needs to run draws of one scenario (picklable).

    Attributes:
        name: scenario name.
        mode: ``rules`` (lean array path) or another :data:`procurement.api.MODES` entry (full run).
        market: the tender compiled under the scenario's rules.
        params: market parameters.
        tables: per-lot bid tables of a table strategy, else None.
        tender: the tender under the scenario's rules (only for modes other than ``rules``).
    """

    name: str
    mode: str
    market: Market
    params: MarketParams
    tables: tuple[BidTable, ...] | None = None
    tender: Tender | None = None


def prepare_tables(market: Market, params: MarketParams, seed: int,
                   mapper: Callable | None = None) -> tuple[BidTable, ...] | None:
    """Per-lot bid tables of a table strategy (None for the others); lots with identical games share one.

    Args:
        market: the compiled market.
        params: market parameters (strategy and its settings).
        seed: base seed; the table of the first lot ``l`` of each distinct game uses ``seed + l``.
        mapper: ``map``-like callable used to compute the distinct tables (e.g. a process pool's map);
            the result does not depend on it.
    """
    strategy = get_strategy(params.strategy)
    if strategy.table is None:
        return None
    keys, first, tasks = [], {}, []
    for li, lot in enumerate(market.lots):
        game = lot_game(market, li, params)
        key = (game.n_bidders, round(game.ceiling, 6), lot.share_class, lot.low_price_applies,
               tuple(np.round(lot.reported / lot.reported.sum(), 4)))
        keys.append(key)
        if key not in first:
            first[key] = len(tasks)
            tasks.append((params.strategy, game, params, seed + li))
    tables = list((mapper or map)(_table_task, tasks))
    return tuple(tables[first[k]] for k in keys)


def _table_task(task: tuple) -> BidTable:
    name, game, params, seed = task
    return get_strategy(name).table(game, params, seed)


def draw_bids(prepared: PreparedScenario, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int]:
    """Draw costs and bids of every potential bid.

    Returns:
        (declared prices with NaN for suppliers that do not bid, unit costs, seed of the pick generator).
    """
    market, params = prepared.market, prepared.params
    n_lots, n_bids = len(market.lots), market.n_bids
    z_lot = rng.standard_normal(n_lots)
    z_firm = rng.standard_normal(n_bids)
    z_markup = rng.standard_normal(n_bids)
    u = rng.random(n_bids)
    pick_seed = int(rng.integers(0, 2**31 - 1))
    li = market.lot_index
    cost = params.cost_median * np.exp(params.lot_sigma * z_lot[li] + params.firm_sigma * z_firm)
    cost = np.where(market.originator, cost * params.originator_premium, cost)
    strategy = get_strategy(params.strategy)
    n_potential = np.array([lot.stop - lot.start for lot in market.lots])
    if prepared.tables is not None:
        # tables are on the lot's comparable scale: the cost of a non-representative spec is converted
        comp_ratio = cost * market.ceiling * market.factor / np.array([lot.rep_ceiling for lot in market.lots])[li]
        ratio = np.full(n_bids, np.nan)
        win = np.zeros(n_bids)
        for k, lot in enumerate(market.lots):
            sl = slice(lot.start, lot.stop)
            b, w = prepared.tables[k](comp_ratio[sl])
            ratio[sl] = b * lot.rep_ceiling / (market.ceiling[sl] * market.factor[sl])
            win[sl] = w
    else:
        ratio = strategy.ratios(cost, z_markup, u, params)
        caps = np.array([market.rules.max_winners(n) for n in n_potential])
        win = (caps / np.maximum(n_potential, 1))[li]
    margin = ratio - cost  # NaN where a table strategy abstains: every comparison below is then False
    enter = (ratio <= 1.0) & (margin > 0) & (margin * win > params.entry_cost)
    if params.use_capacity:
        enter &= _capacity_ok(market)
    price = np.where(enter, ratio * market.ceiling, np.nan)
    if params.unprofitable == "quote":
        quote = cost * (1 + params.markup)
        price = np.where(~enter & (quote > 1.0), quote * market.ceiling, price)
    return price, cost * market.ceiling, pick_seed


def _capacity_ok(market: Market) -> np.ndarray:
    """Capacity per lot (total split evenly over the supplier's lots) covers one winner's expected volume."""
    lots_of = {}
    for s in market.supplier_id:
        lots_of[s] = lots_of.get(s, 0) + 1
    per_lot = market.capacity / np.array([lots_of[s] for s in market.supplier_id])
    need = np.zeros(market.n_bids)
    for lot in market.lots:
        n = lot.stop - lot.start
        cap = max(market.rules.max_winners(n), 1)
        share = market.rules.volume_share(cap, lot.share_class)
        need[lot.start:lot.stop] = share * lot.reported.sum() / cap
    return per_lot >= need


def run_draw(prepared: PreparedScenario, seed: int, master_seed: int = 0) -> dict[str, np.ndarray]:
    """Run one draw: per-lot metrics (:data:`LOT_METRICS`) plus the recorded ``run_seed``."""
    child = run_seed(master_seed, seed)
    price, _cost, pick_seed = draw_bids(prepared, np.random.default_rng(child))
    if prepared.mode == "rules":
        metrics = evaluate(prepared.market, price, pick_rng=np.random.default_rng(pick_seed)).metrics
    else:
        from procurement import api

        tender = prepared.tender.replace(bids=prepared.market.bids_frame(price), seed=pick_seed)
        metrics = metrics_from_result(api.run(tender, mode=prepared.mode), prepared.market)
    metrics = dict(metrics)
    metrics["run_seed"] = child
    return metrics


__all__ = ["LOT_METRICS", "PreparedScenario", "draw_bids", "lot_game", "prepare_tables", "run_draw", "run_seed"]
