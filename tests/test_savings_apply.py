"""Savings by stakeholder applied to small hand-built tender results (the TenderResult frame contract)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from procurement.analysis import (
    STAKEHOLDER_NAMES,
    ChainParams,
    LogisticsParams,
    distribution_cost,
    floor_price,
    format_savings_table,
    post_chain,
    pre_chain,
    savings,
    write_savings,
)
from procurement.analysis.savings import OUTPUT_FILES, SUMMARY_FILE, TOTAL
from procurement.errors import OutputExistsError


def _result(award_a: float = 45.0, with_awards: bool = True, with_tender: bool = False) -> SimpleNamespace:
    """Lot A: one spec, two regions, reference 100. Lot B: one region, unknown reference (skipped)."""
    supply = pd.DataFrame({
        "lot_id": ["A", "A", "B"],
        "region_id": ["BJ", "SH", "BJ"],
        "spec_id": ["a10", "a10", "b5"],
        "supplier_id": ["M1", "M1", "M2"],
        "reported_volume": [100.0, 200.0, 50.0],
        "agreed_volume": [70.0, 140.0, 35.0],
        "award_price": [award_a, award_a, 2.0],
        "reference_price": [100.0, 100.0, np.nan],
    })
    awards = pd.DataFrame({
        "lot_id": ["A", "B"], "supplier_id": ["M1", "M2"], "spec_id": ["a10", "b5"], "rank": [1, 1],
        "price": [award_a, 2.0], "comparable_price": [award_a, 2.0], "award_price": [award_a, 2.0],
        "reference_price": [100.0, np.nan], "agreed_volume": [210.0, 35.0],
        "award_spend": [award_a * 210, 70.0], "reference_spend": [21000.0, np.nan], "regions": ["BJ;SH", "BJ"],
    })
    bids = pd.DataFrame({"lot_id": ["A", "A", "B"], "supplier_id": ["M1", "M3", "M2"],
                         "spec_id": ["a10", "a10", "b5"], "price": [award_a, 80.0, 2.0],
                         "reference_price": [100.0, 100.0, np.nan], "won": [True, False, True]})
    tender = None
    if with_tender:
        tender = SimpleNamespace(
            suppliers=pd.DataFrame({"supplier_id": ["M1", "M2"], "originator": [False, False],
                                    "latitude": [31.23, np.nan], "longitude": [121.47, np.nan]}),
            regions=pd.DataFrame({"region_id": ["BJ", "SH"], "latitude": [39.90, 31.23],
                                  "longitude": [116.41, 121.47]}))
    return SimpleNamespace(supply=supply, awards=awards if with_awards else None, bids=bids, tender=tender)


def _total(out) -> pd.DataFrame:
    df = out.by_stakeholder
    return df[df["lot_id"] == TOTAL].set_index("stakeholder")


def test_hand_computed_payer_split_with_payment_standard():
    out = savings(_result(45.0), sensitivity=False)
    t = _total(out)
    # Q0 = 300, agreed 210 at 45, residual 90 at the old price 100 > 2 x 45, so the standard is 70.
    assert t.loc["insurance_fund", "before"] == pytest.approx(0.6 * 100 * 300)
    assert t.loc["insurance_fund", "after"] == pytest.approx(0.6 * 45 * 210 + 0.6 * 70 * 90)
    assert t.loc["patients", "after"] == pytest.approx(0.4 * 45 * 210 + (100 - 0.6 * 70) * 90)
    assert out.summary["payer_saving"] == pytest.approx(300 * 100 - (45 * 210 + 100 * 90))
    assert out.summary["rows_used"] == 2 and out.summary["rows_skipped_no_reference"] == 1

    # within 2 x the winner's price, the standard is the winner's price
    out60 = savings(_result(60.0), sensitivity=False)
    assert _total(out60).loc["insurance_fund", "after"] == pytest.approx(0.6 * 60 * 210 + 0.6 * 60 * 90)


def test_party_changes_follow_the_unit_chain():
    params = ChainParams()
    out = savings(_result(45.0), params, sensitivity=False)
    t = _total(out)
    pre = pre_chain(100.0, params)
    post = post_chain(45.0, pre["cogs"], params)
    e0, e1 = float(pre["maker_profit"]), float(post["maker_profit"])
    # winners earn E1 on 210, non-winners keep E0 on 90, against E0 on 300 before
    assert t.loc["makers", "change"] == pytest.approx(210 * e1 + 90 * e0 - 300 * e0)
    assert t.loc["state", "change"] == pytest.approx(210 * float(post["vat"] - pre["vat"]))
    assert t.loc["promotion_channel", "change"] == pytest.approx(210 * float(post["promotion"] - pre["promotion"]))
    assert list(t.index) == list(STAKEHOLDER_NAMES)
    assert set(out.by_stakeholder["lot_id"]) == {"A", TOTAL}
    per100 = t.loc["insurance_fund", "change_per_100"]
    assert per100 == pytest.approx(t.loc["insurance_fund", "change"] / 30000 * 100)


def test_cut_decomposition_rows_and_shares():
    out = savings(_result(45.0), sensitivity=False)
    cut = out.cut_decomposition
    assert len(cut) == 2
    assert list(cut[["lot_id", "region_id"]].itertuples(index=False, name=None)) == [("A", "BJ"), ("A", "SH")]
    shares = cut[[c for c in cut.columns if c.endswith("_share")]].sum(axis=1)
    assert np.allclose(shares, 1.0)
    assert cut["circulation_share"].round(2).tolist() == [0.64, 0.64]
    assert out.summary["circulation_share"] == pytest.approx(cut["circulation_share"].iloc[0])


def test_floor_prices_flag_supply_risks():
    deep = savings(_result(10.0), sensitivity=False)
    fp = deep.floor_prices.set_index("lot_id")
    assert fp.loc["A", "floor_price"] == pytest.approx(float(floor_price(100.0, ChainParams())))
    assert bool(fp.loc["A", "supply_risk"]) is True
    assert fp.loc["A", "maker_profit_per_unit"] < 0
    assert fp.loc["A", "rank"] == 1
    assert np.isnan(fp.loc["B", "floor_price"]) and bool(fp.loc["B", "supply_risk"]) is False
    assert deep.summary["supply_risk_bids"] == 1 and deep.summary["awards_without_reference"] == 1
    ok = savings(_result(45.0), sensitivity=False).floor_prices.set_index("lot_id")
    assert bool(ok.loc["A", "supply_risk"]) is False
    assert ok.loc["A", "max_sustainable_cut"] == pytest.approx(0.718, abs=1e-3)


def test_awards_fallback_from_supply():
    out = savings(_result(45.0, with_awards=False), sensitivity=False)
    fp = out.floor_prices
    assert len(fp) == 2
    a = fp.set_index("lot_id").loc["A"]
    assert a["award_price"] == pytest.approx(45.0) and a["agreed_volume"] == pytest.approx(210.0)


def test_distance_based_logistics_from_tender_coordinates():
    out = savings(_result(45.0, with_tender=True), sensitivity=False)
    assert out.summary["rows_distance_logistics"] == 2
    rate = distribution_cost([31.23], [121.47], [39.90, 31.23], [116.41, 121.47])[0]
    assert out.cut_decomposition["logistics_rate"].to_numpy() == pytest.approx(rate)
    flat = savings(_result(45.0, with_tender=True), use_distance=False, sensitivity=False)
    assert flat.summary["rows_distance_logistics"] == 0
    assert (flat.cut_decomposition["logistics_rate"] == ChainParams().l1).all()
    # the payer side does not depend on the chain; the maker absorbs the logistics difference
    assert out.summary["payer_saving"] == pytest.approx(flat.summary["payer_saving"])
    custom = savings(_result(45.0, with_tender=True), logistics=LogisticsParams(base_rate=0.01),
                     sensitivity=False)
    assert custom.cut_decomposition["logistics_rate"].iloc[1] == pytest.approx(0.01)


def test_parameters_change_the_split():
    out = savings(_result(45.0), reimbursement_rate=0.8, sensitivity=False)
    assert out.summary["reimbursement_rate"] == 0.8
    assert out.summary["fund_saving"] > savings(_result(45.0), sensitivity=False).summary["fund_saving"]
    base_fund = savings(_result(45.0), sensitivity=False).summary["fund_saving"]
    retained = savings(_result(45.0), ChainParams(phi_retain=0.5), sensitivity=False)
    t = _total(retained)
    assert t.loc["hospitals", "change"] == pytest.approx(0.5 * base_fund)
    assert t.loc["insurance_fund", "change"] == pytest.approx(0.5 * base_fund)
    induced = savings(_result(45.0), ChainParams(g_use=0.4), sensitivity=False)
    assert induced.summary["induced_volume_cost"] == pytest.approx(45.0 * 210 * 0.4)


def test_input_errors():
    with pytest.raises(ValueError, match="supply"):
        savings(SimpleNamespace(awards=None), sensitivity=False)
    bad = _result()
    bad.supply = bad.supply.drop(columns=["agreed_volume"])
    with pytest.raises(ValueError, match="agreed_volume"):
        savings(bad, sensitivity=False)
    unknown = _result()
    unknown.supply = unknown.supply.assign(reference_price=np.nan)
    with pytest.raises(ValueError, match="no usable supply row"):
        savings(unknown, sensitivity=False)
    with pytest.raises(ValueError, match="rho"):
        savings(_result(), reimbursement_rate=1.5, sensitivity=False)


def test_summary_table_text():
    text = format_savings_table(savings(_result(45.0), sensitivity=False))
    for name in STAKEHOLDER_NAMES:
        assert name in text
    assert "before" in text and "after" in text and "change" in text
    assert "supply risk" in text and "identity residual" in text


def test_write_savings_atomic_and_force(tmp_path):
    out = savings(_result(45.0), monte_carlo_draws=20)
    target = tmp_path / "savings"
    write_savings(out, target)
    files = sorted(p.name for p in target.iterdir())
    assert files == sorted([*OUTPUT_FILES.values(), SUMMARY_FILE])
    summary = json.loads((target / SUMMARY_FILE).read_text(encoding="utf-8"))
    assert summary["rows_used"] == 2 and summary["params"]["rho"] == 0.6
    back = pd.read_csv(target / "savings_by_stakeholder.csv")
    assert len(back) == len(out.by_stakeholder)
    with pytest.raises(OutputExistsError):
        write_savings(out, target)
    (target / "stale.txt").write_text("x")
    write_savings(out, target, force=True)
    assert not (target / "stale.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["savings"]  # no temporary folders left


def test_tender_sized_result_runs():
    # 40 lots x 31 regions x 2 specs, as a full national batch
    rng = np.random.default_rng(3)
    n_lots, n_regions, n_specs = 40, 31, 2
    lot = np.repeat(np.arange(n_lots), n_regions * n_specs)
    region = np.tile(np.repeat(np.arange(n_regions), n_specs), n_lots)
    spec = np.tile(np.arange(n_specs), n_lots * n_regions)
    ref = rng.uniform(0.5, 30.0, n_lots)[lot] * (1 + 0.8 * spec)
    reported = rng.uniform(1e4, 1e6, lot.size)
    supply = pd.DataFrame({
        "lot_id": [f"L{i}" for i in lot], "region_id": [f"R{i}" for i in region],
        "spec_id": [f"L{i}-{j}" for i, j in zip(lot, spec, strict=True)],
        "supplier_id": [f"M{i}" for i in rng.integers(0, 60, lot.size)],
        "reported_volume": reported, "agreed_volume": reported * 0.7,
        "award_price": ref * rng.uniform(0.05, 0.8, lot.size), "reference_price": ref})
    out = savings(SimpleNamespace(supply=supply, awards=None, bids=None), monte_carlo_draws=100)
    assert out.summary["rows_used"] == lot.size
    assert abs(out.summary["identity_residual"]) <= 1e-9 * out.summary["spend_before"]
    assert out.summary["supply_risk_bids"] > 0
