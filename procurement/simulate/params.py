"""Market parameters of a simulation: supplier costs, entry and bidding strategy, as one documented object.

Like :class:`~procurement.rules.ruleset.RuleSet`, a :class:`MarketParams` is immutable and every field
is overridable by name (a scenario's ``[scenarios.NAME.market]`` table); an unknown name is an error that
lists the valid ones. Defaults are calibrated to the published statistics of national batches 2 and 4
(``scripts/calibrate.py`` prints the fit; vbp-rules.md section 9.1): a grid search over cost median, lot
and firm log-sd, markup and originator premium on the rebuilt batches, then the point of the best region
that puts the three headline statistics inside their published ranges (median lowest bid / ceiling
0.24-0.34: 0.30; winners per lot 3.1-3.5: 3.15 and 3.26; share of bids winning 61-70%: 68% and 69%).
The originator premium (2.2) is the minimum of the same loss along that one parameter (100 draws per batch,
other parameters fixed: loss 0.65, 0.45, 0.40, 0.43 and 0.64 at 2.0, 2.1, 2.2, 2.3 and 2.5): originators
win 6.4% and 5.8% of their bids against 16.7% (4 of 24) and 5.0% (2 of 40) published; the other statistics
do not move. Those rates rest on 64 bids, so they pin the premium only loosely.

Cost model (per potential bid ``i`` of lot ``l``, relative to the ceiling of the bid's spec)::

    cost_i / ceiling_i = cost_median * exp(lot_sigma * z_l + firm_sigma * z_i) * (originator_premium if originator)

with ``z_l, z_i`` iid standard normal: a log-normal with a common lot factor (API and process cost of the
molecule) and a firm factor. Entry: a supplier bids only if its expected profit is positive, i.e. its
strategy finds a price at or under the ceiling with ``(price - cost) * P(win) > entry_cost * ceiling``
(``P(win)`` is the strategy's own estimate; for the non-strategic strategies the cap-table ratio
``cap(n) / n`` of the lot's potential bidders), and, with ``use_capacity``, its capacity covers the volume
one winner of the lot is expected to supply (capacity split evenly over the lots the supplier may bid).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from procurement.overrides import apply_overrides

UNPROFITABLE = ("abstain", "quote")


def _param(doc: str, choices: tuple[str, ...] | None = None, **kw: Any) -> Any:
    return field(metadata={"doc": doc, "choices": choices}, **kw)


@dataclass(frozen=True)
class MarketParams:
    """Supplier cost, entry and strategy parameters of a simulated market (see the module docstring)."""

    cost_median: float = _param(
        "Median unit cost of a generic maker relative to its spec's ceiling (log-normal median).",
        default=0.27)
    lot_sigma: float = _param(
        "Log-sd of the cost factor common to every bidder of a lot (molecule-level cost).", default=0.7)
    firm_sigma: float = _param(
        "Log-sd of the firm-specific cost factor.", default=0.25)
    originator_premium: float = _param(
        "Cost multiple of the originator / reference product (higher cost base and price floor).",
        default=2.2)
    strategy: str = _param(
        "Bidding strategy, by registered name (see procurement.simulate.strategies.strategy_names()).",
        default="cost-plus")
    markup: float = _param(
        "Median markup over cost of the `cost-plus` strategy (price = cost x (1 + markup)).", default=0.5)
    markup_sigma: float = _param(
        "Log-sd of the firm-specific markup of `cost-plus`.", default=0.5)
    entry_cost: float = _param(
        "Fixed cost of bidding as a fraction of the ceiling per unit of expected volume; a supplier "
        "enters only if (price - cost) x P(win) > entry_cost x ceiling. 0 = any positive margin enters.",
        default=0.0)
    unprofitable: str = _param(
        "What a supplier without a profitable valid price does: `abstain` (no bid) or `quote` (submits "
        "its cost-plus price, above the ceiling: an invalid bid, as seen in the published tables).",
        choices=UNPROFITABLE, default="abstain")
    use_capacity: bool = _param(
        "Suppliers whose capacity (suppliers.csv) cannot cover one winner's expected volume of a lot do "
        "not bid on it (capacity split evenly over the lots the supplier may bid).", default=False)
    grid_points: int = _param(
        "Price-grid points of the `best-response` and `equilibrium` strategies.", default=61)
    samples: int = _param(
        "Opponent profiles drawn per lot by `best-response` / `equilibrium` (common random numbers).",
        default=120)
    iterations: int = _param(
        "Maximum iterations of the `equilibrium` strategy's fictitious play.", default=12)
    opponents: str = _param(
        "Strategy the `best-response` bidder assumes the other bidders play.", default="cost-plus")

    # ---- parameters ------------------------------------------------------------------------------

    @classmethod
    def parameter_fields(cls) -> list[dataclasses.Field]:
        """The overridable parameters, in documentation order."""
        return list(dataclasses.fields(cls))

    def parameters(self) -> dict[str, Any]:
        """Every parameter and its current value."""
        return {f.name: getattr(self, f.name) for f in self.parameter_fields()}

    def with_overrides(self, **overrides: Any) -> MarketParams:
        """Return a copy with parameters overridden, each value checked.

        Raises:
            UnknownNameError: a name that is not a market parameter, or an unknown strategy name.
            ValueError: a value of the wrong type or out of range.
        """
        return apply_overrides(self, overrides, kind="market parameter", convert=_convert,
                               fields=self.parameter_fields())


def _convert(f: dataclasses.Field, current: Any, value: Any) -> Any:
    name = f.name
    choices = f.metadata.get("choices")
    if choices:
        if value not in choices:
            raise ValueError(f"market parameter {name}: {value!r} is not one of {', '.join(choices)}")
        return value
    if name in ("strategy", "opponents"):
        from procurement.simulate.strategies import get_strategy

        if not isinstance(value, str):
            raise ValueError(f"market parameter {name}: expected a strategy name, got {value!r}")
        get_strategy(value)  # raises UnknownNameError listing the valid names
        return value
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ValueError(f"market parameter {name}: expected true or false, got {value!r}")
        return value
    if isinstance(current, int):
        if not isinstance(value, int) or isinstance(value, bool) or value < 2:
            raise ValueError(f"market parameter {name}: expected a whole number >= 2, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError(f"market parameter {name}: expected a finite number >= 0, got {value!r}")
    if name in ("cost_median", "originator_premium") and value <= 0:
        raise ValueError(f"market parameter {name}: expected a number > 0, got {value!r}")
    return float(value)
