"""Show the fit of the default market parameters to national batches 2 and 4, and the auction check.

    python scripts/calibrate.py                 # published vs simulated statistics, default parameters
    python scripts/calibrate.py --fit           # grid search around the defaults (a few minutes)
    python scripts/calibrate.py --quantiles     # empirical bid / ceiling quantiles of the data
    python scripts/calibrate.py --auction       # equilibrium search vs 2/(n+1), n = 2..10

The published data folder is $PROCUREMENT_VBP_DATA (default <repo>/../shared/data/vbp).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from procurement.simulate.calibration import (
    TARGET_WEIGHTS,
    fit,
    loss,
    published_statistics,
    published_tender,
    read_bids,
    simulated_statistics,
)
from procurement.simulate.params import MarketParams

ROWS = ["bids_per_lot", "median_lowest_ratio", "winners_per_lot", "win_share", "valid_win_share",
        "median_award_ratio", "mean_award_ratio", "median_spread", "originator_win_rate"]


def show_fit(params: MarketParams, draws: int) -> None:
    print("market parameters:", {k: v for k, v in params.parameters().items()
                                 if k in ("cost_median", "lot_sigma", "firm_sigma", "originator_premium",
                                          "markup", "markup_sigma", "entry_cost", "strategy")})
    table = {}
    total = 0.0
    for batch in (2, 4):
        target = published_statistics(batch)
        sim = simulated_statistics(published_tender(batch), params, draws)
        table[f"batch{batch} published"] = target
        table[f"batch{batch} simulated"] = sim
        total += loss(sim, target)
    frame = pd.DataFrame(table).loc[ROWS]
    frame.insert(0, "fit weight", [TARGET_WEIGHTS.get(r, 0.0) for r in ROWS])
    print(frame.round(3).to_string())
    print(f"loss (weighted squared relative error, both batches): {total:.3f}; {draws} draws per batch")
    print("note: the published win_share counts bids above the ceiling (13% of the rows, price 99999 for no\n"
          "acceptable quote); the model's suppliers without a profitable valid price abstain (unprofitable =\n"
          "abstain), so compare valid_win_share; with unprofitable = 'quote' they appear as invalid bids.")


def auction(samples: int, iterations: int) -> None:
    from procurement.simulate.equilibrium import expected_outcome, find_equilibrium, first_price_game

    print(f"first-price procurement auction, iid U[0,1] costs: fictitious play, {samples} opponent profiles")
    print(f"{'n':>3s} {'theory':>8s} {'found':>8s} {'se':>7s} {'error':>8s} {'iter':>5s} {'conv':>5s} "
          f"{'last change':>12s} {'engine calls':>13s} {'seconds':>8s}")
    for n in range(2, 11):
        start = time.perf_counter()
        game = first_price_game(n)
        eq = find_equilibrium(game, samples=samples, max_iter=iterations, seed=n)
        out = expected_outcome(game, eq.bids, draws=20000, seed=100 + n)
        theory = 2 / (n + 1)
        print(f"{n:3d} {theory:8.4f} {out['expected_price']:8.4f} {out['price_se']:7.4f} "
              f"{out['expected_price'] / theory - 1:+8.2%} {eq.iterations:5d} {str(eq.converged):>5s} "
              f"{eq.history['max_change'].iloc[-1]:12.4f} {int(eq.history['evaluations'].sum()):13d} "
              f"{time.perf_counter() - start:8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=100)
    parser.add_argument("--fit", action="store_true", help="Grid search around the defaults.")
    parser.add_argument("--quantiles", action="store_true", help="Print the empirical bid/ceiling quantiles.")
    parser.add_argument("--auction", action="store_true", help="Check the equilibrium search, n = 2..10.")
    parser.add_argument("--samples", type=int, default=3000, help="Opponent profiles of --auction.")
    parser.add_argument("--iterations", type=int, default=20, help="Fictitious-play rounds of --auction.")
    args = parser.parse_args()
    if args.quantiles:
        bids = read_bids()
        ratio = bids.loc[bids["ratio"] <= 1, "ratio"].to_numpy()
        print(f"{len(ratio)} valid bids; quantiles 0%, 5%, ..., 100% of price / ceiling:")
        print(tuple(np.round(np.quantile(ratio, np.linspace(0, 1, 21)), 4)))
        return
    if args.auction:
        auction(args.samples, args.iterations)
        return
    params = MarketParams()
    if args.fit:
        d = params
        grid = {"cost_median": [d.cost_median * f for f in (0.85, 1.0, 1.15)],
                "markup": [d.markup * f for f in (0.8, 1.0, 1.25)],
                "lot_sigma": [d.lot_sigma * f for f in (0.75, 1.0, 1.25)],
                "firm_sigma": [d.firm_sigma * f for f in (0.75, 1.0, 1.25)]}
        tenders = {b: published_tender(b) for b in (2, 4)}
        targets = {b: published_statistics(b) for b in (2, 4)}
        result = fit(tenders, targets, grid, base=params, draws=max(10, args.draws // 5))
        print(result.head(10).round(4).to_string())
        best = result.iloc[0]
        params = params.with_overrides(**{k: float(best[k]) for k in grid})
        print()
    show_fit(params, args.draws)


if __name__ == "__main__":
    main()
