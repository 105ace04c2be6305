"""Result folders: a run's tables as CSV plus ``summary.json``, written atomically."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from procurement.io.atomic import atomic_dir
from procurement.model.result import RESULT_TABLES, TenderResult

SUMMARY_FILE = "summary.json"


def jsonable(value: Any) -> Any:
    """A value made fit for ``json.dumps``: numpy scalars to Python, mappings with string keys, tuples to
    lists, and non-finite floats to None (JSON has no NaN or infinity)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_result(result: TenderResult, out: str | Path, force: bool = False) -> Path:
    """Write a result folder: ``lots.csv``, ``bids.csv``, ``awards.csv``, ``allocation.csv``,
    ``supply.csv``, any extra frames, and ``summary.json``.

    Args:
        result: the run's result.
        out: folder to create.
        force: replace an existing folder.

    Returns:
        The folder path.

    Raises:
        OutputExistsError: ``out`` exists and ``force`` is False.
    """
    with atomic_dir(out, force) as tmp:
        for name in RESULT_TABLES:
            result.table(name).to_csv(tmp / f"{name}.csv", index=False, float_format="%.10g")
        for name, frame in result.extra.items():
            frame.to_csv(tmp / f"{name}.csv", index=False, float_format="%.10g")
        (tmp / SUMMARY_FILE).write_text(json.dumps(jsonable(result.summary), indent=2, ensure_ascii=False)
                                        + "\n", encoding="utf-8")
    return Path(out)


def read_result(path: str | Path) -> TenderResult:
    """Read a result folder written by :func:`write_result` (``tender`` is None on the result).

    Raises:
        FileNotFoundError: a required file is missing.
    """
    folder = Path(path)
    summary_path = folder / SUMMARY_FILE
    if not summary_path.is_file():
        raise FileNotFoundError(f"{folder} is not a result folder: {SUMMARY_FILE} not found")
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    ids = {c: str for c in ("lot_id", "supplier_id", "spec_id", "region_id", "primary_supplier_id",
                            "backup_supplier_id", "provinces")}
    frames = {}
    for name in RESULT_TABLES:
        file = folder / f"{name}.csv"
        if not file.is_file():
            raise FileNotFoundError(f"{folder} is not a complete result folder: {file.name} not found")
        frames[name] = pd.read_csv(file, dtype=ids, keep_default_na=True)
    return TenderResult(tender=None, mode=summary.get("mode", "rules"), summary=summary, **frames)
