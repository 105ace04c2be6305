"""The validated tender: typed frames plus the rules configuration. No file I/O, no solver."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from procurement.rules.ruleset import RuleSet

#: Province pick policies of rank-order allocation (see procurement.rules.allocation).
PICK_POLICIES = ("largest-volume", "nearest", "random")


@dataclass(frozen=True, eq=False)
class Tender:
    """A complete, validated tender.

    Build one with :func:`procurement.load_tender` (from a folder) or
    :func:`procurement.model.validate.tender_from_frames` (from pandas frames); both validate every
    table. A ``Tender`` is never mutated: :meth:`with_rules` and :meth:`replace` return new ones.

    Attributes:
        name: tender name.
        currency: currency of every price (e.g. ``CNY``).
        lots, specs, suppliers, bids, regions, demand: typed frames, columns as in
            :mod:`procurement.model.schema`; ``bids`` carries an extra ``lot_id`` column.
        rules: the resolved rule set (preset plus overrides).
        pick_policy: province pick policy, one of :data:`PICK_POLICIES`.
        seed: seed of the ``random`` pick policy (and of any other randomness of a run).
        description: free text.
        source: folder the tender was loaded from, if any.
        extra: tables beyond the core six that a later stage may use (e.g. cost tables), by name.
    """

    name: str
    currency: str
    lots: pd.DataFrame
    specs: pd.DataFrame
    suppliers: pd.DataFrame
    bids: pd.DataFrame
    regions: pd.DataFrame
    demand: pd.DataFrame
    rules: RuleSet
    pick_policy: str = "largest-volume"
    seed: int = 0
    description: str = ""
    source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def replace(self, **changes: Any) -> Tender:
        """Return a copy with some fields replaced (frames are shared, never mutated)."""
        return dataclasses.replace(self, **changes)

    def with_rules(self, preset: str | None = None, **overrides: Any) -> Tender:
        """Return a copy under another preset and/or with rule parameters overridden.

        Args:
            preset: registered preset name; None keeps the current rule set as the base.
            **overrides: rule parameters to change (see ``procure rules show NAME``).

        Raises:
            UnknownNameError: unknown preset or parameter name.
            ValueError: a parameter value of the wrong type or out of range.
        """
        from procurement.rules.presets import get_preset

        base = get_preset(preset) if preset is not None else self.rules
        return self.replace(rules=base.with_overrides(**overrides))

    def __repr__(self) -> str:
        return (f"Tender({self.name!r}: {len(self.lots)} lots, {len(self.specs)} specs, "
                f"{len(self.suppliers)} suppliers, {len(self.bids)} bids, {len(self.regions)} regions, "
                f"rules={self.rules.name!r})")
