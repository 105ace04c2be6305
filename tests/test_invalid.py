"""Every folder under tests/data/invalid holds the demo tender with one defect (many-defects: five)
and expected.txt, the exact problem lines the loader must report, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import procurement
from procurement.cli import main

CASES = sorted(p for p in (Path(__file__).parent / "data" / "invalid").iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_reports_exact_problems(case):
    expected = (case / "expected.txt").read_text(encoding="utf-8").splitlines()
    with pytest.raises(procurement.TenderFileErrors) as info:
        procurement.load_tender(case)
    assert [str(p) for p in info.value.problems] == expected


def test_all_problems_reported_together():
    case = next(c for c in CASES if c.name == "many-defects")
    with pytest.raises(procurement.TenderFileErrors) as info:
        procurement.load_tender(case)
    assert {p.file for p in info.value.problems} == {"bids.csv", "demand.csv", "suppliers.csv", "tender.toml"}
    assert len(info.value.problems) == 5


def test_cli_exit_code_2_without_traceback(tmp_path):
    case = next(c for c in CASES if c.name == "many-defects")
    result = CliRunner().invoke(main, ["validate", str(case)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "bids.csv:4 column price value 'cheap'" in result.output
    run = CliRunner().invoke(main, ["run", str(case), "--out", str(tmp_path / "out")])
    assert run.exit_code == 2
    assert not (tmp_path / "out").exists()


def test_debug_shows_traceback():
    case = next(c for c in CASES if c.name == "unknown-preset")
    result = CliRunner().invoke(main, ["--debug", "validate", str(case)])
    assert result.exit_code != 0
    assert isinstance(result.exception, procurement.TenderFileErrors)


def test_not_a_folder(tmp_path):
    with pytest.raises(procurement.TenderFileErrors, match="not a folder"):
        procurement.load_tender(tmp_path / "nowhere")
