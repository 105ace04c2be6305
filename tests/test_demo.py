"""Known-answer test of tenders/demo under batch-4 rules, worked out by hand.

Lot L1 (atorvastatin, representative spec ATV20 = 20 mg; ATV10 converts by 1.7^log2(20/10) = 1.7):
  S1 ATV20 0.50 -> 0.50; S2 ATV10 0.40 -> 0.68; S3 0.85; S4 0.95; S5 0.98; S6 2.10 > ceiling 2.00 (invalid).
  5 valid bidders -> cap 4. Fuse 1.8 x 0.50 = 0.90: S1, S2, S3 pass; S4 0.95 and S5 0.98 pass by the
  50% cut (<= 1.00). Winners S1, S2, S3, S4; S5 is rank 5, beyond the cap. 4 winners -> share 80%, 3 years.
  Regions by agreed volume: BJ 1.2M and GD 1.2M (tie: table order), SH 0.9M, SC 0.6M, HB 0.5M.
  S1 first takes BJ; round 1: S1 GD, S2 SH, S3 SC, S4 HB -> provinces 2/1/1/1.
Lot L2 (metformin, one spec, ceiling 0.30): S3 0.08, S1 0.15, S5 0.25; 3 valid -> cap 2.
  Fuse 1.8 x 0.08 = 0.144: S1 0.15 fails it but cuts exactly 50% (0.15 = 0.5 x 0.30): wins.
  Winners S3, S1; share 60%. Picking: S3 GD (4M), round 1: S3 BJ (3M), S1 SC (2.5M);
  round 2: S3 SH (2M), S1 HB (1.5M) -> 3/2.
  Spend: S3 0.6 x 9M x 0.08 = 432,000; S1 0.6 x 4M x 0.15 = 360,000; reference 0.6 x 13M x 0.50
  = 3,900,000; cut 1 - 792,000 / 3,900,000 = 79.69%.
Lot L3 (ondansetron injection, OND4 = 2 ml:4 mg representative; OND8 = 4 ml:8 mg has the same
  concentration, so the fill-volume ratio applies: factor 1.9^log2(2/4) = 1/1.9):
  S2 OND8 3.80 -> 2.00; S4 2.60; S6 4.00; S1 4.90 (all under ceiling 5.00) -> 4 valid, cap 3.
  Fuse 3.60: S6 (rank 3, shortlisted) fails every condition (4.00 > 2.50 = 50% cut) and loses; S1 rank 4
  is beyond the cap. Winners S2, S4; share 60%. S4 supplies OND8 at 2.60 x 1.9 = 4.94.
"""

from __future__ import annotations

import pytest

import procurement


@pytest.fixture(scope="module")
def result(demo_path):
    return procurement.run(procurement.load_tender(demo_path))


def winners(result, lot):
    awards = result.awards[result.awards["lot_id"] == lot].sort_values("rank")
    return list(awards["supplier_id"])


def test_winners_in_rank_order(result):
    assert winners(result, "L1") == ["S1", "S2", "S3", "S4"]
    assert winners(result, "L2") == ["S3", "S1"]
    assert winners(result, "L3") == ["S2", "S4"]


def test_comparable_prices_and_caps(result):
    bids = result.bids.set_index(["lot_id", "supplier_id"])
    assert bids.loc[("L1", "S2"), "comparable_price"] == pytest.approx(0.68)
    assert bids.loc[("L3", "S2"), "comparable_price"] == pytest.approx(2.00)
    assert not bids.loc[("L1", "S6"), "valid"]
    assert bids.loc[("L1", "S6"), "reason"].startswith("invalid: price 2.1 > ceiling 2")
    lots = result.lots.set_index("lot_id")
    assert list(lots["valid_bidders"]) == [5, 3, 4]
    assert list(lots["cap"]) == [4, 2, 3]
    assert list(lots["volume_share"]) == [0.8, 0.6, 0.6]
    assert list(lots["term_years"]) == [3.0, 1.0, 1.0]


def test_deciding_reasons(result):
    bids = result.bids.set_index(["lot_id", "supplier_id"])
    assert "beyond the cap" in bids.loc[("L1", "S5"), "reason"]
    assert bids.loc[("L1", "S5"), "price_condition"]
    assert bids.loc[("L3", "S6"), "shortlisted"] and not bids.loc[("L3", "S6"), "won"]
    assert "fails every price condition" in bids.loc[("L3", "S6"), "reason"]
    # exactly 50% below the ceiling counts as a 50% cut
    assert bids.loc[("L2", "S1"), "won"] and not bids.loc[("L2", "S1"), "within_fuse"]
    assert bids.loc[("L2", "S1"), "cut_vs_ceiling"]


def test_province_counts_and_picks(result):
    awards = result.awards.set_index(["lot_id", "supplier_id"])
    assert [awards.loc[("L1", s), "regions"] for s in ("S1", "S2", "S3", "S4")] == [2, 1, 1, 1]
    assert awards.loc[("L1", "S1"), "provinces"] == "BJ;GD"
    assert awards.loc[("L2", "S3"), "provinces"] == "BJ;SH;GD"
    assert awards.loc[("L2", "S1"), "provinces"] == "SC;HB"
    assert awards.loc[("L3", "S2"), "provinces"] == "BJ;GD;HB"
    alloc = result.allocation.set_index(["lot_id", "region_id"])
    assert alloc.loc[("L2", "GD"), "pick_round"] == 0
    assert (result.allocation["backup_supplier_id"] != result.allocation["primary_supplier_id"]).all()


def test_spend_and_cut(result):
    lots = result.lots.set_index("lot_id")
    assert lots.loc["L2", "award_spend"] == pytest.approx(792_000)
    assert lots.loc["L2", "reference_spend"] == pytest.approx(3_900_000)
    assert lots.loc["L2", "cut"] == pytest.approx(1 - 792_000 / 3_900_000)
    supply = result.supply.set_index(["lot_id", "region_id", "spec_id"])
    assert supply.loc[("L3", "SH", "OND4"), "award_price"] == pytest.approx(2.60)
    assert supply.loc[("L3", "GD", "OND8"), "supplier_id"] == "S2"
    assert supply.loc[("L3", "GD", "OND8"), "award_price"] == pytest.approx(3.80)
    awards = result.awards.set_index(["lot_id", "supplier_id"])
    assert awards.loc[("L2", "S3"), "agreed_volume"] == pytest.approx(5_400_000)
    s = result.summary
    assert (s["lots"], s["bids"], s["winners"], s["failed_lots"]) == (3, 13, 8, [])
    assert s["reference_spend"] == pytest.approx(result.lots["reference_spend"].sum())
    assert s["volume_weighted_cut"] == pytest.approx(1 - s["award_spend_priced"] / s["reference_spend"])
