"""``procure replay``: replay published national-batch results under the rule presets."""

from __future__ import annotations

import click

from procurement.clitools import handle_errors


@click.command("replay")
@click.argument("results_csv", type=click.Path(dir_okay=False))
@click.option("--volumes", "volumes_csv", type=click.Path(dir_okay=False), default=None,
              help="Agreed volumes by province and spec (the format of volumes.csv).")
@click.option("--rules", default=None,
              help="Preset for every batch (default: the preset named by each row's batch: 2 -> batch2).")
@click.option("--set", "overrides", multiple=True, metavar="PARAM=VALUE",
              help="Override a rule parameter in every batch, e.g. --set normalisation=none (repeatable).")
@click.option("--savings", is_flag=True,
              help="Also price every batch's agreed volume at pre-tender median vs award prices (annual "
                   "savings, fund/patient split) and write batch_savings*.csv; needs --volumes.")
@click.option("--reimbursement", type=click.FloatRange(0, 1), default=0.6, show_default=True,
              help="With --savings: the insurance fund's share of each yuan saved.")
@click.option("--out", "out", required=True, type=click.Path(), help="Result folder to create.")
@click.option("--force", is_flag=True, help="Replace an existing result folder.")
@handle_errors
def replay(results_csv: str, volumes_csv: str | None, rules: str | None, overrides: tuple[str, ...],
           savings: bool, reimbursement: float, out: str, force: bool) -> None:
    """Replay a published-results table; write replay_bids.csv, replay_summary.csv and replay_lots.csv.

    RESULTS_CSV has the columns of ../shared/data/vbp/bids.csv. The summary (bid-level accuracy, false
    wins and losses, lots whose province counts by price rank match) is printed.
    """
    from procurement.io.atomic import check_writable
    from procurement.replay import replay as run_replay
    from procurement.replay import write_replay

    if savings and volumes_csv is None:
        raise click.UsageError("--savings needs --volumes (the agreed volumes to price)")
    check_writable(out, force)
    result = run_replay(results_csv, volumes_csv, rules=rules, overrides=_parse_overrides(overrides))
    priced = None
    if savings:
        from procurement.analysis.batch_savings import batch_savings, format_batch_savings_table

        priced = batch_savings(result, volumes_csv, reimbursement=reimbursement)
    write_replay(result, out, force=force, savings=priced)
    table = result.summary.copy()
    table["accuracy"] = table["accuracy"].map(lambda v: f"{v:.2%}")
    click.echo(table.to_string(index=False))
    if priced is not None:
        click.echo("")
        click.echo(format_batch_savings_table(priced))
    click.echo(f"replayed {len(result.bids)} bids of {len(result.summary)} batch(es) in "
               f"{result.seconds:.2f} s; wrote {out}")


def _parse_overrides(items: tuple[str, ...]) -> dict[str, object]:
    """``PARAM=VALUE`` strings to a dict; values are read as TOML (numbers, true/false, lists, strings)."""
    import tomllib

    out: dict[str, object] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected PARAM=VALUE, got {item!r}", param_hint="--set")
        try:
            value = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = text.strip()
        out[key.strip()] = value
    return out
