"""Assemble the self-contained HTML report: figures embedded (PNG as data URIs; the bid ladder and the
province grid as inline SVG with one ``<title>`` per bid / cell, so the browser shows it on hover). No
network access, no script."""

from __future__ import annotations

import base64
import html
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from procurement.report import figures as F

#: Sweep metrics drawn by default (when present), in order; else the first three numeric columns.
DEFAULT_SWEEP_METRICS = ("price_cut", "spend", "hhi")
_SWEEP_IDS = ("scenario", "seed", "run_seed", "lot_id", "lot")


@dataclass
class Section:
    """One report section: a title, a figure (PNG, or SVG with hover text when ``tooltips``), its table
    and an optional one-paragraph note on how to read it."""

    title: str
    figure: Figure
    table: pd.DataFrame
    tooltips: dict[str, str] = field(default_factory=dict)
    note: str = ""


def png_uri(fig: Figure) -> str:
    """The figure as a ``data:image/png;base64`` URI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def svg_with_titles(fig: Figure, tooltips: dict[str, str]) -> str:
    """Inline SVG of ``fig`` with a ``<title>`` inserted into each group whose id is a key of ``tooltips``.

    Text is kept as SVG text (``svg.fonttype = none``): smaller than glyph paths, and it stays selectable.
    """
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "procurement-report"}):
        fig.savefig(buf, format="svg")
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)

    def add(m: re.Match) -> str:
        tip = tooltips.get(m.group(1))
        return m.group(0) + (f"<title>{html.escape(tip)}</title>" if tip else "")

    return re.sub(r'<g id="([^"]+)"[^>]*>', add, svg)


def _fmt(v) -> str:
    if isinstance(v, float) and np.isnan(v):
        return ""
    return f"{v:,.0f}" if isinstance(v, float) and abs(v) >= 1000 else (f"{v:.4g}" if isinstance(v, float) else str(v))


def _money(v: float, currency: str = "") -> str:
    return f"{v:,.0f}" + (f" {currency}" if currency else "")


_CSS = ("body{font-family:sans-serif;max-width:1100px;margin:auto;padding:0 12px;color:#222}"
        "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px}"
        "th{background:#eee}table.summary{font-size:14px}table.summary th{text-align:left}"
        "table.summary td{text-align:right}img,svg{max-width:100%;height:auto}details{margin:6px 0 28px}"
        "p.note{font-size:13px;color:#444;max-width:900px}nav{font-size:13px;margin:8px 0 16px}"
        "nav a{margin-right:12px}svg g[id^='bid-']:hover,svg g[id^='cell-']:hover{opacity:.75}")


def render(title: str, summary: dict[str, str], sections: list[Section]) -> str:
    """Render the page: summary table at the top, then one section per figure with its table."""
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{_CSS}</style></head><body>", f"<h1>{html.escape(title)}</h1>",
             "<table class='summary'>"]
    parts += [f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in summary.items()]
    parts.append("</table>")
    anchors = [re.sub(r"[^a-z0-9]+", "-", s.title.lower()).strip("-") for s in sections]
    parts.append("<nav>" + "".join(f"<a href='#{a}'>{html.escape(s.title)}</a>"
                                   for a, s in zip(anchors, sections, strict=True)) + "</nav>")
    for anchor, s in zip(anchors, sections, strict=True):
        parts.append(f"<h2 id='{anchor}'>{html.escape(s.title)}</h2>")
        if s.note:
            parts.append(f"<p class='note'>{html.escape(s.note)}</p>")
        if s.tooltips:
            parts.append(f"<div class='svgfig'>{svg_with_titles(s.figure, s.tooltips)}</div>")
        else:
            parts.append(f"<img alt='{html.escape(s.title)}' src='{png_uri(s.figure)}'>")
        parts.append(f"<details><summary>table ({len(s.table)} rows)</summary>"
                     f"{s.table.to_html(index=False, float_format=_fmt, border=0, na_rep='')}</details>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _name(v: Any) -> str:
    return "-" if v is None or (isinstance(v, float) and np.isnan(v)) or v == "" else str(v)


def grid_tooltips(allocation: pd.DataFrame, awards: pd.DataFrame) -> dict[str, str]:
    """Hover text of every province-grid cell (``cell-<i>`` and its label): lot, province, primary
    supplier and backup (with their price ranks in the lot), agreed and reported volume, price."""
    rank = {(r.lot_id, r.supplier_id): int(r.rank) for r in awards.itertuples()}
    tips = {}
    for i, r in enumerate(allocation.itertuples()):
        def who(s, _r=r):
            k = rank.get((_r.lot_id, s))
            return _name(s) + (f" (rank {k})" if k else "")

        text = f"lot {r.lot_id}, province {r.region_id}: primary {who(r.primary_supplier_id)}, " \
               f"backup {who(getattr(r, 'backup_supplier_id', None))}"
        if hasattr(r, "agreed_volume"):
            text += f"; agreed volume {float(r.agreed_volume):,.0f}"
            if hasattr(r, "reported_volume"):
                text += f" of {float(r.reported_volume):,.0f} reported"
        if hasattr(r, "price") and pd.notna(r.price):
            text += f"; price {float(r.price):.4g}"
        tips[f"cell-{i}"] = tips[f"cell-{i}-label"] = text
    return tips


def bid_tooltips(bids: pd.DataFrame) -> dict[str, str]:
    """Hover text of every bid marker (``bid-<i>``): lot, supplier, spec, prices and the engine's reason."""
    tips = {}
    for i, r in enumerate(bids.itertuples()):
        ceiling = f", ceiling {float(r.ceiling_price):.4g}" if hasattr(r, "ceiling_price") else ""
        tips[f"bid-{i}"] = (f"{r.lot_id} {r.supplier_id} {r.spec_id}: price {float(r.price):.4g}, comparable "
                            f"{float(r.comparable_price):.4g}{ceiling}; {r.reason}")
    return tips


def _sweep_metrics(draws: pd.DataFrame, metric: str | None) -> list[str]:
    if metric:
        if metric not in draws.columns:
            raise ValueError(f"sweep metric {metric!r} not found; columns: {', '.join(map(str, draws.columns))}")
        return [metric]
    numeric = [c for c in draws.columns if c not in _SWEEP_IDS and pd.api.types.is_numeric_dtype(draws[c])
               and draws[c].notna().any()]
    preferred = [m for m in DEFAULT_SWEEP_METRICS if m in numeric]
    return preferred or numeric[:3]


def sweep_table(draws: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per scenario: draws, mean, 95% interval of the mean, sd and 2.5%-97.5% range of ``metric``."""
    rows = [{"scenario": s, **F.interval(g[metric].to_numpy(float))}
            for s, g in draws.groupby("scenario", sort=False)]
    return pd.DataFrame(rows)


def sections_for(result, savings: dict[str, pd.DataFrame] | None = None,
                 compare: dict[str, pd.DataFrame] | None = None, sweep: pd.DataFrame | None = None,
                 sweep_metric: str | None = None) -> list[Section]:
    """Build the report sections from a :class:`TenderResult` and optional savings/compare/sweep frames."""
    currency = str(result.summary.get("currency") or "yuan")
    bids = result.bids.reset_index(drop=True)
    cols = [c for c in ("lot_id", "supplier_id", "spec_id", "price", "comparable_price", "ceiling_price", "won",
                        "reason") if c in bids.columns]
    allocation = result.allocation.reset_index(drop=True)
    out = [Section("Bid ladder", F.bid_ladder(bids), bids[cols], bid_tooltips(bids),
                   "One row per lot; each dot is a bid at its comparable price divided by the lowest in the "
                   "lot (filled: won, hollow: lost). Hover over a dot for the supplier, the prices and why "
                   "the bid won or lost."),
           Section("Price cut by lot", F.price_cut(result.lots),
                   result.lots[["lot_id", "molecule", "winners", "award_spend", "reference_spend", "cut"]]
                   .sort_values("cut", ascending=False),
                   note="Cut = 1 - award spend / reference spend on the agreed volume."),
           Section("Province allocation", F.province_grid(allocation, result.awards), allocation,
                   grid_tooltips(allocation, result.awards),
                   "Each cell is a lot and a province, coloured by the price rank (within the lot) of the "
                   "supplier that serves it; the text is primary/backup rank. Hover over a cell for the "
                   "supplier names and volume.")]
    if savings and "by_stakeholder" in savings:
        by = savings["by_stakeholder"]
        table = F.stakeholder_contributions(by)
        total = F.payer_saving(by)
        out.append(Section("Savings by stakeholder", F.savings_waterfall(by, currency=currency), table,
                           note=f"The payer saving ({_money(total, currency)}, fund + patients) is the income "
                                "the parties lose plus the resource costs saved; the bars add up to it. "
                                "Memo rows (payment timing) are outside this identity: see the table."))
    if savings and "cut_decomposition" in savings:
        cd = savings["cut_decomposition"]
        out.append(Section("Cut decomposition", F.cut_decomposition(cd), F.cut_shares_by_lot(cd),
                           note="Share of each lot's patient-price cut taken out of each part of the price "
                                "chain (weighted by the cut in yuan of every region and spec)."))
    if compare and "lots" in compare:
        lots = compare["lots"]
        regions = compare.get("regions")
        table = lots
        if regions is not None and len(regions):
            g = regions.assign(lot_id=regions["lot_id"].astype(str)).groupby("lot_id")["changed"]
            counts = pd.DataFrame({"regions": g.size(), "regions_changed": g.sum().astype(int)})
            table = lots.assign(lot_id=lots["lot_id"].astype(str)).merge(counts, left_on="lot_id",
                                                                         right_index=True, how="left")
        out.append(Section("Optimal vs rules", F.mode_comparison(lots, regions, currency=currency), table,
                           note="Total cost (payment + circulation) of the optimal allocation minus that of "
                                "the official rules, by lot, and the provinces whose primary supplier "
                                "differs between the two."))
    if sweep is not None:
        draws = F.sweep_draws(sweep)
        try:
            from procurement.simulate.summary import DRAW_METRICS
        except ImportError:  # pragma: no cover - the simulate package is part of this distribution
            DRAW_METRICS = {}
        for m in _sweep_metrics(draws, sweep_metric):
            meaning = DRAW_METRICS.get(m, "") if draws is not sweep else ""
            n = draws.groupby("scenario", sort=False).size()
            out.append(Section(f"Scenarios: {m}", F.sweep_comparison(draws, m), sweep_table(draws, m),
                               note=f"{m}" + (f" ({meaning})" if meaning else "") + f": {len(n)} scenarios, "
                                    f"{int(n.min())}-{int(n.max())} draws each; dot: mean, bar: 95% interval "
                                    "of the mean, ticks: single draws."))
    return out


def read_optional(result_dir: Path) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Savings (``savings/``) and compare-modes (``compare/``, incl. ``summary.json``) found in a folder."""
    sav: dict[str, pd.DataFrame] = {}
    cmp: dict[str, Any] = {}
    for name, file in (("by_stakeholder", "savings_by_stakeholder.csv"), ("cut_decomposition", "cut_decomposition.csv")):
        if (result_dir / "savings" / file).exists():
            sav[name] = pd.read_csv(result_dir / "savings" / file, dtype={"lot_id": "str"})
    for name in ("lots", "regions", "concentration"):
        if (result_dir / "compare" / f"{name}.csv").exists():
            cmp[name] = pd.read_csv(result_dir / "compare" / f"{name}.csv", dtype={"lot_id": "str"})
    if (result_dir / "compare" / "summary.json").exists():
        cmp["summary"] = json.loads((result_dir / "compare" / "summary.json").read_text(encoding="utf-8"))
    return sav, cmp
