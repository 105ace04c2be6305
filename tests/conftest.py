"""Shared fixtures: repository paths and the published-data folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TENDERS = ROOT / "tenders"


def vbp_data_dir() -> Path:
    """Folder of the published VBP results (env PROCUREMENT_VBP_DATA, default ../shared/data/vbp)."""
    return Path(os.environ.get("PROCUREMENT_VBP_DATA", ROOT.parent / "shared" / "data" / "vbp"))


@pytest.fixture
def vbp_data() -> Path:
    folder = vbp_data_dir()
    if not (folder / "bids.csv").is_file():
        pytest.skip(f"published VBP data not found at {folder} (set PROCUREMENT_VBP_DATA)")
    return folder


@pytest.fixture(scope="session")
def demo_path() -> Path:
    return TENDERS / "demo"
