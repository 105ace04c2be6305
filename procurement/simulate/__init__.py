"""Supplier behaviour and scenario sweeps: cost models, bidding strategies, equilibrium search, sweeps.

Quick start::

    from procurement.simulate import simulate, compare
    sweep = simulate("tenders/national-demo", seeds=200, jobs=2)     # its scenarios.toml
    compare(sweep)                                                   # means with 95% intervals

See docs/simulate.md for the model, the scenarios.toml format and the executors.
"""

from procurement.simulate.draws import PreparedScenario, draw_bids, lot_game, run_draw, run_seed
from procurement.simulate.equilibrium import (
    CostBelief,
    Equilibrium,
    LotGame,
    best_response,
    expected_outcome,
    find_equilibrium,
    first_price_game,
    payoff_curves,
)
from procurement.simulate.market import LOT_METRICS, Market, compile_market, evaluate, metrics_from_result
from procurement.simulate.params import MarketParams
from procurement.simulate.scenarios import Scenario, load_scenarios, parse_seeds
from procurement.simulate.strategies import get_strategy, register_strategy, strategy_names
from procurement.simulate.summary import DRAW_METRICS, compare, draw_metrics, format_comparison
from procurement.simulate.sweep import EXECUTORS, prepare_scenarios, read_sweep, simulate

__all__ = [
    "DRAW_METRICS",
    "EXECUTORS",
    "LOT_METRICS",
    "CostBelief",
    "Equilibrium",
    "LotGame",
    "Market",
    "MarketParams",
    "PreparedScenario",
    "Scenario",
    "best_response",
    "compare",
    "compile_market",
    "draw_bids",
    "draw_metrics",
    "evaluate",
    "expected_outcome",
    "find_equilibrium",
    "first_price_game",
    "format_comparison",
    "get_strategy",
    "load_scenarios",
    "lot_game",
    "metrics_from_result",
    "parse_seeds",
    "payoff_curves",
    "prepare_scenarios",
    "read_sweep",
    "register_strategy",
    "run_draw",
    "run_seed",
    "simulate",
    "strategy_names",
]
