"""Unit tests of the rules building blocks: cap lookups, overrides, spec ratios, picking splits."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from procurement.errors import UnknownNameError
from procurement.geo import great_circle_km
from procurement.overrides import apply_overrides
from procurement.rules import get_preset
from procurement.rules.allocation import pick_regions
from procurement.rules.comparable import comparable_factors
from procurement.rules.selection import explain, explain_bids, select_lot, stack_selections

BATCH4 = get_preset("batch4")


@pytest.mark.parametrize(("bidders", "cap"), [(0, 0), (1, 1), (2, 2), (3, 2), (4, 3), (5, 4), (6, 4), (7, 5),
                                              (8, 6), (9, 7), (10, 8), (11, 9), (12, 9), (13, 10), (40, 10)])
def test_batch4_cap_table(bidders, cap):
    assert BATCH4.max_winners(bidders) == cap


def test_shares_and_terms():
    assert [BATCH4.volume_share(w) for w in (0, 1, 2, 3, 4, 9)] == [0.0, 0.5, 0.6, 0.7, 0.8, 0.8]
    assert [BATCH4.volume_share(w, "special") for w in (1, 2, 3, 4)] == [0.4, 0.5, 0.6, 0.7]
    assert [BATCH4.contract_term(w) for w in (1, 2, 3, 4, 7)] == [1, 1, 2, 3, 3]
    with pytest.raises(UnknownNameError, match="valid: general, special"):
        BATCH4.volume_share(2, "antibiotic")


def test_overrides_are_checked():
    changed = BATCH4.with_overrides(fuse_ratio=2, winner_caps=[1, 1, 2], min_cut_vs_ceiling=None,
                                    volume_shares={"general": [0.5, 0.9]})
    assert changed.fuse_ratio == 2.0 and changed.winner_caps == (1, 1, 2)
    assert changed.min_cut_vs_ceiling is None and changed.volume_share(3) == 0.9
    assert BATCH4.fuse_ratio == 1.8  # the preset itself is untouched
    with pytest.raises(UnknownNameError, match="fuse_ratio"):
        BATCH4.with_overrides(fuse=1.5)
    with pytest.raises(ValueError, match="finite number"):
        BATCH4.with_overrides(fuse_ratio="high")
    with pytest.raises(ValueError, match="not one of"):
        BATCH4.with_overrides(anchor="median")
    with pytest.raises(ValueError, match="whole number"):
        BATCH4.with_overrides(winner_caps=[1, 2.5])


def test_overrides_record_every_change():
    """RuleSet keeps the overrides applied so far, merged and sorted; MarketParams shares the helper."""
    from procurement.simulate.params import MarketParams

    twice = BATCH4.with_overrides(fuse_ratio=2).with_overrides(cap_bidders="valid", fuse_ratio=1.5)
    assert twice.overrides == (("cap_bidders", "valid"), ("fuse_ratio", 1.5))
    assert BATCH4.with_overrides() is BATCH4
    assert MarketParams().with_overrides(markup=0.3).markup == 0.3
    with pytest.raises(UnknownNameError, match="unknown market parameter 'mark'; valid: cost_median"):
        MarketParams().with_overrides(mark=0.3)


def test_apply_overrides_on_any_frozen_dataclass():
    @dataclasses.dataclass(frozen=True)
    class Options:
        size: int = 1
        label: str = "a"
        applied: tuple = ()

    def convert(field, current, value):
        if field.name == "size" and not isinstance(value, int):
            raise ValueError(f"option {field.name}: expected a whole number, got {value!r}")
        return value

    base = Options()
    out = apply_overrides(base, {"size": 3}, kind="option", convert=convert, record="applied")
    assert (out.size, out.label, out.applied, base.size) == (3, "a", (("size", 3),), 1)
    only_size = [f for f in dataclasses.fields(Options) if f.name == "size"]
    with pytest.raises(UnknownNameError, match="unknown option 'label'; valid: size"):
        apply_overrides(base, {"label": "b"}, kind="option", convert=convert, fields=only_size)
    with pytest.raises(ValueError, match="expected a whole number"):
        apply_overrides(base, {"size": "3"}, kind="option", convert=convert)
    assert apply_overrides(base, {}, kind="option", convert=convert) is base


def _specs(rows):
    specs = pd.DataFrame(rows, columns=["spec_id", "lot_id", "strength", "pack_size", "fill_volume"])
    lots = pd.DataFrame({"lot_id": ["L"], "rep_spec_id": ["R"]})
    return specs, lots


def test_power_ratios():
    specs, lots = _specs([("R", "L", 20, 7, np.nan), ("H", "L", 10, 7, np.nan), ("D", "L", 40, 7, np.nan),
                          ("P", "L", 20, 14, np.nan)])
    f = comparable_factors(specs, lots, BATCH4)
    assert f["R"] == 1
    assert f["H"] == pytest.approx(1.7)  # half the content: unit price x 1.7 on the 20 mg basis
    assert f["D"] == pytest.approx(1 / 1.7)
    assert f["P"] == pytest.approx(2 / 1.95)  # pack of 14 vs 7: pack price ratio 1.95
    linear = comparable_factors(specs, lots, BATCH4.with_overrides(normalisation="linear"))
    assert linear["H"] == pytest.approx(2.0)
    none = comparable_factors(specs, lots, BATCH4.with_overrides(normalisation="none"))
    assert (none == 1).all()


def test_fill_volume_ratio_at_equal_concentration():
    specs, lots = _specs([("R", "L", 4, 1, 2.0), ("V", "L", 8, 1, 4.0), ("C", "L", 8, 1, 2.0)])
    f = comparable_factors(specs, lots, BATCH4)
    assert f["V"] == pytest.approx(1 / 1.9)  # same 2 mg/ml, double volume: fill rule
    assert f["C"] == pytest.approx(1 / 1.7)  # double concentration: content rule


def _select(rules, prices, ceiling=1.0):
    p = np.asarray(prices, float)
    return select_lot(rules, p, np.full(len(p), ceiling), p, np.arange(len(p)))


def test_low_price_route_and_fuse():
    sel = _select(BATCH4.with_overrides(min_cut_vs_ceiling=None), [0.02, 0.09, 0.2, 0.5], ceiling=1.0)
    # 4 valid -> cap 3; fuse 0.036: only 0.02; 0.09 wins by the 0.10 route; 0.2 fails every condition
    assert list(sel.won) == [True, True, False, False]
    assert list(sel.under_low_price) == [True, True, False, False]


def test_ties_break_by_supplier_order():
    sel = _select(BATCH4, [0.3, 0.3, 0.3])  # 3 valid -> cap 2
    assert list(sel.won) == [True, True, False]
    assert list(sel.rank) == [1, 2, 3]


def test_related_parties_count_once():
    rules = BATCH4.with_overrides(count_related_as_one=True)
    p = np.array([0.3, 0.31, 0.32, 0.33])
    sel = select_lot(rules, p, np.ones(4), p, np.arange(4), group=np.array(["A", "A", "B", "C"]))
    assert sel.valid_bidders == 3 and sel.cap == 2
    assert list(sel.won) == [True, False, True, False]


def test_anchor_mean_fraction():
    rules = BATCH4.with_overrides(anchor="max-lowest-mean-fraction", min_cut_vs_ceiling=None,
                                  low_price_threshold=None)
    sel = _select(rules, [0.1, 0.8, 0.9, 1.0, 1.0], ceiling=2.0)
    # mean 0.76 -> anchor max(0.1, 0.38) = 0.38; fuse 0.684
    assert sel.anchor == pytest.approx(0.38)
    assert list(sel.within_fuse) == [True, False, False, False, False]


def test_revival_pays_highest_rule1_price():
    rules = BATCH4.with_overrides(revival="highest-rule1-price", min_cut_vs_ceiling=None,
                                  low_price_threshold=None)
    sel = _select(rules, [1.0, 1.5, 1.7, 2.5, 3.0], ceiling=5.0)  # cap 4: 1.0, 1.5, 1.7 rule 1; 2.5 revives
    assert list(sel.won) == [True, True, True, True, False]
    assert sel.revived[3] and sel.award_comparable[3] == pytest.approx(1.7)


def test_reasons_of_stacked_lots_match_each_lot():
    """evaluate_bids explains every lot at once (stacked); the texts must be each lot's own."""
    rules = BATCH4.with_overrides(revival="highest-rule1-price", low_price_dosage_forms=[])
    lots = [([0.02, 0.09, 0.2, 0.5, 3.0], 2.0), ([1.0, 1.5, 1.7, 2.5, 3.0, 0.6], 3.2), ([0.3, 0.3, 0.3], 1.0),
            ([], 1.0)]
    sels, prices, ceilings, expected = [], [], [], []
    for bid_prices, ceiling in lots:
        p = np.asarray(bid_prices, float)
        c = np.full(len(p), ceiling)
        sel = select_lot(rules, p, c, p, np.arange(len(p)))
        texts = explain_bids(rules, sel, p, c, p)
        assert texts == [explain(rules, sel, i, p[i], c[i], p[i]) for i in range(len(p))]
        sels.append(sel)
        prices.append(p)
        ceilings.append(c)
        expected += texts
    price, ceiling = np.concatenate(prices), np.concatenate(ceilings)
    assert explain_bids(rules, stack_selections(sels), price, ceiling, price) == expected
    assert expected[0] == ("won: rank 1 of 4 valid, cap 4 for 5 bidders; meets <= 1.8x anchor "
                           "(0.02 <= 0.036) and <= 0.1 per unit and cut 99% >= 50% vs ceiling")
    assert expected[4] == "invalid: price 3 > ceiling 2"
    assert expected[7] == "won by revival at comparable price 1.5: rank 4 of 6 valid, cap 4"
    assert expected[8] == ("lost: fails every price condition (2.5 > 1.8x anchor 0.6; > 0.1 per unit; "
                           "cut 22% < 50% vs ceiling); rank 5 of 6 valid, cap 4")
    assert expected[-1] == "lost: rank 3 of 3 valid, cap 2: beyond the cap"


@pytest.mark.parametrize(("winners", "split"), [
    (2, [16, 15]), (3, [11, 10, 10]), (4, [9, 8, 7, 7]), (5, [7, 6, 6, 6, 6]), (6, [6, 5, 5, 5, 5, 5]),
    (7, [6, 5, 4, 4, 4, 4, 4]), (8, [5, 4, 4, 4, 4, 4, 3, 3]), (10, [4, 3, 3, 3, 3, 3, 3, 3, 3, 3])])
def test_rank_order_picking_reproduces_published_splits(winners, split):
    volume = np.random.default_rng(winners).lognormal(size=31)
    picks = pick_regions(winners, volume)
    assert list(np.bincount(picks.primary, minlength=winners)) == split


def test_pick_policies():
    volume = np.array([5.0, 9.0, 1.0, 7.0])
    picks = pick_regions(2, volume, "largest-volume")
    assert list(picks.primary) == [1, 0, 0, 0] and picks.pick_round[1] == 0
    distance = np.array([[0, 10, 20, 30], [30, 20, 10, 0]], float)
    near = pick_regions(2, volume, "nearest", distance=distance)
    assert near.primary[0] == 0 and near.primary[3] == 1
    a = pick_regions(3, volume, "random", rng=np.random.default_rng(5))
    b = pick_regions(3, volume, "random", rng=np.random.default_rng(5))
    assert list(a.primary) == list(b.primary)
    with pytest.raises(ValueError, match="distance"):
        pick_regions(2, volume, "nearest")


def test_great_circle():
    assert great_circle_km(39.9, 116.41, 31.23, 121.47) == pytest.approx(1067, rel=0.01)


def test_batch12_no_volume_winners_get_no_region():
    """Batch 12: a bid far below the mean wins without agreed volume and takes no shortlist slot."""
    import procurement
    from procurement.model.validate import tender_from_frames
    from procurement.synthetic import synthetic_frames

    frames = synthetic_frames(lots=1, regions=5, suppliers=8, bids_per_lot=8, seed=3)
    bids = frames["bids"]
    spec = bids["spec_id"].iloc[0]
    ceiling = frames["specs"].set_index("spec_id").loc[spec, "ceiling_price"]
    frames["bids"] = bids.assign(spec_id=spec, price=[ceiling * f for f in
                                                      (0.01, 0.5, 0.52, 0.54, 0.56, 0.58, 0.6, 0.62)][:len(bids)])
    tender = tender_from_frames(frames, {"name": "b12", "rules": {
        "preset": "batch4", "overrides": {"no_volume_below_sd": 2.0}}})
    result = procurement.run(tender)
    flagged = result.bids[result.bids["no_volume"]]
    assert len(flagged) == 1 and flagged["won"].all()
    cheapest = flagged["supplier_id"].iloc[0]
    assert cheapest not in set(result.allocation["primary_supplier_id"])
    award = result.awards.set_index("supplier_id").loc[cheapest]
    assert award["regions"] == 0 and award["agreed_volume"] == 0
