"""Calibration against the published bids of national batches 2 and 4 (skipped without the data).

The data folder is ``$PROCUREMENT_VBP_DATA`` (default ``<repo>/../shared/data/vbp``). Targets: the
published statistics (vbp-rules.md section 9.1); the default market parameters must land in the ranges
the issue names (median lowest bid / ceiling 0.24-0.34, winners per lot about 3.1-3.5) on the rebuilt
batches, and the empirical strategy's quantiles must be those of the data.
"""

from __future__ import annotations

import numpy as np
import pytest

from procurement.simulate.calibration import (
    data_dir,
    published_statistics,
    published_tender,
    read_bids,
    simulated_statistics,
)
from procurement.simulate.params import MarketParams
from procurement.simulate.strategies import EMPIRICAL_BID_RATIOS

pytestmark = pytest.mark.skipif(not (data_dir() / "bids.csv").is_file(),
                                reason=f"published VBP data not found in {data_dir()} (set PROCUREMENT_VBP_DATA)")


def test_published_statistics_match_the_dossier():
    b2, b4 = published_statistics(2), published_statistics(4)
    assert b2["winners_per_lot"] == pytest.approx(3.12, abs=0.01)
    assert b4["winners_per_lot"] == pytest.approx(3.51, abs=0.01)
    assert b2["win_share"] == pytest.approx(0.63, abs=0.01)
    assert b4["win_share"] == pytest.approx(0.70, abs=0.01)
    assert b2["median_lowest_ratio"] == pytest.approx(0.337, abs=0.002)
    assert b4["median_lowest_ratio"] == pytest.approx(0.239, abs=0.01)


def test_rebuilt_batch_replays_its_published_winners():
    """Sanity of the rebuilt tender: the published bids under batch-4 rules give batch 4's winner count."""
    from procurement.rules.engine import run_rules

    tender = published_tender(4)
    result = run_rules(tender)
    assert len(tender.lots) == 45 and len(tender.bids) == 225
    assert result.summary["winners"] == pytest.approx(158, abs=8)


def test_default_parameters_land_in_the_published_ranges():
    params = MarketParams()
    for batch in (2, 4):
        s = simulated_statistics(published_tender(batch), params, draws=15)
        assert 0.24 <= s["median_lowest_ratio"] <= 0.34, (batch, s)
        assert 3.0 <= s["winners_per_lot"] <= 3.6, (batch, s)
        assert 0.61 <= s["win_share"] <= 0.72, (batch, s)


def test_empirical_quantiles_are_those_of_the_valid_published_bids():
    bids = read_bids()
    ratio = bids.loc[bids["ratio"] <= 1, "ratio"].to_numpy()
    np.testing.assert_allclose(np.quantile(ratio, np.linspace(0, 1, 21)), EMPIRICAL_BID_RATIOS, atol=6e-5)
