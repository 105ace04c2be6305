"""The procure command line on the bundled examples: outputs, atomicity, overwrite protection."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from procurement.cli import main


def test_run_writes_every_table(tmp_path, demo_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["run", str(demo_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {"bids.csv", "awards.csv", "allocation.csv", "supply.csv",
                                               "lots.csv", "summary.json"}
    assert "atorvastatin" in result.output and "volume-weighted" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["winners"] == 8 and summary["lots"] == 3
    awards = pd.read_csv(out / "awards.csv")
    assert len(awards) == 8
    bids = pd.read_csv(out / "bids.csv")
    assert {"comparable_price", "valid", "within_fuse", "under_low_price", "cut_vs_ceiling", "rank", "won",
            "reason"} <= set(bids.columns)
    assert len(pd.read_csv(out / "allocation.csv")) == 15
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary leftovers


def test_refuses_to_overwrite_without_force(tmp_path, demo_path):
    out = tmp_path / "demo"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = CliRunner().invoke(main, ["run", str(demo_path), "--out", str(out)])
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert (out / "keep.txt").read_text() == "mine"
    forced = CliRunner().invoke(main, ["run", str(demo_path), "--out", str(out), "--force"])
    assert forced.exit_code == 0, forced.output
    assert not (out / "keep.txt").exists() and (out / "summary.json").exists()


def test_validate_ok(demo_path):
    result = CliRunner().invoke(main, ["validate", str(demo_path)])
    assert result.exit_code == 0
    assert "3 lots" in result.output


def test_rules_list_and_show():
    listed = CliRunner().invoke(main, ["rules", "list"])
    assert listed.exit_code == 0 and "batch4" in listed.output
    shown = CliRunner().invoke(main, ["rules", "show", "batch4"])
    assert shown.exit_code == 0
    assert "winner_caps = (1, 2, 2, 3, 4, 4, 5, 6, 7, 8, 9, 9, 10)" in shown.output
    assert "[C]" in shown.output
    unknown = CliRunner().invoke(main, ["rules", "show", "batch99"])
    assert unknown.exit_code == 2 and "valid:" in unknown.output


def test_run_optimal_mode_passes_solver_options_and_reports_the_solve(tmp_path, demo_path):
    out = tmp_path / "opt"
    result = CliRunner().invoke(main, ["run", str(demo_path), "--out", str(out), "--mode", "optimal",
                                       "--solver", "cbc", "--time-limit", "60", "--mip-gap", "0"])
    assert result.exit_code == 0, result.output
    assert "solver cbc: optimal" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["mode"] == "optimal" and summary["solver"] == "cbc" and summary["status"] == "optimal"
    assert summary["gap"] is not None and summary["gap"] <= 1e-9
    highs = CliRunner().invoke(main, ["run", str(demo_path), "--out", str(tmp_path / "h"), "--mode", "optimal"])
    assert highs.exit_code == 0, highs.output
    assert json.loads((tmp_path / "h" / "summary.json").read_text())["objective"] == \
        pytest.approx(summary["objective"], rel=1e-3)


def test_solver_options_are_refused_in_rules_mode(tmp_path, demo_path):
    result = CliRunner().invoke(main, ["run", str(demo_path), "--out", str(tmp_path / "r"), "--mip-gap", "0"])
    assert result.exit_code == 2
    assert "--mode optimal" in result.output
    assert not (tmp_path / "r").exists()
