"""Replay of published national batches (../shared/data/vbp) and the published-results reader.

The data-dependent tests read the folder in PROCUREMENT_VBP_DATA (default ../shared/data/vbp, relative to
the repository root) and skip with a reason when it is absent. The expected figures and the list of
remaining misses are those documented in docs/replay.md.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from procurement.commands.replay import replay as replay_command
from procurement.errors import TenderFileErrors
from procurement.io.published import (
    build_batches,
    choose_representative,
    dosage_form_of,
    parse_spec,
    preset_for_batch,
    read_results,
    supplier_id_of,
)
from procurement.replay import SUMMARY_COLUMNS, replay, write_replay
from procurement.rules.engine import run_rules

ROOT = Path(__file__).resolve().parent.parent

#: Every bid the presets still get wrong: (batch, lot_no, firm_short); explained in docs/replay.md.
KNOWN_MISSES = {("2", 9, "河北冀衡"), ("2", 9, "东北制药"), ("2", 16, "重庆圣华曦"), ("2", 26, "科伦药业"),
                ("2", 30, "天津天士力"), ("2", 30, "山东方明"), ("4", 14, "北京四环"), ("4", 40, "上海桓华")}
#: Lots whose province counts by price rank differ from the published ones; explained in docs/replay.md.
KNOWN_COUNT_MISSES = {"B2-L09", "B2-L12", "B2-L16", "B2-L26", "B4-L14", "B4-L15", "B4-L40", "B4-L41"}


def data_dir() -> Path:
    folder = Path(os.environ.get("PROCUREMENT_VBP_DATA", "../shared/data/vbp"))
    return folder if folder.is_absolute() else ROOT / folder


@pytest.fixture(scope="module")
def data() -> Path:
    folder = data_dir()
    if not (folder / "bids.csv").is_file() or not (folder / "volumes.csv").is_file():
        pytest.skip(f"published VBP data (bids.csv, volumes.csv) not found at {folder}; "
                    f"set PROCUREMENT_VBP_DATA")
    return folder


@pytest.fixture(scope="module")
def result(data):
    return replay(data / "bids.csv", data / "volumes.csv")


def _summary(result) -> pd.DataFrame:
    return result.summary.set_index("batch")


# ---- spec parsing and naming (no data needed) ------------------------------------------------------------


@pytest.mark.parametrize(("text", "strength", "fill"), [
    ("0.25g", 250.0, None), ("20mg", 20.0, None), ("2ml:15mg", 15.0, 2.0), ("5ml:5mg (0.1%)", 5.0, 5.0),
    ("5ml:5mg（0.1%）", 5.0, 5.0), ("0.4ml:1.2mg (0.3%)", 1.2, 0.4), ("5mg/2.5ml", 5.0, 2.5),
    ("10ml:0.1g", 100.0, 10.0), ("200mg+300mg", 200.0, None), ("10g", 10000.0, None)])
def test_parse_spec(text, strength, fill):
    spec = parse_spec(text)
    assert spec.strength == pytest.approx(strength) and spec.unit == "mg"
    assert spec.fill_volume == (pytest.approx(fill) if fill is not None else None)


@pytest.mark.parametrize("text", ["", "tablet", "20", "mg20", "20mg extra"])
def test_parse_spec_rejects(text):
    with pytest.raises(ValueError, match="unrecognised specification"):
        parse_spec(text)


def test_names_and_forms():
    assert [preset_for_batch(b) for b in ("2", "4", "ext", "4+7", "10")] == [
        "batch2", "batch4", "ext-2019", "pilot-4+7", "batch10"]
    assert supplier_id_of("华北制药") == supplier_id_of(" 华北制药 ") and supplier_id_of("华北制药").isascii()
    assert dosage_form_of("阿莫西林口服常释剂型") == "oral-solid"
    assert dosage_form_of("喹硫平缓释控释剂型") == "modified-release"
    assert dosage_form_of("注射用比伐芦定") == "injection"
    specs = pd.DataFrame({"spec_id": ["A", "B", "C"], "bids": [2, 2, 1], "volume": [5.0, 9.0, 99.0],
                          "strength": [10.0, 20.0, 5.0]})
    assert choose_representative(specs) == "B"  # most bids (tie), then larger volume


HEADER = ("batch,lot_no,lot,spec,firm,firm_short,originator,foreign,won,ceiling_price,pre_median_price,"
          "bid_price,provinces\n")


def _write(tmp_path: Path, body: str, name: str = "results.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_small_table_per_lot_ceiling_and_demand(tmp_path):
    """Batch 'ext' -> ext-2019. Lot 1 bids two strengths with one ceiling figure 1.0: one ceiling per lot,
    read as the smallest strength's (10mg); 20mg gets 1.0 x 1.7 = 1.7, so the 1.5 bid on 20mg is valid.
    The 3 lowest win (comparable on the 10mg representative: 0.5, 0.6, 1.5 / 1.7 = 0.88, 0.95)."""
    results = _write(tmp_path, (
        "ext,1,X口服常释剂型,10mg,A,A,False,False,True,1.0,,0.5,CN-BJ\n"
        "ext,1,X口服常释剂型,10mg,B,B,False,False,True,1.0,,0.6,CN-SH\n"
        "ext,1,X口服常释剂型,20mg,C,C,False,False,True,1.0,,1.5,CN-GD\n"
        "ext,1,X口服常释剂型,10mg,D,D,False,False,False,1.0,,0.95,\n"))
    volumes = tmp_path / "volumes.csv"
    volumes.write_text("batch,province,lot,spec,agreed_volume_units\n"
                       "ext,CN-BJ,X口服常释剂型,10mg,70\next,CN-SH,X口服常释剂型,10mg,140\n"
                       "ext,CN-GD,X口服常释剂型,20mg,0\n", encoding="utf-8")
    res = replay(results, volumes)
    assert res.summary.iloc[0]["accuracy"] == 1.0
    assert res.summary.iloc[0]["lots_province_counts_match"] == 1  # 3 winners, 3 regions: 1/1/1
    pb = res.batches[0]
    assert pb.preset == "ext-2019"
    specs = pb.tender.specs.set_index("spec_id")
    assert specs["ceiling_price"].tolist() == pytest.approx([1.0, 1.7])
    # reported demand = agreed / share(3 winners) = agreed / 0.7; zero rows are no demand
    assert pb.tender.demand["volume"].tolist() == pytest.approx([100.0, 200.0])
    assert pb.lot_regions["Bext-L01"] == ["CN-BJ", "CN-SH", "CN-GD"]


def test_bad_input_names_file_line_column(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text(HEADER.replace(",won", "") .replace("bid_price", "bid")
                    + "2,1,X,10mg,A,A,False,False,1.0,,0.5,\n", encoding="utf-8")
    with pytest.raises(TenderFileErrors) as err:
        read_results(path)
    report = str(err.value)
    assert "results.csv:1 column won: required column missing" in report
    assert "results.csv:1 column bid_price: required column missing" in report
    bad = _write(tmp_path, "2,1,X,10 tablets,A,A,False,False,maybe,1.0,,0.5,\n", "bad.csv")
    with pytest.raises(TenderFileErrors) as err:
        read_results(bad)
    assert "bad.csv:2 column spec value '10 tablets'" in str(err.value)
    assert "bad.csv:2 column won value 'maybe': expected true or false" in str(err.value)


def test_cli_exit_codes(tmp_path):
    runner = CliRunner()
    missing = tmp_path / "m.csv"
    missing.write_text("batch,lot\n2,X\n", encoding="utf-8")
    res = runner.invoke(replay_command, [str(missing), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "m.csv:1 column firm: required column missing" in res.output
    ok = _write(tmp_path, "2,1,X口服常释剂型,10mg,A,A,False,False,True,1.0,,0.5,CN-BJ\n")
    res = runner.invoke(replay_command, [str(ok), "--rules", "batch99", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "unknown rule preset 'batch99'" in res.output
    res = runner.invoke(replay_command, [str(ok), "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert "100.00%" in res.output
    res = runner.invoke(replay_command, [str(ok), "--out", str(tmp_path / "o")])
    assert res.exit_code == 1 and "already exists" in res.output
    res = runner.invoke(replay_command, [str(ok), "--out", str(tmp_path / "o"), "--force", "--set", "fuse=2"])
    assert res.exit_code == 2 and "unknown rule parameter 'fuse'" in res.output


# ---- the published batches ------------------------------------------------------------------------------


def test_summary_frame(result):
    assert list(result.summary.columns) == list(SUMMARY_COLUMNS)
    s = _summary(result)
    assert s.loc["2", ["bids", "winners", "lots"]].tolist() == [158, 100, 32]
    assert s.loc["4", ["bids", "winners", "lots"]].tolist() == [225, 158, 45]
    for batch in ("2", "4"):
        bids = result.bids[result.bids["batch"] == batch]
        assert s.loc[batch, "accuracy"] == pytest.approx((bids["won"] == bids["predicted_won"]).mean())
        assert s.loc[batch, "false_wins"] == (bids["predicted_won"] & ~bids["won"]).sum()


def test_bid_accuracy(result):
    """Batch 4 meets the >= 99% target; batch 2 reaches 96.2%: its 6 misses are documented."""
    s = _summary(result)
    assert s.loc["4", "accuracy"] >= 0.99
    assert s.loc["2", "accuracy"] >= 152 / 158


def test_remaining_misses_are_the_documented_ones(result):
    misses = result.bids[~result.bids["match"]]
    found = {(b, int(n), f) for b, n, f in zip(misses["batch"], misses["lot_no"], misses["firm_short"],
                                               strict=True)}
    assert found == KNOWN_MISSES
    doc = (ROOT / "docs" / "replay.md").read_text(encoding="utf-8")
    for _, _lot_no, firm in KNOWN_MISSES:
        assert firm in doc
    for lot_id in KNOWN_COUNT_MISSES:
        assert lot_id in doc


def test_province_counts_by_rank(result):
    lots = result.lots
    assert set(lots.loc[~lots["counts_match"], "lot_id"]) == KNOWN_COUNT_MISSES
    # every lot whose winners are predicted right, except the documented rank-order exceptions, matches
    right = lots[lots["winners"] == lots["predicted_winners"]]
    assert right["counts_match"].sum() >= len(right) - 4


#: Lots where the extra province goes to a winner other than the cheapest (docs/replay.md).
RANK_ORDER_EXCEPTIONS = {"B2-L09", "B2-L12", "B4-L15", "B4-L41"}


def _provinces(cell: str) -> list[str]:
    return [p for p in str(cell).split(";") if p.strip() and p != "nan"]


def test_published_allocations_cover_every_volume_province(result, data):
    """The provinces lists of each lot's winners partition the lot's volume provinces exactly, zero-volume
    provinces included (35 zero rows in 15 lots): the published counts count them, as the replay does."""
    volumes = pd.read_csv(data / "volumes.csv", dtype={"batch": str})
    by_lot = volumes.groupby(["batch", "lot"])["province"].apply(set)
    zero = volumes.groupby(["batch", "lot", "province"])["agreed_volume_units"].sum()
    assert (zero == 0).sum() == 35
    for (batch, lot), rows in result.bids.groupby(["batch", "lot"]):
        listed = [p for cell in rows["provinces"] for p in _provinces(cell)]
        assert len(listed) == len(set(listed)) == len(by_lot[(batch, lot)]) == 31
        assert set(listed) == by_lot[(batch, lot)]


def test_rank_order_exceptions_behave_as_first_ranked(result, data):
    """In the 4 exception lots the winner holding the extra province also holds the lot's largest-volume
    province, like the first-ranked winner of 63 of the 72 other lots with a unique extra province; and it
    bid the same spec as the cheapest winner, so no specification ratio can reorder the two."""
    volumes = pd.read_csv(data / "volumes.csv", dtype={"batch": str})
    vol = volumes.groupby(["batch", "lot", "province"])["agreed_volume_units"].sum()
    holds_largest, exceptions = {True: 0, False: 0}, set()
    for lot_id, rows in result.bids[result.bids["won"]].groupby("lot_id"):
        counts = rows["published_provinces"]
        if len(rows) < 2 or (counts == counts.max()).sum() != 1:
            continue
        top = rows.loc[counts.idxmax()]
        cheapest = rows.loc[rows["comparable_price"].idxmin()]
        lot_vol = vol.loc[(top["batch"], top["lot"])]
        largest = top["provinces"].split(";").count(lot_vol.idxmax()) == 1
        if top.name != cheapest.name:
            exceptions.add(lot_id)
            assert largest and top["spec"] == cheapest["spec"], lot_id
        else:
            holds_largest[largest] += 1
    assert exceptions == RANK_ORDER_EXCEPTIONS
    assert holds_largest == {True: 63, False: 9}


def test_normalisation_beats_the_plain_baseline(data, result):
    """Raw unit prices (no 差比价) and valid bids only in the cap table: 95.6% and 93.8%."""
    plain = replay(data / "bids.csv", data / "volumes.csv",
                   overrides={"normalisation": "none", "cap_bidders": "valid"})
    p, s = _summary(plain), _summary(result)
    assert p.loc["4", "accuracy"] < 0.95 and p.loc["2", "accuracy"] < 0.96
    assert (s["accuracy"] > p["accuracy"]).all()
    raw_only = _summary(replay(data / "bids.csv", data / "volumes.csv", overrides={"normalisation": "none"}))
    assert raw_only.loc["4", "false_wins"] == 4  # ambroxol 4ml:30mg and ibuprofen 0.2g need the ratios


def test_replay_is_fast(data):
    start = time.perf_counter()
    replay(data / "bids.csv", data / "volumes.csv")
    assert time.perf_counter() - start < 5.0


def test_agreed_volumes_come_back(result, data):
    """Run the batch-4 tender: lots with the published winner count get the published agreed volume."""
    pb = next(b for b in result.batches if b.batch == "4")
    run = run_rules(pb.tender)
    volumes = pd.read_csv(data / "volumes.csv")
    published = volumes[volumes["batch"] == 4].groupby("lot")["agreed_volume_units"].sum()
    lots = run.lots.set_index("lot_id")
    names = dict(zip(pb.rows["lot_id"], pb.rows["lot"], strict=True))
    same = result.lots.query("batch == '4' and winners == predicted_winners")["lot_id"]
    got = np.array([lots.loc[lot, "agreed_volume"] for lot in same])
    want = np.array([published[names[lot]] for lot in same])
    assert len(same) == 43 and got == pytest.approx(want, rel=1e-9)


def test_preset_override_and_no_volumes(data):
    res = replay(data / "bids.csv", rules="batch4")
    assert set(res.bids["rules"]) == {"batch4"}
    pb = build_batches(read_results(data / "bids.csv"))[0]
    assert pb.preset == "batch2" and pb.skipped_lots == []
    # without volumes each lot's regions are the provinces its published winners supply
    assert all(len(r) == 31 for r in pb.lot_regions.values())


def test_write_replay(result, tmp_path):
    out = write_replay(result, tmp_path / "replay")
    bids = pd.read_csv(out / "replay_bids.csv")
    assert len(bids) == 383 and {"predicted_won", "comparable_price", "reason"} <= set(bids.columns)
    summary = pd.read_csv(out / "replay_summary.csv")
    assert list(summary.columns) == list(SUMMARY_COLUMNS)
    assert (out / "replay_lots.csv").is_file()


def test_cli_replay_with_savings_writes_everything_in_one_folder(data, tmp_path):
    out = tmp_path / "rp"
    args = [str(data / "bids.csv"), "--volumes", str(data / "volumes.csv"), "--savings", "--out", str(out)]
    res = CliRunner().invoke(replay_command, args)
    assert res.exit_code == 0, res.output
    assert "Annual savings on the first-year agreed volume" in res.output
    assert {p.name for p in out.iterdir()} >= {"replay_bids.csv", "replay_summary.csv", "replay_lots.csv",
                                               "batch_savings.csv", "batch_savings_summary.json"}
    batches = pd.read_csv(out / "batch_savings.csv")
    assert (batches["saving"] > 0).all()
    assert batches["fund"].sum() == pytest.approx(0.6 * batches["saving"].sum())
    no_volumes = CliRunner().invoke(replay_command, [str(data / "bids.csv"), "--savings", "--out",
                                                     str(tmp_path / "x")])
    assert no_volumes.exit_code == 2 and "--volumes" in no_volumes.output


# ---- optional pack column (article 13, pack-count ratio) -------------------------------------------------

PACK_HEADER = HEADER.replace("provinces\n", "provinces,pack\n")


def _write_packs(tmp_path: Path, body: str, name: str = "packs.csv") -> Path:
    path = tmp_path / name
    path.write_text(PACK_HEADER + body, encoding="utf-8")
    return path


#: Two lots, each with firms bidding 10mg in boxes of 7 and of 28 (batch 'ext' -> ext-2019: the 3 lowest
#: comparable prices win). Article 13: a box of X times the representative box's units may cost up to
#: 1.95^log2(X) times its price, so a unit price p in a box of n compares on the representative box n_rep
#: as p * X / 1.95^log2(X), X = n / n_rep (a larger box is expected to be cheaper per unit).
#: Lot 1: representative 10mg x 7 (3 bids). B's 28-box: X = 4, 0.49 * 4 / 1.95**2 = 0.49 * 1.051940 = 0.51545
#:   > A's 0.50, so D 0.40, C 0.45, A 0.50 win and B loses; on raw unit prices B (0.49) would beat A.
#:   Ceilings: 1.0 per unit in boxes of 7, 0.95 in boxes of 28 (1.0 * 1.95**2 / 4 = 0.9506, rounded).
#: Lot 2: representative 10mg x 28 (3 bids). G's 7-box: X = 1/4, 0.52 * 0.25 * 1.95**2 = 0.52 * 0.950625
#:   = 0.49433, between F 0.48 and E 0.50, so F, G, E win and H (0.51) loses; raw prices would pick
#:   F, E, H and drop G (0.52).
PACK_TABLE = (
    "ext,1,X口服常释剂型,10mg,A,A,False,False,True,1.0,,0.50,CN-BJ,7\n"
    "ext,1,X口服常释剂型,10mg,B,B,False,False,False,0.95,,0.49,,28\n"
    "ext,1,X口服常释剂型,10mg,C,C,False,False,True,1.0,,0.45,CN-SH,7\n"
    "ext,1,X口服常释剂型,10mg,D,D,False,False,True,1.0,,0.40,CN-GD,7\n"
    "ext,2,Y口服常释剂型,10mg,E,E,False,False,True,1.0,,0.50,CN-BJ,28\n"
    "ext,2,Y口服常释剂型,10mg,F,F,False,False,True,1.0,,0.48,CN-SH,28\n"
    "ext,2,Y口服常释剂型,10mg,H,H,False,False,False,1.0,,0.51,,28.0\n"
    "ext,2,Y口服常释剂型,10mg,G,G,False,False,True,1.05,,0.52,CN-GD,7\n")


def test_pack_ratio_reorders_bids_as_article_13_says(tmp_path):
    packs = _write_packs(tmp_path, PACK_TABLE)
    volumes = tmp_path / "volumes.csv"
    volumes.write_text("batch,province,lot,spec,agreed_volume_units\n"
                       "ext,CN-BJ,X口服常释剂型,10mg,70\next,CN-SH,X口服常释剂型,10mg,140\n"
                       "ext,CN-GD,X口服常释剂型,20mg,0\next,CN-BJ,Y口服常释剂型,10mg,70\n", encoding="utf-8")
    res = replay(packs, volumes)
    bids = res.bids.set_index("firm")
    assert res.summary.iloc[0]["accuracy"] == 1.0
    assert bids.loc["B", "comparable_price"] == pytest.approx(0.49 * 4 / 1.95 ** 2)  # 0.51545
    assert bids.loc["G", "comparable_price"] == pytest.approx(0.52 * 1.95 ** 2 / 4)  # 0.49433
    assert bids.loc[["A", "B", "C", "D"], "rank"].tolist() == [3, 4, 2, 1]
    assert bids.loc[["E", "F", "G", "H"], "rank"].tolist() == [3, 1, 2, 4]
    pb = res.batches[0]
    assert pb.partial_pack_lots == []
    specs = pb.tender.specs.set_index("spec_id")
    # one spec per (strength, pack), ascending; each keeps its published per-unit ceiling; the 20mg with
    # volume but no bid takes the representative's box of 7 and its ceiling by the content ratio
    assert specs.loc[["Bext-L01-S1", "Bext-L01-S2", "Bext-L01-S3"], "pack_size"].tolist() == [7, 28, 7]
    assert specs.loc[["Bext-L01-S1", "Bext-L01-S2", "Bext-L01-S3"], "ceiling_price"].tolist() == \
        pytest.approx([1.0, 0.95, 1.7])
    assert specs.loc[["Bext-L02-S1", "Bext-L02-S2"], "pack_size"].tolist() == [7, 28]
    assert pb.tender.lots.set_index("lot_id")["rep_spec_id"].to_dict() == {
        "Bext-L01": "Bext-L01-S1", "Bext-L02": "Bext-L02-S2"}
    # volumes carry no pack: each strength's volume goes to its most-bid box
    assert set(pb.tender.demand["spec_id"]) == {"Bext-L01-S1", "Bext-L02-S2"}
    # the same table without the column (one ceiling per spec then): raw unit prices pick B and H, drop
    # A and G
    no_packs = PACK_TABLE.replace("0.95,,", "1.0,,").replace("1.05,,", "1.0,,")
    plain = replay(_write(tmp_path, "".join(line.rsplit(",", 1)[0] + "\n"
                                            for line in no_packs.splitlines())), volumes)
    assert set(plain.bids.loc[~plain.bids["match"], "firm"]) == {"A", "B", "G", "H"}


def test_partial_packs_leave_the_lot_without_packs(tmp_path):
    """A lot whose packs are blank on some bids is read without packs (no pack is guessed)."""
    body = PACK_TABLE.replace("0.95,,0.49,,28", "1.0,,0.49,,")
    res = replay(_write_packs(tmp_path, body))
    pb = res.batches[0]
    assert pb.partial_pack_lots == ["X口服常释剂型"]
    specs = pb.tender.specs
    assert specs.loc[specs["lot_id"] == "Bext-L01", "pack_size"].tolist() == [1]
    assert sorted(specs.loc[specs["lot_id"] == "Bext-L02", "pack_size"]) == [7, 28]
    bids = res.bids.set_index("firm")
    assert bids.loc["B", "comparable_price"] == pytest.approx(0.49)
    # ceilings are checked per (spec, pack) only where the lot carries packs
    clash = _write_packs(tmp_path, PACK_TABLE.replace("0.95,,0.49,,28", "0.95,,0.49,,"), "clash.csv")
    with pytest.raises(TenderFileErrors, match="spec 10mg of lot X口服常释剂型 carries 2 different ceilings"):
        read_results(clash)
    clash = _write_packs(tmp_path, PACK_TABLE.replace("1.0,,0.45,CN-SH,7", "0.9,,0.45,CN-SH,7"), "clash2.csv")
    with pytest.raises(TenderFileErrors, match="spec 10mg in packs of 7 of lot X口服常释剂型 carries 2"):
        read_results(clash)


def test_bad_pack_names_file_line_column(tmp_path):
    bad = _write_packs(tmp_path, (
        "2,1,X口服常释剂型,10mg,A,A,False,False,True,1.0,,0.5,CN-BJ,0\n"
        "2,1,X口服常释剂型,10mg,B,B,False,False,True,1.0,,0.5,CN-SH,2.5\n"
        "2,1,X口服常释剂型,10mg,C,C,False,False,True,1.0,,0.5,CN-GD,seven\n"
        "2,1,X口服常释剂型,10mg,D,D,False,False,maybe,1.0,,0.5,,-7\n"
        "2,1,X口服常释剂型,10mg,E,E,False,False,False,1.0,,0.5,,\n"), "bad.csv")
    with pytest.raises(TenderFileErrors) as err:
        read_results(bad)
    report = str(err.value)
    for line, value in ((2, "0"), (3, "2.5"), (4, "seven"), (5, "-7")):
        assert f"bad.csv:{line} column pack value '{value}': expected a positive integer" in report
    assert "bad.csv:6 column pack" not in report
    assert "bad.csv:5 column won value 'maybe'" in report  # every problem at once


def test_blank_pack_column_changes_nothing(data, result, tmp_path):
    """The shared data with an all-blank pack column replay exactly as without the column."""
    raw = pd.read_csv(data / "bids.csv", dtype=str, keep_default_na=False)
    raw["pack"] = ""
    raw.to_csv(tmp_path / "bids.csv", index=False)
    (tmp_path / "provinces.csv").write_bytes((data / "provinces.csv").read_bytes())
    blank = replay(tmp_path / "bids.csv", data / "volumes.csv")
    pd.testing.assert_frame_equal(blank.summary, result.summary)
    pd.testing.assert_frame_equal(blank.lots, result.lots)
    pd.testing.assert_frame_equal(blank.bids.drop(columns="pack"), result.bids)
    assert all(pb.partial_pack_lots == [] for pb in blank.batches)
    assert all((pb.tender.specs["pack_size"] == 1).all() for pb in result.batches)


def test_one_ceiling_per_lot_with_packs(tmp_path):
    """One figure on every row of a multi-strength lot: it is the ceiling of the smallest strength in its
    most-bid box (10mg x 7); 10mg x 28 follows by the pack ratio (1.0 * 1.95**2 / 4 = 0.950625 per unit),
    20mg x 7 by the content ratio (1.7)."""
    res = replay(_write_packs(tmp_path, (
        "ext,1,X口服常释剂型,10mg,A,A,False,False,True,1.0,,0.50,CN-BJ,7\n"
        "ext,1,X口服常释剂型,10mg,B,B,False,False,True,1.0,,0.49,CN-SH,28\n"
        "ext,1,X口服常释剂型,10mg,C,C,False,False,True,1.0,,0.45,CN-GD,7\n"
        "ext,1,X口服常释剂型,20mg,D,D,False,False,False,1.0,,1.2,,7\n")))
    specs = res.batches[0].tender.specs.set_index("spec_id")
    assert specs["pack_size"].tolist() == [7, 28, 7]
    assert specs["ceiling_price"].tolist() == pytest.approx([1.0, 1.95 ** 2 / 4, 1.7])
