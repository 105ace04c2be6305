"""Savings of replayed batches on their agreed volume: a hand-built known answer and the published data."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import procurement
from procurement.analysis import BatchSavings, batch_savings, format_batch_savings_table, write_batch_savings
from procurement.analysis.batch_savings import OUTPUT_FILES, PUBLISHED_FIGURES, SUMMARY_FILE
from procurement.errors import OutputExistsError

BID_COLUMNS = ["batch", "lot_no", "lot", "spec", "firm", "firm_short", "originator", "foreign", "won",
               "ceiling_price", "pre_median_price", "bid_price", "provinces"]


def _bids() -> pd.DataFrame:
    """Two lots of a batch-4 tender.

    Lot 1 (甲片, 10 mg, ceiling 3.5): F1 1.0 wins BJ+SH, F2 1.5 wins TJ, F3 3.0 loses (3 bidders: cap 2).
    Medians 4, 6, 5 -> spec median 5. Lot 2 (乙注射剂, 2ml:10mg, ceiling 60): G1 20 wins BJ+SH+TJ, G2 45
    loses (> 1.8 x 20 and a cut under 50% vs the ceiling); only G1 publishes a median (50).
    """
    rows = [
        ("4", 1, "甲片", "10mg", "F1 药业", "F1", False, False, True, 3.5, 4.0, 1.0, "CN-BJ;CN-SH"),
        ("4", 1, "甲片", "10mg", "F2 药业", "F2", False, False, True, 3.5, 6.0, 1.5, "CN-TJ"),
        ("4", 1, "甲片", "10mg", "F3 药业", "F3", True, True, False, 3.5, 5.0, 3.0, ""),
        ("4", 2, "乙注射剂", "2ml:10mg", "G1 药业", "G1", False, False, True, 60.0, 50.0, 20.0,
         "CN-BJ;CN-SH;CN-TJ"),
        ("4", 2, "乙注射剂", "2ml:10mg", "G2 药业", "G2", True, True, False, 60.0, np.nan, 45.0, ""),
    ]
    return pd.DataFrame(rows, columns=BID_COLUMNS)


def _volumes() -> pd.DataFrame:
    """Lot 1: 10 mg BJ 100, SH 200, TJ 300 and a 20 mg spec nobody bid, SH 50. Lot 2: BJ 10, SH 20,
    TJ 0 (zero volume) and HE 5 (no published winner). 丙片: a lot without any bid (failed), BJ 1000."""
    rows = [("4", "CN-BJ", "甲片", "10mg", 100.0), ("4", "CN-SH", "甲片", "10mg", 200.0),
            ("4", "CN-TJ", "甲片", "10mg", 300.0), ("4", "CN-SH", "甲片", "20mg", 50.0),
            ("4", "CN-BJ", "乙注射剂", "2ml:10mg", 10.0), ("4", "CN-SH", "乙注射剂", "2ml:10mg", 20.0),
            ("4", "CN-TJ", "乙注射剂", "2ml:10mg", 0.0), ("4", "CN-HE", "乙注射剂", "2ml:10mg", 5.0),
            ("4", "CN-BJ", "丙片", "1mg", 1000.0)]
    return pd.DataFrame(rows, columns=["batch", "province", "lot", "spec", "agreed_volume_units"])


@pytest.fixture(scope="module")
def hand() -> BatchSavings:
    return batch_savings(_bids(), _volumes(), reimbursement=0.6)


def test_known_answer_per_lot(hand: BatchSavings) -> None:
    lots = hand.lots.set_index("lot")
    # Lot 1. 20 mg = 2 x 10 mg: content ratio 1.7, so its reference is 5 x 1.7 = 8.5 (derived from the
    # lot's medians) and F1's price on it 1.0 x 1.7 = 1.7.
    #   before: (100 + 200 + 300) x 5 + 50 x 8.5 = 3000 + 425 = 3425
    #   after:  BJ 100 x 1.0 + SH 200 x 1.0 + SH(20 mg) 50 x 1.7 + TJ 300 x 1.5 = 100 + 200 + 85 + 450 = 835
    #   saving 2590, cut 2590 / 3425 = 0.75620
    a = lots.loc["甲片"]
    assert a["spend_before"] == pytest.approx(3425.0)
    assert a["spend_after"] == pytest.approx(835.0)
    assert a["saving"] == pytest.approx(2590.0)
    assert a["cut"] == pytest.approx(2590.0 / 3425.0)
    # fund 60%, patients 40%
    assert a["fund"] == pytest.approx(1554.0)
    assert a["patients"] == pytest.approx(1036.0)
    # 2 winners -> agreed share 60%: reported demand 650 / 0.6; saving on demand 2590 / 0.6
    assert a["agreed_share_rule"] == pytest.approx(0.6)
    assert a["reported_demand"] == pytest.approx(650.0 / 0.6)
    assert a["saving_on_demand"] == pytest.approx(2590.0 / 0.6)
    # Predicted awards (largest-volume picking: F1 takes TJ, 300, then SH, 250; F2 takes BJ):
    #   after TJ 300 x 1.0 + SH 200 x 1.0 + 50 x 1.7 + BJ 100 x 1.5 = 300 + 285 + 150 = 735; saving 2690
    assert a["spend_after_predicted"] == pytest.approx(735.0)
    assert a["saving_predicted"] == pytest.approx(2690.0)
    # Sensitivities. Winner's own median: BJ 100 x 3 + SH 200 x 3 + SH(20 mg) 50 x (6.8 - 1.7) + TJ 300 x 4.5
    # = 300 + 600 + 255 + 1350 = 2505. Ceiling (20 mg: 3.5 x 1.7 = 5.95):
    # 100 x 2.5 + 200 x 2.5 + 50 x 4.25 + 300 x 2 = 250 + 500 + 212.5 + 600 = 1562.5
    assert a["saving_winner_own"] == pytest.approx(2505.0)
    assert a["saving_ceiling"] == pytest.approx(1562.5)
    assert a["derived_reference_volume"] == pytest.approx(50.0)

    # Lot 2: priced rows BJ 10 and SH 20 at reference 50 and award 20 (TJ has zero volume, HE no winner):
    #   before 1500, after 600, saving 900, cut 0.6; 1 winner -> share 50%: demand 35 / 0.5 = 70
    b = lots.loc["乙注射剂"]
    assert b["spend_before"] == pytest.approx(1500.0)
    assert b["spend_after"] == pytest.approx(600.0)
    assert b["cut"] == pytest.approx(0.6)
    assert b["agreed_volume"] == pytest.approx(35.0)
    assert b["unpriced_volume"] == pytest.approx(5.0)
    assert b["reported_demand"] == pytest.approx(70.0)
    assert b["saving_predicted"] == pytest.approx(900.0)


def test_known_answer_batch_totals(hand: BatchSavings) -> None:
    (row,) = hand.batches.to_dict("records")
    # before 3425 + 1500 = 4925; after 835 + 600 = 1435; saving 3490; cut 3490 / 4925 = 0.70863
    assert row["lots"] == 2 and row["lots_priced"] == 2
    assert row["spend_before"] == pytest.approx(4925.0)
    assert row["spend_after"] == pytest.approx(1435.0)
    assert row["saving"] == pytest.approx(3490.0)
    assert row["cut"] == pytest.approx(3490.0 / 4925.0)
    assert row["fund"] == pytest.approx(0.6 * 3490.0)
    assert row["patients"] == pytest.approx(0.4 * 3490.0)
    assert row["saving_predicted"] == pytest.approx(2690.0 + 900.0)
    # agreed volume 650 + 35 = 685 of reported demand 1083.33 + 70
    assert row["agreed_volume"] == pytest.approx(685.0)
    assert row["agreed_share"] == pytest.approx(685.0 / (650.0 / 0.6 + 70.0))
    assert row["saving_on_demand"] == pytest.approx(2590.0 / 0.6 + 900.0 / 0.5)
    assert row["published_saving"] == pytest.approx(PUBLISHED_FIGURES["4"].saving_bn * 1e9)


def test_missing_is_reported_not_dropped(hand: BatchSavings) -> None:
    m = hand.missing.set_index("kind")
    assert m.loc["failed_lot", "lot"] == "丙片" and m.loc["failed_lot", "volume"] == 1000.0
    assert m.loc["no_published_winner", "lot"] == "乙注射剂" and m.loc["no_published_winner", "volume"] == 5.0
    assert m.loc["derived_reference", "spec"] == "20mg" and m.loc["derived_reference", "volume"] == 50.0
    counts = hand.summary["missing"]
    assert counts["failed_lot"] == {"entries": 1, "rows": 1, "volume": 1000.0, "volume_unknown_entries": 0}
    assert counts["no_reference"]["rows"] == 0
    # every replayed volume row is in the rows table, priced or not; the failed lot's row is not replayed
    assert len(hand.rows) == len(_volumes()) - 1
    assert hand.summary["rows_priced"] == 7  # 4 of lot 1; BJ, SH and TJ (zero volume) of lot 2
    assert hand.summary["rows_zero_volume"] == 1


def test_winner_own_basis_and_no_median_lot() -> None:
    bids = _bids()
    bids.loc[bids["lot"] == "乙注射剂", "pre_median_price"] = np.nan
    out = batch_savings(bids, _volumes(), reference="winner-own", predicted=False)
    lots = out.lots.set_index("lot")
    assert lots.loc["甲片", "saving"] == pytest.approx(2505.0)
    # lot 2 now has no median at all: its rows are unpriced and listed, never priced at zero
    assert lots.loc["乙注射剂", "spend_before"] == 0.0
    assert lots.loc["乙注射剂", "lots_priced"] == 0
    assert out.summary["missing"]["no_reference"] == {"entries": 1, "rows": 2, "volume": 30.0,
                                                      "volume_unknown_entries": 0}
    # predicted=False: the predicted columns are empty, not zero
    assert out.batches[["saving_predicted", "cut_predicted"]].isna().all(axis=None)


def test_replay_result_input(hand: BatchSavings, tmp_path: Path) -> None:
    from procurement.replay import replay

    _bids().to_csv(tmp_path / "bids.csv", index=False)
    _volumes().to_csv(tmp_path / "volumes.csv", index=False)
    result = replay(tmp_path / "bids.csv", tmp_path / "volumes.csv")
    with_file = batch_savings(result, tmp_path / "volumes.csv", predicted=False)
    assert with_file.batches.loc[0, "saving"] == pytest.approx(3490.0)
    # without a volumes table the volumes are rebuilt from the tenders (demand x published share): the
    # same saving; the failed lot is still listed, its volume unknown
    rebuilt = batch_savings(result, predicted=False)
    assert rebuilt.batches.loc[0, "saving"] == pytest.approx(3490.0)
    failed = rebuilt.missing[rebuilt.missing["kind"] == "failed_lot"]
    assert list(failed["lot"]) == ["丙片"] and np.isnan(failed["volume"].iloc[0])
    assert rebuilt.summary["missing"]["failed_lot"]["volume_unknown_entries"] == 1
    # a path to bids.csv finds volumes.csv beside it
    assert batch_savings(tmp_path / "bids.csv", predicted=False).batches.loc[0, "saving"] == pytest.approx(3490.0)


def test_province_claimed_twice_is_reported() -> None:
    bids = _bids()
    bids.loc[1, "provinces"] = "CN-TJ;CN-BJ"  # F2 also lists BJ, which F1 (first in file order) supplies
    out = batch_savings(bids, _volumes(), predicted=False)
    dup = out.missing[out.missing["kind"] == "duplicate_winner"]
    assert list(dup["lot"]) == ["甲片"] and dup["volume"].sum() == 100.0
    assert out.lots.set_index("lot").loc["甲片", "saving"] == pytest.approx(2590.0)


def test_rates_and_bad_arguments() -> None:
    out = batch_savings(_bids(), _volumes(), reimbursement=0.8, predicted=False)
    assert out.batches.loc[0, "fund"] == pytest.approx(0.8 * 3490.0)
    with pytest.raises(ValueError, match="reimbursement"):
        batch_savings(_bids(), _volumes(), reimbursement=1.5)
    with pytest.raises(ValueError, match="reference"):
        batch_savings(_bids(), _volumes(), reference="mean")
    with pytest.raises(ValueError, match="volumes"):
        batch_savings(_bids())
    with pytest.raises(ValueError, match="agreed_volume_units"):
        batch_savings(_bids(), _volumes().drop(columns=["agreed_volume_units"]))


def test_write_and_format(hand: BatchSavings, tmp_path: Path) -> None:
    out = write_batch_savings(hand, tmp_path / "sav")
    assert sorted(p.name for p in out.iterdir()) == sorted([*OUTPUT_FILES.values(), SUMMARY_FILE])
    summary = json.loads((out / SUMMARY_FILE).read_text(encoding="utf-8"))
    assert summary["saving"] == pytest.approx(3490.0)
    with pytest.raises(OutputExistsError):
        write_batch_savings(hand, out)
    write_batch_savings(hand, out, force=True)
    text = format_batch_savings_table(hand)
    assert "published" in text and "vbp-rules.md s.7" in text
    assert procurement.batch_savings is batch_savings


# ---------------------------------------------------------------------------------------------------
# The published batches 2 and 4


@functools.lru_cache(maxsize=2)
def _shared(folder: str) -> BatchSavings:
    return batch_savings(Path(folder) / "bids.csv", Path(folder) / "volumes.csv")


def test_shared_data_sanity(vbp_data: Path) -> None:
    out = _shared(str(vbp_data))
    b = out.batches.set_index("batch")
    assert set(b.index) == {"2", "4"}
    for batch in ("2", "4"):
        row = b.loc[batch]
        assert row["saving"] > 0
        assert 0.30 < row["cut"] < 0.95
        assert row["fund"] / row["saving"] == pytest.approx(0.6, abs=1e-12)
        assert row["fund"] + row["patients"] == pytest.approx(row["saving"], rel=1e-12)
        lots = out.lots[out.lots["batch"] == batch]
        for col in ("spend_before", "spend_after", "saving", "agreed_volume", "saving_predicted"):
            assert row[col] == pytest.approx(lots[col].sum(), rel=1e-12)
        # the predicted awards price the same volume within a few percent of the published ones
        assert row["saving_predicted"] == pytest.approx(row["saving"], rel=0.05)
        assert 0.5 <= row["agreed_share"] <= 0.8
    # what is left out is counted: batch-2 sodium bicarbonate (failed lot) and metronidazole (no median)
    missing = out.missing.set_index("kind")
    assert "碳酸氢钠口服常释剂型" in set(out.missing.loc[out.missing["kind"] == "failed_lot", "lot"])
    assert set(out.missing.loc[out.missing["kind"] == "no_reference", "lot"]) == {"甲硝唑口服常释剂型"}
    assert "no_published_winner" not in missing.index
    # rows: every published volume row of a replayed lot, priced or counted
    assert out.summary["rows_replayed"] + out.summary["missing"]["failed_lot"]["rows"] == out.summary["volume_rows"]
