"""Assemble the self-contained HTML report: figures embedded (PNG as data URIs, the bid ladder as inline
SVG with one ``<title>`` per bid so the browser shows the bid's reason on hover). No network access."""

from __future__ import annotations

import base64
import html
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from procurement.report import figures as F


@dataclass
class Section:
    """One report section: a title, a figure (PNG or SVG-with-tooltips) and its table."""

    title: str
    figure: Figure
    table: pd.DataFrame
    tooltips: dict[str, str] = field(default_factory=dict)


def png_uri(fig: Figure) -> str:
    """The figure as a ``data:image/png;base64`` URI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def svg_with_titles(fig: Figure, tooltips: dict[str, str]) -> str:
    """Inline SVG of ``fig`` with a ``<title>`` inserted into each group whose id is a key of ``tooltips``."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)

    def add(m: re.Match) -> str:
        tip = tooltips.get(m.group(1))
        return m.group(0) + (f"<title>{html.escape(tip)}</title>" if tip else "")

    return re.sub(r'<g id="([^"]+)"[^>]*>', add, svg)


def _fmt(v) -> str:
    return f"{v:,.0f}" if isinstance(v, float) and abs(v) >= 1000 else (f"{v:.4g}" if isinstance(v, float) else str(v))


def render(title: str, summary: dict[str, str], sections: list[Section]) -> str:
    """Render the page: summary table at the top, then one section per figure with its table."""
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse;"
             "font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px}th{background:#eee}"
             "img,svg{max-width:100%;height:auto}details{margin:6px 0 24px}</style></head><body>",
             f"<h1>{html.escape(title)}</h1><table>"]
    parts += [f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in summary.items()]
    parts.append("</table>")
    for s in sections:
        parts.append(f"<h2>{html.escape(s.title)}</h2>")
        if s.tooltips:
            parts.append(f"<div class='svgfig'>{svg_with_titles(s.figure, s.tooltips)}</div>")
        else:
            parts.append(f"<img alt='{html.escape(s.title)}' src='{png_uri(s.figure)}'>")
        parts.append(f"<details><summary>table ({len(s.table)} rows)</summary>"
                     f"{s.table.to_html(index=False, float_format=_fmt, border=0)}</details>")
    parts.append("</body></html>")
    return "\n".join(parts)


def sections_for(result, savings: dict[str, pd.DataFrame] | None = None,
                 compare: dict[str, pd.DataFrame] | None = None, sweep: pd.DataFrame | None = None,
                 sweep_metric: str | None = None) -> list[Section]:
    """Build the report sections from a :class:`TenderResult` and optional savings/compare/sweep frames."""
    bids = result.bids.reset_index(drop=True)
    tips = {f"bid-{i}": f"{r.lot_id} {r.supplier_id} {r.spec_id}: comparable {r.comparable_price:.4g}; {r.reason}"
            for i, r in enumerate(bids.itertuples())}
    out = [Section("Bid ladder", F.bid_ladder(bids), bids[["lot_id", "supplier_id", "spec_id", "price",
               "comparable_price", "ceiling_price", "won", "reason"]], tips),
           Section("Price cut by lot", F.price_cut(result.lots), result.lots[["lot_id", "molecule", "winners",
               "award_spend", "reference_spend", "cut"]].sort_values("cut")),
           Section("Province allocation", F.province_grid(result.allocation, result.awards), result.allocation)]
    if savings and "by_stakeholder" in savings:
        out.append(Section("Savings by stakeholder", F.savings_waterfall(savings["by_stakeholder"]),
                           savings["by_stakeholder"]))
    if savings and "cut_decomposition" in savings:
        cd = savings["cut_decomposition"]
        out.append(Section("Cut decomposition", F.cut_decomposition(cd), cd))
    if compare and "lots" in compare:
        out.append(Section("Optimal vs rules", F.mode_comparison(compare["lots"], compare.get("regions")),
                           compare["lots"]))
    if sweep is not None:
        metrics = [sweep_metric] if sweep_metric else [c for c in sweep.columns
                   if c not in ("scenario", "seed", "run_seed", "lot_id", "lot") and pd.api.types.is_numeric_dtype(sweep[c])][:3]
        for m in metrics:
            table = sweep.groupby("scenario", sort=False)[m].agg(["count", "mean", "std"]).reset_index()
            out.append(Section(f"Scenarios: {m}", F.sweep_comparison(sweep, m), table))
    return out


def read_optional(result_dir: Path) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Savings (``savings/``) and compare-modes (``compare/``) frames found in a result folder."""
    sav, cmp = {}, {}
    for name, file in (("by_stakeholder", "savings_by_stakeholder.csv"), ("cut_decomposition", "cut_decomposition.csv")):
        if (result_dir / "savings" / file).exists():
            sav[name] = pd.read_csv(result_dir / "savings" / file)
    for name in ("lots", "regions"):
        if (result_dir / "compare" / f"{name}.csv").exists():
            cmp[name] = pd.read_csv(result_dir / "compare" / f"{name}.csv")
    return sav, cmp
