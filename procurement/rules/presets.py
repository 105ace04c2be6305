"""Registry of named rule presets, one per national batch.

Presets: ``pilot-4+7``, ``ext-2019``, ``batch2`` ... ``batch12``. Each preset's ``description`` and
``sources`` cite the tags of ../shared/domain/vbp-rules.md: [C] confirmed (official document or image of
it), [C2] secondary source, [D] derived from published data, [U] unconfirmed (a documented assumption,
kept as an explicit parameter with the most plausible default). ``procure rules show NAME`` prints a
preset with every parameter; :func:`format_presets_markdown` renders docs/rules.md from this registry.

Data finding that changed ``batch4`` (and holds for ``batch2``): the cap table is entered with every firm
that bid, over-ceiling and 99999 "no acceptable price" quotes included (``cap_bidders = "all"``). Counting
only valid bids under-predicts 10 batch-4 winners (e.g. emtricitabine/tenofovir: 4 bidders, 3 valid, 3
winners = cap(4)) and 2 batch-2 winners; counting every bidder explains them, at the cost of 3 losers
(candesartan, gabapentin, terbinafine) that behave as if only valid bids counted; see docs/replay.md [D].
"""

from __future__ import annotations

import dataclasses

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



def _family(name: str, title: str, description: str, sources: tuple[str, ...], base: RuleSet | None = None,
            **params: object) -> RuleSet:
    """A preset: ``base``'s parameters (or the RuleSet defaults) with ``params`` changed."""
    description = description.strip()
    if base is None:
        return RuleSet(name=name, title=title, description=description, sources=sources, **params)
    return dataclasses.replace(base, name=name, title=title, description=description, sources=sources,
                               overrides=(), **params)


#: Cap tables (最多入围企业数) for 1, 2, 3, ... bidders; the last entry holds beyond.
CAPS_BATCH2 = (1, 2, 2, 3, 4, 4, 5, 5, 6)
CAPS_BATCH3 = (1, 2, 2, 3, 4, 4, 5, 6, 7, 8)
CAPS_BATCH4 = (1, 2, 2, 3, 4, 4, 5, 6, 7, 8, 9, 9, 10)
CAPS_BATCH10 = (1, 2, 2, 3, 3, 3, 4, 5, 6, 6, 7, 8, 8, 9, 9, 10)
#: Agreed-volume shares for 1, 2, 3, >=4 winners.
SHARES_GENERAL = (0.5, 0.6, 0.7, 0.8)
SHARES_SPECIAL = (0.4, 0.5, 0.6, 0.7)
SHARES_BATCH7_SPECIAL = (0.3, 0.4, 0.5)
#: Dosage-form classes (as written by procurement.io.published) counted as oral solids.
ORAL_SOLIDS = ("oral-solid", "modified-release", "oral-powder")

_VALIDITY = "A bid is valid at or under its spec's ceiling [U universal clause]. "
_NORMALISE = ("Bids are compared by unit comparable price on the lot's representative spec, NDRC 差比价 "
              "ratios 1.7 (content), 1.9 (fill volume), 1.95 (pack count) per doubling [C2]. ")
_CAP_ALL = ("The cap table is entered with every firm that bid, over-ceiling bids included [D: batch-2 and "
            "batch-4 results; counting valid bids only misses 12 winners]. ")
_PICKING = ("Provinces: the cheapest winner takes one first, then one per round in price order; backups "
            "distinct from the primary [D from the 31-province splits; C2 batch-7 procedure]. ")
_TIES = "Ties: the official tie-breaker is unpublished [U]; ties break by supplier id. "

PILOT = register(_family(
    "pilot-4+7", "4+7 pilot (Dec 2018, 11 cities): one winner per molecule",
    "With >= 3 qualified bidders the single lowest valid bid wins the whole pilot market [C2]. Lots with "
    "1-2 bidders went to a cross-lot pre-award list (top <= 7 by reduction) and price negotiation [C2]; "
    "that negotiation is not modelled: the lowest valid bid is taken as the winner [U]. No price-spread "
    "condition. Ties: the firm with larger 11-city sales wins [C2]; sales are not in the tender tables, so "
    "ties break by supplier id [U]. Agreed volume 60-70% of the pilot cities' use [C]; 60% for the "
    "single winner [U]. Term about 1 year [U]. One winner: no province picking, no backup. " + _VALIDITY,
    ("[C2] woyaojiankangwang.com (4+7 procedure)", "[C] ecns.cn 2019-01-18 (60-70% of use)",
     "[D] ccpic/datasite sheet 第一轮集采4+7 (25 of 31 molecules won)"),
    winner_caps=(1,), fuse_ratio=None, low_price_threshold=None, min_cut_vs_ceiling=None,
    volume_shares=(("general", (0.6,)),), contract_terms=(1.0,), backup_supplier=False))

EXT2019 = register(_family(
    "ext-2019", "Batch-1 extension (Sept 2019, 25 provinces): the 3 lowest win",
    "Ceiling = the 4+7 winning price of the product [D]. The 3 lowest valid bidders win, all of them when "
    "<= 3 bid; no N-1 rule (3 bidders can give 3 winners) [C: screenshot of the official text; D: "
    "observed bidders -> winners]. No price-spread condition [C]. Agreed share 50/60/70% for 1/2/3 "
    "winners; term 1/2/2 years [C as code, ccpic proc_percentage, tender_period]. " + _NORMALISE
    + _VALIDITY + _TIES + _PICKING,
    ("[C] 规则摘要 sheet of ccpic/datasite vbp.xlsx (extension rule text, A2)",
     "[C as code] ccpic vbp/models.py proc_percentage, tender_period",
     "[D] ccpic sheet 第一轮集采联盟地区: 102 bids, 60 winners"),
    winner_caps=(1, 2, 3), fuse_ratio=None, low_price_threshold=None, min_cut_vs_ceiling=None,
    volume_shares=(("general", (0.5, 0.6, 0.7)),), contract_terms=(1.0, 2.0, 2.0)))

BATCH2 = register(_family(
    "batch2", "National batch 2 (Jan 2020)",
    "Maximum winners 表2 最多入围企业数 1,2,2,3,4,4,5,5,6 for 1..>=9 bidders [C, image of the official "
    "table]. " + _CAP_ALL + "The cheapest bids up to the cap are shortlisted, and each must meet one price "
    "condition: <= 1.8x the lowest comparable price, or <= 0.10 yuan per unit [U for the exact batch-2 "
    "list], or a cut >= 50% against its ceiling [D: 7 batch-2 winners qualify only that way, so the route "
    "existed]. Batch 2 publishes one ceiling per lot, read as the smallest strength's (see "
    "procurement.io.published) [D]. Agreed share 50/60/70/80% for 1/2/3/>=4 winners [C as code]. Term "
    "1/2/2/3 years for 1/2/3/>=4 winners [C as code, ccpic tender_period]. " + _NORMALISE + _VALIDITY
    + _TIES + _PICKING,
    ("[C] 规则摘要 sheet of ccpic/datasite vbp.xlsx (表2, A17)",
     "[C as code] ccpic vbp/models.py proc_percentage, tender_period",
     "[D] ../shared/data/vbp batch 2: 158 bids, 100 winners, 25/32 lots at the cap"),
    winner_caps=CAPS_BATCH2, cap_bidders="all", volume_shares=(("general", SHARES_GENERAL),),
    contract_terms=(1.0, 2.0, 2.0, 3.0)))

BATCH3 = register(_family(
    "batch3", "National batch 3 (Aug 2020): the batch-4 rules with at most 8 winners",
    "Cap at most 8 winners [C2: raised 'from 8 to 10' in batch 4]; the full table is unpublished: the "
    "batch-4 table truncated at 8 (1,2,2,3,4,4,5,6,7,8) [U; D: observed maxima 8->6, 12->8, 30->8 fit]. "
    + _CAP_ALL.replace("[D:", "[U, as in batches 2 and 4; D:") + "Price conditions 1.8x lowest, 0.10 "
    "yuan, 50% cut vs ceiling [D: 47 of 191 winners qualify only through the 50% route]. Agreed share "
    "50/60/70/80%, special anti-infective class 40/50/60/70% [C as code]. Term 1/1/2/3 years; named "
    "injectables 1 year via a lot's term_years [C as code]. " + _NORMALISE + _VALIDITY + _TIES + _PICKING,
    ("[C2] yyoutdoors.com (cap raised from 8 to 10 in batch 4)",
     "[C as code] ccpic vbp/models.py proc_percentage, tender_period",
     "[D] ccpic sheet 第三轮集采: 312 bids, 191 winners"),
    winner_caps=CAPS_BATCH3, cap_bidders="all"))

BATCH4 = register(_family(
    "batch4", "National batch 4 (Feb 2021); the batch 4-9 rule family",
    "Maximum winners by bidders: 表1 最多入围企业数 1,2,2,3,4,4,5,6,7,8,9,9,10 for 1..>=13 [C, image of "
    "the official table]. " + _CAP_ALL + "The cheapest bids up to the cap are shortlisted, and each must "
    "meet one price condition: comparable price <= 1.8x the lowest, or <= 0.10 yuan per unit, or a cut "
    ">= 50% against its ceiling [C2 batch-7 text; D: all 158 batch-4 winners meet one]. Agreed share "
    "50/60/70/80% for 1/2/3/>=4 winners, 40/50/60/70% for the special anti-infective class [C as code, "
    "ccpic proc_percentage]. Contract term 1/1/2/3 years for 1/2/3/>=4 winners, named injectables 1 year "
    "via a lot's term_years [C as code; C2 batch 7]. " + _NORMALISE + _VALIDITY + _TIES + _PICKING,
    ("[C] 规则摘要 sheet of ccpic/datasite vbp.xlsx (表1)", "[C2] flcube.com p=30512 (batch 7)",
     "[C as code] ccpic vbp/models.py Tender.proc_percentage, tender_period",
     "[D] ../shared/data/vbp batch 4: 225 bids, 158 winners, 41/45 lots at the cap"),
    winner_caps=CAPS_BATCH4, cap_bidders="all"))

BATCH5 = register(_family(
    "batch5", "National batch 5 (Jun 2021): the batch-4 rules",
    "Same rules as batch 4 [U: batch 9 is confirmed to use the batch-4 table, batches 5-8 presumably do "
    "too]. " + BATCH4.description,
    ("[C2] baipharm.chemlinked.com batch-10 article (batch 9 = batch-4 table)",) + BATCH4.sources,
    base=BATCH4))

BATCH6 = register(_family(
    "batch6", "National batch 6 (Nov 2021, insulin): the batch-4 rules [U]",
    "First biologic tender: insulins bid by brand, in groups [C]; average cut 48% measured against the "
    "ceiling [C2]. The group mechanics are not in the dossier, so the batch-4 selection rules apply per lot "
    "[U]; model each insulin group as a lot. " + BATCH4.description,
    ("[C] formacion-profesional-a-distancia.com 2021-11-28", "[C2] equalocean.com 2021-11-30")
    + BATCH4.sources, base=BATCH4))

BATCH7 = register(_family(
    "batch7", "National batch 7 (Jul 2022): batch-4 rules, special anti-infective shares 30/40/50%",
    "Cap 'remains at 10', batch-4 table [C2]. Conditions: <= 1.8x lowest, or <= 0.10 yuan, or a declared "
    "cut >= 50.00% vs the ceiling [C2 flcube p=30512]. A second, garbled condition (a cross-lot max/min "
    "price-ratio exclusion of the highest bids, dropped in batch 10) has unpublished mechanics [U]: "
    "parameter highest_bid_loses, off by default because the [C2] cap table lets both of 2 bidders win. "
    "Special antibiotics/antifungals (meropenem, micafungin, tigecycline, cefepime): share 30/40/50% for "
    "1/2/>=3 winners, share class `special` [C2 chemlinked]. Provinces by rank-order choice, backups "
    "distinct from own primaries [C2]. " + _CAP_ALL.replace("[D:", "[U, as in batches 2 and 4; D:")
    + _NORMALISE + _VALIDITY + _TIES,
    ("[C2] flcube.com p=30512 (batch-7 conditions and picking)",
     "[C2] baipharm.chemlinked.com 7th VBP (special shares, terms)",
     "[C2] wxredian.com batch-10 consultation (TOP4/Bottom2 rule dropped)"),
    base=BATCH4, volume_shares=(("general", SHARES_GENERAL), ("special", SHARES_BATCH7_SPECIAL))))

BATCH8 = register(_family(
    "batch8", "National batch 8 (Apr 2023): the batch-4/7 conditions",
    "As batch 7 (batch-4 table, 1.8x / 0.10 / 50% routes) [U: presumed; C2 batch 9 keeps the table]; "
    "share class `special` = 40/50/60/70% [U]. " + _CAP_ALL.replace("[D:", "[U, as in batches 2 and 4; D:")
    + _NORMALISE + _VALIDITY + _TIES + _PICKING,
    ("[C2] baipharm.chemlinked.com batch-10 article", "[C2] flcube.com p=30512"), base=BATCH4))

BATCH9 = register(_family(
    "batch9", "National batch 9 (Nov 2023): the batch-4 table",
    "Batch 9 uses the batch-4 cap table [C2]; conditions as batch 7 [U]; share class `special` = "
    "40/50/60/70% [U]. " + _CAP_ALL.replace("[D:", "[U, as in batches 2 and 4; D:") + _NORMALISE
    + _VALIDITY + _TIES + _PICKING,
    ("[C2] baipharm.chemlinked.com batch-10 article (batch 9 = batch-4 table)",), base=BATCH4))

BATCH10 = register(_family(
    "batch10", "National batch 10 (Dec 2024): N-3 cap table, no 50% route, revival",
    "Cap table 1,2,2,3,3,3,4,5,6,6,7,8,8,9,9,10 for 1..>=16 bidders ('N-3, max 10') [C2]. The 50% route "
    "is removed [C2]. Rule 1: <= 1.8x the lowest comparable price, or under the absolute low-price "
    "threshold: 0.10 yuan for oral solids [C2]; the injection thresholds are unpublished [U], so the "
    "low-price route applies to oral-solid classes only (low_price_dosage_forms). Rule 2 (revival): a "
    "shortlisted bid failing Rule 1 still wins by accepting the highest Rule-1 winning price, or 1.8x a "
    "sole Rule-1 winner's price [C2 flcube p=14910]. Contract to 31 Dec 2027: about 3 years whatever the "
    "winner count [C2]. Agreed share 50/60/70/80% [C2 batches 2-10]. "
    + _CAP_ALL.replace("[D:", "[U, as in batches 2 and 4; D:") + _NORMALISE + _VALIDITY + _TIES + _PICKING,
    ("[C2] baipharm.chemlinked.com batch-10 results (cap table)", "[C2] flcube.com p=14910 (rules 1, 2)",
     "[C2] wxredian.com batch-10 consultation (N-3, max 10)"),
    base=BATCH4, winner_caps=CAPS_BATCH10, min_cut_vs_ceiling=None, revival="highest-rule1-price",
    low_price_dosage_forms=ORAL_SOLIDS, contract_terms=(3.0,)))

BATCH11 = register(_family(
    "batch11", "National batch 11 (Oct 2025, 'anti-involution'): price-spread anchor, related parties",
    "Anchor = max(lowest, 0.5 x mean of the valid bids' comparable prices); bids above 1.8x the anchor are "
    "knocked out, except oral solids at <= 0.10 yuan per unit [C2 gmteight 311055; flcube p=41082]. "
    "Related firms (group members, MAHs sharing a contract manufacturer) count as one bidder and only the "
    "group's best bid competes [C2]. Shortlist table reverts to the batch-10 model [C2]. Revival: a "
    "'two-round revival' [C2]; modelled as the batch-10 revival at the highest Rule-1 price [U]. No 50% "
    "route [U, as batch 10]. Agreed share 'generally 80%', lower with <= 3 winners: 50/60/70/80% [U]; "
    "special classes (antimicrobials, glucocorticoids) 40/50/60/70% [U]. Contract to 31 Dec 2028, about 3 "
    "years [C2]. Brand-level demand and several suppliers per province are not modelled [C2]. "
    + _CAP_ALL.replace("[D:", "[U, as in batches 2 and 4; D:") + _NORMALISE + _VALIDITY + _TIES + _PICKING,
    ("[C2] gmteight.com 311055; gateio post (anchor)", "[C2] flcube.com p=41082 (0.10 exemption, table)",
     "[C2] reportify.ai 1167613502173614080 (related parties, below-cost)", "[C2] reportify 1166907902192128000"),
    base=BATCH10, anchor="max-lowest-mean-fraction", anchor_mean_fraction=0.5, count_related_as_one=True))

BATCH12 = register(_family(
    "batch12", "National batch 12 (2026): double anchor, zero-volume low bids [C2/U]",
    "Double anchor = max(lowest, mean - 1 SD of the valid bids' comparable prices); bids above 1.8x it are "
    "knocked out [C2/U: third-party digest citing nhsa.gov.cn 2026-07-31]. A valid bid below mean - 2 SD "
    "still wins, with 0% agreed volume and without taking a shortlist slot [C2/U]; the engine flags it "
    "(no_volume in the selection) but its province allocation is not yet volume-free. Population SD [U]. "
    "Unselected valid reference drugs may be selected without volume if they cut into range [C2/U]: not "
    "modelled. Otherwise as batch 11: related parties as one bidder, 0.10 yuan exemption for oral "
    "solids, batch-10 table, revival [U]. "
    + _CAP_ALL.replace("[D:", "[U, as in batches 2 and 4; D:") + _NORMALISE + _VALIDITY + _TIES + _PICKING,
    ("[C2/U] third-party digest of batch-12 rules (nhsa.gov.cn/art/2026/7/31/art_14_21646.html; "
     "yicai.com/news/103301776.html)",),
    base=BATCH11, anchor="max-lowest-mean-minus-sd", anchor_sd_multiple=1.0, no_volume_below_sd=2.0))


def format_presets_markdown() -> str:
    """Render every registered preset, its sources and all parameters as Markdown (docs/rules.md)."""
    out = ["# Rule presets", "",
           "Generated from the registry by `procurement.rules.presets.format_presets_markdown()`; "
           "`tests/test_presets.py` checks that this file is current. Source tags as in "
           "../shared/domain/vbp-rules.md: [C] confirmed, [C2] secondary source, [D] derived from "
           "published data, [U] unconfirmed (an explicit parameter with the most plausible default).", "",
           "| preset | title |", "|---|---|"]
    out += [f"| `{name}` | {get_preset(name).title} |" for name in preset_names()]
    out += ["", "## Parameters", ""]
    out += [f"- `{f.name}`: {f.metadata['doc']}" for f in RuleSet.parameter_fields()]
    for name in preset_names():
        preset = get_preset(name)
        out += ["", f"## `{name}`: {preset.title}", "", preset.description, "", "Sources:", ""]
        out += [f"- {src}" for src in preset.sources]
        out += ["", "| parameter | value |", "|---|---|"]
        for key, value in preset.parameters().items():
            out.append(f"| `{key}` | `{_show(value)}` |")
    return "\n".join(out) + "\n"


def _show(value: object) -> str:
    if isinstance(value, tuple) and value and isinstance(value[0], tuple):
        return "; ".join(f"{k}: {_show(v)}" for k, v in value)
    if isinstance(value, tuple):
        return ", ".join(_show(v) for v in value) if value else "(none)"
    return repr(value) if isinstance(value, str) else str(value)
