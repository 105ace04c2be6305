"""Known answers from auction theory, and the engine-based best response / equilibrium search.

Single-winner first-price procurement auction, n bidders, iid U[0,1] costs: the symmetric equilibrium is
b(c) = c + (1 - c) / n and the expected price 2 / (n + 1). The best response to truthful opponents is
the same function (argmax_b (b - c)(1 - b)^(n-1)). scripts/calibrate.py --auction checks n = 2..10.
"""

from __future__ import annotations

import numpy as np
import pytest

from procurement.rules.selection import select_lot
from procurement.simulate.equilibrium import (
    best_response,
    bid_function,
    draw_profiles,
    expected_outcome,
    find_equilibrium,
    first_price_game,
    payoff_curves,
    smooth_bids,
)


def test_payoff_curves_equal_brute_force_engine_calls():
    """The bisection over the price grid gives what an engine call at every grid price gives."""
    game = first_price_game(4)
    game.rules = game.rules.with_overrides(winner_caps=[1, 2, 2, 3], fuse_ratio=1.8,
                                           volume_shares={"general": [0.5, 0.6, 0.7, 0.8]})
    game.region_volume = np.array([5.0, 3.0, 2.0, 1.0])
    grid = np.linspace(0, 1, 41)
    profiles = draw_profiles(game, 25, np.random.default_rng(3))
    opp = profiles.costs * 1.3
    curves = payoff_curves(game, grid, opp, profiles.own_key)
    av, v = np.zeros(len(grid)), np.zeros(len(grid))
    for m in range(25):
        o = opp[m][~np.isnan(opp[m])]
        keys = np.arange(len(o) + 1)
        own = min(int(profiles.own_key[m]), len(o))
        keys[0], keys[own] = keys[own], keys[0]
        for k, b in enumerate(grid):
            p = np.concatenate(([b], o))
            sel = select_lot(game.rules, p, np.ones(len(p)), p, keys)
            if sel.won[0]:
                w = int(sel.won.sum())
                pos = int((sel.won & (sel.rank < sel.rank[0])).sum())
                vol = game.rank_volume(w)[pos]
                av[k] += sel.award_comparable[0] * vol
                v[k] += vol
    np.testing.assert_allclose(curves.award_volume, av / 25, atol=1e-12)
    np.testing.assert_allclose(curves.volume, v / 25, atol=1e-12)
    assert curves.evaluations < 25 * len(grid)


def test_best_response_to_truthful_bidding_is_the_equilibrium_bid():
    n = 4
    game = first_price_game(n)
    costs = np.linspace(0, 1, 51)
    profiles = draw_profiles(game, 2000, np.random.default_rng(0))
    curves = payoff_curves(game, np.linspace(0, 1, 201), profiles.costs.copy(), profiles.own_key)
    br = best_response(curves, costs)
    low = costs <= 0.5  # where winning is likely enough for a sharp estimate
    error = np.abs(br.bid - (costs + (1 - costs) / n))[low]
    assert error.mean() < 0.015 and error.max() < 0.05, error


@pytest.mark.parametrize(("n", "samples"), [(2, 500), (4, 1000)])
def test_equilibrium_search_reproduces_expected_price_of_first_price_auction(n, samples):
    game = first_price_game(n)
    eq = find_equilibrium(game, samples=samples, max_iter=5, min_iter=4, seed=1)
    assert list(eq.history.columns) == ["iteration", "max_change", "regret", "evaluations"]
    assert eq.iterations == len(eq.history) >= 2
    assert eq.history["max_change"].iloc[-1] < eq.history["max_change"].iloc[0]
    out = expected_outcome(game, eq.bids, draws=6000, seed=2)
    theory = 2 / (n + 1)
    assert abs(out["expected_price"] / theory - 1) < 0.02, (out, theory)
    c = np.linspace(0, 0.6, 7)
    np.testing.assert_allclose(eq.bids(c), c + (1 - c) / n, atol=0.04)


def test_truthful_bidding_prices_at_the_expected_lowest_cost():
    """Sanity of expected_outcome: truthful bids give E[min cost] = 1 / (n + 1)."""
    out = expected_outcome(first_price_game(3), lambda c: c, draws=4000)
    assert out["expected_price"] == pytest.approx(0.25, rel=0.02)
    assert out["winners"] == 1 and out["failed"] == 0


def test_bid_function_and_smoothing_helpers():
    grid = np.linspace(0, 1, 11)
    bids = grid + 0.1
    assert np.isnan(bid_function(grid, bids, np.array([1.2]))[0])  # cost above the ceiling abstains
    assert bid_function(grid, bids, np.array([0.25]))[0] == pytest.approx(0.35)
    noisy = np.array([0.2, 0.25, 0.5, 0.3, 0.4, 0.45, 0.5, 0.6, 0.65, 0.7, np.nan])
    smooth = smooth_bids(grid, noisy, np.ones(11), 4)
    assert np.all(np.diff(smooth[:-1]) >= -1e-12) and np.isnan(smooth[-1])
    assert np.all(smooth[:-1] >= grid[:-1])


def test_unknown_method_is_rejected():
    with pytest.raises(ValueError, match="fictitious-play"):
        find_equilibrium(first_price_game(2), method="nope", samples=10, max_iter=1)
