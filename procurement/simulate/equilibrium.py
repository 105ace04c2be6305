"""Best response on a price grid and equilibrium search, with payoffs computed by the real rules engine.

The game of one lot (:class:`LotGame`): ``n`` bidders with private unit costs drawn iid from a belief
distribution (costs and bids as ratios of the lot's ceiling). A bidder with cost ``c`` bidding ``b`` earns
``(award - c) x V``, where ``award`` (its award price; not always its bid, e.g. under revival) and ``V``
(its agreed volume: volume share by number of winners x the provinces it picks, by price rank) come from
:func:`~procurement.rules.selection.select_lot` and :func:`~procurement.rules.allocation.pick_regions`
(caps, the 1.8x fuse or anchor, low-price and 50% routes, revival, shares, picking). Against ``M``
opponent profiles (drawn once, Latin-hypercube stratified: common random numbers across grid prices and
iterations) the engine gives, for every grid price ``b_k``::

    A_k = mean_m award_km * V_km,   V_k = mean_m V_km,   W_k = mean_m won_km

so the expected payoff of every cost ``c`` is ``A_k - c * V_k`` at once: the best response of each cost on
the cost grid is an argmax over k. The outcome of one profile is piecewise constant in the own bid
(class: won, number of winners, own rank among winners, paid own bid); it is evaluated by bisection over
the sorted grid, skipping runs whose two ends share a class (the award is then the own bid), so a profile
costs O(class changes x log K) engine calls instead of K.

Equilibrium search (:func:`find_equilibrium`) iterates best responses of a symmetric bid function: the
opponents play the current bid function, the best response is computed, and the bid function moves
towards it (``fictitious-play``: the running average of all best responses; ``iterated-best-response``:
a damped step). Convergence is reported per iteration (largest bid change, regret = payoff the best
response gains over the current bid function, relative to its payoff).

Known answer (:func:`first_price_game`): a single-winner first-price procurement auction with ``n``
bidders and iid U[0,1] costs has the equilibrium ``b(c) = c + (1 - c) / n`` and expected price
``2 / (n + 1)``; ``tests/test_simulate_equilibrium.py`` and ``scripts/calibrate.py --auction`` check it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np
import pandas as pd

from procurement.rules.allocation import pick_regions
from procurement.rules.ruleset import RuleSet
from procurement.rules.selection import select_lot

METHODS = ("fictitious-play", "iterated-best-response")


@dataclass(frozen=True)
class CostBelief:
    """Distribution of a bidder's cost as a ratio of the ceiling.

    Attributes:
        kind: ``uniform`` (on [low, high]) or ``lognormal`` (median ``median``, log-sd ``sigma``).
    """

    kind: str = "uniform"
    low: float = 0.0
    high: float = 1.0
    median: float = 0.25
    sigma: float = 0.5

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """Cumulative distribution function at ``x``."""
        x = np.asarray(x, dtype=float)
        if self.kind == "uniform":
            return np.clip((x - self.low) / (self.high - self.low), 0.0, 1.0)
        if self.kind == "lognormal":
            cdf = np.vectorize(NormalDist().cdf, otypes=[float])
            with np.errstate(divide="ignore"):
                return cdf(np.log(np.maximum(x, 1e-300) / self.median) / self.sigma)
        raise ValueError(f"unknown cost belief {self.kind!r}; valid: uniform, lognormal")

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantile function (inverse CDF) at probabilities ``u`` in (0, 1)."""
        u = np.asarray(u, dtype=float)
        if self.kind == "uniform":
            return self.low + (self.high - self.low) * u
        if self.kind == "lognormal":
            inv = np.vectorize(NormalDist().inv_cdf, otypes=[float])
            return self.median * np.exp(self.sigma * inv(np.clip(u, 1e-12, 1 - 1e-12)))
        raise ValueError(f"unknown cost belief {self.kind!r}; valid: uniform, lognormal")


@dataclass(eq=False)
class LotGame:
    """One lot as a symmetric Bayesian game (prices as ratios of ``ceiling``).

    Attributes:
        rules: the rule set that selects winners.
        n_bidders: bidders (including the own one).
        belief: cost distribution of every bidder.
        ceiling: the lot's ceiling in currency (absolute thresholds such as 0.10 yuan apply on this scale).
        region_volume: reported volume per region (picking order); volumes count in these units.
        share_class: agreed-share class of the lot.
        low_price_applies: whether the lot may use the low-price route.
    """

    rules: RuleSet
    n_bidders: int
    belief: CostBelief = field(default_factory=CostBelief)
    ceiling: float = 1.0
    region_volume: np.ndarray = field(default_factory=lambda: np.ones(1))
    share_class: str = "general"
    low_price_applies: bool = True
    _volumes: dict = field(default_factory=dict, repr=False)

    def rank_volume(self, winners: int) -> np.ndarray:
        """Agreed volume of each ranked winner (cheapest first) for ``winners`` winners, as a share of the
        lot's total reported volume (``largest-volume`` picking)."""
        hit = self._volumes.get(winners)
        if hit is None:
            share = self.rules.volume_share(winners, self.share_class)
            vol = self.region_volume * share
            picks = pick_regions(winners, vol, "largest-volume",
                                 first_pick_regions=self.rules.first_pick_regions, backup=False)
            hit = np.bincount(picks.primary, weights=vol, minlength=winners) / self.region_volume.sum()
            self._volumes[winners] = hit
        return hit


def first_price_game(n: int, base: RuleSet | None = None) -> LotGame:
    """Single-winner first-price procurement auction with ``n`` bidders and iid U[0,1] costs.

    Rules: the batch-4 engine with one winner (``winner_caps = [1]``), no fuse, no low-price or 50% route,
    the whole volume to the winner; the ceiling is 1 (every cost in [0, 1] can bid).
    """
    from procurement.rules.presets import get_preset

    rules = (base or get_preset("batch4")).with_overrides(
        winner_caps=[1], fuse_ratio=None, low_price_threshold=None, min_cut_vs_ceiling=None,
        revival="none", volume_shares={"general": [1.0]})
    return LotGame(rules=rules, n_bidders=n, belief=CostBelief("uniform", 0.0, 1.0))


@dataclass(frozen=True)
class Profiles:
    """Opponent profiles for the own bidder: ``costs`` (M x n-1 cost ratios), strategy noise ``z`` and
    ``u`` of the same shape, and the own bidder's tie-break position ``own_key`` per profile."""

    costs: np.ndarray
    z: np.ndarray
    u: np.ndarray
    own_key: np.ndarray


def draw_profiles(game: LotGame, samples: int, rng: np.random.Generator) -> Profiles:
    """Draw ``samples`` opponent profiles, each opponent's cost Latin-hypercube stratified."""
    k = max(game.n_bidders - 1, 0)
    strata = np.stack([rng.permutation(samples) for _ in range(k)], axis=1) if k else np.zeros((samples, 0))
    u_cost = (strata + rng.random((samples, k))) / samples
    return Profiles(costs=game.belief.ppf(u_cost), z=rng.standard_normal((samples, k)),
                    u=rng.random((samples, k)), own_key=rng.integers(0, k + 1, samples))


@dataclass(frozen=True)
class Curves:
    """Engine outcomes of the own bidder at every grid price, averaged over opponent profiles.

    Attributes:
        grid: prices (ratios of the ceiling), ascending.
        award_volume: mean of award ratio x volume share.
        volume: mean volume share.
        win: probability of winning.
        evaluations: engine calls made.
    """

    grid: np.ndarray
    award_volume: np.ndarray
    volume: np.ndarray
    win: np.ndarray
    evaluations: int

    def payoff(self, cost: np.ndarray) -> np.ndarray:
        """Expected payoff (ratio of the ceiling x volume share) for each cost (rows) and grid price."""
        return self.award_volume[None, :] - np.asarray(cost, float)[:, None] * self.volume[None, :]


def payoff_curves(game: LotGame, grid: np.ndarray, opponent_bids: np.ndarray,
                  own_key: np.ndarray) -> Curves:
    """Evaluate the own bidder's outcome at every grid price against every opponent profile.

    Args:
        game: the lot game.
        grid: ascending own prices (ratios of the ceiling).
        opponent_bids: M x (n-1) opponent bid ratios; NaN = that opponent does not bid.
        own_key: tie-break position of the own bidder among the n bidders, per profile.

    Returns:
        :class:`Curves`.
    """
    grid = np.asarray(grid, float)
    n_grid = len(grid)
    cap = game.ceiling
    total_av = np.zeros(n_grid)
    total_v = np.zeros(n_grid)
    total_w = np.zeros(n_grid)
    calls = 0
    for m in range(opponent_bids.shape[0]):
        opp = opponent_bids[m]
        opp = opp[~np.isnan(opp)]
        n = len(opp) + 1
        keys = np.arange(n, dtype=np.int64)
        own = min(int(own_key[m]), n - 1)
        keys[0], keys[own] = keys[own], keys[0]
        prices = np.empty(n)
        prices[1:] = opp * cap
        won, award, vol, n_calls = _profile_curve(game, grid, prices, keys)
        calls += n_calls
        total_av += award * vol
        total_v += vol
        total_w += won
    m_count = max(opponent_bids.shape[0], 1)
    return Curves(grid, total_av / m_count, total_v / m_count, total_w / m_count, calls)


def _profile_curve(game: LotGame, grid: np.ndarray, prices: np.ndarray,
                   keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Own outcome at every grid price against one opponent profile (``prices[1:]``), by bisection.

    Returns (won, award ratio, volume share, engine calls); the own bid is ``prices[0]``.
    """
    n_grid = len(grid)
    cap = game.ceiling
    ceiling = np.full(len(prices), cap)
    classes: list = [None] * n_grid
    award = np.zeros(n_grid)
    vol = np.zeros(n_grid)
    calls = 0

    def run(k: int) -> None:
        prices[0] = grid[k] * cap
        sel = select_lot(game.rules, prices, ceiling, prices, keys, None, game.low_price_applies)
        if not sel.won[0]:
            classes[k] = (False,)
            return
        winners = int(sel.won.sum())
        position = int((sel.won & (sel.rank < sel.rank[0])).sum())
        a = float(sel.award_comparable[0]) / cap
        # the class says whether the award is the own bid: only then may a run of grid prices be filled
        classes[k] = (True, winners, position, bool(np.isclose(a, grid[k], rtol=1e-12, atol=0.0)))
        award[k] = a
        vol[k] = game.rank_volume(winners)[position]

    for k in (0, n_grid - 1):
        run(k)
        calls += 1
    stack = [(0, n_grid - 1)]
    while stack:
        lo, hi = stack.pop()
        if hi - lo <= 1:
            continue
        c = classes[lo]
        if c == classes[hi] and (not c[0] or c[3]):
            for k in range(lo + 1, hi):
                classes[k] = c
            if c[0]:
                award[lo + 1:hi] = grid[lo + 1:hi]
                vol[lo + 1:hi] = vol[lo]
            continue
        mid = (lo + hi) // 2
        run(mid)
        calls += 1
        stack.append((lo, mid))
        stack.append((mid, hi))
    won = np.array([c[0] for c in classes], dtype=float)
    return won, award, vol, calls


@dataclass(frozen=True)
class BestResponse:
    """Best response of each cost on a cost grid.

    Attributes:
        cost_grid: costs (ratios of the ceiling).
        bid: best price per cost (1 = the ceiling when no price has a positive expected payoff; NaN when
            the cost is at or above the ceiling: the bidder cannot bid validly and abstains).
        payoff: expected payoff at the best price (0 when abstaining).
        win: probability of winning at the best price.
        curves: the engine curves it was computed from.
    """

    cost_grid: np.ndarray
    bid: np.ndarray
    payoff: np.ndarray
    win: np.ndarray
    curves: Curves


def best_response(curves: Curves, cost_grid: np.ndarray) -> BestResponse:
    """Best price on the curves' grid for every cost (ties: the lowest price)."""
    pay = curves.payoff(cost_grid)
    k = np.argmax(pay, axis=1)
    best = pay[np.arange(len(cost_grid)), k]
    ok = best > 1e-15
    # no price with a positive expected payoff: bid the ceiling (participate without a chance) while
    # the cost is under it, abstain otherwise
    bid = np.where(ok, curves.grid[k], np.where(np.asarray(cost_grid) < 1.0, 1.0, np.nan))
    return BestResponse(np.asarray(cost_grid, float), bid, np.where(ok, best, 0.0),
                        np.where(ok, curves.win[k], 0.0), curves)


def bid_function(cost_grid: np.ndarray, bids: np.ndarray, costs: np.ndarray) -> np.ndarray:
    """Interpolate a bid function given on a cost grid at ``costs`` (NaN where it abstains or beyond)."""
    costs = np.asarray(costs, float)
    ok = ~np.isnan(bids)
    if not ok.any():
        return np.full(costs.shape, np.nan)
    out = np.interp(costs, cost_grid[ok], bids[ok])
    # never below cost; a cost at or above the ceiling cannot bid validly: abstain
    return np.where(costs >= 1.0, np.nan, np.maximum(out, costs))


@dataclass(frozen=True)
class Equilibrium:
    """Result of :func:`find_equilibrium`.

    Attributes:
        cost_grid, bid: the symmetric bid function found (ratios of the ceiling; NaN: abstain).
        win: probability of winning at that bid, against the final opponents.
        payoff: expected payoff at that bid.
        history: one row per iteration: ``iteration``, ``max_change`` (largest move of the best
            response from the current bid function), ``regret`` (mean payoff the best response gains
            over the current bid function, relative to the best response's mean payoff),
            ``evaluations`` (engine calls).
        converged: ``max_change <= tol`` was reached (after at least ``min_iter`` rounds).
        method: ``fictitious-play`` or ``iterated-best-response``.
    """

    cost_grid: np.ndarray
    bid: np.ndarray
    win: np.ndarray
    payoff: np.ndarray
    history: pd.DataFrame
    converged: bool
    method: str

    @property
    def iterations(self) -> int:
        return len(self.history)

    def bids(self, costs: np.ndarray) -> np.ndarray:
        """The equilibrium bid (ratio of the ceiling) of each cost."""
        return bid_function(self.cost_grid, self.bid, costs)


def default_grids(game: LotGame, cost_points: int = 101, price_points: int = 201) -> tuple[np.ndarray, np.ndarray]:
    """Cost grid over the belief's 0.1%..99.9% range (capped at the ceiling) and price grid up to 1."""
    lo, hi = game.belief.ppf(np.array([0.001, 0.999]))
    if game.belief.kind == "uniform":
        lo, hi = game.belief.low, game.belief.high
    hi = min(hi, 1.0)
    return np.linspace(lo, hi, cost_points), np.linspace(max(lo, 0.0), 1.0, price_points)


def find_equilibrium(game: LotGame, *, cost_grid: np.ndarray | None = None,
                     price_grid: np.ndarray | None = None, samples: int = 3000, max_iter: int = 30,
                     min_iter: int = 5,
                     tol: float = 1e-2, method: str = "fictitious-play", damping: float = 1.0,
                     initial: np.ndarray | None = None, smoothing: int | None = 4,
                     seed: int = 0) -> Equilibrium:
    """Search a symmetric equilibrium bid function by iterated best response / fictitious play.

    Args:
        game: the lot game.
        cost_grid, price_grid: grids (default :func:`default_grids`).
        samples: opponent profiles M (common random numbers across iterations).
        max_iter: iteration limit.
        min_iter: rounds run before the convergence test may stop the search (fictitious play averages
            the sampling noise of single rounds away only over several rounds).
        tol: convergence threshold on the largest best-response move (ratio of the ceiling).
        method: ``fictitious-play`` (average of all best responses so far) or ``iterated-best-response``
            (move by ``damping`` towards each best response; 1 = pure best response).
        damping: step of ``iterated-best-response``.
        initial: starting bid function on the cost grid (default: bid at cost, truthful).
        smoothing: knots of the monotone piecewise-linear fit applied to every best response
            (:func:`smooth_bids`); None = raw grid best responses.
        seed: seed of the opponent profiles.

    Returns:
        :class:`Equilibrium` with the convergence history.

    Raises:
        ValueError: unknown method.
    """
    if method not in METHODS:
        raise ValueError(f"unknown equilibrium method {method!r}; valid: {', '.join(METHODS)}")
    dc, dp = default_grids(game)
    cost_grid = dc if cost_grid is None else np.asarray(cost_grid, float)
    price_grid = dp if price_grid is None else np.asarray(price_grid, float)
    rng = np.random.default_rng(seed)
    profiles = draw_profiles(game, samples, rng)
    bid = np.minimum(cost_grid, 1.0).copy() if initial is None else np.asarray(initial, float).copy()
    rows = []
    converged = False
    for it in range(1, max_iter + 1):
        if it > 1 and method == "fictitious-play":
            profiles = draw_profiles(game, samples, rng)
        opp = bid_function(cost_grid, bid, profiles.costs)
        curves = payoff_curves(game, price_grid, opp, profiles.own_key)
        br = best_response(curves, cost_grid)
        if smoothing:
            # weight = win probability x cost density (dF/dc on the grid)
            density = np.gradient(game.belief.cdf(cost_grid)) / np.maximum(np.gradient(cost_grid), 1e-300)
            br = dataclasses.replace(br, bid=smooth_bids(cost_grid, br.bid, br.win * density, smoothing))
        target = np.where(np.isnan(br.bid), 1.0, br.bid)
        current = np.where(np.isnan(bid), 1.0, bid)
        # only costs that can win matter: where both bids lose for sure the payoff is flat (any price)
        relevant = (br.win > 1e-3) | (np.interp(current, curves.grid, curves.win) > 1e-3)
        change = float(np.max(np.abs(target - current)[relevant])) if relevant.any() else 0.0
        own_pay = _payoff_at(curves, cost_grid, current)
        gain = float(np.mean(br.payoff - own_pay))
        regret = gain / max(float(np.mean(br.payoff)), 1e-300)
        rows.append({"iteration": it, "max_change": change, "regret": regret,
                     "evaluations": curves.evaluations})
        if change <= tol and it >= min_iter:
            converged = True
            break
        # fictitious play: the bid function is the average of every best response so far (the
        # starting guess carries no weight); iterated best response: a damped step
        step = 1.0 / it if method == "fictitious-play" else damping
        bid = np.where(np.isnan(br.bid), np.nan, current + step * (target - current))
    final_opp = bid_function(cost_grid, bid, profiles.costs)
    curves = payoff_curves(game, price_grid, final_opp, profiles.own_key)
    current = np.where(np.isnan(bid), 1.0, bid)
    pay = _payoff_at(curves, cost_grid, current)
    win = np.interp(current, curves.grid, curves.win)
    return Equilibrium(cost_grid, bid, win, pay, pd.DataFrame(rows), converged, method)


def smooth_bids(cost_grid: np.ndarray, bids: np.ndarray, weights: np.ndarray, knots: int) -> np.ndarray:
    """Fit a non-decreasing piecewise-linear bid function (``knots`` equally spaced knots) to best-response
    bids by weighted least squares.

    A best response computed against sampled opponents is noisy where winning is rare (the payoff is flat
    there); left raw, those jumps open gaps in the opponents' bid distribution that the next best
    response exploits, and the iteration drifts. Weighting by the probability of winning (times the cost
    density) lets the well-estimated costs carry the fit. NaN bids (abstain) stay NaN.
    """
    ok = ~np.isnan(bids)
    if ok.sum() < 2 or knots < 2:
        return bids
    c = cost_grid[ok]
    t = np.linspace(c[0], c[-1], min(knots, int(ok.sum())))
    h = t[1] - t[0] if len(t) > 1 else 1.0
    basis = np.clip(1 - np.abs(c[:, None] - t[None, :]) / h, 0.0, None)
    w = np.sqrt(np.asarray(weights, float)[ok] + 1e-9)
    lhs = basis * w[:, None]
    coef = np.linalg.lstsq(np.vstack([lhs, 1e-6 * np.eye(len(t))]),
                           np.concatenate([bids[ok] * w, 1e-6 * np.interp(t, c, bids[ok])]), rcond=None)[0]
    fit = np.maximum.accumulate(basis @ coef)
    out = bids.copy()
    out[ok] = np.clip(fit, c, 1.0)
    return out


def _payoff_at(curves: Curves, cost: np.ndarray, bid: np.ndarray) -> np.ndarray:
    """Expected payoff of each (cost, bid) pair, bids interpolated on the curves' grid."""
    av = np.interp(bid, curves.grid, curves.award_volume)
    v = np.interp(bid, curves.grid, curves.volume)
    return av - cost * v


def expected_outcome(game: LotGame, bids_of: callable, draws: int = 20000, seed: int = 0) -> dict:
    """Monte Carlo outcome of the game when every bidder bids ``bids_of(costs)``, through the engine.

    Returns:
        Dict with ``expected_price`` (mean lowest award price, ratio of the ceiling), ``price_se`` (its
        standard error), ``mean_award`` (mean award over winners), ``winners`` (mean count),
        ``failed`` (share of draws without a winner).
    """
    rng = np.random.default_rng(seed)
    n = game.n_bidders
    strata = np.stack([rng.permutation(draws) for _ in range(n)], axis=1)
    costs = game.belief.ppf((strata + rng.random((draws, n))) / draws)
    bids = bids_of(costs)
    lowest, mean_award, winners = [], [], []
    cap = game.ceiling
    keys = np.arange(n, dtype=np.int64)
    for d in range(draws):
        b = bids[d]
        ok = ~np.isnan(b)
        p = b[ok] * cap
        sel = select_lot(game.rules, p, np.full(len(p), cap), p, keys[ok], None, game.low_price_applies)
        w = sel.won
        winners.append(int(w.sum()))
        if w.any():
            a = sel.award_comparable[w] / cap
            lowest.append(float(a.min()))
            mean_award.append(float(a.mean()))
    lowest_arr = np.array(lowest)
    return {"expected_price": float(lowest_arr.mean()) if len(lowest_arr) else float("nan"),
            "price_se": float(lowest_arr.std(ddof=1) / np.sqrt(len(lowest_arr))) if len(lowest_arr) > 1
            else float("nan"),
            "mean_award": float(np.mean(mean_award)) if mean_award else float("nan"),
            "winners": float(np.mean(winners)), "failed": 1 - len(lowest_arr) / draws}
