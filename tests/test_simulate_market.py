"""The lean per-draw evaluation equals the full rules engine (winners, prices, volumes, spend, metrics)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from procurement.io.tender_files import load_tender
from procurement.rules.engine import run_rules
from procurement.simulate.market import LOT_METRICS, compile_market, evaluate, metrics_from_result
from procurement.synthetic import synthetic_tender

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def national():
    return load_tender(ROOT / "tenders" / "national-demo")


def _tender_prices(tender, market):
    own = tender.bids.set_index(["supplier_id", "spec_id"])["price"]
    return own.loc[list(zip(market.supplier_id, market.spec_id, strict=True))].to_numpy(float).copy()


def _assert_same(tender, market, prices):
    ev = evaluate(market, prices, pick_rng=np.random.default_rng(tender.seed), details=True)
    result = run_rules(tender.replace(bids=market.bids_frame(prices)))
    full = metrics_from_result(result, market)
    for name in LOT_METRICS:
        np.testing.assert_allclose(ev.metrics[name], full[name], rtol=1e-9, atol=1e-6, equal_nan=True,
                                   err_msg=name)
    lean = pd.DataFrame(ev.winners).sort_values(["lot_id", "rank"]).reset_index(drop=True)
    awards = result.awards.sort_values(["lot_id", "rank"]).reset_index(drop=True)
    assert lean["supplier_id"].tolist() == awards["supplier_id"].tolist()
    assert lean["regions"].tolist() == awards["regions"].tolist()
    for lean_col, full_col in (("award_comparable_price", "award_comparable_price"),
                               ("award_price", "award_price"), ("agreed_volume", "agreed_volume"),
                               ("award_spend", "award_spend")):
        np.testing.assert_allclose(lean[lean_col], awards[full_col], rtol=1e-9, err_msg=lean_col)


@pytest.mark.parametrize("policy", ["largest-volume", "nearest", "random"])
def test_lean_path_equals_run_rules_on_random_draws(national, policy):
    tender = national.replace(pick_policy=policy)
    market = compile_market(tender)
    base = _tender_prices(tender, market)
    rng = np.random.default_rng(7)
    _assert_same(tender, market, base)  # the published bids themselves
    for _ in range(2):
        prices = base * np.exp(rng.normal(0, 0.4, len(base)))
        prices[rng.random(len(prices)) < 0.15] = np.nan  # some suppliers abstain
        _assert_same(tender, market, prices)


@pytest.mark.parametrize("overrides", [
    {"revival": "highest-rule1-price", "min_cut_vs_ceiling": None,
     "winner_caps": [1, 2, 2, 3, 3, 3, 4, 5, 6, 6, 7, 8, 8, 9, 9, 10]},
    {"anchor": "max-lowest-mean-fraction", "count_related_as_one": True, "low_price_dosage_forms": ["oral-solid"]},
])
def test_lean_path_equals_run_rules_under_other_rules(national, overrides):
    tender = national.replace(rules=national.rules.with_overrides(**overrides))
    market = compile_market(tender)
    base = _tender_prices(tender, market)
    rng = np.random.default_rng(11)
    prices = base * np.exp(rng.normal(0, 0.5, len(base)))
    _assert_same(tender, market, prices)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), spread=st.floats(0.05, 1.0))
def test_lean_path_property_small_tenders(seed, spread):
    """Property: on any small synthetic tender and any bid perturbation the two paths agree."""
    tender = synthetic_tender(lots=4, regions=6, suppliers=12, bids_per_lot=5, seed=seed)
    market = compile_market(tender)
    rng = np.random.default_rng(seed)
    prices = _tender_prices(tender, market) * np.exp(rng.normal(0, spread, market.n_bids))
    _assert_same(tender, market, prices)


def test_no_bids_and_all_invalid_lots_fail(national):
    market = compile_market(national)
    prices = _tender_prices(national, market)
    first, second = market.lots[0], market.lots[1]
    prices[first.start:first.stop] = np.nan
    prices[second.start:second.stop] = market.ceiling[second.start:second.stop] * 1.5
    ev = evaluate(market, prices)
    assert ev.metrics["failed"][0] == 1 and ev.metrics["bidders"][0] == 0
    assert ev.metrics["failed"][1] == 1 and ev.metrics["valid_bids"][1] == 0
    assert ev.metrics["spend"][0] == 0 and np.isnan(ev.metrics["hhi"][1])
