"""Report figures: each function takes frames and returns a :class:`matplotlib.figure.Figure`.

No file I/O and no pyplot state: figures are built with ``Figure()`` so they work on any backend
(and in tests) without a GUI. Text is ASCII only (no CJK glyph warnings).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

#: Colours by primary-supplier rank within a lot (rank 1 first); comparable across lots.
RANK_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")


def bid_ladder(bids: pd.DataFrame, *, band: float = 1.8, low_line: float = 0.10) -> Figure:
    """Normalised bid ladder: every bid's comparable price / lowest valid comparable price, lots as rows.

    One marker (a separate artist with gid ``bid-<i>``, ``i`` the row position in ``bids``) per bid;
    winners are filled, losers hollow. Per lot: the ceiling (``|``), the ``band`` x lowest line and the
    ``low_line`` yuan line (in the same normalised units). Normalising keeps 40 lots readable.

    Args:
        bids: result ``bids`` frame (lot_id, supplier_id, comparable_price, ceiling_price, won, reason).
        band: the anchor multiple drawn as the band (1.8 under batch 4+ rules).
        low_line: absolute price line in yuan (0.10).

    Returns:
        The figure; marker gids let :func:`procurement.report.html` attach the reason as hover text.
    """
    lots = list(dict.fromkeys(bids["lot_id"]))
    fig = Figure(figsize=(8, 1.0 + 0.35 * max(len(lots), 1)))
    ax = fig.add_subplot()
    for row, lot in enumerate(lots):
        sub = bids[bids["lot_id"] == lot]
        cp = sub["comparable_price"].astype(float)
        lowest = float(cp[cp > 0].min()) if (cp > 0).any() else 1.0
        y = len(lots) - 1 - row
        ax.plot([1, band], [y, y], color="#cccccc", lw=6, solid_capstyle="butt", zorder=0)
        if "ceiling_price" in sub:
            ceil = float(sub["ceiling_price"].astype(float).max()) / lowest
            ax.plot([ceil], [y], marker="|", ms=14, color="black", zorder=1)
        ax.plot([low_line / lowest], [y], marker="|", ms=10, color="red", zorder=1)
        for i, r in sub.iterrows():
            won = bool(r.get("won", False))
            (m,) = ax.plot([float(r["comparable_price"]) / lowest], [y], marker="o", ls="none", ms=7,
                           color="#1b9e77" if won else "#d95f02",
                           markerfacecolor="#1b9e77" if won else "none", zorder=2)
            m.set_gid(f"bid-{bids.index.get_loc(i)}")
    ax.set_yticks(range(len(lots)), list(reversed(lots)))
    ax.set_xscale("log")
    ax.set_xlabel(f"comparable price / lowest in lot (grey band: 1 to {band}x; | ceiling; red | {low_line} yuan)")
    ax.set_title("Bid ladder (filled: won, hollow: lost)")
    fig.tight_layout()
    return fig


def price_cut(lots: pd.DataFrame) -> Figure:
    """Volume-weighted price cut by lot (1 - award spend / reference spend), sorted; one bar per lot.

    Args:
        lots: result ``lots`` frame (lot_id, cut).
    """
    d = lots[["lot_id", "cut"]].dropna().sort_values("cut")
    fig = Figure(figsize=(8, 1.0 + 0.3 * max(len(d), 1)))
    ax = fig.add_subplot()
    ax.barh(d["lot_id"].astype(str), d["cut"].astype(float) * 100, color="#1b9e77")
    ax.set_xlabel("price cut vs reference price (%)")
    ax.set_title("Price cut by lot")
    fig.tight_layout()
    return fig


def province_grid(allocation: pd.DataFrame, awards: pd.DataFrame) -> Figure:
    """Lot x region grid coloured by the primary supplier's rank within the lot (rank 1 darkest green).

    The backup supplier's rank is written in each cell as ``p/b``. One rectangle per allocation row.

    Args:
        allocation: result ``allocation`` frame (lot_id, region_id, primary_supplier_id, backup_supplier_id).
        awards: result ``awards`` frame (lot_id, supplier_id, rank).
    """
    rank = {(r.lot_id, r.supplier_id): int(r.rank) for r in awards.itertuples()}
    lots = list(dict.fromkeys(allocation["lot_id"]))
    regions = sorted(dict.fromkeys(allocation["region_id"]))
    fig = Figure(figsize=(max(4, 1.5 + 0.45 * len(regions)), 1.2 + 0.35 * max(len(lots), 1)))
    ax = fig.add_subplot()
    for r in allocation.itertuples():
        x, y = regions.index(r.region_id), len(lots) - 1 - lots.index(r.lot_id)
        p = rank.get((r.lot_id, r.primary_supplier_id))
        b = rank.get((r.lot_id, r.backup_supplier_id))
        colour = RANK_COLOURS[min(p - 1, len(RANK_COLOURS) - 1)] if p else "#eeeeee"
        ax.add_patch(_rect(x, y, colour))
        label = f"{p or '-'}/{b or '-'}"
        ax.text(x, y, label, ha="center", va="center", fontsize=7, color="white" if p else "black")
    ax.set_xlim(-0.5, len(regions) - 0.5)
    ax.set_ylim(-0.5, len(lots) - 0.5)
    ax.set_xticks(range(len(regions)), regions, rotation=90)
    ax.set_yticks(range(len(lots)), list(reversed(lots)))
    ax.set_title("Primary/backup rank", fontsize=9)
    fig.tight_layout()
    return fig


def _rect(x: float, y: float, colour: str):
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.5, y - 0.5), 1, 1, facecolor=colour, edgecolor="white")


def savings_waterfall(by_stakeholder: pd.DataFrame) -> Figure:
    """Waterfall of the change (before - after) by stakeholder summed over lots; one bar per stakeholder.

    Args:
        by_stakeholder: ``SavingsResult.by_stakeholder`` (stakeholder, change).
    """
    d = by_stakeholder.groupby("stakeholder", sort=False)["change"].sum()
    fig = Figure(figsize=(8, 4))
    ax = fig.add_subplot()
    start = np.concatenate([[0.0], np.cumsum(d.to_numpy())[:-1]])
    vals = d.to_numpy()
    ax.bar(range(len(d)), vals / 1e6, bottom=start / 1e6,
           color=["#1b9e77" if v >= 0 else "#d95f02" for v in vals])
    ax.set_xticks(range(len(d)), list(d.index), rotation=30, ha="right")
    ax.set_ylabel("gain (million yuan, positive = saves)")
    ax.set_title("Savings by stakeholder (cumulative)")
    fig.tight_layout()
    return fig


def cut_decomposition(decomposition: pd.DataFrame) -> Figure:
    """Where each lot's price cut came from: volume-weighted shares (``*_share`` columns), stacked bars.

    Args:
        decomposition: ``SavingsResult.cut_decomposition`` (lot_id, agreed_volume, ``<part>_share``).
    """
    shares = [c for c in decomposition.columns if c.endswith("_share")]
    w = decomposition["agreed_volume"].astype(float)
    d = decomposition[shares].astype(float).mul(w, axis=0).groupby(decomposition["lot_id"]).sum()
    d = d.div(w.groupby(decomposition["lot_id"]).sum(), axis=0)
    fig = Figure(figsize=(8, 1.5 + 0.3 * max(len(d), 1)))
    ax = fig.add_subplot()
    left = np.zeros(len(d))
    for c in shares:
        ax.barh(d.index.astype(str), d[c], left=left, label=c.removesuffix("_share"))
        left += d[c].to_numpy()
    ax.set_xlabel("share of the price cut")
    ax.legend(fontsize=7, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.25))
    ax.set_title("Cut decomposition by lot")
    fig.tight_layout()
    return fig


def mode_comparison(lots: pd.DataFrame, regions: pd.DataFrame | None = None) -> Figure:
    """Optimal vs rules (``procure compare-modes`` frames): cost difference by lot and regions changed.

    Args:
        lots: ``ComparisonResult.lots`` (lot_id, difference = optimal - rules cost, yuan).
        regions: optional ``ComparisonResult.regions`` (lot_id, region_id, changed); the count of
            changed regions per lot is drawn as dots on a second axis.
    """
    d = lots.sort_values("difference")
    fig = Figure(figsize=(8, 1.5 + 0.3 * max(len(d), 1)))
    ax = fig.add_subplot()
    ax.barh(d["lot_id"].astype(str), d["difference"].astype(float) / 1e6, color="#7570b3")
    ax.set_xlabel("optimal - rules cost (million yuan)")
    if regions is not None and len(regions):
        changed = regions.groupby("lot_id")["changed"].sum().reindex(d["lot_id"]).fillna(0)
        ax2 = ax.twiny()
        ax2.plot(changed.to_numpy(float), d["lot_id"].astype(str), "o", color="#d95f02")
        ax2.set_xlabel("regions that change hands (dots)")
    ax.set_title("Optimal vs rules by lot")
    fig.tight_layout()
    return fig


def sweep_comparison(sweep: pd.DataFrame, metric: str) -> Figure:
    """Per-scenario distribution of ``metric`` (points per run) with the mean and 95% interval.

    Args:
        sweep: tidy long frame with columns ``scenario`` and ``metric`` (one row per scenario x seed x lot).
        metric: the column to draw.
    """
    scen = list(dict.fromkeys(sweep["scenario"]))
    fig = Figure(figsize=(8, 1.5 + 0.4 * max(len(scen), 1)))
    ax = fig.add_subplot()
    for i, s in enumerate(scen):
        v = sweep.loc[sweep["scenario"] == s, metric].astype(float).dropna().to_numpy()
        if len(v) == 0:
            continue
        ax.plot(v, np.full(len(v), i) + 0.15, "|", color="#999999")
        mean = v.mean()
        half = 1.96 * v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else 0.0
        ax.errorbar([mean], [i], xerr=[[half], [half]], fmt="o", color="#1b9e77", capsize=4)
    ax.set_yticks(range(len(scen)), [str(s) for s in scen])
    ax.set_xlabel(f"{metric} (ticks: runs; dot and bar: mean and 95% interval)")
    ax.set_title(f"Scenario comparison: {metric}")
    fig.tight_layout()
    return fig
