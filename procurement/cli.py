"""The ``procure`` command line: thin wrappers over the Python API.

Exit codes: 0 ok, 1 error, 2 invalid input, 3 infeasible tender.
"""

from __future__ import annotations

import time

import click
import pandas as pd

from procurement import api
from procurement.clitools import handle_errors
from procurement.commands.optimize import solver_options


@click.group()
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
@click.version_option(package_name="procurement")
def main(debug: bool) -> None:
    """Simulate and optimise volume-based drug procurement (VBP) tenders."""


@main.command()
@click.argument("tender", type=click.Path(file_okay=False))
@handle_errors
def validate(tender: str) -> None:
    """Check a tender folder and report every problem at once (exit 2 if invalid)."""
    t = api.load_tender(tender)
    click.echo(f"ok: {t!r}")


def format_lot_table(lots: pd.DataFrame, currency: str = "") -> str:
    """Per-lot table printed after a run: bidders, winners, lowest/highest winning price, cut."""
    table = pd.DataFrame({
        "lot": lots["lot_id"],
        "molecule": lots["molecule"].str.slice(0, 24),
        "bidders": lots["bidders"],
        "winners": lots["winners"],
        "lowest": lots["lowest_winning"].map(lambda v: f"{v:.4g}" if pd.notna(v) else "-"),
        "highest": lots["highest_winning"].map(lambda v: f"{v:.4g}" if pd.notna(v) else "-"),
        "cut": lots["cut"].map(lambda v: f"{v:.1%}" if pd.notna(v) else "-"),
        "status": lots["status"],
    })
    return table.to_string(index=False)


def format_summary(summary: dict) -> str:
    cut = summary.get("volume_weighted_cut")
    avg = summary.get("simple_average_cut")
    cur = summary.get("currency", "")
    return "\n".join([
        f"{summary['lots']} lots ({summary['awarded_lots']} awarded, {len(summary['failed_lots'])} failed), "
        f"{summary['bids']} bids, {summary['winners']} winners",
        f"spend on agreed volume: {summary['reference_spend']:,.0f} {cur} at reference prices -> "
        f"{summary['award_spend_priced']:,.0f} {cur} at award prices "
        f"(coverage {summary['reference_price_coverage']:.0%} of agreed volume)",
        "price cut: volume-weighted " + (f"{cut:.1%}" if cut is not None else "n/a")
        + ", simple average " + (f"{avg:.1%}" if avg is not None else "n/a"),
    ] + ([format_solve(summary)] if "status" in summary else []))


def format_solve(summary: dict) -> str:
    """One line on an optimal-mode solve: solver, status, objective, gap, model size and times."""
    gap = summary.get("gap")
    return (f"solver {summary.get('solver')}: {summary.get('status')}, objective {summary.get('objective'):,.0f}"
            f", gap {'n/a' if gap is None else f'{gap:.2%}'}, {summary.get('columns')} columns x "
            f"{summary.get('rows')} rows, build {summary.get('build_time_s', 0):.2f} s, solve "
            f"{summary.get('solve_time_s', 0):.2f} s")


@main.command()
@click.argument("tender", type=click.Path(file_okay=False))
@click.option("--out", "out", required=True, type=click.Path(), help="Result folder to create.")
@click.option("--force", is_flag=True, help="Replace an existing result folder.")
@click.option("--mode", type=click.Choice(list(api.MODES)), default="rules", show_default=True,
              help="rules: the official procedure; optimal: the cost-optimal MIP (docs/optimize.md).")
@solver_options
@click.option("--quiet", "-q", is_flag=True, help="Print only the summary lines.")
@handle_errors
def run(tender: str, out: str, force: bool, mode: str, solver: str | None, time_limit: float | None,
        mip_gap: float | None, quiet: bool) -> None:
    """Run a tender and write bids.csv, awards.csv, allocation.csv, supply.csv, lots.csv, summary.json."""
    given = {k: v for k, v in (("solver", solver), ("time_limit", time_limit), ("mip_gap", mip_gap))
             if v is not None}
    if given and mode != "optimal":
        raise click.UsageError("--solver, --time-limit and --mip-gap apply to --mode optimal")
    start = time.perf_counter()
    result = api.run_to_dir(tender, out, force=force, mode=mode, **given)
    elapsed = time.perf_counter() - start
    if not quiet:
        click.echo(format_lot_table(result.lots))
        click.echo("")
    click.echo(format_summary(result.summary))
    click.echo(f"wrote {out} in {elapsed:.2f} s")


@main.group()
def rules() -> None:
    """List and show rule presets."""


@rules.command("list")
def rules_list() -> None:
    """List every registered rule preset."""
    from procurement.rules.presets import get_preset, preset_names

    for name in preset_names():
        click.echo(f"{name:12s} {get_preset(name).title}")


@rules.command("show")
@click.argument("name")
@handle_errors
def rules_show(name: str) -> None:
    """Show a preset: description, sources and every parameter with its meaning."""
    import textwrap

    from procurement.rules.presets import get_preset
    from procurement.rules.ruleset import RuleSet

    preset = get_preset(name)
    click.echo(f"{preset.name}: {preset.title}\n")
    click.echo(textwrap.fill(preset.description, 100) + "\n")
    click.echo("Sources:")
    for source in preset.sources:
        click.echo(f"  {source}")
    click.echo("\nParameters:")
    for f in RuleSet.parameter_fields():
        click.echo(f"  {f.name} = {getattr(preset, f.name)!r}")
        click.echo(textwrap.indent(textwrap.fill(f.metadata["doc"], 90), "      "))


@main.command()
@click.argument("result_dir", type=click.Path(file_okay=False, exists=True))
@click.option("--params", "params_file", type=click.Path(dir_okay=False, exists=True),
              help="TOML file with [chain] and/or [logistics] parameter overrides.")
@click.option("--out", "out", type=click.Path(), help="Folder for the savings tables (default: "
              "RESULT_DIR/savings).")
@click.option("--force", is_flag=True, help="Replace an existing output folder.")
@click.option("--draws", default=500, show_default=True, help="Monte-Carlo draws of the sensitivity analysis.")
@click.option("--seed", default=0, show_default=True, help="Seed of the Monte-Carlo draws.")
@handle_errors
def savings(result_dir: str, params_file: str | None, out: str | None, force: bool, draws: int,
            seed: int) -> None:
    """Savings by stakeholder, cut decomposition, floor prices and sensitivity of a run's result."""
    from pathlib import Path

    from procurement.analysis import (
        format_savings_table,
        load_chain_params,
        load_logistics_params,
        write_savings,
    )
    from procurement.analysis import savings as compute_savings
    from procurement.io.atomic import check_writable
    from procurement.io.results import read_result

    target = Path(out) if out else Path(result_dir) / "savings"
    check_writable(target, force)
    params = load_chain_params(params_file) if params_file else None
    logistics = load_logistics_params(params_file) if params_file else None
    result = read_result(result_dir)
    outcome = compute_savings(result, params, logistics=logistics, monte_carlo_draws=draws, seed=seed)
    click.echo(format_savings_table(outcome))
    write_savings(outcome, target, force=force)
    click.echo(f"wrote {target}")


def _register_commands() -> None:
    from procurement.commands.optimize import compare_modes, write_lp
    from procurement.commands.replay import replay
    from procurement.commands.report import report
    from procurement.commands.simulate import compare, simulate

    for command in (replay, write_lp, compare_modes, simulate, compare, report):
        main.add_command(command)


_register_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
