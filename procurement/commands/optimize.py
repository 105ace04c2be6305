"""Commands of optimal mode: ``procure write-lp`` and ``procure compare-modes``.

Register on the ``procure`` group with ``main.add_command(write_lp)`` and ``main.add_command(compare_modes)``.
"""

from __future__ import annotations

import click
import pandas as pd

from procurement.clitools import handle_errors

SOLVER_CHOICE = click.Choice(["highs", "cbc"])


def solver_options(func):
    """The shared ``--solver/--time-limit/--mip-gap`` options (None = the tender's [optimize] values)."""
    func = click.option("--mip-gap", type=click.FloatRange(min=0), default=None,
                        help="Relative MIP gap at which the solver stops (default 1e-3).")(func)
    func = click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None,
                        help="Solver time limit in seconds.")(func)
    func = click.option("--solver", type=SOLVER_CHOICE, default=None,
                        help="highs (in process, default) or cbc (bundled with PuLP).")(func)
    return func


@click.command("write-lp")
@click.argument("tender", type=click.Path(file_okay=False))
@click.argument("file", type=click.Path(dir_okay=False))
@handle_errors
def write_lp(tender: str, file: str) -> None:
    """Write the optimal-mode model of TENDER as an LP file (CPLEX LP format), without solving it."""
    from procurement.io.tender_files import load_tender
    from procurement.optimize.pulp_adapter import write_lp_file
    from procurement.optimize.solve import build_problem

    t = load_tender(tender)
    built = build_problem(t)
    write_lp_file(built.matrix, file, name=t.name)
    m = built.matrix
    click.echo(f"wrote {file}: {m.num_col} columns ({int(m.integrality.sum())} integer), {m.num_row} rows, "
               f"{m.num_nz} nonzeros; families: {', '.join(built.families)}")


def format_comparison(lots: pd.DataFrame, summary: dict, currency: str = "") -> str:
    """Per-lot cost table and headline lines of a mode comparison."""
    table = pd.DataFrame({
        "lot": lots["lot_id"],
        "winners r/o": lots["rules_winners"].astype(str) + "/" + lots["optimal_winners"].astype(str),
        "rules cost": lots["rules_cost"].map(lambda v: f"{v:,.0f}"),
        "optimal cost": lots["optimal_cost"].map(lambda v: f"{v:,.0f}"),
        "difference": lots["difference"].map(lambda v: f"{v:+,.0f}"),
        "diff %": lots["difference_pct"].map(lambda v: f"{v:+.1%}" if pd.notna(v) else "-"),
    })
    pct = summary.get("saving_pct")
    lines = [table.to_string(index=False), "",
             f"total cost (award spend + circulation): rules {summary['rules_cost']:,.0f} {currency} -> "
             f"optimal {summary['optimal_cost']:,.0f} {currency}; saving {summary['saving']:,.0f} {currency}"
             + (f" ({pct:.1%})" if pct is not None else ""),
             f"winners: rules {summary['rules_winners']}, optimal {summary['optimal_winners']}; regions changing "
             f"hands: {summary['regions_changed']} of {summary['regions']}",
             f"solver {summary['solver']}: {summary['status']}; pricing {summary['pricing']}"]
    return "\n".join(lines)


@click.command("compare-modes")
@click.argument("tender", type=click.Path(file_okay=False))
@solver_options
@click.option("--out", type=click.Path(), default=None,
              help="Also write lots.csv, regions.csv, concentration.csv and summary.json to this new folder.")
@click.option("--force", is_flag=True, help="Replace an existing --out folder.")
@handle_errors
def compare_modes(tender: str, solver: str | None, time_limit: float | None, mip_gap: float | None,
                  out: str | None, force: bool) -> None:
    """Run TENDER in rules mode and optimal mode; print cost by lot, regions changing hands and
    supply concentration (exit 3 if optimal mode is infeasible)."""
    import json

    from procurement.io.atomic import atomic_dir, check_writable
    from procurement.io.results import jsonable
    from procurement.io.tender_files import load_tender
    from procurement.optimize.compare import compare_modes as run_compare

    if out is not None:
        check_writable(out, force)
    t = load_tender(tender)
    cmp = run_compare(t, solver=solver, time_limit=time_limit, mip_gap=mip_gap)
    click.echo(format_comparison(cmp.lots, cmp.summary, t.currency))
    conc = cmp.concentration[cmp.concentration["lot_id"] == "ALL"]
    for row in conc.itertuples(index=False):
        click.echo(f"concentration ({row.mode}): {row.suppliers} suppliers, HHI {row.hhi:.3f}, "
                   f"largest share {row.top_share:.1%}")
    changed = cmp.regions[cmp.regions["changed"]]
    if len(changed):
        click.echo("\nregions changing hands (lot region: rules -> optimal):")
        for row in changed.head(20).itertuples(index=False):
            click.echo(f"  {row.lot_id} {row.region_id}: {row.rules_primary} -> {row.optimal_primary}")
        if len(changed) > 20:
            click.echo(f"  ... {len(changed) - 20} more")
    if out is not None:
        with atomic_dir(out, force) as tmp:
            cmp.lots.to_csv(tmp / "lots.csv", index=False, float_format="%.10g")
            cmp.regions.to_csv(tmp / "regions.csv", index=False)
            cmp.concentration.to_csv(tmp / "concentration.csv", index=False, float_format="%.10g")
            (tmp / "summary.json").write_text(json.dumps(jsonable(cmp.summary), indent=2) + "\n",
                                              encoding="utf-8")
        click.echo(f"wrote {out}")
