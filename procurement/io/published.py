"""Published national-batch results (the format of ../shared/data/vbp) into one validated tender per batch.

Input tables (see ``../shared/data/vbp/README.md``):

- results (``bids.csv`` format): ``batch, lot_no, lot, spec, firm, firm_short, originator, foreign, won,
  ceiling_price, pre_median_price, bid_price, provinces``; one row per bid, winning and losing, prices
  per smallest unit of the row's own spec; 99999 marks a firm that quoted no acceptable price. An
  optional ``share_class`` column (``general`` / ``special``) picks the preset's share table of a lot;
  an optional ``pack`` column gives the smallest units per box of the bid (7, 14, 28; blank = unknown),
  which brings in the pack-count ratio of article 13 (see "packs" below).
- volumes (``volumes.csv`` format, optional): ``batch, province, lot, spec, agreed_volume_units``.
- provinces (``provinces.csv``, optional, read from the results file's folder when present): names and
  capitals of the ISO 3166-2:CN region ids.

How a batch becomes a :class:`~procurement.model.tender.Tender` (each choice is a documented rule, never
a lot name):

- ids are ASCII: lot ``B4-L07`` (batch label, then ``lot_no``), spec ``B4-L07-S1`` ... in ascending
  strength, supplier ``F`` + the first 10 hex digits of the SHA-1 of the full firm name (stable across
  files and runs), region = the ISO code (``CN-BJ``); a supplier's related-party ``group_id`` is the
  hash of its short name (``firm_short``), so firms sharing a short name count as one bidder under
  presets with ``count_related_as_one`` (batch 11, 12);
- specs: :func:`parse_spec` reads the strength (converted to mg, or the lot's one unit), the fill volume
  in ml, and a compound's first component; pack size is 1 (published prices are per smallest unit)
  unless the lot carries packs;
- packs: a lot whose bids *all* carry a ``pack`` has one spec per (strength [, fill volume], pack): firms
  bidding one strength in different boxes get distinct specs whose ``pack_size`` is the pack, so the
  pack-count ratio (``pack_ratio_base``, 1.95 per doubling) converts between them. A lot with some packs
  blank is read without packs (pack size 1 for all its specs, as if the column were absent: no pack is
  guessed) and is listed in ``PublishedBatch.partial_pack_lots``; a table without the column, or with it
  blank everywhere, gives exactly the tenders it gave before the column existed;
- representative spec (:func:`choose_representative`): the spec most firms bid (the 主品规 the tender
  is framed on); ties go to the larger agreed volume, then the smaller strength, then the smaller pack;
- ceilings (:func:`_ceiling_basis`): each spec's published ceiling, and specs with volume but no bid get
  the representative spec's ceiling converted by the NDRC content ratio (1.7 per doubling, the preset's
  ``content_ratio_base``), as the README of the data says the ceilings follow those ratios (every
  batch-4 lot bid on several strengths confirms it). A batch whose lots bid on several strengths each
  carry one identical figure for all strengths (batch 2) publishes one ceiling per lot: that figure is
  read as the ceiling of the lot's smallest strength and the others follow by the ratio. With packs,
  each (strength, pack) spec keeps its own published per-unit figure (the ceilings are checked to be
  one per batch, lot, spec and pack); under the one-ceiling-per-lot reading the figure is the ceiling of
  the smallest strength in its most-bid pack and every other spec follows by the ratios, pack ratio
  included (as the tender's 差比价 would price it);
- demand: the published agreed volume already is the agreed share, so reported demand = agreed volume /
  the preset's share for the *published* number of winners (and the lot's share class); a run that
  predicts the published winner count therefore gives back the published agreed volumes exactly. Lots
  without a published winner keep the agreed volume as reported demand. Zero-volume rows are not demand
  (the schema needs volume > 0), but the province still belongs to the lot: it appears in
  ``PublishedBatch.lot_regions``, since the published allocations hand such provinces a supplier too.
  Without a volumes table, a lot's regions are the provinces its published winners supply, each with a
  placeholder demand of 1 unit of the representative spec. Volumes carry no pack: in a lot with packs a
  strength's volume goes to its representative pack (the pack most firms bid on that strength, ties to
  the smaller pack); a strength with volume but no bid gets the representative spec's pack;
- lots with volumes but no bid (a failed lot such as batch-2 sodium bicarbonate) have no ceiling, so they
  are left out of the tender and listed in ``PublishedBatch.skipped_lots``.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from procurement.errors import InputProblem, TenderFileErrors
from procurement.io.tender_files import read_csv_cells
from procurement.model.tender import Tender
from procurement.model.validate import FALSE_WORDS, TRUE_WORDS, tender_from_frames

RESULT_COLUMNS = ("batch", "lot_no", "lot", "spec", "firm", "firm_short", "originator", "foreign", "won",
                  "ceiling_price", "pre_median_price", "bid_price", "provinces")
OPTIONAL_RESULT_COLUMNS = ("share_class", "pack")
VOLUME_COLUMNS = ("batch", "province", "lot", "spec", "agreed_volume_units")

#: Batch label in the ``batch`` column -> preset name; any other label ``N`` maps to ``batchN``.
BATCH_PRESETS: dict[str, str] = {"4+7": "pilot-4+7", "pilot": "pilot-4+7", "1": "pilot-4+7",
                                 "ext": "ext-2019", "ext-2019": "ext-2019", "1-ext": "ext-2019"}

#: Dosage-form classes recognised from the Chinese lot name (first match wins).
DOSAGE_FORMS: tuple[tuple[str, str], ...] = (
    ("缓释控释", "modified-release"), ("注射", "injection"), ("滴眼", "eye-drops"), ("吸入", "inhalation"),
    ("散剂", "oral-powder"), ("颗粒", "oral-powder"), ("口腔崩解", "oral-solid"), ("咀嚼片", "oral-solid"),
    ("口服常释", "oral-solid"), ("片", "oral-solid"), ("胶囊", "oral-solid"),
)

_UNITS_TO_MG = {"g": 1000.0, "mg": 1.0, "ug": 1e-3, "μg": 1e-3, "µg": 1e-3, "mcg": 1e-3}
_AMOUNT = r"(\d+(?:\.\d+)?)\s*(g|mg|ug|μg|µg|mcg|iu|万iu|u|ml)"


@dataclass(frozen=True)
class ParsedSpec:
    """A specification string read into numbers.

    Attributes:
        strength: active content per smallest unit, in ``unit`` (a compound: its first component).
        unit: ``mg`` for masses (g and ug are converted), else the unit as written (``IU``, ...).
        fill_volume: fill volume in ml per smallest unit, or None for solids.
    """

    strength: float
    unit: str
    fill_volume: float | None


@functools.lru_cache(maxsize=4096)
def parse_spec(text: str) -> ParsedSpec:
    """Parse a published specification string.

    Accepted shapes: ``0.25g``, ``20mg``, ``2ml:15mg`` (volume:content), ``5mg/2.5ml`` (content per
    volume), ``5ml:5mg (0.1%)`` (a trailing concentration note, full- or half-width brackets, is
    ignored), ``200mg+300mg`` (a compound: the first component is the strength).

    Raises:
        ValueError: the string has no recognisable content amount.
    """
    s = str(text).strip().lower().replace("（", "(").replace("）", ")").replace("：", ":")
    s = re.sub(r"\(.*?\)", "", s).replace(" ", "")
    amounts = re.findall(_AMOUNT, s)
    volume = None
    content = []
    for number, unit in amounts:
        if unit == "ml":
            volume = float(number) if volume is None else volume
        else:
            content.append((float(number), unit))
    if not content or not re.fullmatch(rf"(?:{_AMOUNT}[:/+]?)+", s):
        raise ValueError(f"unrecognised specification {text!r}; expected e.g. 0.25g, 20mg, 2ml:15mg, "
                         f"5mg/2.5ml, 200mg+300mg")
    number, unit = content[0]
    if unit in _UNITS_TO_MG:
        return ParsedSpec(number * _UNITS_TO_MG[unit], "mg", volume)
    return ParsedSpec(number, unit.upper() if unit in ("iu", "u") else unit, volume)


def dosage_form_of(lot_name: str) -> str:
    """Dosage-form class of a Chinese lot name (``oral-solid``, ``injection``, ...; ``other`` if none)."""
    for key, form in DOSAGE_FORMS:
        if key in lot_name:
            return form
    return "other"


def preset_for_batch(label: str) -> str:
    """Preset name for a ``batch`` label: ``2`` -> ``batch2``, ``ext`` -> ``ext-2019``, ``4+7`` -> ``pilot-4+7``."""
    label = str(label).strip()
    return BATCH_PRESETS.get(label.lower(), f"batch{label}")


def supplier_id_of(firm: str) -> str:
    """Stable ASCII supplier id of a firm name: ``F`` + 10 hex digits of its SHA-1."""
    return "F" + hashlib.sha1(firm.strip().encode("utf-8")).hexdigest()[:10]


def _batch_token(label: str) -> str:
    token = re.sub(r"[^A-Za-z0-9]+", "", str(label))
    return token or "X"


# ---- reading -------------------------------------------------------------------------------------------


def _read(path: str | Path, required: tuple[str, ...], problems: list[InputProblem]) -> pd.DataFrame | None:
    path = Path(path)
    name = path.name
    if not path.is_file():
        problems.append(InputProblem(str(path), None, None, None, "file not found"))
        return None
    try:
        raw = read_csv_cells(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        problems.append(InputProblem(name, None, None, None, f"not a readable CSV file: {exc}"))
        return None
    missing = [c for c in required if c not in raw.columns]
    for col in missing:
        problems.append(InputProblem(name, 1, col, None,
                                     f"required column missing; expected columns: {', '.join(required)}"))
    if len(raw) == 0:
        problems.append(InputProblem(name, None, None, None, "the table is empty"))
    if missing or len(raw) == 0:
        return None
    raw = raw.copy()
    raw.insert(0, "_line", np.arange(len(raw)) + 2)
    return raw


def _numbers(frame: pd.DataFrame, col: str, file: str, problems: list[InputProblem], *,
             nullable: bool = False, positive: bool = True, whole: bool = False) -> np.ndarray:
    out = np.full(len(frame), np.nan)
    for k, (line, cell) in enumerate(zip(frame["_line"], frame[col], strict=True)):
        text = cell.strip()
        if text == "":
            if not nullable:
                problems.append(InputProblem(file, int(line), col, cell, "a value is required"))
            continue
        try:
            value = float(text)
        except ValueError:
            problems.append(InputProblem(file, int(line), col, cell, "expected a number"))
            continue
        if not math.isfinite(value) or (positive and value <= 0) or (not positive and value < 0):
            problems.append(InputProblem(file, int(line), col, cell,
                                         "expected a finite number " + ("> 0" if positive else ">= 0")))
        elif whole and value != int(value):
            problems.append(InputProblem(file, int(line), col, cell, "expected a whole number"))
        else:
            out[k] = value
    return out


def _packs(frame: pd.DataFrame, col: str, file: str, problems: list[InputProblem]) -> np.ndarray:
    """Pack counts (smallest units per box): positive integers, blank = unknown (NaN)."""
    out = np.full(len(frame), np.nan)
    for k, (line, cell) in enumerate(zip(frame["_line"], frame[col], strict=True)):
        text = cell.strip()
        if text == "":
            continue
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 1 or value != int(value):
            problems.append(InputProblem(file, int(line), col, cell,
                                         "expected a positive integer (smallest units per box, e.g. 7, "
                                         "14, 28) or a blank"))
        else:
            out[k] = value
    return out


def _pack_keys(rows: pd.DataFrame) -> np.ndarray:
    """Pack of each row where its lot (batch, lot) carries a pack on every bid, else 0 (no packs)."""
    known = rows["pack"].notna()
    full = known.groupby([rows["batch"], rows["lot"]], sort=False).transform("all")
    return np.where(full & known, rows["pack"].fillna(0), 0).astype(np.int64)


def _bools(frame: pd.DataFrame, col: str, file: str, problems: list[InputProblem]) -> np.ndarray:
    out = np.zeros(len(frame), dtype=bool)
    for k, (line, cell) in enumerate(zip(frame["_line"], frame[col], strict=True)):
        word = cell.strip().lower()
        if word in TRUE_WORDS:
            out[k] = True
        elif word not in FALSE_WORDS:
            problems.append(InputProblem(file, int(line), col, cell, "expected true or false"))
    return out


def read_results(path: str | Path, problems: list[InputProblem] | None = None) -> pd.DataFrame:
    """Read and check a published-results table; return typed rows with ``_line`` (CSV line number).

    Adds ``strength``, ``unit``, ``fill_volume`` parsed from ``spec``, and ``pack`` (units per box; NaN
    when blank or when the table has no ``pack`` column).

    Raises:
        TenderFileErrors: every problem (missing column, bad number, flag or pack, unreadable spec, a firm
            bidding twice in one lot, one spec (and pack) with two ceilings), each with file, line and
            column.
    """
    own = problems is None
    problems = [] if problems is None else problems
    file = Path(path).name
    raw = _read(path, RESULT_COLUMNS, problems)
    if raw is None:
        if own:
            raise TenderFileErrors(problems, str(path))
        return pd.DataFrame()
    out = raw[["_line"]].copy()
    for col in ("batch", "lot", "spec", "firm", "firm_short", "provinces"):
        out[col] = raw[col].str.strip()
    for col in ("batch", "lot", "spec", "firm"):
        for line in out.loc[out[col] == "", "_line"]:
            problems.append(InputProblem(file, int(line), col, "", "a value is required"))
    out["firm_short"] = out["firm_short"].where(out["firm_short"] != "", out["firm"])
    out["lot_no"] = _numbers(raw, "lot_no", file, problems, whole=True)
    for col in ("originator", "foreign", "won"):
        out[col] = _bools(raw, col, file, problems)
    out["ceiling_price"] = _numbers(raw, "ceiling_price", file, problems)
    out["pre_median_price"] = _numbers(raw, "pre_median_price", file, problems, nullable=True)
    out["bid_price"] = _numbers(raw, "bid_price", file, problems)
    out["share_class"] = raw["share_class"].str.strip() if "share_class" in raw else "general"
    out["share_class"] = out["share_class"].where(out["share_class"] != "", "general")
    out["pack"] = _packs(raw, "pack", file, problems) if "pack" in raw else np.nan
    parsed = []
    for line, spec in zip(out["_line"], out["spec"], strict=True):
        try:
            parsed.append(parse_spec(spec))
        except ValueError as exc:
            if spec:
                problems.append(InputProblem(file, int(line), "spec", spec, str(exc)))
            parsed.append(ParsedSpec(math.nan, "", None))
    out["strength"] = [p.strength for p in parsed]
    out["unit"] = [p.unit for p in parsed]
    out["fill_volume"] = [np.nan if p.fill_volume is None else p.fill_volume for p in parsed]
    dup = out.duplicated(["batch", "lot", "firm"], keep="first")
    for line, firm in zip(out.loc[dup, "_line"], out.loc[dup, "firm"], strict=True):
        problems.append(InputProblem(file, int(line), "firm", firm,
                                     "the firm already bids this lot of this batch; one bid per firm and lot"))
    lot_nos = out.groupby(["batch", "lot"])["lot_no"].nunique()
    for (batch, lot), n in lot_nos.items():
        if n > 1:
            line = int(out.loc[(out["batch"] == batch) & (out["lot"] == lot), "_line"].iloc[0])
            problems.append(InputProblem(file, line, "lot_no", None,
                                         f"lot {lot} of batch {batch} has {n} different lot numbers"))
    pack_key = pd.Series(_pack_keys(out), index=out.index, name="_pack")
    ceilings = out.groupby(["batch", "lot", "spec", pack_key])["ceiling_price"].agg(
        lambda s: s.dropna().nunique())
    for (batch, lot, spec, pack), n in ceilings.items():
        if n > 1:
            line = int(out.loc[(out["batch"] == batch) & (out["lot"] == lot) & (out["spec"] == spec)
                               & (pack_key == pack), "_line"].iloc[0])
            what = f"spec {spec} in packs of {pack}" if pack else f"spec {spec}"
            problems.append(InputProblem(file, line, "ceiling_price", None,
                                         f"{what} of lot {lot} carries {n} different ceilings"))
    if own and problems:
        raise TenderFileErrors(problems, str(path))
    return out


def read_volumes(path: str | Path, problems: list[InputProblem] | None = None) -> pd.DataFrame:
    """Read and check a published agreed-volumes table; return typed rows with ``_line``.

    Raises:
        TenderFileErrors: every problem, each with file, line and column.
    """
    own = problems is None
    problems = [] if problems is None else problems
    file = Path(path).name
    raw = _read(path, VOLUME_COLUMNS, problems)
    if raw is None:
        if own:
            raise TenderFileErrors(problems, str(path))
        return pd.DataFrame()
    out = raw[["_line"]].copy()
    for col in ("batch", "province", "lot", "spec"):
        out[col] = raw[col].str.strip()
        for line in out.loc[out[col] == "", "_line"]:
            problems.append(InputProblem(file, int(line), col, "", "a value is required"))
    out["agreed_volume_units"] = _numbers(raw, "agreed_volume_units", file, problems, positive=False)
    bad: dict[str, str] = {}
    for spec in pd.unique(out["spec"]):
        if spec:
            try:
                parse_spec(spec)
            except ValueError as exc:
                bad[spec] = str(exc)
    if bad:
        for line, spec in zip(out["_line"], out["spec"], strict=True):
            if spec in bad:
                problems.append(InputProblem(file, int(line), "spec", spec, bad[spec]))
    dup = out.duplicated(["batch", "province", "lot", "spec"], keep="first")
    for line in out.loc[dup, "_line"]:
        problems.append(InputProblem(file, int(line), "batch,province,lot,spec", None,
                                     "duplicate row for this batch, province, lot and spec"))
    if own and problems:
        raise TenderFileErrors(problems, str(path))
    return out


def read_provinces(path: str | Path) -> pd.DataFrame | None:
    """Read ``provinces.csv`` (province, name_en, capital_lat, capital_lon) if it exists, else None."""
    path = Path(path)
    if not path.is_file():
        return None
    frame = read_csv_cells(path)
    if "province" not in frame.columns:
        return None
    return frame


# ---- building tenders ------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PublishedBatch:
    """One published batch as a validated tender plus the published outcome to compare against.

    Attributes:
        batch: the ``batch`` label as written.
        preset: the preset name the tender runs under.
        tender: the validated tender.
        rows: the batch's input rows (original columns, ``_line``) with ``lot_id``, ``spec_id``,
            ``supplier_id`` added, in file order.
        lot_regions: lot_id -> list of region ids of the lot (provinces with a volume row, zero included;
            or the provinces its published winners supply when no volumes were given).
        skipped_lots: lots with volumes but no bid (no ceiling known), by name.
        partial_pack_lots: lots whose ``pack`` is given on some bids but blank on others, by name; they
            are read without packs (pack size 1).
    """

    batch: str
    preset: str
    tender: Tender
    rows: pd.DataFrame
    lot_regions: dict[str, list[str]]
    skipped_lots: list[str] = field(default_factory=list)
    partial_pack_lots: list[str] = field(default_factory=list)


def choose_representative(specs: pd.DataFrame) -> str:
    """The representative spec of one lot: most bids, then larger agreed volume, then smaller strength,
    then smaller pack.

    Args:
        specs: the lot's specs with ``spec_id``, ``bids``, ``volume``, ``strength`` (and optionally
            ``pack_size``).
    """
    packs = specs["pack_size"].tolist() if "pack_size" in specs else [0] * len(specs)
    rows = zip(specs["bids"].tolist(), specs["volume"].tolist(), specs["strength"].tolist(), packs,
               specs["spec_id"].tolist(), strict=True)
    return str(min(rows, key=lambda r: (-r[0], -r[1], r[2], r[3], r[4]))[4])


def build_batches(results: pd.DataFrame, volumes: pd.DataFrame | None = None, *,
                  provinces: pd.DataFrame | None = None, rules: str | None = None,
                  overrides: Mapping[str, object] | None = None,
                  files: tuple[str, str] = ("bids.csv", "volumes.csv")) -> list[PublishedBatch]:
    """Build one validated tender per batch of a published-results table.

    Args:
        results: rows from :func:`read_results`.
        volumes: rows from :func:`read_volumes`, or None.
        provinces: ``provinces.csv`` cells (names and capitals of the regions), or None.
        rules: preset name for every batch; None = the preset named by each row's ``batch``
            (:func:`preset_for_batch`).
        overrides: rule parameters to override in every batch (``RuleSet.with_overrides``).
        files: file names used in problem reports.

    Returns:
        One :class:`PublishedBatch` per batch label, in order of first appearance.

    Raises:
        TenderFileErrors: a batch's tender fails validation (e.g. an unknown preset for its label).
        UnknownNameError, ValueError: bad ``rules`` or ``overrides``.
    """
    from procurement.rules.comparable import comparable_factors
    from procurement.rules.presets import get_preset

    out = []
    for batch in pd.unique(results["batch"]):
        rows = results[results["batch"] == batch].copy()
        preset = rules or preset_for_batch(batch)
        rule_set = get_preset(preset).with_overrides(**dict(overrides or {}))
        vol = volumes[volumes["batch"] == batch] if volumes is not None and len(volumes) else None
        token = _batch_token(batch)
        rows["lot_id"] = [f"B{token}-L{int(n):02d}" for n in rows["lot_no"]]
        rows["supplier_id"] = rows["firm"].map(supplier_id_of)
        lot_of_name = dict(zip(rows["lot"], rows["lot_id"], strict=False))
        if "pack" not in rows:
            rows["pack"] = np.nan
        rows["_pack"] = _pack_keys(rows)  # 0 = the lot carries no packs
        known_pack = rows["pack"].notna().groupby(rows["lot"], sort=False).agg(["any", "all"])
        partial = sorted(known_pack.index[known_pack["any"] & ~known_pack["all"]])

        # specs: every (lot, spec, pack) bid, plus those with volume only
        spec_rows = rows.groupby(["lot_id", "spec", "_pack"], sort=False).agg(
            lot=("lot", "first"), bids=("firm", "size"), strength=("strength", "first"),
            unit=("unit", "first"), fill_volume=("fill_volume", "first"),
            ceiling=("ceiling_price", "first")).reset_index()
        spec_rows["volume"] = 0.0
        skipped = sorted(set(vol["lot"]) - set(rows["lot"])) if vol is not None else []
        if vol is not None:
            vol = vol[vol["lot"].isin(lot_of_name)].copy()
            vol["lot_id"] = vol["lot"].map(lot_of_name)
            vol_by_spec = vol.groupby(["lot_id", "spec"], sort=False)["agreed_volume_units"].sum()
            known = set(zip(spec_rows["lot_id"], spec_rows["spec"], strict=True))
            extra = [{"lot_id": lot_id, "spec": spec, "_pack": 0, "lot": None, "bids": 0, "ceiling": np.nan,
                      "volume": 0.0, **_parsed(spec)}
                     for (lot_id, spec) in vol_by_spec.index if (lot_id, spec) not in known]
            if extra:
                spec_rows = pd.concat([spec_rows, pd.DataFrame(extra)], ignore_index=True)
        # volumes carry no pack: a strength's volume goes to its most-bid pack (ties: the smaller)
        spec_rows["_vol_target"] = ~spec_rows.assign(_nb=-spec_rows["bids"]).sort_values(
            ["lot_id", "spec", "_nb", "_pack"], kind="stable").duplicated(["lot_id", "spec"]).sort_index()
        if vol is not None:
            spec_rows["volume"] = [float(vol_by_spec.get((lot_id, spec), 0.0)) if target else 0.0
                                   for lot_id, spec, target in zip(spec_rows["lot_id"], spec_rows["spec"],
                                                                   spec_rows["_vol_target"], strict=True)]
        spec_rows = spec_rows.sort_values(["lot_id", "strength", "fill_volume", "spec", "_pack"],
                                          kind="stable")
        spec_rows["spec_id"] = (spec_rows["lot_id"] + "-S"
                                + (spec_rows.groupby("lot_id").cumcount() + 1).astype(str))
        # representative spec (choose_representative's key, vectorised): most bids, larger volume, smaller
        # strength, smaller pack
        ranked = spec_rows.assign(_nb=-spec_rows["bids"], _nv=-spec_rows["volume"]).sort_values(
            ["lot_id", "_nb", "_nv", "strength", "_pack", "spec_id"], kind="stable").drop_duplicates("lot_id")
        rep = dict(zip(ranked["lot_id"], ranked["spec_id"], strict=True))
        rep = {lot_id: rep[lot_id] for lot_id in pd.unique(spec_rows["lot_id"])}
        # a strength with volume but no bid, in a lot with packs, takes the representative spec's pack
        rep_pack = spec_rows.set_index("spec_id")["_pack"]
        no_bid = spec_rows["bids"] == 0
        spec_rows.loc[no_bid, "_pack"] = rep_pack.loc[spec_rows.loc[no_bid, "lot_id"].map(rep)].to_numpy()
        base = _ceiling_basis(spec_rows, rep)
        lots = pd.DataFrame({"lot_id": list(rep), "rep_spec_id": list(rep.values())})
        names = rows.groupby("lot_id", sort=False)["lot"].first()
        lots["molecule"] = lots["lot_id"].map(names)
        lots["dosage_form"] = lots["molecule"].map(dosage_form_of)
        lots["share_class"] = lots["lot_id"].map(rows.groupby("lot_id", sort=False)["share_class"].first())
        specs = spec_rows.rename(columns={"ceiling": "ceiling_price"})
        specs["pack_size"] = np.where(specs["_pack"] > 0, specs["_pack"], 1).astype(np.int64)
        if specs["ceiling_price"].isna().any():
            # ceilings follow the NDRC ratios whatever the replay's normalisation (README of the data)
            factors = comparable_factors(specs, lots, rule_set.with_overrides(normalisation="power"))
            known = specs.set_index("spec_id")["ceiling_price"]
            missing = specs["ceiling_price"].isna()
            base_ids = specs.loc[missing, "lot_id"].map(base).to_numpy()
            specs.loc[missing, "ceiling_price"] = (known.loc[base_ids].to_numpy() * factors.loc[base_ids].to_numpy()
                                                   / factors.loc[specs.loc[missing, "spec_id"]].to_numpy())
        spec_id_of = dict(zip(zip(specs["lot_id"], specs["spec"], specs["_pack"], strict=True), specs["spec_id"],
                              strict=True))
        rows["spec_id"] = [spec_id_of[k] for k in zip(rows["lot_id"], rows["spec"], rows["_pack"], strict=True)]
        rows = rows.drop(columns="_pack")
        ref = rows.groupby("spec_id")["pre_median_price"].median()
        specs["reference_price"] = specs["spec_id"].map(ref)

        suppliers = rows.drop_duplicates("supplier_id")[["supplier_id", "firm", "firm_short", "originator"]]
        suppliers = pd.DataFrame({"supplier_id": suppliers["supplier_id"], "name": suppliers["firm"],
                                  "originator": suppliers["originator"],
                                  "group_id": suppliers["firm_short"].map(lambda s: "G" + supplier_id_of(s)[1:])})
        bids = rows[["supplier_id", "spec_id", "bid_price"]].rename(columns={"bid_price": "price"})

        demand, lot_regions = _demand(rows, vol, specs, rep, lots, rule_set)
        region_ids = sorted({r for regions in lot_regions.values() for r in regions})
        regions = _regions(region_ids, provinces)
        raw = {"lots": lots[["lot_id", "molecule", "dosage_form", "rep_spec_id", "share_class"]],
               "specs": specs[["spec_id", "lot_id", "strength", "unit", "pack_size", "fill_volume",
                               "ceiling_price", "reference_price"]],
               "suppliers": suppliers, "bids": bids, "regions": regions, "demand": demand}
        config = {"name": f"published batch {batch}", "currency": "CNY",
                  "description": f"Published results of batch {batch}, replayed under {preset}",
                  "rules": {"preset": preset, "overrides": dict(overrides or {})}}
        tender = tender_from_frames(raw, config, files={"bids": files[0], "demand": files[1]},
                                    config_file=f"{files[0]} (batch {batch})", source=files[0])
        out.append(PublishedBatch(str(batch), preset, tender, rows.reset_index(drop=True), lot_regions,
                                  skipped, partial))
    return out


def _ceiling_basis(spec_rows: pd.DataFrame, rep: dict[str, str]) -> dict[str, str]:
    """Spec holding each lot's published ceiling; clears (sets NaN) the ceilings to be derived.

    A batch publishes one ceiling per lot when every lot bid on several strengths carries one identical
    figure (batch 2); the figure is then the ceiling of the lot's smallest strength (bid or not; in a lot
    with packs, in its most-bid pack), and every other spec's ceiling follows by the content ratio (and
    the pack ratio). Otherwise (batch 4) each bid spec has its own
    ceiling and the specs without a bid derive theirs from the representative spec.
    """
    bid_specs = spec_rows[spec_rows["bids"] > 0]
    per_lot_stats = bid_specs.groupby("lot_id", sort=False).agg(strengths=("strength", "nunique"),
                                                                 ceilings=("ceiling", "nunique"))
    multi = per_lot_stats[per_lot_stats["strengths"] > 1]
    per_lot = len(multi) > 0 and bool((multi["ceilings"] == 1).all())
    if not per_lot:
        return dict(rep)
    figure = bid_specs.groupby("lot_id", sort=False)["ceiling"].first()
    # with packs, the smallest strength in its most-bid pack (the spec its volume goes to)
    smallest = spec_rows[spec_rows["_vol_target"]].sort_values(
        ["lot_id", "strength", "fill_volume"], kind="stable").drop_duplicates("lot_id")
    spec_rows["ceiling"] = np.nan
    spec_rows.loc[smallest.index, "ceiling"] = smallest["lot_id"].map(figure).to_numpy()
    return dict(zip(smallest["lot_id"], smallest["spec_id"], strict=True))


def _parsed(spec: str) -> dict:
    p = parse_spec(spec)
    return {"strength": p.strength, "unit": p.unit, "fill_volume": np.nan if p.fill_volume is None
            else p.fill_volume}


def _demand(rows: pd.DataFrame, vol: pd.DataFrame | None, specs: pd.DataFrame, rep: dict[str, str],
            lots: pd.DataFrame, rule_set) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    winners = rows.groupby("lot_id")["won"].sum()
    share_class = dict(zip(lots["lot_id"], lots["share_class"], strict=True))
    target = specs[specs["_vol_target"]]  # one spec per (lot, spec string): where its volume goes
    spec_id_of = dict(zip(zip(target["lot_id"], target["spec"], strict=True), target["spec_id"], strict=True))
    lot_regions: dict = {}
    parts = []
    with_volume: set = set()
    if vol is not None and len(vol):
        v = vol.copy()
        v["spec_id"] = [spec_id_of[k] for k in zip(v["lot_id"], v["spec"], strict=True)]
        for lot_id, province in zip(v["lot_id"], v["province"], strict=True):
            lot_regions.setdefault(lot_id, {})[province] = None
        lot_regions = {k: list(d) for k, d in lot_regions.items()}
        n_won = v["lot_id"].map(winners).fillna(0).astype(int).to_numpy()
        klass = v["lot_id"].map(share_class).to_numpy()
        cache: dict = {}
        share = np.array([cache.setdefault((w, c), rule_set.volume_share(w, c) if w > 0 else 1.0)
                          for w, c in zip(n_won, klass, strict=True)])
        pos = v["agreed_volume_units"].to_numpy(float) > 0
        with_volume = set(v.loc[pos, "lot_id"])
        parts.append(pd.DataFrame({"region_id": v.loc[pos, "province"].to_numpy(),
                                   "spec_id": v.loc[pos, "spec_id"].to_numpy(),
                                   "volume": v.loc[pos, "agreed_volume_units"].to_numpy(float) / share[pos]}))
    for lot_id in lots["lot_id"]:
        if lot_id in with_volume:
            continue
        supplied = [p for cell in rows.loc[rows["lot_id"] == lot_id, "provinces"] for p in cell.split(";")
                    if p.strip()]
        regions = list(dict.fromkeys(p.strip() for p in supplied)) or lot_regions.get(lot_id, [])
        if not regions:
            regions = list(dict.fromkeys(p.strip() for cell in rows["provinces"] for p in cell.split(";")
                                         if p.strip()))
        lot_regions.setdefault(lot_id, regions)
        parts.append(pd.DataFrame({"region_id": regions, "spec_id": rep[lot_id], "volume": 1.0}))
    demand = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["region_id", "spec_id", "volume"])
    return demand, lot_regions


def _regions(region_ids: list[str], provinces: pd.DataFrame | None) -> pd.DataFrame:
    frame = pd.DataFrame({"region_id": region_ids, "name": region_ids})
    if provinces is not None:
        p = provinces.set_index("province")
        known = frame["region_id"].isin(p.index)
        if "name_en" in p:
            frame.loc[known, "name"] = frame.loc[known, "region_id"].map(p["name_en"])
        for src, dst in (("capital_lat", "latitude"), ("capital_lon", "longitude")):
            if src in p:
                frame[dst] = frame["region_id"].map(p[src]).fillna("")
    return frame
