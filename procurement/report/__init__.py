"""Reports: figures (frames in, matplotlib figures out), a self-contained HTML page and an Excel workbook."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from procurement.report.figures import (
    bid_ladder,
    cut_decomposition,
    mode_comparison,
    price_cut,
    province_grid,
    savings_waterfall,
    sweep_comparison,
)

__all__ = ["build_report", "write_report", "bid_ladder", "price_cut", "province_grid", "savings_waterfall",
           "cut_decomposition", "mode_comparison", "sweep_comparison"]


def _summary(result: Any, savings: dict[str, pd.DataFrame]) -> dict[str, str]:
    s = result.summary
    out = {"tender": str(s.get("tender")), "mode": str(result.mode), "lots": f"{s.get('lots')} "
           f"({len(s.get('failed_lots', []))} failed)", "winners": f"{s.get('winners')} of {s.get('bids')} bids",
           "spend before (reference)": f"{s.get('reference_spend', 0):,.0f}",
           "spend after (award)": f"{s.get('award_spend', 0):,.0f}",
           "average cut (volume-weighted)": f"{s.get('volume_weighted_cut', float('nan')):.1%}",
           "saving": f"{s.get('saving', 0):,.0f}"}
    if "by_stakeholder" in savings:
        b = savings["by_stakeholder"]
        for g, v in b.groupby("group")["change"].sum().items():
            out[f"gain, {g}"] = f"{v:,.0f}"
    return out


def build_report(result_dir_or_result: str | Path | Any, *, sweep: pd.DataFrame | str | Path | None = None,
                 sweep_metric: str | None = None, savings: dict[str, pd.DataFrame] | None = None,
                 compare: dict[str, pd.DataFrame] | None = None) -> tuple[str, dict[str, pd.DataFrame]]:
    """Build the HTML report and the tables for Excel.

    Args:
        result_dir_or_result: a result folder written by ``procure run`` (its ``savings/`` and
            ``compare/`` sub-folders are picked up when present) or a ``TenderResult``.
        sweep: a tidy sweep frame (or CSV path) with ``scenario`` and numeric metric columns.
        sweep_metric: draw only this metric (default: the first three numeric columns).
        savings: frames ``by_stakeholder`` / ``cut_decomposition`` (overrides those found in the folder).
        compare: frames ``lots`` / ``regions`` from compare-modes (overrides the folder's).

    Returns:
        ``(html, tables)``: the page text and every table by sheet name.

    Raises:
        FileNotFoundError / ResultFolder errors from :func:`procurement.io.results.read_result`.
    """
    from procurement.report.html import read_optional, render, sections_for

    sav, cmp = {}, {}
    if isinstance(result_dir_or_result, (str, Path)):
        from procurement.io.results import read_result

        path = Path(result_dir_or_result)
        result = read_result(path)
        sav, cmp = read_optional(path)
    else:
        result = result_dir_or_result
    sav.update(savings or {})
    cmp.update(compare or {})
    if isinstance(sweep, (str, Path)):
        sweep = pd.read_csv(sweep)
    sections = sections_for(result, sav, cmp, sweep, sweep_metric)
    page = render(f"Tender report: {result.summary.get('tender')}", _summary(result, sav), sections)
    tables = {n: result.table(n) for n in ("lots", "bids", "awards", "allocation", "supply")}
    tables.update({f"savings_{k}": v for k, v in sav.items()})
    tables.update({f"compare_{k}": v for k, v in cmp.items()})
    if sweep is not None:
        tables["sweep"] = sweep
    return page, tables


def _check_file(out: str | Path, force: bool) -> Path:
    """Like ``check_writable`` but for a file: an existing file is replaced only with ``force``."""
    from procurement.errors import OutputExistsError

    path = Path(out)
    if path.exists() and (not force or path.is_dir()):
        raise OutputExistsError(f"{path} already exists" + ("" if force else "; use --force (force=True) to replace it"))
    return path


def _atomic_bytes(out: Path, data: bytes, force: bool) -> Path:
    _check_file(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.tmp-", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a report is meant to be shared
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return out


def write_report(result_dir: str | Path, out: str | Path | None = None, *, excel: str | Path | None = None,
                 force: bool = False, **kwargs: Any) -> Path:
    """Write the HTML report (default ``RESULT_DIR/report.html``) and optionally the Excel workbook.

    Both files are written atomically; an existing file is replaced only with ``force``.

    Raises:
        OutputExistsError: an output exists and ``force`` is False (checked before any work).
    """
    out = Path(out) if out else Path(result_dir) / "report.html"
    _check_file(out, force)
    if excel:
        _check_file(excel, force)
    page, tables = build_report(result_dir, **kwargs)
    if excel:
        from procurement.report.excel import workbook_bytes

        _atomic_bytes(Path(excel), workbook_bytes(tables), force)
    return _atomic_bytes(out, page.encode("utf-8"), force)
