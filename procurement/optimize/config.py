"""Options of optimal mode: the ``[optimize]`` section of tender.toml, checked at load.

Every option has a default, a one-line meaning (rendered in ``docs/optimize.md``) and a checker; an
unknown key or a bad value is an :class:`~procurement.errors.InputProblem` reported together with every
other problem of the tender.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from procurement.errors import InputProblem

PRICINGS = ("auto", "pay-as-bid", "uniform", "revival")
ALLOCATIONS = ("primary", "split")
BACKUPS = ("auto", "required", "none")
CIRCULATIONS = ("auto", "distance", "table", "none")
SOLVERS = ("highs", "cbc")


def _opt(doc: str, **kw: Any) -> Any:
    return field(metadata={"doc": doc}, **kw)


@dataclass(frozen=True)
class OptimizeOptions:
    """Options of the optimal-mode MIP (``[optimize]`` in tender.toml); see docs/optimize.md."""

    pricing: str = _opt("Award-price rule: `pay-as-bid` (VBP), `uniform` (every winner of a lot paid the "
                        "highest accepted comparable price), `revival` (batch 10: bids failing the price "
                        "conditions may win at the highest Rule-1 price); `auto` = `revival` if the "
                        "preset has a revival route, else `pay-as-bid`.", default="auto")
    allocation: str = _opt("`primary`: one primary supplier per (lot, region) (VBP); `split`: continuous "
                           "shares of each region with a minimum award size.", default="primary")
    min_award: float = _opt("Smallest share of a region's agreed volume a supplier may get under "
                            "`split` (0 < min_award <= 1).", default=0.1)
    backup: str = _opt("`auto`: a backup per (lot, region) whenever the lot has 2+ winners and the preset "
                       "assigns backups (set after solving, cost-neutral); `required`: every (lot, region) "
                       "must get a backup distinct from its supplier(s) (a model constraint); `none`.",
                       default="auto")
    min_winners: int | str = _opt("Minimum winners per lot: a whole number >= 1, or `rules` = as many as "
                                  "the rules procedure selects.", default=1)
    max_winners: int | str = _opt("Maximum winners per lot: a whole number >= 1, or `preset` = the preset's "
                                  "cap table.", default="preset")
    winner_needs_region: bool = _opt("Every winner must supply at least one region.", default=True)
    share: float | str = _opt("Agreed share of reported demand: `rules` = the preset's share for the number "
                              "of winners the rules procedure selects (same volumes in both modes), or a "
                              "fraction in (0, 1].", default="rules")
    share_cap_lot: float | None = _opt("Largest share of a lot's agreed volume one supplier may get.",
                                       default=None)
    group_share_cap_lot: float | None = _opt("Largest share of a lot's agreed volume one related-party "
                                             "group may get.", default=None)
    share_cap_tender: float | None = _opt("Largest share of the tender's agreed volume (smallest units) one "
                                          "supplier may get.", default=None)
    group_share_cap_tender: float | None = _opt("Largest share of the tender's agreed volume one group may "
                                                "get.", default=None)
    capacity: bool = _opt("Respect suppliers.csv capacity (shared by all lots of a supplier).", default=True)
    min_suppliers_per_region: int = _opt("Minimum distinct primary suppliers over the lots of each region "
                                         "(supply security; 0 = off; capped by the region's lots).",
                                         default=0)
    circulation: str = _opt("Circulation cost: `distance` (procurement.analysis.logistics from "
                            "latitudes/longitudes), `table` (costs.csv), `none`; `auto` = `table` if "
                            "costs.csv is given, else `distance` if every site has coordinates, else `none`.",
                            default="auto")
    risk_weight: float = _opt("Weight (currency per unit) of the supply-risk term: the largest single "
                              "supplier's agreed volume in each lot; 0 = off.", default=0.0)
    solver: str = _opt("`highs` (in process, default) or `cbc` (bundled with PuLP).", default="highs")
    time_limit: float | None = _opt("Solver time limit in seconds; none = no limit.", default=None)
    mip_gap: float = _opt("Relative MIP gap at which the solver stops (1e-3 = within 0.1% of the best "
                          "bound; 0 = prove optimality).", default=1e-3)

    def with_overrides(self, **changes: Any) -> OptimizeOptions:
        """Return a copy with some options changed (None values are ignored), checked.

        Raises:
            ValueError: an unknown option or a bad value.
        """
        changes = {k: v for k, v in changes.items() if v is not None}
        problems: list[InputProblem] = []
        raw = {**{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}, **changes}
        out = parse_options(raw, "options", problems)
        if problems:
            raise ValueError("; ".join(f"{p.column}: {p.message}" for p in problems))
        return out


OPTION_NAMES = tuple(f.name for f in dataclasses.fields(OptimizeOptions))


def _fraction(value: Any, allow_none: bool) -> tuple[Any, str | None]:
    if value is None or (allow_none and isinstance(value, str) and value.lower() in ("none", "off")):
        return (None, None) if allow_none else (None, "expected a fraction in (0, 1]")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or not 0 < value <= 1:
        return (None, "expected a fraction in (0, 1]" + (" or \"none\"" if allow_none else ""))
    return (float(value), None)


def parse_options(section: Any, file: str, problems: list[InputProblem]) -> OptimizeOptions:
    """Check the ``[optimize]`` section; append problems; return the options (defaults where bad).

    Args:
        section: the mapping under ``[optimize]`` (or None when absent).
        file: file name used in problem reports.
        problems: list the problems are appended to.

    Returns:
        :class:`OptimizeOptions`.
    """
    if section is None:
        return OptimizeOptions()
    if not isinstance(section, Mapping):
        problems.append(InputProblem(file, None, "optimize", repr(section), "expected a table"))
        return OptimizeOptions()
    values: dict[str, Any] = {}

    def bad(key: str, value: Any, message: str) -> None:
        problems.append(InputProblem(file, None, f"optimize.{key}", value if isinstance(value, str)
                                     else repr(value), message))

    for key, value in section.items():
        if key not in OPTION_NAMES:
            bad(key, None, f"unknown key; valid keys here: {', '.join(OPTION_NAMES)}")
            continue
        choices = {"pricing": PRICINGS, "allocation": ALLOCATIONS, "backup": BACKUPS,
                   "circulation": CIRCULATIONS, "solver": SOLVERS}.get(key)
        if choices:
            if value not in choices:
                bad(key, value, f"unknown {key}; valid: {', '.join(choices)}")
            else:
                values[key] = value
        elif key in ("winner_needs_region", "capacity"):
            if not isinstance(value, bool):
                bad(key, value, "expected true or false")
            else:
                values[key] = value
        elif key in ("min_winners", "max_winners"):
            word = "rules" if key == "min_winners" else "preset"
            if value == word or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
                values[key] = value
            else:
                bad(key, value, f"expected a whole number >= 1 or \"{word}\"")
        elif key == "share":
            if value == "rules":
                values[key] = value
            else:
                converted, message = _fraction(value, allow_none=False)
                if message:
                    bad(key, value, message + " or \"rules\"")
                else:
                    values[key] = converted
        elif key in ("share_cap_lot", "group_share_cap_lot", "share_cap_tender", "group_share_cap_tender",
                     "min_award"):
            converted, message = _fraction(value, allow_none=key != "min_award")
            if message:
                bad(key, value, message)
            else:
                values[key] = converted
        elif key == "min_suppliers_per_region":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                bad(key, value, "expected a whole number >= 0")
            else:
                values[key] = value
        elif key in ("risk_weight", "time_limit", "mip_gap"):
            if key == "time_limit" and (value is None or (isinstance(value, str) and value.lower() == "none")):
                values[key] = None
            elif isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
                    or value < 0 or (key == "time_limit" and value <= 0):
                bad(key, value, "expected a finite number " + ("> 0" if key == "time_limit" else ">= 0"))
            else:
                values[key] = float(value)
    return OptimizeOptions(**values)


def options_markdown() -> str:
    """The ``[optimize]`` options as a Markdown table (for docs/optimize.md)."""
    lines = ["| option | default | meaning |", "|---|---|---|"]
    for f in dataclasses.fields(OptimizeOptions):
        lines.append(f"| `{f.name}` | `{f.default!r}` | {f.metadata['doc']} |")
    return "\n".join(lines)
