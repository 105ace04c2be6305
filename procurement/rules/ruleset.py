"""Rule parameters of a VBP tender as one immutable, documented object.

A preset (``batch4``, ...) is a :class:`RuleSet` with its parameters set; a tender may override any of
them by name. Behaviour that is not a number (how the price-spread anchor is formed, whether related
firms count as one bidder, the revival route) is chosen by named options, so a new batch is a parameter
set plus, at most, a small named hook in the engine, never a copy of the engine.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from procurement.errors import UnknownNameError
from procurement.overrides import apply_overrides

NORMALISATIONS = ("power", "linear", "none")
ANCHORS = ("lowest", "max-lowest-mean-fraction", "max-lowest-mean-minus-sd")
CAP_BIDDERS = ("valid", "all")
SELECTION_ORDERS = ("cap-then-conditions", "conditions-then-cap")
TIE_BREAKS = ("supplier-id", "declared-price")
REVIVALS = ("none", "highest-rule1-price")


def _param(doc: str, choices: tuple[str, ...] | None = None, **kw: Any) -> Any:
    return field(metadata={"doc": doc, "choices": choices}, **kw)


@dataclass(frozen=True)
class RuleSet:
    """The parameters of one national-batch rule family.

    Fields without a ``doc`` entry (``name``, ``title``, ``description``, ``sources``, ``overrides``)
    describe the preset; every other field is a rule parameter that tender.toml may override under
    ``[rules.overrides]``. Tables indexed by a count (winner caps, shares, terms) list the value for
    1, 2, 3, ... and the last entry holds for every larger count.
    """

    name: str
    title: str = ""
    description: str = ""
    sources: tuple[str, ...] = ()
    overrides: tuple[tuple[str, Any], ...] = ()

    normalisation: str = _param(
        "How bids on different specs are made comparable: `power` (NDRC 2011-2452 ratios: content "
        "base^log2 ratio, fill volume, pack count), `linear` (per mg), `none` (raw unit prices).",
        choices=NORMALISATIONS, default="power")
    content_ratio_base: float = _param(
        "Price ratio for a doubling of content per unit (含量差比).", default=1.7)
    fill_ratio_base: float = _param(
        "Price ratio for a doubling of fill volume at equal concentration (装量差比).", default=1.9)
    pack_ratio_base: float = _param(
        "Pack price ratio for a doubling of units per pack (包装数量差比).", default=1.95)
    count_related_as_one: bool = _param(
        "Firms of one related-party group count as one bidder, and only the group's best bid competes.",
        default=False)
    winner_caps: tuple[int, ...] = _param(
        "Maximum winners (最多入围企业数) for 1, 2, 3, ... bidders (counted as cap_bidders says); the last "
        "entry holds beyond.",
        default=(1, 2, 2, 3, 4, 4, 5, 6, 7, 8, 9, 9, 10))
    cap_bidders: str = _param(
        "Bidders N that enter the cap table: `all` firms that bid (over-ceiling bids and 99999 'no acceptable "
        "price' quotes included; the batch-2 and batch-4 results need it [D]), or `valid` bids only.",
        choices=CAP_BIDDERS, default="valid")
    fuse_ratio: float | None = _param(
        "A winner's comparable price must be <= this multiple of the anchor (1.8x fuse); None disables.",
        default=1.8)
    anchor: str = _param(
        "Base of the fuse: `lowest` valid comparable price, `max-lowest-mean-fraction` = "
        "max(lowest, anchor_mean_fraction x mean of valid comparable prices) (batch 11), or "
        "`max-lowest-mean-minus-sd` = max(lowest, mean - anchor_sd_multiple x SD of valid comparable "
        "prices) (batch-12 double anchor; population SD [U]).",
        choices=ANCHORS, default="lowest")
    anchor_mean_fraction: float = _param(
        "Fraction of the mean used by the `max-lowest-mean-fraction` anchor.", default=0.5)
    anchor_sd_multiple: float = _param(
        "Standard deviations below the mean used by the `max-lowest-mean-minus-sd` anchor.", default=1.0)
    no_volume_below_sd: float | None = _param(
        "Batch 12: a valid bid below mean - this many SD still wins, but with 0% agreed volume and without "
        "taking a shortlist slot; None disables.", default=None)
    highest_bid_loses: bool = _param(
        "The highest-priced valid bid of a lot (of >= 2 valid bidders) cannot win: one reading of the "
        "garbled batch 7-9 extra rule (max/min price-ratio exclusion, mechanics unpublished [U]).",
        default=False)
    low_price_threshold: float | None = _param(
        "Alternative condition: comparable price per unit <= this amount (0.10 yuan); None disables.",
        default=0.10)
    low_price_dosage_forms: tuple[str, ...] = _param(
        "Dosage-form classes the low-price route applies to; empty = every class.", default=())
    min_cut_vs_ceiling: float | None = _param(
        "Alternative condition: declared price at least this fraction below its spec's ceiling "
        "(0.5 = 50%); None disables.", default=0.5)
    selection_order: str = _param(
        "`cap-then-conditions`: the cheapest `cap` valid bids are shortlisted and each must meet a price "
        "condition; `conditions-then-cap`: the cheapest `cap` bids among those meeting a condition win.",
        choices=SELECTION_ORDERS, default="cap-then-conditions")
    tie_break: str = _param(
        "Order of bids with equal comparable price (official tie rule unpublished [U]): "
        "`supplier-id` (ascending id), or `declared-price` (lower declared price, then id).",
        choices=TIE_BREAKS, default="supplier-id")
    revival: str = _param(
        "Second route for bids failing the price conditions: `none`, or `highest-rule1-price` (batch 10: "
        "win by accepting the highest Rule-1 winning price, or revival_sole_winner_ratio x a sole "
        "winner's price).", choices=REVIVALS, default="none")
    revival_sole_winner_ratio: float = _param(
        "Revival price as a multiple of a sole Rule-1 winner's comparable price.", default=1.8)
    volume_shares: tuple[tuple[str, tuple[float, ...]], ...] = _param(
        "Agreed share of reported demand by number of winners (1, 2, 3, >=4), per share class of lots.",
        default=(("general", (0.5, 0.6, 0.7, 0.8)), ("special", (0.4, 0.5, 0.6, 0.7))))
    contract_terms: tuple[float, ...] = _param(
        "Contract term in years by number of winners (1, 2, 3, >=4); a lot's term_years overrides.",
        default=(1.0, 1.0, 2.0, 3.0))
    first_pick_regions: int = _param(
        "Regions the cheapest winner takes before the one-per-round picking starts.", default=1)
    backup_supplier: bool = _param(
        "Assign a backup supplier (备供) per region, distinct from its primary supplier.", default=True)

    # ---- derived lookups -------------------------------------------------------------------------

    def max_winners(self, valid_bidders: int) -> int:
        """Winner cap for a number of valid bidders (0 bidders -> 0)."""
        if valid_bidders <= 0:
            return 0
        return int(_lookup(self.winner_caps, valid_bidders))

    def volume_share(self, winners: int, share_class: str = "general") -> float:
        """Agreed share of reported demand for a lot with ``winners`` winners (0 winners -> 0)."""
        if winners <= 0:
            return 0.0
        shares = dict(self.volume_shares)
        if share_class not in shares:
            raise UnknownNameError("share class", share_class, list(shares))
        return float(_lookup(shares[share_class], winners))

    def contract_term(self, winners: int) -> float:
        """Contract term in years for a lot with ``winners`` winners (0 winners -> 0)."""
        return float(_lookup(self.contract_terms, winners)) if winners > 0 else 0.0

    @property
    def share_classes(self) -> list[str]:
        return [k for k, _ in self.volume_shares]

    # ---- parameters ------------------------------------------------------------------------------

    @classmethod
    def parameter_fields(cls) -> list[dataclasses.Field]:
        """The overridable rule parameters, in documentation order."""
        return [f for f in dataclasses.fields(cls) if "doc" in f.metadata]

    def parameters(self) -> dict[str, Any]:
        """Every rule parameter and its current value."""
        return {f.name: getattr(self, f.name) for f in self.parameter_fields()}

    def with_overrides(self, **overrides: Any) -> RuleSet:
        """Return a copy with parameters overridden, each value checked and converted.

        Raises:
            UnknownNameError: a name that is not a rule parameter (lists the valid ones).
            ValueError: a value of the wrong type or out of range.
        """
        return apply_overrides(self, overrides, kind="rule parameter", convert=_convert,
                               fields=self.parameter_fields(), record="overrides")


def _lookup(table: tuple, count: int) -> Any:
    return table[min(count, len(table)) - 1]


def _convert(f: dataclasses.Field, current: Any, value: Any) -> Any:
    name = f.name
    choices = f.metadata.get("choices")
    if choices:
        if value not in choices:
            raise ValueError(f"rule parameter {name}: {value!r} is not one of {', '.join(choices)}")
        return value
    optional = "None" in str(f.type)
    if value is None or (optional and isinstance(value, str) and value.lower() in ("none", "off")):
        if optional:
            return None
        raise ValueError(f"rule parameter {name}: may not be None")
    if name == "volume_shares":
        if not isinstance(value, dict) or not value:
            raise ValueError(f"rule parameter {name}: expected a table of share class -> list of shares")
        out = []
        for cls_name, shares in value.items():
            seq = _number_tuple(name, shares, float)
            if any(not 0 < s <= 1 for s in seq):
                raise ValueError(f"rule parameter {name}.{cls_name}: shares must be in (0, 1]")
            out.append((str(cls_name), seq))
        return tuple(out)
    if isinstance(current, bool) or f.type == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"rule parameter {name}: expected true or false, got {value!r}")
        return value
    if isinstance(current, tuple):
        if name == "low_price_dosage_forms":
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"rule parameter {name}: expected a list of dosage-form names")
            return tuple(value)
        kind = int if name in ("winner_caps",) else float
        seq = _number_tuple(name, value, kind)
        if any(v <= 0 for v in seq):
            raise ValueError(f"rule parameter {name}: entries must be > 0")
        return seq
    if isinstance(current, int) and not isinstance(current, bool):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"rule parameter {name}: expected a whole number >= 0, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"rule parameter {name}: expected a finite number > 0, got {value!r}")
    return float(value)


def _number_tuple(name: str, value: Any, kind: type) -> tuple:
    if not isinstance(value, list | tuple) or not value:
        raise ValueError(f"rule parameter {name}: expected a non-empty list of numbers, got {value!r}")
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise ValueError(f"rule parameter {name}: {v!r} is not a number")
        if kind is int and int(v) != v:
            raise ValueError(f"rule parameter {name}: {v!r} is not a whole number")
        out.append(kind(v))
    return tuple(out)
