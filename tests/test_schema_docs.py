"""The format reference in tenders/README.md is generated from the schemas and must be current."""

from __future__ import annotations

import subprocess
import sys

from procurement.model.schema import TABLES, format_markdown

from .conftest import ROOT


def test_tenders_readme_is_current():
    check = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_format_docs.py"), "--check"],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout


def test_every_column_documented():
    text = format_markdown()
    for table in TABLES.values():
        assert f"`{table.default_file}`" in text
        for column in table.columns:
            assert f"| `{column.name}` |" in text
            assert column.description
