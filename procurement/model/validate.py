"""Validation of raw tender tables into typed frames, collecting every problem.

Pure: takes frames of cells (as read from CSV, or built in Python) and a configuration mapping, returns
a :class:`~procurement.model.tender.Tender` or raises :class:`~procurement.errors.TenderFileErrors`
listing every problem with file, line, column, value and the rule broken.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from procurement.errors import InputProblem, TenderFileErrors, UnknownNameError
from procurement.model.schema import CORE_TABLES, TABLES, Column, TableSchema
from procurement.model.tender import PICK_POLICIES, Tender

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:+\-]{0,63}$")
TRUE_WORDS = {"true", "1", "yes", "y", "t"}
FALSE_WORDS = {"false", "0", "no", "n", "f"}

#: Keys of tender.toml: top level, then each sub-table.
CONFIG_KEYS: dict[str, tuple[str, ...]] = {
    "": ("name", "currency", "description", "rules", "allocation", "tables", "optimize"),
    "rules": ("preset", "overrides"),
    "allocation": ("pick_policy", "seed"),
    "tables": tuple(TABLES),
}


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


def _convert_cell(col: Column, value: Any) -> tuple[Any, str | None]:
    """Convert one cell to the column's type; return (value, problem message or None)."""
    if _blank(value):
        if col.nullable:
            return (None, None)
        return (None, "a value is required")
    text = value.strip() if isinstance(value, str) else value
    if col.dtype == "id":
        text = str(text)
        if not ID_PATTERN.match(text):
            return (None, "expected an id: ASCII letters, digits and _ . : + - (at most 64, no spaces)")
        return (text, None)
    if col.dtype == "str":
        return (str(text), None)
    if col.dtype == "bool":
        if isinstance(text, bool | np.bool_):
            return (bool(text), None)
        word = str(text).lower()
        if word in TRUE_WORDS:
            return (True, None)
        if word in FALSE_WORDS:
            return (False, None)
        return (None, "expected true or false")
    try:
        number = float(text)
    except (TypeError, ValueError):
        return (None, f"expected a number ({col.dtype})")
    if not math.isfinite(number):
        return (None, "expected a finite number")
    if col.dtype == "int":
        if number != int(number):
            return (None, "expected a whole number")
        number = int(number)
    if col.positive and number <= 0:
        return (None, "expected a number > 0")
    if col.name == "latitude" and not -90 <= number <= 90:
        return (None, "expected a latitude in [-90, 90]")
    if col.name == "longitude" and not -180 <= number <= 180:
        return (None, "expected a longitude in [-180, 180]")
    return (number, None)


_NUMPY_DTYPES = {"float": "float64", "int": "int64", "bool": "bool", "id": "object", "str": "object"}


def _check_table(schema: TableSchema, raw: pd.DataFrame, file: str,
                 problems: list[InputProblem]) -> pd.DataFrame | None:
    """Check columns and cells of one table; return the typed frame (None if unusable)."""
    names = [str(c) for c in raw.columns]
    missing = [c.name for c in schema.columns if c.required and c.name not in names]
    for name in missing:
        problems.append(InputProblem(file, 1, name, None,
                                     f"required column missing; expected columns: "
                                     f"{', '.join(schema.column_names)}"))
    for name in names:
        if name not in schema.column_names:
            problems.append(InputProblem(file, 1, name, None,
                                         f"unknown column; valid columns: {', '.join(schema.column_names)}"))
    if len(raw) == 0:
        problems.append(InputProblem(file, None, None, None, "the table is empty; at least one row is "
                                                             "required"))
        return None
    if missing:
        return None
    lines = np.arange(len(raw)) + 2  # header is line 1
    out: dict[str, Any] = {}
    for col in schema.columns:
        if col.name not in names:
            default = col.default
            out[col.name] = pd.Series([default] * len(raw), dtype=_NUMPY_DTYPES[col.dtype]
                                      if default is not None else "object")
            continue
        values = []
        for line, cell in zip(lines, raw[col.name].tolist(), strict=True):
            converted, message = _convert_cell(col, cell)
            if message:
                problems.append(InputProblem(file, int(line), col.name, _shown(cell), message))
            values.append(converted)
        out[col.name] = values
    frame = pd.DataFrame(out)
    for col in schema.columns:
        series = frame[col.name]
        if col.dtype in ("float", "int") and (col.nullable or series.isna().any()):
            frame[col.name] = pd.to_numeric(series, errors="coerce").astype("float64")
        elif col.dtype in ("float", "int", "bool") and not series.isna().any():
            frame[col.name] = series.astype(_NUMPY_DTYPES[col.dtype])
        elif col.dtype in ("id", "str"):
            frame[col.name] = series.astype(object)
    frame.insert(0, "_line", lines)
    # duplicate keys
    key = list(schema.key)
    dup = frame.duplicated(key, keep=False) & frame[key].notna().all(axis=1)
    if dup.any():
        first_line = frame[dup].groupby(key, sort=False)["_line"].transform("min")
        for idx in frame.index[dup]:
            if frame.at[idx, "_line"] != first_line[idx]:
                shown = ", ".join(f"{k}={frame.at[idx, k]}" for k in key)
                problems.append(InputProblem(file, int(frame.at[idx, "_line"]), ",".join(key), shown,
                                             f"duplicate key; first defined on line {first_line[idx]}"))
    return frame


def check_config(config: Mapping[str, Any], file: str, problems: list[InputProblem]) -> dict[str, Any]:
    """Check tender.toml content; return a normalised dict (preset resolved where possible)."""
    from procurement.rules.presets import get_preset

    out: dict[str, Any] = {"name": None, "currency": "CNY", "description": "", "rules": None,
                           "pick_policy": "largest-volume", "seed": 0, "tables": {}}
    for section, keys in CONFIG_KEYS.items():
        table = config if section == "" else config.get(section, {})
        if not isinstance(table, Mapping):
            problems.append(InputProblem(file, None, section, _shown(table), "expected a table"))
            continue
        for key in table:
            if key not in keys:
                where = f"{section}.{key}" if section else key
                problems.append(InputProblem(file, None, where, None,
                                             f"unknown key; valid keys here: {', '.join(keys)}"))
    name = config.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(InputProblem(file, None, "name", None if name is None else _shown(name),
                                     "a non-empty tender name is required"))
    else:
        out["name"] = name
    for key in ("currency", "description"):
        if key in config:
            if isinstance(config[key], str):
                out[key] = config[key]
            else:
                problems.append(InputProblem(file, None, key, _shown(config[key]), "expected a string"))
    rules = config.get("rules", {}) if isinstance(config.get("rules", {}), Mapping) else {}
    preset = rules.get("preset")
    if preset is None:
        problems.append(InputProblem(file, None, "rules.preset", None, "a rule preset name is required"))
    else:
        try:
            rule_set = get_preset(str(preset))
        except UnknownNameError as exc:
            problems.append(InputProblem(file, None, "rules.preset", str(preset), str(exc)))
        else:
            overrides = rules.get("overrides", {})
            if not isinstance(overrides, Mapping):
                problems.append(InputProblem(file, None, "rules.overrides", _shown(overrides),
                                             "expected a table of parameter = value"))
                overrides = {}
            for key, value in overrides.items():
                try:
                    rule_set = rule_set.with_overrides(**{key: value})
                except (UnknownNameError, ValueError) as exc:
                    problems.append(InputProblem(file, None, f"rules.overrides.{key}", _shown(value),
                                                 str(exc)))
            out["rules"] = rule_set
    alloc = config.get("allocation", {}) if isinstance(config.get("allocation", {}), Mapping) else {}
    policy = alloc.get("pick_policy", "largest-volume")
    if policy not in PICK_POLICIES:
        problems.append(InputProblem(file, None, "allocation.pick_policy", _shown(policy),
                                     f"unknown pick policy; valid: {', '.join(PICK_POLICIES)}"))
    else:
        out["pick_policy"] = policy
    seed = alloc.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        problems.append(InputProblem(file, None, "allocation.seed", _shown(seed),
                                     "expected a whole number >= 0"))
    else:
        out["seed"] = seed
    tables = config.get("tables", {}) if isinstance(config.get("tables", {}), Mapping) else {}
    for table_name in TABLES:
        file_name = tables.get(table_name, TABLES[table_name].default_file)
        if not isinstance(file_name, str) or not file_name.strip():
            problems.append(InputProblem(file, None, f"tables.{table_name}", _shown(file_name),
                                         "expected a file name"))
            file_name = TABLES[table_name].default_file
        out["tables"][table_name] = file_name
    from procurement.optimize.config import parse_options

    out["optimize"] = parse_options(config.get("optimize"), file, problems)
    return out


def _foreign_keys(frames: dict[str, pd.DataFrame], files: dict[str, str],
                  problems: list[InputProblem]) -> None:
    for table_name, schema in TABLES.items():
        frame = frames.get(table_name)
        if frame is None:
            continue
        for col in schema.columns:
            if not col.references:
                continue
            ref_table, ref_col = col.references
            ref = frames.get(ref_table)
            if ref is None:
                continue
            known = set(ref[ref_col].dropna())
            bad = frame[col.name].notna() & ~frame[col.name].isin(known)
            for idx in frame.index[bad]:
                problems.append(InputProblem(files[table_name], int(frame.at[idx, "_line"]), col.name,
                                             frame.at[idx, col.name],
                                             f"not in {files[ref_table]} ({ref_col})"))


def _cross_checks(frames: dict[str, pd.DataFrame], files: dict[str, str], rules: Any, pick_policy: str,
                  problems: list[InputProblem]) -> None:
    lots, specs = frames.get("lots"), frames.get("specs")
    suppliers, bids = frames.get("suppliers"), frames.get("bids")
    regions, demand = frames.get("regions"), frames.get("demand")
    if lots is not None and specs is not None:
        spec_lot = dict(zip(specs["spec_id"], specs["lot_id"], strict=True))
        for idx in lots.index:
            rep = lots.at[idx, "rep_spec_id"]
            if rep in spec_lot and spec_lot[rep] != lots.at[idx, "lot_id"]:
                problems.append(InputProblem(files["lots"], int(lots.at[idx, "_line"]), "rep_spec_id", rep,
                                             f"the representative spec belongs to lot {spec_lot[rep]}, "
                                             f"not to this lot"))
        with_specs = set(specs["lot_id"])
        for idx in lots.index[~lots["lot_id"].isin(with_specs)]:
            problems.append(InputProblem(files["lots"], int(lots.at[idx, "_line"]), "lot_id",
                                         lots.at[idx, "lot_id"], f"the lot has no spec in {files['specs']}"))
        units = specs.groupby("lot_id")["unit"].agg(lambda s: sorted(set(s)))
        for lot_id, used in units.items():
            if len(used) > 1:
                line = int(specs.loc[specs["lot_id"] == lot_id, "_line"].iloc[0])
                problems.append(InputProblem(files["specs"], line, "unit", ", ".join(used),
                                             f"specs of lot {lot_id} mix units; use one unit per lot"))
        if rules is not None:
            classes = rules.share_classes
            for idx in lots.index[~lots["share_class"].isin(classes)]:
                problems.append(InputProblem(files["lots"], int(lots.at[idx, "_line"]), "share_class",
                                             lots.at[idx, "share_class"],
                                             f"unknown share class of preset {rules.name}; valid: "
                                             f"{', '.join(classes)}"))
    if bids is not None and specs is not None:
        ceiling = dict(zip(specs["spec_id"], specs["ceiling_price"], strict=True))
        spec_lot = dict(zip(specs["spec_id"], specs["lot_id"], strict=True))
        no_ceiling = bids["spec_id"].map(ceiling).isna() & bids["spec_id"].isin(ceiling)
        for idx in bids.index[no_ceiling]:
            problems.append(InputProblem(files["bids"], int(bids.at[idx, "_line"]), "spec_id",
                                         bids.at[idx, "spec_id"],
                                         f"bid on a spec that has no ceiling_price in {files['specs']}"))
        lot_of_bid = bids["spec_id"].map(spec_lot)
        seen: dict[tuple[str, str], int] = {}
        for idx in bids.index:
            if pd.isna(lot_of_bid[idx]):
                continue
            key = (bids.at[idx, "supplier_id"], lot_of_bid[idx])
            line = int(bids.at[idx, "_line"])
            if key in seen:
                problems.append(InputProblem(files["bids"], line, "spec_id", bids.at[idx, "spec_id"],
                                             f"supplier {key[0]} already bids lot {key[1]} on line "
                                             f"{seen[key]}; one bid per supplier and lot"))
            else:
                seen[key] = line
    if demand is not None and specs is not None and lots is not None:
        demanded_lots = set(demand["spec_id"].map(dict(zip(specs["spec_id"], specs["lot_id"], strict=True))))
        for idx in lots.index[~lots["lot_id"].isin(demanded_lots)]:
            problems.append(InputProblem(files["demand"], None, "spec_id", None,
                                         f"lot {lots.at[idx, 'lot_id']} has no demand; every lot needs "
                                         f"reported volume in at least one region"))
    if pick_policy == "nearest":
        for name, frame, id_col in (("suppliers", suppliers, "supplier_id"), ("regions", regions, "region_id")):
            if frame is None:
                continue
            lacking = frame["latitude"].isna() | frame["longitude"].isna()
            for idx in frame.index[lacking]:
                problems.append(InputProblem(files[name], int(frame.at[idx, "_line"]), "latitude",
                                             frame.at[idx, id_col],
                                             "pick policy `nearest` needs latitude and longitude"))


def tender_from_frames(raw: Mapping[str, pd.DataFrame | None], config: Mapping[str, Any], *,
                       files: Mapping[str, str] | None = None, config_file: str = "tender.toml",
                       source: str | None = None) -> Tender:
    """Validate raw tables and a configuration mapping into a :class:`Tender`.

    Args:
        raw: table name -> frame of cells (strings as read from CSV, or typed values); None when the
            file was absent.
        config: the content of tender.toml as a mapping (see ``tenders/README.md``).
        files: table name -> file name used in problem reports (default: the table's file name).
        config_file: name used in problem reports for configuration problems.
        source: where the tender came from, kept on the Tender.

    Returns:
        The validated tender.

    Raises:
        TenderFileErrors: every problem found, each with file, line, column, value and rule.
    """
    problems: list[InputProblem] = []
    cfg = check_config(config, config_file, problems)
    files = {name: (files or {}).get(name, cfg["tables"][name]) for name in TABLES}
    frames: dict[str, pd.DataFrame] = {}
    for name, schema in TABLES.items():
        table = raw.get(name)
        if table is None:
            if schema.optional:
                continue
            problems.append(InputProblem(files[name], None, None, None,
                                         f"file not found; the {name} table is required"))
            continue
        checked = _check_table(schema, table, files[name], problems)
        if checked is not None:
            frames[name] = checked
    _foreign_keys(frames, files, problems)
    _cross_checks(frames, files, cfg["rules"], cfg["pick_policy"], problems)
    if problems:
        raise TenderFileErrors(problems, source)
    clean = {name: frame.drop(columns="_line").reset_index(drop=True) for name, frame in frames.items()}
    clean["optimize"] = cfg["optimize"]  # OptimizeOptions, kept in Tender.extra["optimize"]
    clean["suppliers"]["group_id"] = clean["suppliers"]["group_id"].where(
        clean["suppliers"]["group_id"].notna(), clean["suppliers"]["supplier_id"])
    spec_lot = dict(zip(clean["specs"]["spec_id"], clean["specs"]["lot_id"], strict=True))
    clean["bids"].insert(0, "lot_id", clean["bids"]["spec_id"].map(spec_lot))
    core = {name: clean.pop(name) for name in CORE_TABLES}
    return Tender(name=cfg["name"], currency=cfg["currency"], description=cfg["description"],
                  rules=cfg["rules"], pick_policy=cfg["pick_policy"], seed=cfg["seed"], source=source,
                  extra=clean, **core)
