"""Reports: figures (frames in, matplotlib figures out), a self-contained HTML page and an Excel workbook."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from procurement.io.atomic import atomic_file, check_writable
from procurement.report.figures import (
    bid_ladder,
    cut_decomposition,
    cut_shares_by_lot,
    mode_comparison,
    payer_saving,
    price_cut,
    province_grid,
    savings_waterfall,
    stakeholder_contributions,
    sweep_comparison,
    sweep_draws,
)

__all__ = ["build_report", "write_report", "bid_ladder", "price_cut", "province_grid", "savings_waterfall",
           "cut_decomposition", "mode_comparison", "sweep_comparison", "stakeholder_contributions",
           "payer_saving", "cut_shares_by_lot", "sweep_draws"]


def _summary(result: Any, savings: dict[str, pd.DataFrame], compare: dict[str, Any],
             sweep: pd.DataFrame | None) -> dict[str, str]:
    s = result.summary
    cur = str(s.get("currency") or "")

    def money(v: Any) -> str:
        return f"{float(v or 0):,.0f}" + (f" {cur}" if cur else "")

    failed = len(s.get("failed_lots", []) or [])
    rules = f" ({s['rules']} rules)" if s.get("rules") and str(result.mode) == "rules" else ""
    out = {"tender": str(s.get("tender")), "mode": f"{result.mode}{rules}",
           "lots": f"{s.get('lots')} ({int(s.get('lots') or 0) - failed} awarded, {failed} failed)",
           "winners": f"{s.get('winners')} of {s.get('bids')} bids"
                      + (f" ({s['valid_bids']} valid)" if "valid_bids" in s else ""),
           "spend before (reference prices)": money(s.get("reference_spend")),
           "spend after (award prices)": money(s.get("award_spend")),
           "average cut (volume-weighted)": f"{s.get('volume_weighted_cut', float('nan')):.1%}",
           "saving (spend before - after)": money(s.get("saving"))}
    if "by_stakeholder" in savings:
        d = stakeholder_contributions(savings["by_stakeholder"])
        out["payer saving (fund + patients)"] = money(payer_saving(savings["by_stakeholder"]))
        for r in d[d["group"] == "payer"].itertuples():
            out[f"of which {r.stakeholder.replace('_', ' ')}"] = money(r.change)
        out["income lost by hospitals, makers, distributors, promotion, state"] = money(
            d.loc[d["group"] == "party", "contribution"].sum())
        out["resource costs saved"] = money(d.loc[d["group"] == "cost", "contribution"].sum())
        memo = d.loc[d["group"] == "memo", "change"].sum()
        out["memo: payment-timing gains (outside the identity)"] = money(memo)
    cs = compare.get("summary")
    if isinstance(cs, dict) and "saving" in cs:
        pct = cs.get("saving_pct")
        out["optimal vs rules: cost saving of optimal"] = money(cs["saving"]) + (
            f" ({pct:.1%})" if isinstance(pct, (int, float)) else "")
        out["optimal vs rules: regions changing hands"] = f"{cs.get('regions_changed')} of {cs.get('regions')}"
    elif "lots" in compare:
        out["optimal vs rules: cost saving of optimal"] = money(-compare["lots"]["difference"].sum())
    if sweep is not None:
        draws = sweep_draws(sweep)
        n = draws.groupby("scenario", sort=False).size()
        out["scenarios (sweep)"] = f"{len(n)} ({', '.join(map(str, n.index[:6]))}"
        out["scenarios (sweep)"] += ", ...)" if len(n) > 6 else ")"
    return out


def _compare_frames(compare: Any) -> dict[str, Any]:
    """A ``ComparisonResult`` (or a dict of its frames) as a dict: lots, regions, concentration, summary."""
    if compare is None:
        return {}
    if isinstance(compare, dict):
        return dict(compare)
    return {k: getattr(compare, k) for k in ("lots", "regions", "concentration", "summary") if hasattr(compare, k)}


def _read_sweep(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype={"scenario": "str", "lot_id": "str"})


def build_report(result_dir_or_result: str | Path | Any, *, sweep: pd.DataFrame | str | Path | None = None,
                 sweep_metric: str | None = None, savings: dict[str, pd.DataFrame] | Any | None = None,
                 compare: dict[str, Any] | Any | None = None) -> tuple[str, dict[str, pd.DataFrame]]:
    """Build the HTML report and the tables for Excel.

    Args:
        result_dir_or_result: a result folder written by ``procure run`` (its ``savings/`` and
            ``compare/`` sub-folders are picked up when present) or a ``TenderResult``.
        sweep: a sweep frame (or ``.csv`` / ``.parquet`` path): the output of
            :func:`procurement.simulate.simulate` (one row per scenario, seed and lot; reduced to one row
            per draw), or any tidy frame with ``scenario`` and numeric metric columns (a row per run).
        sweep_metric: draw only this metric (default: price_cut, spend and hhi when present, else the
            first three numeric columns).
        savings: a ``SavingsResult`` or frames ``by_stakeholder`` / ``cut_decomposition`` (override those
            found in the folder).
        compare: a ``ComparisonResult`` (``procurement.optimize.compare_modes``) or its frames ``lots`` /
            ``regions`` (/ ``concentration``, ``summary`` dict); overrides the folder's.

    Returns:
        ``(html, tables)``: the page text and every table by sheet name.

    Raises:
        FileNotFoundError / ResultFolder errors from :func:`procurement.io.results.read_result`;
        ValueError: ``sweep_metric`` is not a column of the sweep.
    """
    from procurement.report.html import read_optional, render, sections_for

    sav: dict[str, pd.DataFrame] = {}
    cmp: dict[str, Any] = {}
    if isinstance(result_dir_or_result, (str, Path)):
        from procurement.io.results import read_result

        path = Path(result_dir_or_result)
        result = read_result(path)
        sav, cmp = read_optional(path)
    else:
        result = result_dir_or_result
    if savings is not None and not isinstance(savings, dict):
        savings = {k: getattr(savings, k) for k in ("by_stakeholder", "cut_decomposition")}
    sav.update(savings or {})
    cmp.update(_compare_frames(compare))
    if isinstance(sweep, (str, Path)):
        sweep = _read_sweep(sweep)
    sections = sections_for(result, sav, cmp, sweep, sweep_metric)
    page = render(f"Tender report: {result.summary.get('tender')}", _summary(result, sav, cmp, sweep), sections)
    tables = {n: result.table(n) for n in ("lots", "bids", "awards", "allocation", "supply")}
    tables.update({f"savings_{k}": v for k, v in sav.items()})
    tables.update({f"compare_{k}": v for k, v in cmp.items() if isinstance(v, pd.DataFrame)})
    if sweep is not None:
        tables["sweep"] = sweep
        draws = sweep_draws(sweep)
        if draws is not sweep:
            tables["sweep_draws"] = draws
    return page, tables


def write_report(result_dir: str | Path, out: str | Path | None = None, *, excel: str | Path | None = None,
                 force: bool = False, **kwargs: Any) -> Path:
    """Write the HTML report (default ``RESULT_DIR/report.html``) and optionally the Excel workbook.

    Both files are written atomically (:func:`procurement.io.atomic.atomic_file`) with the usual file
    permissions; an existing file is replaced only with ``force``.

    Args:
        result_dir: a result folder (``procure run --out``).
        out: the HTML file.
        excel: also write the tables to this ``.xlsx`` workbook (needs openpyxl).
        force: replace existing files.
        **kwargs: passed to :func:`build_report` (sweep, sweep_metric, savings, compare).

    Raises:
        OutputExistsError: an output exists and ``force`` is False (checked before any work), or is a
            folder.
    """
    out = Path(out) if out else Path(result_dir) / "report.html"
    check_writable(out, force, kind="file")
    if excel:
        check_writable(excel, force, kind="file")
    page, tables = build_report(result_dir, **kwargs)
    if excel:
        from procurement.report.excel import workbook_bytes

        atomic_file(excel, workbook_bytes(tables), force)
    return atomic_file(out, page, force)
