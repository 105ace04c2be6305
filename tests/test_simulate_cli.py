"""`procure simulate` and `procure compare`, invoked through click's runner on the command objects."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from procurement.commands.simulate import compare, simulate
from procurement.simulate import read_sweep

ROOT = Path(__file__).resolve().parent.parent
NATIONAL = str(ROOT / "tenders" / "national-demo")


@click.group()
@click.option("--debug", is_flag=True)
def cli(debug: bool) -> None:
    """Stand-in for procurement.cli.main (the lead registers the commands there)."""


cli.add_command(simulate)
cli.add_command(compare)


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("scen") / "scenarios.toml"
    path.write_text('[scenarios.base]\n[scenarios.no-cut]\nrules = { min_cut_vs_ceiling = "none" }\n',
                    encoding="utf-8")
    return path


def test_simulate_then_compare(tmp_path, scenario_file):
    out = tmp_path / "sweep.csv"
    runner = CliRunner()
    result = runner.invoke(cli, ["simulate", NATIONAL, "--scenarios", str(scenario_file), "--seeds", "0:6",
                                 "--jobs", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "no-cut" in result.output and "price_cut" in result.output
    assert "12 draws (2 scenarios x 6 seeds, 40 lots)" in result.output
    frame = read_sweep(out)
    assert frame["seed"].nunique() == 6
    result = runner.invoke(cli, ["compare", str(out), "--baseline", "base", "--metric", "winners_per_lot"])
    assert result.exit_code == 0, result.output
    assert "paired differences vs base" in result.output and "winners_per_lot" in result.output
    result = runner.invoke(cli, ["compare", str(out), "--csv"])
    assert result.exit_code == 0 and result.output.startswith("scenario,metric,draws,mean,ci_low,ci_high")
    # the output exists: refuse without --force
    result = runner.invoke(cli, ["simulate", NATIONAL, "--scenarios", str(scenario_file), "--seeds", "2",
                                 "--out", str(out)])
    assert result.exit_code == 1 and "exists" in result.output


def test_cli_errors_are_one_line_with_exit_codes(tmp_path, scenario_file):
    runner = CliRunner()
    bad = tmp_path / "bad.toml"
    bad.write_text('[scenarios.a]\nrules = { fuse_ratio = "x" }\n', encoding="utf-8")
    result = runner.invoke(cli, ["simulate", NATIONAL, "--scenarios", str(bad), "--seeds", "1"])
    assert result.exit_code == 2 and "fuse_ratio" in result.output
    result = runner.invoke(cli, ["simulate", NATIONAL, "--scenarios", str(scenario_file), "--seeds", "x:y"])
    assert result.exit_code == 1 and "bad seeds" in result.output
    result = runner.invoke(cli, ["simulate", NATIONAL, "--scenarios", str(scenario_file), "--seeds", "1",
                                 "--mode", "psychic"])
    assert result.exit_code == 2 and "unknown mode" in result.output
    result = runner.invoke(cli, ["compare", str(tmp_path / "none.parquet")])
    assert result.exit_code == 1 and "not found" in result.output
    result = runner.invoke(cli, ["simulate", NATIONAL, "--scenarios", str(scenario_file), "--seeds", "1",
                                 "--baseline", "zzz"])
    assert result.exit_code == 1 and "baseline" in result.output
