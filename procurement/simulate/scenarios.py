"""Scenario files: named overrides of rule and market parameters, crossed with seeds by a sweep.

Format (``tenders/<name>/scenarios.toml``; documented in docs/simulate.md)::

    [defaults]                 # optional: applies to every scenario, each scenario may override
    mode = "rules"             # rules (default) or any mode of procurement.api.run
    preset = "batch4"          # optional base preset; default: the tender's own rules

    [defaults.market]          # market parameters (procurement.simulate.params.MarketParams)
    strategy = "cost-plus"

    [scenarios.baseline]
    description = "The tender's rules."

    [scenarios.no-cut-route]
    description = "Batch-10 style: no 50%-cut route."
    rules = { min_cut_vs_ceiling = "none" }
    market = { markup = 0.3 }

Scenarios run in file order. Every problem (unknown key, preset, rule or market parameter, bad value) is
reported at once, as :class:`~procurement.errors.TenderFileErrors` naming file and key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from procurement.errors import InputProblem, TenderFileErrors, UnknownNameError
from procurement.model.tender import Tender
from procurement.rules.ruleset import RuleSet
from procurement.simulate.params import MarketParams

SCENARIO_FILE = "scenarios.toml"
_KEYS = ("description", "preset", "mode", "rules", "market")


@dataclass(frozen=True)
class Scenario:
    """One named scenario.

    Attributes:
        name: scenario name (a sweep's ``scenario`` column).
        description: free text.
        preset: base rule preset; None = the tender's rules (including its tender.toml overrides).
        rules: rule-parameter overrides on the base.
        market: market-parameter overrides on the defaults of :class:`MarketParams`.
        mode: ``rules`` or another mode of :func:`procurement.api.run`; None = the sweep's mode.
    """

    name: str
    description: str = ""
    preset: str | None = None
    rules: Mapping[str, Any] = field(default_factory=dict)
    market: Mapping[str, Any] = field(default_factory=dict)
    mode: str | None = None

    def resolve(self, tender: Tender) -> tuple[RuleSet, MarketParams]:
        """The scenario's rule set and market parameters for ``tender``.

        Raises:
            UnknownNameError: unknown preset, rule or market parameter, or strategy.
            ValueError: a value of the wrong type or out of range.
        """
        from procurement.rules.presets import get_preset

        base = get_preset(self.preset) if self.preset else tender.rules
        return base.with_overrides(**dict(self.rules)), MarketParams().with_overrides(**dict(self.market))


BASELINE = Scenario("baseline", "The tender's own rules, default market parameters.")


def load_scenarios(source: str | Path | Mapping | Iterable[Scenario] | None, *,
                   tender: Tender | None = None, file: str = SCENARIO_FILE) -> list[Scenario]:
    """Read scenarios from a TOML file, a parsed mapping, or pass a list of :class:`Scenario` through.

    Args:
        source: path of a scenarios.toml, a mapping with its content, scenarios, or None (one baseline).
        tender: when given, every scenario is resolved against it so that bad names fail here.
        file: name used in problem reports for a mapping source.

    Returns:
        Scenarios in file order.

    Raises:
        TenderFileErrors: every problem found, each naming file and key.
        FileNotFoundError: the file does not exist.
    """
    if source is None:
        return [BASELINE]
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"scenario file not found: {path}")
        file = str(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise TenderFileErrors([InputProblem(file, None, None, None, f"not valid TOML: {exc}")]) from None
    elif isinstance(source, Mapping):
        data = source
    else:
        scenarios = list(source)
        if not all(isinstance(s, Scenario) for s in scenarios):
            raise TypeError("scenarios must be a file, a mapping or Scenario objects")
        _check(scenarios, tender, file, [])
        return scenarios
    problems: list[InputProblem] = []
    for key in data:
        if key not in ("defaults", "scenarios"):
            problems.append(InputProblem(file, None, key, None, "unknown top-level key; expected "
                                                                "[defaults] and [scenarios.NAME] tables"))
    defaults = data.get("defaults", {})
    if not isinstance(defaults, Mapping):
        problems.append(InputProblem(file, None, "defaults", None, "expected a table"))
        defaults = {}
    table = data.get("scenarios", {})
    if not isinstance(table, Mapping) or not table:
        problems.append(InputProblem(file, None, "scenarios", None,
                                     "expected at least one [scenarios.NAME] table"))
        table = {}
    scenarios = []
    for name, body in table.items():
        if not isinstance(body, Mapping):
            problems.append(InputProblem(file, None, f"scenarios.{name}", None, "expected a table"))
            continue
        merged = _merge(defaults, body, f"scenarios.{name}", file, problems)
        scenarios.append(Scenario(name=str(name), description=str(merged.get("description", "")),
                                  preset=merged.get("preset"), rules=merged.get("rules", {}),
                                  market=merged.get("market", {}), mode=merged.get("mode")))
    _check(scenarios, tender, file, problems)
    return scenarios


def _merge(defaults: Mapping, body: Mapping, where: str, file: str, problems: list[InputProblem]) -> dict:
    out: dict[str, Any] = {}
    for part, label in ((defaults, "defaults"), (body, where)):
        for key, value in part.items():
            if key not in _KEYS:
                problems.append(InputProblem(file, None, f"{label}.{key}", None,
                                             f"unknown key; valid: {', '.join(_KEYS)}"))
                continue
            if key in ("rules", "market"):
                if not isinstance(value, Mapping):
                    problems.append(InputProblem(file, None, f"{label}.{key}", None,
                                                 "expected a table of parameter = value"))
                    continue
                out[key] = {**out.get(key, {}), **value}
            else:
                if not isinstance(value, str):
                    problems.append(InputProblem(file, None, f"{label}.{key}", repr(value), "expected a string"))
                    continue
                out[key] = value
    return out


def _check(scenarios: list[Scenario], tender: Tender | None, file: str, problems: list[InputProblem]) -> None:
    from procurement import api
    from procurement.rules.presets import get_preset

    seen = set()
    for s in scenarios:
        where = f"scenarios.{s.name}"
        if s.name in seen:
            problems.append(InputProblem(file, None, where, None, "duplicate scenario name"))
        seen.add(s.name)
        if s.mode is not None and s.mode not in api.MODES:
            problems.append(InputProblem(file, None, f"{where}.mode", s.mode,
                                         f"unknown mode; valid: {', '.join(api.MODES)}"))
        if s.preset is not None:
            try:
                get_preset(s.preset)
            except UnknownNameError as exc:
                problems.append(InputProblem(file, None, f"{where}.preset", s.preset, str(exc)))
                continue
        # without a tender, names and values are checked against a default rule set (same parameters)
        base = get_preset(s.preset) if s.preset else (tender.rules if tender is not None else RuleSet("check"))
        for key, value in s.rules.items():
            try:
                base = base.with_overrides(**{key: value})
            except (UnknownNameError, ValueError) as exc:
                problems.append(InputProblem(file, None, f"{where}.rules.{key}", repr(value), str(exc)))
        params = MarketParams()
        for key, value in s.market.items():
            try:
                params = params.with_overrides(**{key: value})
            except (UnknownNameError, ValueError) as exc:
                problems.append(InputProblem(file, None, f"{where}.market.{key}", repr(value), str(exc)))
    if problems:
        raise TenderFileErrors(problems, file)


def parse_seeds(spec: int | str | Iterable[int]) -> list[int]:
    """Seeds of a sweep: an int ``N`` (0..N-1), ``"A:B"`` (A..B-1), ``"A:B:STEP"``, ``"a,b,c"`` or a list.

    Raises:
        ValueError: malformed specification, negative or duplicate seeds, or none at all.
    """
    if isinstance(spec, bool):
        raise ValueError(f"bad seeds {spec!r}")
    if isinstance(spec, int):
        seeds = list(range(spec))
    elif isinstance(spec, str):
        text = spec.strip()
        try:
            if ":" in text:
                parts = [int(p) for p in text.split(":")]
                if len(parts) not in (2, 3):
                    raise ValueError
                seeds = list(range(*parts))
            elif "," in text:
                seeds = [int(p) for p in text.split(",") if p.strip()]
            else:
                seeds = list(range(int(text)))
        except ValueError:
            raise ValueError(f"bad seeds {spec!r}: expected N, A:B, A:B:STEP or a,b,c") from None
    else:
        seeds = [int(s) for s in spec]
    if not seeds:
        raise ValueError(f"no seeds in {spec!r}")
    if min(seeds) < 0:
        raise ValueError(f"seeds must be >= 0: {spec!r}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"duplicate seeds in {spec!r}")
    return seeds
