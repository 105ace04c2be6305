"""Registry of named rule presets, one per national batch family.

Source tags follow ../shared/domain/vbp-rules.md: [C] confirmed (official document or image of it),
[C2] secondary source, [D] derived from published data, [U] unconfirmed (a documented assumption).
"""

from __future__ import annotations

from procurement.errors import UnknownNameError
from procurement.rules.ruleset import RuleSet

_REGISTRY: dict[str, RuleSet] = {}


def register(rule_set: RuleSet) -> RuleSet:
    """Add a preset to the registry (its name must be new) and return it."""
    if rule_set.name in _REGISTRY:
        raise ValueError(f"preset {rule_set.name!r} is already registered")
    _REGISTRY[rule_set.name] = rule_set
    return rule_set


def get_preset(name: str) -> RuleSet:
    """Return the preset registered under ``name``.

    Raises:
        UnknownNameError: no such preset; the message lists the registered names.
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownNameError("rule preset", name, list(_REGISTRY)) from None


def preset_names() -> list[str]:
    """Registered preset names, in registration order."""
    return list(_REGISTRY)


BATCH4 = register(RuleSet(
    name="batch4",
    title="National batch 4 (Feb 2021); the batch 4-9 rule family",
    description=(
        "A bid is valid at or under its spec's ceiling [U universal clause]. Bids are compared by unit "
        "comparable price on the lot's representative spec, NDRC 差比价 ratios 1.7 (content), 1.9 (fill "
        "volume), 1.95 (pack count) per doubling [C2]. Maximum winners by valid bidders: 表1 最多入围企业数 "
        "1,2,2,3,4,4,5,6,7,8,9,9,10 for 1..>=13 [C, image of the official table]. The cheapest bids up to "
        "the cap are shortlisted, and each must meet one price condition: comparable price <= 1.8x the "
        "lowest, or <= 0.10 yuan per unit, or a cut >= 50% against its ceiling [C2 batch-7 text; D: all "
        "158 batch-4 winners meet one]. Ties: the official tie-breaker is unpublished [U]; ties break by "
        "supplier id. Agreed share 50/60/70/80% for 1/2/3/>=4 winners, 40/50/60/70% for the special "
        "anti-infective class [C as code, ccpic proc_percentage]. Contract term 1/1/2/3 years for "
        "1/2/3/>=4 winners, named injectables 1 year via a lot's term_years [C as code; C2 batch 7]. "
        "Provinces: the cheapest winner takes one first, then one per round in price order; backups "
        "distinct from the primary [D from the 31-province splits; C2 batch-7 procedure]."
    ),
    sources=("[C] 规则摘要 sheet of ccpic/datasite vbp.xlsx (表1)", "[C2] flcube.com p=30512 (batch 7)",
             "[C as code] ccpic vbp/models.py Tender.proc_percentage, tender_period",
             "[D] ../shared/data/vbp batch 4: 158 winners, 41/45 lots at the cap"),
))
