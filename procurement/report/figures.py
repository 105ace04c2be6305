"""Report figures: each function takes frames and returns a :class:`matplotlib.figure.Figure`.

No file I/O and no pyplot state: figures are built with ``Figure()`` so they work on any backend
(and in tests) without a GUI. Text is ASCII only (no CJK glyph warnings). Artists that the HTML report
gives hover text to carry a gid (``bid-<i>``, ``cell-<i>``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

#: Colours by primary-supplier rank within a lot (rank 1 first); comparable across lots.
RANK_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")
WON, LOST = "#1b9e77", "#d95f02"
#: ``lot_id`` of the all-lots rows of ``SavingsResult.by_stakeholder``.
TOTAL = "TOTAL"
#: Groups of ``by_stakeholder`` inside the accounting identity
#: payer saving = -(sum of party gains) + (resources saved); ``payer`` rows are the total, ``memo`` rows
#: are outside the identity.
IDENTITY_GROUPS = ("party", "cost")


def _figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def _money_scale(values) -> tuple[float, str]:
    """Divisor and unit word so that the largest absolute value reads in a few digits."""
    top = float(np.nanmax(np.abs(np.asarray(values, dtype=float)))) if len(values) else 0.0
    if top >= 1e5:
        return 1e6, "million"
    if top >= 1e3:
        return 1e3, "thousand"
    return 1.0, ""


def _signed(v: float) -> str:
    r = round(float(v), 2)
    return "0" if r == 0 else f"{r:+,.2f}"


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
    fig = _figure(8, 1.3 + 0.3 * max(len(lots), 1))
    ax = fig.add_subplot()
    for row, lot in enumerate(lots):
        sub = bids[bids["lot_id"] == lot]
        cp = sub["comparable_price"].astype(float)
        lowest = float(cp[cp > 0].min()) if (cp > 0).any() else 1.0
        y = len(lots) - 1 - row
        ax.plot([1, band], [y, y], color="#cccccc", lw=6, solid_capstyle="butt", zorder=0)
        if "ceiling_price" in sub:
            ceil = float(sub["ceiling_price"].astype(float).max()) / lowest
            ax.plot([ceil], [y], marker="|", ms=14, mew=1.5, color="black", zorder=1)
        ax.plot([low_line / lowest], [y], marker="|", ms=10, mew=1.5, color="red", zorder=1)
        for i, r in sub.iterrows():
            won = bool(r.get("won", False))
            (m,) = ax.plot([float(r["comparable_price"]) / lowest], [y], marker="o", ls="none", ms=7,
                           color=WON if won else LOST, markerfacecolor=WON if won else "none", zorder=2)
            m.set_gid(f"bid-{bids.index.get_loc(i)}")
    ax.set_yticks(range(len(lots)), list(reversed(lots)))
    ax.set_ylim(-0.7, len(lots) - 0.3)
    ax.set_xscale("log")
    ax.grid(axis="x", color="#eeeeee", zorder=-1)
    ax.set_xlabel("comparable price / lowest comparable price in the lot (log scale)")
    ax.set_title("Bid ladder: every bid against the ceiling, the 1.8x band and the 0.10-yuan line")
    handles = [Line2D([], [], marker="o", ls="none", color=WON, label="won"),
               Line2D([], [], marker="o", ls="none", color=LOST, markerfacecolor="none", label="lost"),
               Line2D([], [], color="#cccccc", lw=6, label=f"1 to {band:g}x lowest"),
               Line2D([], [], marker="|", ms=10, mew=1.5, ls="none", color="black", label="ceiling"),
               Line2D([], [], marker="|", ms=10, mew=1.5, ls="none", color="red", label=f"{low_line:g} yuan")]
    fig.legend(handles=handles, loc="outside lower center", ncols=5, fontsize=8, frameon=False)
    return fig


def price_cut(lots: pd.DataFrame) -> Figure:
    """Volume-weighted price cut by lot (1 - award spend / reference spend), sorted; one bar per lot.

    Args:
        lots: result ``lots`` frame (lot_id, cut).
    """
    d = lots[["lot_id", "cut"]].dropna().sort_values("cut")
    fig = _figure(8, 1.0 + 0.25 * max(len(d), 1))
    ax = fig.add_subplot()
    bars = ax.barh(d["lot_id"].astype(str), d["cut"].astype(float) * 100, color=WON)
    ax.bar_label(bars, fmt="%.0f%%", fontsize=7, padding=2)
    ax.set_xlim(0, max(100.0, float(d["cut"].max() * 100) + 8) if len(d) else 100)
    ax.set_ylim(-0.6, len(d) - 0.4)
    ax.set_xlabel("price cut vs reference price (%, volume-weighted)")
    ax.set_title("Price cut by lot")
    return fig


def province_grid(allocation: pd.DataFrame, awards: pd.DataFrame) -> Figure:
    """Lot x region grid coloured by the primary supplier's rank within the lot (rank 1 darkest green).

    The backup supplier's rank is written in each cell as ``p/b``. One rectangle per allocation row,
    gid ``cell-<i>`` (``i`` the row position in ``allocation``); its label has gid ``cell-<i>-label``.

    Args:
        allocation: result ``allocation`` frame (lot_id, region_id, primary_supplier_id, backup_supplier_id).
        awards: result ``awards`` frame (lot_id, supplier_id, rank).
    """
    rank = {(r.lot_id, r.supplier_id): int(r.rank) for r in awards.itertuples()}
    lots = list(dict.fromkeys(allocation["lot_id"]))
    regions = sorted(dict.fromkeys(allocation["region_id"]))
    x_of = {r: i for i, r in enumerate(regions)}
    y_of = {lot: len(lots) - 1 - i for i, lot in enumerate(lots)}
    fig = _figure(max(5.0, 1.5 + 0.32 * len(regions)), 1.6 + 0.26 * max(len(lots), 1))
    ax = fig.add_subplot()
    used: set[int] = set()
    for i, r in enumerate(allocation.itertuples()):
        x, y = x_of[r.region_id], y_of[r.lot_id]
        p = rank.get((r.lot_id, r.primary_supplier_id))
        b = rank.get((r.lot_id, r.backup_supplier_id))
        colour = RANK_COLOURS[min(p - 1, len(RANK_COLOURS) - 1)] if p else "#eeeeee"
        if p:
            used.add(min(p, len(RANK_COLOURS)))
        cell = Rectangle((x - 0.5, y - 0.5), 1, 1, facecolor=colour, edgecolor="white")
        cell.set_gid(f"cell-{i}")
        ax.add_artist(cell)  # not add_patch: the limits are set below (1240 cells: 2 s saved)
        label = ax.text(x, y, f"{p or '-'}/{b or '-'}", ha="center", va="center", fontsize=6,
                        color="white" if p else "black")
        label.set_gid(f"cell-{i}-label")
        label.set_in_layout(False)  # inside the axes; skipping it keeps the layout fast
    ax.set_xlim(-0.5, len(regions) - 0.5)
    ax.set_ylim(-0.5, len(lots) - 0.5)
    ax.set_xticks(range(len(regions)), regions, rotation=90, fontsize=8)
    ax.set_yticks(range(len(lots)), list(reversed(lots)), fontsize=8)
    ax.tick_params(length=0)
    ax.set_title("Primary supplier by province (text: primary/backup rank)", fontsize=10)
    handles = [Patch(facecolor=RANK_COLOURS[k - 1], label=f"rank {k}" + ("+" if k == len(RANK_COLOURS) else ""))
               for k in sorted(used)]
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 8), fontsize=8,
                   frameon=False)
    return fig


def stakeholder_contributions(by_stakeholder: pd.DataFrame) -> pd.DataFrame:
    """All-lots rows of ``by_stakeholder`` with each row's contribution to the payer saving.

    Uses the ``TOTAL`` rows when present (else sums the lot rows). ``contribution`` is ``-change`` for
    parties (income they lose is what the payers save), ``change`` for cost rows (resources saved) and
    NaN for payer and memo rows, so that ``contribution.sum() == payer saving`` (the accounting identity
    of :mod:`procurement.analysis.savings`).

    Returns:
        Columns ``stakeholder, group, before, after, change, contribution``, in input order.
    """
    lot = by_stakeholder["lot_id"].astype(str)
    d = by_stakeholder[lot == TOTAL] if (lot == TOTAL).any() else by_stakeholder
    d = d.groupby(["stakeholder", "group"], sort=False)[["before", "after", "change"]].sum().reset_index()
    sign = d["group"].map({"party": -1.0, "cost": 1.0})
    d["contribution"] = d["change"] * sign
    return d


def payer_saving(by_stakeholder: pd.DataFrame) -> float:
    """Payer saving (fund + patients; the ``payer`` rows' change) of ``by_stakeholder``, all lots."""
    d = stakeholder_contributions(by_stakeholder)
    return float(d.loc[d["group"] == "payer", "change"].sum())


def savings_waterfall(by_stakeholder: pd.DataFrame, *, currency: str = "yuan") -> Figure:
    """Where the payer saving comes from: a waterfall of the parties and resource costs, ending at the total.

    Only rows inside the accounting identity are drawn: one step per ``party`` row (``-change``: the
    income it loses) and per ``cost`` row (resources saved), gid ``step-<stakeholder>``; the steps add
    up to the payer saving, drawn last as a total bar split into its ``payer`` rows (gid
    ``total-<stakeholder>``). Memo rows (payment timing) are outside the identity and not drawn.

    Args:
        by_stakeholder: ``SavingsResult.by_stakeholder`` (lot_id, stakeholder, group, change), with or
            without the ``TOTAL`` rows.
        currency: unit word for the axis.
    """
    d = stakeholder_contributions(by_stakeholder)
    steps = d[d["group"].isin(IDENTITY_GROUPS)]
    payers = d[d["group"] == "payer"]
    total = float(payers["change"].sum())
    vals = steps["contribution"].to_numpy(float)
    scale, unit = _money_scale(np.concatenate([np.cumsum(vals), [total]]))
    n = len(steps) + 1
    fig = _figure(8, 1.4 + 0.32 * n)
    ax = fig.add_subplot()
    ys = np.arange(n)[::-1]
    start = 0.0
    for y, (name, group, v) in zip(ys, steps[["stakeholder", "group", "contribution"]].itertuples(index=False),
                                   strict=False):
        colour = WON if v >= 0 else LOST
        (bar,) = ax.barh([y], [v / scale], left=[start / scale], color=colour,
                         hatch="//" if group == "cost" else None, edgecolor="white")
        bar.set_gid(f"step-{name}")
        end = start + v
        ax.text(max(start, end) / scale, y, f" {_signed(v / scale)}", va="center", fontsize=7)
        start = end
    left = 0.0
    for k, (name, v) in enumerate(payers[["stakeholder", "change"]].itertuples(index=False)):
        (bar,) = ax.barh([ys[-1]], [v / scale], left=[left / scale], color=("#555555", "#999999")[k % 2])
        bar.set_gid(f"total-{name}")
        if v:
            ax.text((left + v / 2) / scale, ys[-1], name.replace("_", " "), ha="center", va="center",
                    fontsize=7, color="white")
        left += v
    ax.text(max(total, 0.0) / scale, ys[-1], f" {total / scale:,.2f}", va="center", fontsize=7,
            fontweight="bold")
    labels = [f"{s.replace('_', ' ')} ({'income lost' if g == 'party' else 'resources saved'})"
              for s, g in steps[["stakeholder", "group"]].itertuples(index=False)]
    ax.set_yticks(ys, labels + ["payer saving (fund + patients)"], fontsize=8)
    ax.axvline(0, color="black", lw=0.8)
    ax.margins(x=0.12)
    ax.set_xlabel(f"contribution to the payer saving ({unit + ' ' if unit else ''}{currency})")
    ax.set_title("Where the payer saving comes from")
    return fig


def cut_shares_by_lot(decomposition: pd.DataFrame) -> pd.DataFrame:
    """Per-lot shares of the price cut (``*_share`` columns), weighted by each row's cut amount.

    The weight of a (lot, region, spec) row is ``d_pat x agreed_volume`` (its yuan of patient-price
    cut) when ``d_pat`` is present, else ``agreed_volume``; rows whose price did not change (NaN shares)
    weigh nothing. The shares of a lot add up to 1.

    Returns:
        One row per lot: ``lot_id`` and the ``*_share`` columns, in input order.
    """
    shares = [c for c in decomposition.columns if c.endswith("_share")]
    w = decomposition["agreed_volume"].astype(float)
    if "d_pat" in decomposition:
        w = w * decomposition["d_pat"].astype(float)
    s = decomposition[shares].astype(float)
    ok = s.notna().all(axis=1) & w.notna()
    w = w.where(ok, 0.0)
    lots = decomposition["lot_id"].astype(str)
    num = s.fillna(0.0).mul(w, axis=0).groupby(lots, sort=False).sum()
    den = w.groupby(lots, sort=False).sum()
    out = num.div(den.where(den != 0), axis=0)
    return out.reset_index().rename(columns={"index": "lot_id"})


def cut_decomposition(decomposition: pd.DataFrame) -> Figure:
    """Where each lot's price cut came from: shares by part of the price chain, stacked bars (one per lot).

    Args:
        decomposition: ``SavingsResult.cut_decomposition`` (lot_id, agreed_volume, optional d_pat,
            ``<part>_share``); see :func:`cut_shares_by_lot` for the weighting.
    """
    d = cut_shares_by_lot(decomposition).set_index("lot_id")
    d = d.iloc[::-1]  # first lot on top
    fig = _figure(8, 1.4 + 0.25 * max(len(d), 1))
    ax = fig.add_subplot()
    left = np.zeros(len(d))
    for c in d.columns:
        v = d[c].fillna(0.0).to_numpy(float)
        ax.barh(d.index.astype(str), v, left=left, label=c.removesuffix("_share"))
        left += v
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, len(d) - 0.4)
    ax.set_xlabel("share of the price cut")
    fig.legend(loc="outside lower center", ncols=len(d.columns) or 1, fontsize=8, frameon=False)
    ax.set_title("Cut decomposition by lot: which part of the price chain the cut came from")
    return fig


def mode_comparison(lots: pd.DataFrame, regions: pd.DataFrame | None = None, *,
                    currency: str = "yuan") -> Figure:
    """Optimal vs rules (``procure compare-modes`` frames): cost difference by lot and regions changed.

    Left panel: one bar per lot, optimal - rules cost. Right panel (with ``regions``): one bar per lot,
    the regions whose primary supplier changes, out of the lot's regions (grey).

    Args:
        lots: ``ComparisonResult.lots`` (lot_id, difference = optimal - rules cost, yuan).
        regions: optional ``ComparisonResult.regions`` (lot_id, region_id, changed).
        currency: unit word for the axis.
    """
    d = lots.sort_values("difference", ascending=False)
    ids = d["lot_id"].astype(str)
    scale, unit = _money_scale(d["difference"].astype(float).to_numpy())
    two = regions is not None and len(regions) > 0
    fig = _figure(8, 1.4 + 0.25 * max(len(d), 1))
    axes = fig.subplots(1, 2, sharey=True, width_ratios=(2, 1)) if two else [fig.add_subplot()]
    ax = axes[0]
    diff = d["difference"].astype(float).to_numpy() / scale
    ax.barh(ids, diff, color=[WON if v <= 0 else LOST for v in diff])
    ax.axvline(0, color="black", lw=0.8)
    ax.set_ylim(-0.6, len(d) - 0.4)
    ax.set_xlabel(f"optimal - rules cost ({unit + ' ' if unit else ''}{currency}; < 0: optimal cheaper)")
    ax.set_title("Cost difference by lot", fontsize=10)
    if two:
        r = regions.assign(lot_id=regions["lot_id"].astype(str))
        g = r.groupby("lot_id")["changed"]
        changed = g.sum().reindex(ids).fillna(0).to_numpy(float)
        count = g.size().reindex(ids).fillna(0).to_numpy(float)
        axes[1].barh(ids, count, color="#dddddd", label="regions")
        axes[1].barh(ids, changed, color="#7570b3", label="change hands")
        axes[1].set_xlabel("regions (purple: change hands)")
        axes[1].set_title("Regions changing hands", fontsize=10)
        axes[1].tick_params(axis="y", left=False)
    fig.suptitle("Optimal vs rules")
    return fig


def sweep_draws(sweep: pd.DataFrame) -> pd.DataFrame:
    """One row per draw: a sweep of :func:`procurement.simulate.simulate` (one row per scenario, seed and
    lot) is reduced with :func:`procurement.simulate.summary.draw_metrics`; any other frame is returned as is."""
    lot_level = {"lot_id", "seed", "spend", "spend_priced", "reference_spend", "failed"} <= set(sweep.columns)
    if not lot_level:
        return sweep
    from procurement.simulate.summary import draw_metrics

    return draw_metrics(sweep)


def interval(values) -> dict[str, float]:
    """Mean and 95% confidence interval of the mean (Student t, as ``procurement.simulate.compare``)."""
    from procurement.simulate.summary import t975

    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    n = len(v)
    mean = float(v.mean()) if n else float("nan")
    half = t975(n - 1) * float(v.std(ddof=1)) / np.sqrt(n) if n > 1 else float("nan")
    return {"draws": n, "mean": mean, "ci_low": mean - half, "ci_high": mean + half,
            "sd": float(v.std(ddof=1)) if n > 1 else float("nan"),
            "p2.5": float(np.quantile(v, 0.025)) if n else float("nan"),
            "p97.5": float(np.quantile(v, 0.975)) if n else float("nan")}


def sweep_comparison(sweep: pd.DataFrame, metric: str) -> Figure:
    """Per-scenario distribution of ``metric`` over draws (a tick per draw) with the mean and 95% interval.

    Per scenario ``i`` (in sweep order, first on top): one line of tick markers, gid ``draws-<i>``, and one
    errorbar container (mean and 95% confidence interval of the mean, Student t).

    Args:
        sweep: a sweep from :func:`procurement.simulate.simulate` (reduced to one row per draw with
            :func:`sweep_draws`), or any tidy frame with ``scenario`` and ``metric`` (a row per run).
        metric: the column to draw.
    """
    draws = sweep_draws(sweep)
    scen = list(dict.fromkeys(draws["scenario"]))
    values = draws[metric].astype(float)
    top = float(values.abs().max()) if values.notna().any() else 0.0
    scale, unit = (1e6, " (million)") if top >= 1e6 else (1.0, "")
    fig = _figure(8, 1.5 + 0.4 * max(len(scen), 1))
    ax = fig.add_subplot()
    for i, s in enumerate(scen):
        y = len(scen) - 1 - i
        v = values[draws["scenario"] == s].dropna().to_numpy() / scale
        if len(v) == 0:
            continue
        (ticks,) = ax.plot(v, np.full(len(v), y) + 0.2, "|", color="#999999", ms=8)
        ticks.set_gid(f"draws-{i}")
        iv = interval(v)
        half = 0.0 if np.isnan(iv["ci_high"]) else iv["ci_high"] - iv["mean"]
        ax.errorbar([iv["mean"]], [y], xerr=[[half], [half]], fmt="o", color=WON, capsize=4)
    ax.set_yticks(range(len(scen)), [str(s) for s in reversed(scen)])
    ax.set_ylim(-0.6, len(scen) - 0.2)
    ax.set_xlabel(f"{metric}{unit} (grey ticks: draws; dot and bar: mean and 95% interval)")
    ax.set_title(f"Scenario comparison: {metric}")
    return fig
