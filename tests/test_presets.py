"""Known-answer tests of every preset's distinctive rule, worked out by hand in each docstring.

Prices are comparable prices on the representative spec (the declared price equals it: one spec).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from procurement.cli import main
from procurement.rules.presets import format_presets_markdown, get_preset, preset_names
from procurement.rules.ruleset import RuleSet
from procurement.rules.selection import explain, select_lot

ROOT = Path(__file__).resolve().parent.parent
ALL = ["pilot-4+7", "ext-2019"] + [f"batch{n}" for n in range(2, 13)]


def select(name_or_rules, prices, ceiling=10.0, groups=None, low_price_applies=True):
    rules = get_preset(name_or_rules) if isinstance(name_or_rules, str) else name_or_rules
    p = np.asarray(prices, float)
    ceilings = np.full(len(p), ceiling) if np.isscalar(ceiling) else np.asarray(ceiling, float)
    group = None if groups is None else np.asarray(groups)
    return select_lot(rules, p, ceilings, p, np.arange(len(p)), group, low_price_applies=low_price_applies)


def test_every_batch_is_registered_and_cites_sources():
    assert set(ALL) <= set(preset_names())
    for name in ALL:
        preset = get_preset(name)
        assert preset.title and preset.sources
        assert re.search(r"\[(C|C2|D|U)[\] ,:]", preset.description), name
        assert all(re.match(r"\[(C|C2|D|U|C2/U|C as code)\]", s) for s in preset.sources), name


@pytest.mark.parametrize(("name", "table"), [
    ("batch2", {1: 1, 2: 2, 3: 2, 4: 3, 5: 4, 6: 4, 7: 5, 8: 5, 9: 6, 30: 6}),
    ("batch3", {3: 2, 8: 6, 9: 7, 10: 8, 12: 8, 30: 8}),
    ("batch4", {3: 2, 8: 6, 12: 9, 13: 10, 40: 10}),
    ("batch9", {4: 3, 13: 10}),
    ("batch10", {1: 1, 3: 2, 4: 3, 5: 3, 6: 3, 7: 4, 8: 5, 10: 6, 13: 8, 15: 9, 16: 10, 40: 10}),
    ("batch11", {6: 3, 16: 10}),
    ("ext-2019", {1: 1, 2: 2, 3: 3, 10: 3}),
    ("pilot-4+7", {1: 1, 3: 1, 20: 1}),
])
def test_cap_table_edges(name, table):
    preset = get_preset(name)
    assert {n: preset.max_winners(n) for n in table} == table


def test_cap_counts_every_bidder():
    """batch4: 1.0, 1.1, 1.2 valid and a 99999 'no acceptable price' quote: 4 bidders -> cap 3, all three
    valid bids win (emtricitabine/tenofovir in batch 4). Counting valid bids only: cap(3) = 2."""
    sel = select("batch4", [1.0, 1.1, 1.2, 99999], ceiling=2.0)
    assert sel.cap_bidders == 4 and sel.valid_bidders == 3 and sel.cap == 3
    assert list(sel.won) == [True, True, True, False]
    sel = select(get_preset("batch4").with_overrides(cap_bidders="valid"), [1.0, 1.1, 1.2, 99999], ceiling=2.0)
    assert list(sel.won) == [True, True, False, False]


def test_fifty_percent_route():
    """batch4, 3 bidders -> cap 2: 1.0 and 1.9 shortlisted; 1.9 > 1.8 x 1.0 but cuts 52.5% against a
    4.0 ceiling and wins; against a 3.0 ceiling (cut 36.7%) it fails every condition."""
    assert list(select("batch4", [1.0, 1.9, 2.0], ceiling=4.0).won) == [True, True, False]
    sel = select("batch4", [1.0, 1.9, 2.0], ceiling=3.0)
    assert list(sel.won) == [True, False, False]
    assert "fails every price condition" in explain(get_preset("batch4"), sel, 1, 1.9, 3.0, 1.9)


def test_ten_fen_route_and_batch10_oral_solids_only():
    """batch4 (50% route off): 0.02, 0.09, 0.2, 0.5 -> cap 3; fuse 0.036; 0.09 wins by <= 0.10 yuan.
    batch10 applies the 0.10 route to oral solids only: for an injection 0.09 fails Rule 1 and revives
    at the sole Rule-1 winner's price x 1.8 = 0.036."""
    sel = select(get_preset("batch4").with_overrides(min_cut_vs_ceiling=None), [0.02, 0.09, 0.2, 0.5], 1.0)
    assert list(sel.won) == [True, True, False, False] and sel.under_low_price[1]
    oral = select("batch10", [0.02, 0.09, 0.2, 0.5], 1.0, low_price_applies=True)
    assert oral.won[1] and not oral.revived[1]
    injection = select("batch10", [0.02, 0.09, 0.2, 0.5], 1.0, low_price_applies=False)
    assert injection.revived[1] and injection.award_comparable[1] == pytest.approx(0.036)
    assert get_preset("batch10").low_price_dosage_forms == ("oral-solid", "modified-release", "oral-powder")


def test_batch10_no_fifty_percent_route_revival_at_highest_rule1_price():
    """6 bidders, ceiling 10. batch4: cap 4; 2.5 and 3.0 win outright by the 50% route at their own price.
    batch10: cap 3 (N-3 table); 1.0 and 1.5 win by Rule 1; 2.5 (> 1.8) revives at the highest Rule-1 price
    1.5; 3.0 is beyond the cap."""
    prices = [1.0, 1.5, 2.5, 3.0, 3.2, 3.4]
    b4 = select("batch4", prices)
    assert list(b4.won) == [True, True, True, True, False, False] and not b4.revived.any()
    b10 = select("batch10", prices)
    assert list(b10.won) == [True, True, True, False, False, False]
    assert list(b10.revived) == [False, False, True, False, False, False]
    assert b10.award_comparable[2] == pytest.approx(1.5)
    assert "revival" in explain(get_preset("batch10"), b10, 2, 2.5, 10.0, 2.5)


def test_batch10_revival_after_a_sole_winner():
    """3 bidders -> cap 2: 1.0 sole Rule-1 winner; 2.0 > 1.8 revives at 1.8 x 1.0 = 1.8."""
    sel = select("batch10", [1.0, 2.0, 2.2])
    assert list(sel.won) == [True, True, False]
    assert sel.revived[1] and sel.award_comparable[1] == pytest.approx(1.8)


def test_batch11_anchor_half_the_mean():
    """0.1, 0.4, 0.5, 2.0, 2.0 (injection, ceiling 5): mean 1.0, anchor max(0.1, 0.5) = 0.5, fuse 0.9;
    cap(5) = 3: 0.1, 0.4, 0.5 all win by Rule 1. Under batch10 (anchor = lowest 0.1, fuse 0.18) 0.4 and
    0.5 only revive, paid 1.8 x 0.1 = 0.18."""
    prices = [0.1, 0.4, 0.5, 2.0, 2.0]
    b11 = select("batch11", prices, 5.0, low_price_applies=False)
    assert b11.anchor == pytest.approx(0.5)
    assert list(b11.won) == [True, True, True, False, False] and not b11.revived.any()
    b10 = select("batch10", prices, 5.0, low_price_applies=False)
    assert list(b10.revived) == [False, True, True, False, False]
    assert b10.award_comparable[2] == pytest.approx(0.18)


def test_batch11_ten_fen_exemption_for_oral_solids():
    """0.01, 0.02, 0.1, 0.1, 0.3: mean 0.106, anchor max(0.01, 0.053) = 0.053, fuse 0.0954; cap 3.
    Oral solid: 0.1 (rank 3) is exempt at <= 0.10 and wins by Rule 1; injection: it fails Rule 1 and
    revives at the highest Rule-1 price 0.02."""
    prices = [0.01, 0.02, 0.1, 0.1, 0.3]
    oral = select("batch11", prices, 1.0, low_price_applies=True)
    assert oral.anchor == pytest.approx(0.053)
    assert list(oral.won) == [True, True, True, False, False] and not oral.revived.any()
    injection = select("batch11", prices, 1.0, low_price_applies=False)
    assert injection.revived[2] and injection.award_comparable[2] == pytest.approx(0.02)


def test_batch11_related_parties_count_as_one():
    """Groups A, A, B, C, D: 4 bidders -> cap 3 (batch-10 table); A's second bid does not compete, so
    the winners are A (1.0), B and C."""
    sel = select("batch11", [1.0, 1.05, 1.1, 1.2, 1.3], groups=["A", "A", "B", "C", "D"])
    assert sel.valid_bidders == 4 and sel.cap_bidders == 4 and sel.cap == 3
    assert list(sel.counted) == [True, False, True, True, True]
    assert list(sel.won) == [True, False, True, True, False]
    assert "related party" in explain(get_preset("batch11"), sel, 1, 1.05, 10.0, 1.05)


def test_batch12_double_anchor_and_no_volume_winner():
    """0.2 and nine bids of 1.0 (ceiling 2): mean 0.92, population SD 0.24. Anchor max(0.2, 0.68) = 0.68,
    fuse 1.224: the 1.0 bids pass. 0.2 < mean - 2 SD = 0.44: it wins without volume and takes no slot,
    so the cap of 6 (10 bidders) goes to six 1.0 bids: 7 winners."""
    sel = select("batch12", [0.2] + [1.0] * 9, 2.0)
    assert sel.anchor == pytest.approx(0.68)
    assert sel.no_volume is not None and list(np.flatnonzero(sel.no_volume)) == [0]
    assert int(sel.won.sum()) == 7 and sel.won[0] and list(sel.won[1:7]) == [True] * 6
    assert "without agreed volume" in explain(get_preset("batch12"), sel, 0, 0.2, 2.0, 0.2)


def test_ext2019_three_lowest_win_without_price_conditions():
    """4 bidders: the 3 lowest win though 10 > 1.8 x 1; no price condition applies."""
    sel = select("ext-2019", [1.0, 5.0, 10.0, 20.0], 30.0)
    assert list(sel.won) == [True, True, True, False]
    assert "no price condition" in explain(get_preset("ext-2019"), sel, 2, 10.0, 30.0, 10.0)


def test_pilot_single_lowest_wins():
    sel = select("pilot-4+7", [3.0, 1.0, 2.0, 40.0], 30.0)
    assert list(sel.won) == [False, True, False, False]


def test_highest_bid_loses_option():
    """Off by default; on, the highest of 2 valid bids loses although the cap (2) would admit it."""
    assert list(select("batch7", [1.0, 1.1]).won) == [True, True]
    sel = select(get_preset("batch7").with_overrides(highest_bid_loses=True), [1.0, 1.1, 99999], 5.0)
    assert list(sel.won) == [True, False, False]


def test_shares_and_terms_by_preset():
    assert [get_preset("batch7").volume_share(w, "special") for w in (1, 2, 3, 5)] == [0.3, 0.4, 0.5, 0.5]
    assert [get_preset("batch4").volume_share(w, "special") for w in (1, 4)] == [0.4, 0.7]
    assert [get_preset("ext-2019").volume_share(w) for w in (1, 2, 3, 4)] == [0.5, 0.6, 0.7, 0.7]
    assert [get_preset("ext-2019").contract_term(w) for w in (1, 2, 3)] == [1.0, 2.0, 2.0]
    assert [get_preset("batch2").contract_term(w) for w in (1, 2, 3, 4)] == [1.0, 2.0, 2.0, 3.0]
    assert get_preset("batch10").contract_term(2) == 3.0
    assert get_preset("batch10").min_cut_vs_ceiling is None


def test_default_ruleset_keeps_old_behaviour():
    """A bare RuleSet still counts valid bids only and has every new option off."""
    rules = RuleSet(name="plain")
    assert rules.cap_bidders == "valid" and rules.no_volume_below_sd is None and not rules.highest_bid_loses


def test_rules_show_prints_every_parameter():
    result = CliRunner().invoke(main, ["rules", "show", "batch11"])
    assert result.exit_code == 0, result.output
    for name in RuleSet.parameter_fields():
        assert f"  {name.name} = " in result.output
    assert "[C2]" in result.output
    listing = CliRunner().invoke(main, ["rules", "list"])
    assert all(name in listing.output for name in ALL)


def test_rules_doc_is_current():
    doc = ROOT / "docs" / "rules.md"
    assert doc.read_text(encoding="utf-8") == format_presets_markdown(), (
        "docs/rules.md is stale: regenerate it with "
        "python -c 'from procurement.rules.presets import format_presets_markdown as f; "
        "open(\"docs/rules.md\", \"w\").write(f())'")


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(ALL),
       prices=st.lists(st.floats(0.01, 3.0, allow_nan=False), min_size=1, max_size=12),
       groups=st.lists(st.sampled_from("ABCDE"), min_size=12, max_size=12),
       oral=st.booleans())
def test_selection_invariants(name, prices, groups, oral):
    """Every preset: winners are valid and counted; winners taking a slot never exceed the cap; revived
    winners are winners paid at most their own comparable price; ranks are 1..valid bidders."""
    sel = select(name, prices, 2.0, groups=groups[:len(prices)], low_price_applies=oral)
    assert not (sel.won & ~(sel.valid & sel.counted)).any()
    slot_takers = sel.won & ~(sel.no_volume if sel.no_volume is not None else False)
    assert slot_takers.sum() <= sel.cap
    assert not (sel.revived & ~sel.won).any()
    paid = sel.award_comparable[sel.won]
    assert (paid <= np.asarray(prices)[sel.won] * (1 + 1e-9)).all()
    assert sorted(sel.rank[sel.rank > 0]) == list(range(1, sel.valid_bidders + 1))
