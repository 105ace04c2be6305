"""Per-scenario summaries of a sweep: means with 95% confidence intervals, and paired differences.

A sweep row is one (scenario, seed, lot). :func:`draw_metrics` first reduces each draw (scenario, seed)
to tender-level figures; :func:`compare` then gives, per scenario and figure, the mean over draws, its
95% confidence interval (Student t), the standard deviation and the 2.5%-97.5% range of the draws. With a
baseline scenario it adds the paired difference to the baseline (same seeds, so the same cost shocks:
common random numbers) with its own interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Tender-level figures of one draw, with their meaning.
DRAW_METRICS: dict[str, str] = {
    "price_cut": "volume-weighted cut vs reference prices: 1 - sum(spend_priced) / sum(reference_spend)",
    "spend": "award spend on the agreed volume, all lots",
    "winners_per_lot": "mean winners per lot",
    "win_share": "share of bids winning: winners / bids",
    "hhi": "mean over awarded lots of the HHI of winners' agreed volume (0-10000)",
    "failed_lots": "lots without a winner",
    "bidders_per_lot": "mean bids per lot",
    "lowest_bid_ratio": "median over lots of the lowest valid bid / ceiling",
    "award_ratio": "mean over awarded lots of the mean award price / ceiling",
    "originator_wins": "winning originators",
}

# two-sided 97.5% Student t quantiles for 1..30 degrees of freedom (beyond: normal approximation)
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
         2.045, 2.042)


def t975(df: int) -> float:
    """97.5% quantile of Student's t with ``df`` degrees of freedom (NaN for df < 1)."""
    if df < 1:
        return float("nan")
    if df <= len(_T975):
        return _T975[df - 1]
    return 1.959964 + 2.4 / df  # within 0.1% of the exact quantile for df > 30


def draw_metrics(sweep: pd.DataFrame) -> pd.DataFrame:
    """One row per (scenario, seed) with the figures of :data:`DRAW_METRICS` (scenarios in sweep order)."""
    order = list(dict.fromkeys(sweep["scenario"]))
    g = sweep.groupby(["scenario", "seed"], sort=False)
    sums = g[["spend", "spend_priced", "reference_spend", "winners", "bidders", "failed",
              "originator_wins"]].sum()
    awarded = sweep[~sweep["failed"].astype(bool)]
    ga = awarded.groupby(["scenario", "seed"], sort=False)
    out = pd.DataFrame(index=sums.index)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["price_cut"] = 1 - sums["spend_priced"] / sums["reference_spend"].where(sums["reference_spend"] > 0)
        out["spend"] = sums["spend"]
        out["winners_per_lot"] = g["winners"].mean()
        out["win_share"] = sums["winners"] / sums["bidders"].where(sums["bidders"] > 0)
    out["hhi"] = ga["hhi"].mean()
    out["failed_lots"] = sums["failed"].astype(np.int64)
    out["bidders_per_lot"] = g["bidders"].mean()
    out["lowest_bid_ratio"] = g["lowest_bid_ratio"].median()
    out["award_ratio"] = ga["award_ratio"].mean()
    out["originator_wins"] = sums["originator_wins"].astype(np.int64)
    out = out.reset_index()
    out["_order"] = out["scenario"].map({s: i for i, s in enumerate(order)})
    return out.sort_values(["_order", "seed"], kind="stable").drop(columns="_order").reset_index(drop=True)


def _interval(values: np.ndarray) -> dict:
    v = values[~np.isnan(values)]
    n = len(v)
    mean = float(v.mean()) if n else float("nan")
    sd = float(v.std(ddof=1)) if n > 1 else float("nan")
    half = t975(n - 1) * sd / np.sqrt(n) if n > 1 else float("nan")
    return {"draws": n, "mean": mean, "ci_low": mean - half, "ci_high": mean + half, "sd": sd,
            "p2.5": float(np.quantile(v, 0.025)) if n else float("nan"),
            "p97.5": float(np.quantile(v, 0.975)) if n else float("nan")}


def compare(sweep: pd.DataFrame, baseline: str | None = None) -> pd.DataFrame:
    """Per-scenario means with 95% intervals of every draw figure (tidy long frame).

    Args:
        sweep: a frame returned by :func:`procurement.simulate.simulate` (or read back from its file).
        baseline: optional scenario name; adds the paired difference to it (same seeds) and its interval.

    Returns:
        Columns ``scenario, metric, draws, mean, ci_low, ci_high, sd, p2.5, p97.5`` (95% confidence
        interval of the mean; 2.5%-97.5% range of the draws), plus ``diff, diff_low, diff_high`` with a
        baseline. Scenarios in sweep order, metrics in :data:`DRAW_METRICS` order.

    Raises:
        KeyError: unknown baseline scenario.
    """
    per_draw = draw_metrics(sweep)
    scenarios = list(dict.fromkeys(per_draw["scenario"]))
    if baseline is not None and baseline not in scenarios:
        raise KeyError(f"baseline scenario {baseline!r} not in the sweep; scenarios: {', '.join(scenarios)}")
    base = per_draw[per_draw["scenario"] == baseline].set_index("seed") if baseline else None
    rows = []
    for s in scenarios:
        d = per_draw[per_draw["scenario"] == s].set_index("seed")
        for metric in DRAW_METRICS:
            row = {"scenario": s, "metric": metric, **_interval(d[metric].to_numpy(float))}
            if base is not None:
                paired = d[metric] - base[metric].reindex(d.index)
                iv = _interval(paired.to_numpy(float))
                row.update({"diff": iv["mean"], "diff_low": iv["ci_low"], "diff_high": iv["ci_high"]})
            rows.append(row)
    return pd.DataFrame(rows)


def format_comparison(table: pd.DataFrame, metrics: list[str] | None = None) -> str:
    """Render :func:`compare` output as a text table: scenarios as rows, ``mean [low, high]`` per figure."""
    metrics = metrics or [m for m in DRAW_METRICS if m in set(table["metric"])]
    fmt = {"price_cut": "{:.1%}", "win_share": "{:.1%}", "spend": "{:,.4g}", "hhi": "{:,.0f}",
           "lowest_bid_ratio": "{:.3f}", "award_ratio": "{:.3f}"}
    scenarios = list(dict.fromkeys(table["scenario"]))
    out = pd.DataFrame(index=pd.Index(scenarios, name="scenario"))
    for metric in metrics:
        f = fmt.get(metric, "{:.2f}")
        cells = []
        for s in scenarios:
            r = table[(table["scenario"] == s) & (table["metric"] == metric)].iloc[0]
            cell = f.format(r["mean"])
            if np.isfinite(r["ci_low"]):
                cell += f" [{f.format(r['ci_low'])}, {f.format(r['ci_high'])}]"
            cells.append(cell)
        out[metric] = cells
    return out.to_string()
