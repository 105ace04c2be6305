"""``procure simulate`` and ``procure compare``: scenario sweeps from the command line.

The lead registers both in :mod:`procurement.cli` (``main.add_command(simulate)``,
``main.add_command(compare)``).
"""

from __future__ import annotations

import time

import click

from procurement.clitools import handle_errors


@click.command()
@click.argument("tender", type=click.Path(file_okay=False))
@click.option("--scenarios", "scenarios", type=click.Path(dir_okay=False), default=None,
              help="Scenario file (default: TENDER/scenarios.toml, else one baseline scenario).")
@click.option("--seeds", default="0:100", show_default=True,
              help="Seeds: N (0..N-1), A:B (A..B-1), A:B:STEP or a,b,c.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes (or local dask workers).")
@click.option("--executor", type=click.Choice(["process", "dask", "serial"]), default="process",
              show_default=True, help="process: local pool; dask: a dask.distributed cluster.")
@click.option("--scheduler", default=None, help="Dask scheduler address (default: start a LocalCluster).")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Write the sweep (.parquet or .csv); chunks in OUT.parts/ let an interrupted sweep resume.")
@click.option("--mode", default="rules", show_default=True,
              help="Mode of scenarios that set none: rules (lean array path) or optimal (one MIP per draw).")
@click.option("--master-seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Root of every draw's child seed.")
@click.option("--chunk-size", type=click.IntRange(min=1), default=None, help="Seeds per chunk.")
@click.option("--force", is_flag=True, help="Replace an existing OUT file.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: only on a terminal).")
@click.option("--baseline", default=None, help="Scenario to show paired differences against.")
@handle_errors
def simulate(tender: str, scenarios: str | None, seeds: str, jobs: int, executor: str, scheduler: str | None,
             out: str | None, mode: str, master_seed: int, chunk_size: int | None, force: bool,
             progress: bool | None, baseline: str | None) -> None:
    """Run every scenario x seed of TENDER (bids drawn, tender run) and print per-scenario means."""
    from procurement.simulate import compare as compare_sweep
    from procurement.simulate import format_comparison
    from procurement.simulate import simulate as run_sweep

    start = time.perf_counter()
    frame = run_sweep(tender, scenarios, seeds, jobs=jobs, executor=executor, scheduler=scheduler, out=out,
                      mode=mode, master_seed=master_seed, chunk_size=chunk_size, progress=progress, force=force)
    elapsed = time.perf_counter() - start
    draws = frame[["scenario", "seed"]].drop_duplicates().shape[0]
    click.echo(format_comparison(compare_sweep(frame, baseline=_baseline(frame, baseline))))
    click.echo(f"{draws} draws ({frame['scenario'].nunique()} scenarios x {frame['seed'].nunique()} seeds, "
               f"{frame['lot_id'].nunique()} lots) in {elapsed:.1f} s" + (f"; wrote {out}" if out else ""))


@click.command()
@click.argument("sweep", type=click.Path(dir_okay=False))
@click.option("--baseline", default=None, help="Scenario to show paired differences against.")
@click.option("--metric", "metrics", multiple=True, help="Figures to show (repeatable; default all).")
@click.option("--csv", "as_csv", is_flag=True, help="Print the long table as CSV instead.")
@handle_errors
def compare(sweep: str, baseline: str | None, metrics: tuple[str, ...], as_csv: bool) -> None:
    """Per-scenario means with 95% intervals of a sweep file written by `procure simulate`."""
    from procurement.simulate import DRAW_METRICS, format_comparison, read_sweep
    from procurement.simulate import compare as compare_sweep

    for m in metrics:
        if m not in DRAW_METRICS:
            raise ValueError(f"unknown metric {m!r}; valid: {', '.join(DRAW_METRICS)}")
    frame = read_sweep(sweep)
    table = compare_sweep(frame, baseline=_baseline(frame, baseline))
    if metrics:
        table = table[table["metric"].isin(metrics)]
    if as_csv:
        click.echo(table.to_csv(index=False), nl=False)
        return
    click.echo(format_comparison(table, list(metrics) or None))
    if baseline:
        diffs = table[table["scenario"] != baseline]
        click.echo(f"\npaired differences vs {baseline} (mean [95% interval]):")
        for _, r in diffs.iterrows():
            click.echo(f"  {r['scenario']:>20s} {r['metric']:>16s} {r['diff']:+.4g} "
                       f"[{r['diff_low']:+.4g}, {r['diff_high']:+.4g}]")


def _baseline(frame, name: str | None) -> str | None:
    if name is not None and name not in set(frame["scenario"]):
        raise ValueError(f"baseline scenario {name!r} not in the sweep; scenarios: "
                         f"{', '.join(dict.fromkeys(frame['scenario']))}")
    return name
