"""Name -> value overrides of a frozen parameter dataclass (rule sets, market parameters).

:class:`~procurement.rules.ruleset.RuleSet` and :class:`~procurement.simulate.params.MarketParams` are
immutable, documented parameter objects that a data file may override by name. Both share the same
procedure, implemented once here: every name is checked against the class's overridable fields (an
unknown name is an :class:`~procurement.errors.UnknownNameError` listing the valid ones), every value goes
through the class's own converter (which raises ``ValueError`` for a value of the wrong type or out of
range) and a new object is returned; the original is never changed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from procurement.errors import UnknownNameError

T = TypeVar("T")

#: converter(field, current value, new value) -> the value to store; raises ValueError when bad.
Converter = Callable[[dataclasses.Field, Any, Any], Any]


def apply_overrides(obj: T, overrides: Mapping[str, Any], *, kind: str, convert: Converter,
                    fields: Iterable[dataclasses.Field] | None = None, record: str | None = None) -> T:
    """Return a copy of the frozen dataclass ``obj`` with parameters overridden, each value converted.

    Args:
        obj: a frozen dataclass instance.
        overrides: parameter name -> new value (as written in a data file or passed in Python).
        kind: what a parameter is called in error messages, e.g. ``"rule parameter"``.
        convert: the class's converter, ``convert(field, current_value, value)``.
        fields: the overridable fields; None = every field of the dataclass.
        record: name of a field that keeps the overrides applied so far as a sorted tuple of
            ``(name, value)`` pairs (merged with the new ones); None = not recorded.

    Returns:
        ``obj`` itself when ``overrides`` is empty, else a new instance.

    Raises:
        UnknownNameError: a name that is not an overridable field (the message lists the valid ones).
        ValueError: from ``convert``, a value of the wrong type or out of range.
    """
    if not overrides:
        return obj
    by_name = {f.name: f for f in (dataclasses.fields(obj) if fields is None else fields)}
    converted = {}
    for key, value in overrides.items():
        if key not in by_name:
            raise UnknownNameError(kind, key, list(by_name))
        converted[key] = convert(by_name[key], getattr(obj, key), value)
    changes = dict(converted)
    if record is not None:
        merged = dict(getattr(obj, record))
        merged.update(converted)
        changes[record] = tuple(sorted(merged.items()))
    return dataclasses.replace(obj, **changes)
