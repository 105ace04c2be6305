"""Reading tender folders: ``tender.toml`` plus one CSV file per table."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pandas as pd

from procurement.errors import InputProblem, TenderFileErrors
from procurement.model.schema import TABLES
from procurement.model.tender import Tender
from procurement.model.validate import tender_from_frames

CONFIG_FILE = "tender.toml"


def read_csv_cells(path: Path) -> pd.DataFrame:
    """Read a CSV file as text cells exactly as written (no type guessing, blanks stay blank)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                       skipinitialspace=False)


def load_tender(path: str | Path) -> Tender:
    """Load and validate a tender folder.

    Args:
        path: folder holding ``tender.toml`` and the CSV tables it names (defaults: ``lots.csv``,
            ``specs.csv``, ``suppliers.csv``, ``bids.csv``, ``regions.csv``, ``demand.csv``).

    Returns:
        The validated :class:`~procurement.model.tender.Tender`.

    Raises:
        TenderFileErrors: every problem found in any file, reported together.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise TenderFileErrors([InputProblem(str(folder), None, None, None,
                                             "not a folder; expected a tender folder with tender.toml")])
    problems: list[InputProblem] = []
    config: dict = {}
    config_path = folder / CONFIG_FILE
    if not config_path.is_file():
        problems.append(InputProblem(CONFIG_FILE, None, None, None, "file not found in the tender folder"))
    else:
        try:
            config = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            match = re.search(r"line (\d+)", str(exc))
            problems.append(InputProblem(CONFIG_FILE, int(match.group(1)) if match else None, None, None,
                                         f"not valid TOML: {exc}"))
    tables_cfg = config.get("tables", {}) if isinstance(config.get("tables", {}), dict) else {}
    raw: dict[str, pd.DataFrame | None] = {}
    files: dict[str, str] = {}
    for name, schema in TABLES.items():
        file_name = tables_cfg.get(name, schema.default_file)
        file_name = file_name if isinstance(file_name, str) and file_name else schema.default_file
        files[name] = file_name
        file_path = folder / file_name
        if not file_path.is_file():
            raw[name] = None
            if schema.optional and name in tables_cfg:
                problems.append(InputProblem(file_name, None, None, None,
                                             "file named in tender.toml [tables] not found"))
            continue
        try:
            raw[name] = read_csv_cells(file_path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            problems.append(InputProblem(file_name, None, None, None, f"not a readable CSV file: {exc}"))
            raw[name] = pd.DataFrame()
    config_unreadable = bool(problems)
    try:
        tender = tender_from_frames(raw, config, files=files, config_file=CONFIG_FILE, source=str(folder))
    except TenderFileErrors as exc:
        found = exc.problems
        if config_unreadable:  # an unreadable tender.toml is one problem, not one per missing key
            found = [p for p in found if p.file != CONFIG_FILE]
        raise TenderFileErrors(problems + found, str(folder)) from None
    if problems:
        raise TenderFileErrors(problems, str(folder))
    return tender


def _toml_value(value) -> str:
    if value is None:
        return '"none"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, tuple | list):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):  # a table of pairs
            return "{ " + ", ".join(f'{k} = {_toml_value(v)}' for k, v in value) + " }"
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} to TOML")


def tender_toml(tender: Tender, header: str = "") -> str:
    """Render a tender's configuration as tender.toml text (rule overrides included)."""
    lines = [f"# {line}" for line in header.splitlines()]
    lines += [f"name = {_toml_value(tender.name)}", f"currency = {_toml_value(tender.currency)}"]
    if tender.description:
        lines.append(f"description = {_toml_value(tender.description)}")
    lines += ["", "[rules]", f"preset = {_toml_value(tender.rules.name)}"]
    if tender.rules.overrides:
        lines += ["", "[rules.overrides]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in tender.rules.overrides]
    lines += ["", "[allocation]", f"pick_policy = {_toml_value(tender.pick_policy)}", f"seed = {tender.seed}",
              "", "[tables]"]
    lines += [f'{name} = "{schema.default_file}"' for name, schema in TABLES.items()
              if not schema.optional or name in tender.extra]
    return "\n".join(lines) + "\n"


def write_tender(tender: Tender, path: str | Path, *, force: bool = False, header: str = "") -> Path:
    """Write a tender as a folder (tender.toml + one CSV per table), atomically.

    Raises:
        OutputExistsError: the folder exists and ``force`` is False.
    """
    from procurement.io.atomic import atomic_dir

    with atomic_dir(path, force) as tmp:
        (tmp / CONFIG_FILE).write_text(tender_toml(tender, header), encoding="utf-8")
        for name, schema in TABLES.items():
            frame = getattr(tender, name) if not schema.optional else tender.extra.get(name)
            if frame is None:
                continue
            frame[schema.column_names].to_csv(tmp / schema.default_file, index=False, float_format="%.10g")
    return Path(path)
