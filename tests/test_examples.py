"""Every example tender under tenders/ validates and runs; the national demo is reproducible."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

import procurement
from procurement.io.tender_files import write_tender

from .conftest import ROOT, TENDERS

EXAMPLES = sorted(p for p in TENDERS.iterdir() if (p / "tender.toml").is_file())


@pytest.mark.parametrize("folder", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(folder):
    result = procurement.run(procurement.load_tender(folder))
    assert result.summary["winners"] > 0
    assert result.summary["lots"] == len(result.lots)


def test_national_demo_shape():
    tender = procurement.load_tender(TENDERS / "national-demo")
    assert len(tender.regions) == 31 and 35 <= len(tender.lots) <= 45 and 250 <= len(tender.bids) <= 350


def test_national_demo_is_generated_by_its_script(tmp_path):
    out = tmp_path / "nd"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_national_demo.py"), "--out", str(out)],
                   check=True, capture_output=True)
    for file in sorted((TENDERS / "national-demo").iterdir()):
        if file.name == "scenarios.toml":
            continue
        assert (out / file.name).read_bytes() == file.read_bytes(), file.name


def test_tender_round_trip(tmp_path, demo_path):
    tender = procurement.load_tender(demo_path).with_rules(fuse_ratio=1.5, winner_caps=[1, 2, 3])
    write_tender(tender, tmp_path / "copy")
    again = procurement.load_tender(tmp_path / "copy")
    assert again.rules == tender.rules
    pd.testing.assert_frame_equal(procurement.run(again).awards, procurement.run(tender).awards)
