"""Optimal mode: known answers per constraint family and pricing rule, result frames, solvers, CLI.

Base tender (tests/optimize_helpers.py): one lot L1 with one spec (comparable = declared price), regions
R1/R2/R3 reporting 100/200/300 units. Bids A 1.0, B 1.2, C 1.5 are all valid and within 1.8x the lowest;
batch 4 caps 3 valid bidders at 2 winners, so the rules procedure picks A and B and the agreed share is
60%: agreed units U = 60 / 120 / 180 (V = 360). No coordinates, so no circulation cost unless a test adds
it. Every expected objective below is worked out in the test's docstring.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import procurement
from procurement.commands.optimize import compare_modes as compare_cmd
from procurement.commands.optimize import write_lp as write_lp_cmd
from procurement.errors import InfeasibleTenderError, TenderFileErrors
from procurement.io.tender_files import write_tender
from procurement.optimize import OptimizeOptions, build_problem, compare_modes, solve_tender, write_lp
from procurement.optimize.build import OPTIONAL_FAMILIES
from procurement.rules.engine import run_rules

from .optimize_helpers import make_tender

BASE = {"L1": {"A": 1.0, "B": 1.2, "C": 1.5}}
EXACT = {"mip_gap": 0.0}


def solve(tender, **opts):
    return solve_tender(tender, options=OptimizeOptions(**{**EXACT, **opts}))


def primaries(result, lot="L1"):
    a = result.allocation[result.allocation["lot_id"] == lot]
    return dict(zip(a["region_id"], a["primary_supplier_id"], strict=True))


# ---- result frames --------------------------------------------------------------------------------------

def test_frames_match_rules_mode_columns(demo_path):
    tender = procurement.load_tender(demo_path)
    rules, opt = run_rules(tender), solve_tender(tender)
    for name in ("lots", "bids", "awards", "allocation", "supply"):
        assert list(getattr(opt, name).columns) == list(getattr(rules, name).columns), name
    assert opt.mode == "optimal"
    for key in ("status", "objective", "gap", "solve_time_s", "build_time_s", "solver"):
        assert key in opt.summary
    assert opt.summary["status"] == "optimal" and opt.summary["solver"] == "highs"
    # objective = payment + circulation, recomputed from the frames
    assert opt.summary["objective"] == pytest.approx(opt.summary["award_spend"] + opt.summary["circulation_cost"],
                                                     rel=1e-6)
    assert set(opt.allocation["lot_id"]) == set(rules.allocation["lot_id"])
    assert opt.supply["agreed_volume"].sum() == pytest.approx(rules.supply["agreed_volume"].sum())


def test_default_pay_as_bid_one_cheapest_winner():
    """No constraint forces a second winner: A supplies all 360 units at 1.0 -> 360."""
    r = solve(make_tender(BASE))
    assert r.summary["objective"] == pytest.approx(360.0)
    assert set(primaries(r).values()) == {"A"}
    assert r.lots.loc[0, "winners"] == 1 and r.lots.loc[0, "volume_share"] == pytest.approx(0.6)
    assert r.awards["award_price"].tolist() == [1.0]
    assert r.summary["award_spend"] == pytest.approx(360.0)


def test_min_winners():
    """min_winners = 2 and every winner gets a region: B takes the smallest region R1 (60 units):
    0.6 * (1.0 * 500 + 1.2 * 100) = 372."""
    r = solve(make_tender(BASE), min_winners=2)
    assert r.summary["objective"] == pytest.approx(372.0)
    assert primaries(r) == {"R1": "B", "R2": "A", "R3": "A"}


def test_max_winners_explicit_and_infeasible_min_over_max():
    r = solve(make_tender(BASE), min_winners=1, max_winners=1)
    assert r.lots.loc[0, "winners"] == 1
    with pytest.raises(InfeasibleTenderError) as err:
        solve(make_tender(BASE), min_winners=3, max_winners=2)
    assert "winner-count: lot L1 needs at least 3 winners but the cap is 2" in str(err.value)


def test_uniform_pricing():
    """Uniform, two winners: both paid the highest accepted price 1.2 on all 360 units -> 432."""
    r = solve(make_tender(BASE), min_winners=2, pricing="uniform")
    assert r.summary["objective"] == pytest.approx(432.0)
    assert r.awards["award_price"].tolist() == pytest.approx([1.2, 1.2])
    assert r.supply["award_price"].unique().tolist() == pytest.approx([1.2])
    assert r.summary["award_spend"] == pytest.approx(432.0)


def test_uniform_pricing_prefers_one_winner():
    """Uniform with one winner allowed: A alone at 1.0 -> 360."""
    assert solve(make_tender(BASE), pricing="uniform").summary["objective"] == pytest.approx(360.0)


def test_share_cap_lot():
    """Cap 50%: A at most 180 units: A takes R3 (or R1+R2), B the rest: 180 + 1.2 * 180 = 396."""
    r = solve(make_tender(BASE), share_cap_lot=0.5)
    assert r.summary["objective"] == pytest.approx(396.0)
    vol = r.supply.groupby("supplier_id")["agreed_volume"].sum()
    assert vol.max() <= 180 + 1e-6


def test_group_share_cap_lot():
    """A and B are one group capped at 50%: C must take 180 units at 1.5: 180 * 1.0 + 180 * 1.5 = 450."""
    r = solve(make_tender(BASE, groups={"A": "G", "B": "G"}), group_share_cap_lot=0.5)
    assert r.summary["objective"] == pytest.approx(450.0)


def test_share_cap_tender():
    """Two identical lots, A capped at 50% of the 720 tender units: A takes one lot, B the other:
    360 + 1.2 * 360 = 792."""
    t = make_tender({"L1": {"A": 1.0, "B": 1.2}, "L2": {"A": 1.0, "B": 1.2}})
    r = solve(t, share_cap_tender=0.5)
    assert r.summary["objective"] == pytest.approx(792.0)


def test_capacity_shared_across_lots():
    """A's capacity 150 units: it can take R2 (120) but not R3 (180): 120 + 1.2 * 240 = 408."""
    r = solve(make_tender(BASE, capacity={"A": 150}))
    assert r.summary["objective"] == pytest.approx(408.0)
    assert primaries(r)["R2"] == "A"


def test_capacity_across_two_lots():
    """A (capacity 400) is cheapest in both lots of 360 units; B is 1.2 in L1 and 1.1 in L2. A keeps all of
    L1 (the 40 units left fit no region of L2) and B takes L2: 360 + 1.1 * 360 = 756. (Alternatives: A on
    L1 R2+R3 and L2 R1: 762; A on R3 of both lots: 774; A all of L2: 792.)"""
    t = make_tender({"L1": {"A": 1.0, "B": 1.2}, "L2": {"A": 1.0, "B": 1.1}}, capacity={"A": 400})
    r = solve(t)
    assert r.summary["objective"] == pytest.approx(756.0)
    assert set(primaries(r, "L1").values()) == {"A"} and set(primaries(r, "L2").values()) == {"B"}


def test_region_diversity():
    """Two lots, every region needs 2 distinct primaries: L2 (B only 0.1 dearer) goes to B:
    360 + 1.1 * 360 = 756."""
    t = make_tender({"L1": {"A": 1.0, "B": 1.2}, "L2": {"A": 1.0, "B": 1.1}})
    r = solve(t, min_suppliers_per_region=2)
    assert r.summary["objective"] == pytest.approx(756.0)
    per_region = r.allocation.groupby("region_id")["primary_supplier_id"].nunique()
    assert (per_region == 2).all()


def test_backup_required():
    """Backups must be winners distinct from the primary, and winners need a region: B takes R1:
    300 + 1.2 * 60 = 372; every region's backup differs from its primary."""
    r = solve(make_tender(BASE), backup="required")
    assert r.summary["objective"] == pytest.approx(372.0)
    a = r.allocation
    assert a["backup_supplier_id"].notna().all()
    assert (a["backup_supplier_id"] != a["primary_supplier_id"]).all()


def test_backup_auto_and_none():
    r = solve(make_tender(BASE), min_winners=2)
    a = r.allocation
    assert (a["backup_supplier_id"] != a["primary_supplier_id"]).all() and a["backup_supplier_id"].notna().all()
    r = solve(make_tender(BASE), min_winners=2, backup="none")
    assert r.allocation["backup_supplier_id"].isna().all()


def test_tiers_all_units_discount():
    """A's tier from 300 units at 0.9: A alone has 360 >= 300 -> 0.9 * 360 = 324."""
    tiers = pd.DataFrame({"supplier_id": ["A"], "spec_id": ["PL1"], "min_volume": ["300"], "price": ["0.9"]})
    r = solve(make_tender(BASE, extra={"tiers": tiers}))
    assert r.summary["objective"] == pytest.approx(324.0)
    assert r.awards["award_price"].tolist() == pytest.approx([0.9])


def test_tiers_change_the_winner():
    """B's tier from 200 units at 0.8 beats A's flat 1.0: B takes everything: 0.8 * 360 = 288."""
    tiers = pd.DataFrame({"supplier_id": ["B"], "spec_id": ["PL1"], "min_volume": ["200"], "price": ["0.8"]})
    r = solve(make_tender(BASE, extra={"tiers": tiers}))
    assert r.summary["objective"] == pytest.approx(288.0)
    assert set(primaries(r).values()) == {"B"}


def test_tiers_not_reached_under_share_cap():
    """Cap 50% keeps A under its 300-unit tier: as test_share_cap_lot, 396."""
    tiers = pd.DataFrame({"supplier_id": ["A"], "spec_id": ["PL1"], "min_volume": ["300"], "price": ["0.5"]})
    r = solve(make_tender(BASE, extra={"tiers": tiers}), share_cap_lot=0.5)
    assert r.summary["objective"] == pytest.approx(396.0)


def test_tiers_must_match_a_bid():
    tiers = pd.DataFrame({"supplier_id": ["C"], "spec_id": ["PL2"], "min_volume": ["10"], "price": ["0.5"]})
    t = make_tender({"L1": {"A": 1.0, "B": 1.2}, "L2": {"A": 1.0}}, extra={"tiers": tiers},
                    suppliers=["A", "B", "C"])
    with pytest.raises(TenderFileErrors, match="supplier C has no bid on this spec"):
        solve(t)


REVIVAL = {"L1": {"A": 1.0, "B": 1.2, "D": 2.5}}


def test_revival_pricing_highest_rule1_price():
    """Ceiling 3: D at 2.5 fails 1.8x (1.8), the 50% cut (1.5) and 0.1; with three winners forced D is
    revived at the highest Rule-1 price 1.2: A takes R3 (180), B and D R1/R2 at 1.2: 180 + 1.2 * 180 = 396."""
    t = make_tender(REVIVAL, ceiling=3.0, overrides={"revival": "highest-rule1-price"})
    r = solve(t, min_winners=3, max_winners=3)
    assert r.summary["pricing"] == "revival"
    assert r.summary["objective"] == pytest.approx(396.0)
    d = r.bids.set_index("supplier_id").loc["D"]
    assert d["won"] and d["revived"] and d["award_comparable_price"] == pytest.approx(1.2)


def test_revival_pricing_sole_rule1_winner():
    """One Rule-1 winner (A): D revives at 1.8 x 1.0; two winners forced: A R2+R3 (300), D R1 (60) at 1.8:
    300 + 108 = 408."""
    t = make_tender({"L1": {"A": 1.0, "D": 2.5}}, ceiling=3.0, overrides={"revival": "highest-rule1-price"})
    r = solve(t, min_winners=2)
    assert r.summary["objective"] == pytest.approx(408.0)
    assert r.awards.set_index("supplier_id").loc["D", "award_price"] == pytest.approx(1.8)


def test_pay_as_bid_excludes_bids_failing_price_conditions():
    t = make_tender(REVIVAL, ceiling=3.0)
    with pytest.raises(InfeasibleTenderError, match="only 2 bid"):
        solve(t, min_winners=3, max_winners=3)


def test_circulation_cost_table():
    """costs.csv: 1.0 per unit from A to R3 (0 elsewhere): R3 goes to B: 180 + 1.2 * 180 = 396."""
    costs = pd.DataFrame({"supplier_id": ["A", "A", "A", "B", "B", "B"],
                          "region_id": ["R1", "R2", "R3", "R1", "R2", "R3"],
                          "lot_id": ["", "", "L1", "", "", ""], "cost": ["0", "0", "1.0", "0", "0", "0"]})
    costs = pd.concat([costs, pd.DataFrame({"supplier_id": ["C"] * 3, "region_id": ["R1", "R2", "R3"],
                                            "lot_id": [""] * 3, "cost": ["0"] * 3})])
    r = solve(make_tender(BASE, extra={"costs": costs}))
    assert r.summary["circulation"] == "table"
    assert r.summary["objective"] == pytest.approx(396.0)
    assert primaries(r)["R3"] == "B"


def test_circulation_table_must_be_complete():
    costs = pd.DataFrame({"supplier_id": ["A"], "region_id": ["R1"], "lot_id": [""], "cost": ["0"]})
    with pytest.raises(TenderFileErrors, match="needs a cost for every eligible supplier"):
        solve(make_tender(BASE, extra={"costs": costs}))


def test_circulation_distance_uses_logistics_model():
    from procurement.analysis.logistics import distribution_cost

    t = make_tender(BASE, coords=True)
    r = solve(t)
    assert r.summary["circulation"] == "distance"
    sup = t.suppliers.set_index("supplier_id")
    reg = t.regions.set_index("region_id")
    expected = 0.0
    for row in r.supply.itertuples(index=False):
        rate = distribution_cost([sup.loc[row.supplier_id, "latitude"]], [sup.loc[row.supplier_id, "longitude"]],
                                 [reg.loc[row.region_id, "latitude"]], [reg.loc[row.region_id, "longitude"]])
        expected += float(rate[0, 0]) * row.award_spend
    assert r.summary["circulation_cost"] == pytest.approx(expected)
    assert r.summary["objective"] == pytest.approx(r.summary["award_spend"] + expected)


def test_risk_term_spreads_volume():
    """risk_weight 1 per unit of the largest supplier volume: A 180 + B 180 -> 180 + 216 + 180 = 576."""
    r = solve(make_tender(BASE), risk_weight=1.0)
    assert r.summary["objective"] == pytest.approx(576.0)
    assert r.summary["risk_term"] == pytest.approx(180.0)


def test_split_allocation():
    """Split shares, A's capacity 150: A supplies exactly 150 units, B 210: 150 + 1.2 * 210 = 402 (primary
    mode: 408)."""
    r = solve(make_tender(BASE, capacity={"A": 150}), allocation="split", min_award=0.1)
    assert r.summary["objective"] == pytest.approx(402.0)
    vol = r.supply.groupby("supplier_id")["agreed_volume"].sum()
    assert vol["A"] == pytest.approx(150.0) and vol.sum() == pytest.approx(360.0)
    assert len(r.allocation) == 3


def test_split_min_award():
    """min_award 0.9, A's capacity 150: A's share of a region is 0 or >= 90%, so A can hold R2 (120) but no
    part of R3 (0.9 * 180 > 150) and not R2 plus 90% of R1 (174): 120 + 1.2 * 240 = 408."""
    r = solve(make_tender(BASE, capacity={"A": 150}), allocation="split", min_award=0.9)
    assert r.summary["objective"] == pytest.approx(408.0)
    share = r.supply.groupby(["region_id", "supplier_id"])["agreed_volume"].sum() / \
        r.supply.groupby("region_id")["agreed_volume"].sum()
    assert (share >= 0.9 - 1e-6).all()


# ---- infeasibility --------------------------------------------------------------------------------------

def test_infeasible_capacity_precheck():
    with pytest.raises(InfeasibleTenderError) as err:
        solve(make_tender(BASE, capacity={"A": 100, "B": 100, "C": 100}))
    assert "capacity short of lot L1 demand by 60 units" in str(err.value)
    assert err.value.diagnosis[0].startswith("capacity:")


def test_infeasible_share_cap_precheck():
    with pytest.raises(InfeasibleTenderError, match="share cap 30% with 3 eligible suppliers cannot cover lot L1"):
        solve(make_tender(BASE), share_cap_lot=0.3)


def test_infeasible_joint_families_diagnosed_by_relaxation():
    """Share cap 50% (C <= 180) and capacities A, B = 100: no region split works, though each check alone
    passes; dropping either family restores feasibility."""
    t = make_tender(BASE, capacity={"A": 100, "B": 100})
    with pytest.raises(InfeasibleTenderError) as err:
        solve(t, share_cap_lot=0.5)
    text = "\n".join(err.value.diagnosis)
    assert "share-cap-lot" in text and "capacity" in text


def test_infeasible_region_diversity():
    with pytest.raises(InfeasibleTenderError, match="region-diversity: region R1 has 1 awarded lot"):
        solve(make_tender(BASE), min_suppliers_per_region=2)


def test_optional_families_named_in_docs():
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "optimize.md").read_text(encoding="utf-8")
    for family in OPTIONAL_FAMILIES:
        assert f"`{family}`" in text


# ---- options, solvers, LP files -------------------------------------------------------------------------

def test_bad_optimize_options_reported_with_other_problems(tmp_path):
    t = make_tender(BASE)
    write_tender(t, tmp_path / "t")
    toml = tmp_path / "t" / "tender.toml"
    toml.write_text(toml.read_text() + '\n[optimize]\npricing = "vickrey"\nshare_cap_lot = 1.5\nfoo = 1\n')
    with pytest.raises(TenderFileErrors) as err:
        procurement.load_tender(tmp_path / "t")
    text = str(err.value)
    assert "optimize.pricing" in text and "valid: auto, pay-as-bid, uniform, revival" in text
    assert "optimize.share_cap_lot" in text and "optimize.foo" in text


def test_options_from_tender_toml(tmp_path):
    t = make_tender(BASE, optimize={"min_winners": 2, "mip_gap": 0})
    assert solve_tender(t).summary["objective"] == pytest.approx(372.0)


def test_cbc_matches_highs(demo_path):
    tender = procurement.load_tender(demo_path)
    h = solve_tender(tender, mip_gap=0.0)
    c = solve_tender(tender, solver="cbc", mip_gap=0.0)
    assert c.summary["solver"] == "cbc" and c.summary["status"] == "optimal"
    assert c.summary["objective"] == pytest.approx(h.summary["objective"], rel=1e-6)


def test_write_lp_has_readable_unique_names(tmp_path, demo_path):
    tender = procurement.load_tender(demo_path)
    path = write_lp(tender, tmp_path / "demo.lp")
    text = path.read_text()
    assert "cover_L1_BJ:" in text and "assign_L1_BJ_S1" in text and "win_count_L1" in text
    built = build_problem(tender)
    names = built.matrix.column_names()
    assert len(set(names)) == len(names)
    assert all(n.isascii() for n in names)


def test_build_is_pure_and_bulk(demo_path):
    tender = procurement.load_tender(demo_path)
    a, b = build_problem(tender), build_problem(tender)
    assert np.array_equal(a.matrix.a_value, b.matrix.a_value)
    assert a.matrix.num_col == len(a.matrix.column_names())


# ---- compare-modes and CLI ------------------------------------------------------------------------------

def test_compare_modes_api(demo_path):
    tender = procurement.load_tender(demo_path)
    cmp = compare_modes(tender, mip_gap=0.0)
    assert cmp.summary["optimal_cost"] <= cmp.summary["rules_cost"] + 1e-6
    assert cmp.lots["difference"].sum() == pytest.approx(-cmp.summary["saving"])
    assert {"lot_id", "region_id", "rules_primary", "optimal_primary", "changed"} <= set(cmp.regions.columns)
    assert set(cmp.concentration["mode"]) == {"rules", "optimal"}
    assert cmp.summary["regions_changed"] == int(cmp.regions["changed"].sum())


def test_cli_compare_modes(tmp_path, demo_path):
    res = CliRunner().invoke(compare_cmd, [str(demo_path), "--mip-gap", "0", "--out", str(tmp_path / "c")])
    assert res.exit_code == 0, res.output
    assert "regions changing hands" in res.output and "saving" in res.output
    summary = json.loads((tmp_path / "c" / "summary.json").read_text())
    assert summary["optimal_cost"] <= summary["rules_cost"]


def test_cli_compare_modes_infeasible_exit_3(tmp_path):
    write_tender(make_tender(BASE), tmp_path / "t")
    toml = tmp_path / "t" / "tender.toml"
    toml.write_text(toml.read_text() + "\n[optimize]\nshare_cap_lot = 0.3\n")
    res = CliRunner().invoke(compare_cmd, [str(tmp_path / "t"), "--out", str(tmp_path / "out")])
    assert res.exit_code == 3
    assert "share cap 30% with 3 eligible suppliers cannot cover lot L1" in res.output
    assert not (tmp_path / "out").exists()


def test_cli_write_lp(tmp_path, demo_path):
    res = CliRunner().invoke(write_lp_cmd, [str(demo_path), str(tmp_path / "m.lp")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "m.lp").read_text().startswith("\\* demo *\\")
    res = CliRunner().invoke(write_lp_cmd, [str(tmp_path / "missing"), str(tmp_path / "m.lp")])
    assert res.exit_code == 2
