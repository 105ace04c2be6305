"""``procure report``: a self-contained HTML report (and optionally an Excel workbook) of a result folder."""

from __future__ import annotations

import time

import click

from procurement.clitools import handle_errors


@click.command("report")
@click.argument("result_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None,
              help="HTML file to write (default RESULT_DIR/report.html).")
@click.option("--excel", "excel", type=click.Path(dir_okay=False), default=None,
              help="Also write every table to this .xlsx workbook (needs openpyxl).")
@click.option("--sweep", "sweep", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Sweep file (.csv or .parquet) of `procure simulate --out` (reduced to one row per draw), "
                   "or any tidy CSV with scenario and numeric metric columns: adds scenario sections.")
@click.option("--metric", default=None,
              help="Sweep metric to draw (default: price_cut, spend and hhi, else the first three numeric).")
@click.option("--force", is_flag=True, help="Replace existing output files.")
@handle_errors
def report(result_dir: str, out: str | None, excel: str | None, sweep: str | None, metric: str | None,
           force: bool) -> None:
    """Write one HTML file with figures embedded (no network needed to view) from RESULT_DIR."""
    from procurement.report import write_report

    t0 = time.perf_counter()
    path = write_report(result_dir, out, excel=excel, force=force, sweep=sweep, sweep_metric=metric)
    click.echo(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB) in {time.perf_counter() - t0:.1f} s"
               + (f" and {excel}" if excel else ""))
