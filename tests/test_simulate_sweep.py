"""Scenario sweeps: scenario files, determinism across executors, chunked resumable output, summaries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from procurement.errors import OutputExistsError, TenderFileErrors, UnknownNameError
from procurement.io.tender_files import load_tender
from procurement.simulate import (
    LOT_METRICS,
    MarketParams,
    Scenario,
    compare,
    draw_metrics,
    load_scenarios,
    parse_seeds,
    read_sweep,
    simulate,
    strategy_names,
)
from procurement.simulate import sweep as sweep_module
from procurement.synthetic import synthetic_tender

ROOT = Path(__file__).resolve().parent.parent
NATIONAL = ROOT / "tenders" / "national-demo"

SCENARIOS = {
    "scenarios": {
        "base": {"description": "tender rules"},
        "no-cut": {"rules": {"min_cut_vs_ceiling": "none"}},
        "thin": {"market": {"markup": 0.1, "strategy": "empirical"}},
    }
}


@pytest.fixture(scope="module")
def small():
    return synthetic_tender(lots=6, regions=8, suppliers=20, bids_per_lot=5, seed=5)


@pytest.fixture(scope="module")
def reference(small):
    return simulate(small, SCENARIOS, seeds=12, jobs=1, executor="serial")


def test_sweep_is_a_tidy_long_frame(reference, small):
    assert list(reference.columns) == ["scenario", "seed", "run_seed", "lot_id", *LOT_METRICS]
    assert len(reference) == 3 * 12 * len(small.lots)
    assert list(dict.fromkeys(reference["scenario"])) == ["base", "no-cut", "thin"]
    assert reference.groupby("scenario")["seed"].nunique().eq(12).all()
    # one child seed per run, recorded, the same for a seed across scenarios (common random numbers)
    runs = reference.drop_duplicates(["scenario", "seed"])
    assert runs.groupby("seed")["run_seed"].nunique().eq(1).all()
    assert runs.drop_duplicates("seed")["run_seed"].is_unique
    assert reference["failed"].dtype == bool and reference["winners"].dtype == np.int64
    ok = ~reference["failed"]
    assert (reference.loc[ok, "winners"] >= 1).all()
    assert ((reference.loc[ok, "hhi"] > 0) & (reference.loc[ok, "hhi"] <= 10000 + 1e-6)).all()


def test_same_seeds_same_numbers_whatever_the_chunking_and_pool(small, reference):
    again = simulate(small, SCENARIOS, seeds=12, jobs=2, executor="process", chunk_size=5)
    pd.testing.assert_frame_equal(again, reference)
    subset = simulate(small, SCENARIOS, seeds=[3, 7], executor="serial")
    expected = reference[reference["seed"].isin([3, 7])].reset_index(drop=True)
    pd.testing.assert_frame_equal(subset, expected)
    other = simulate(small, SCENARIOS, seeds=12, executor="serial", master_seed=1)
    assert not np.allclose(other["spend"], reference["spend"])


def test_dask_executor_gives_identical_results(small, reference):
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = distributed.Client(cluster)
    try:
        by_address = simulate(small, SCENARIOS, seeds=12, executor="dask", scheduler=cluster.scheduler_address,
                              chunk_size=4)
        by_client = simulate(small, SCENARIOS, seeds=12, executor="dask", scheduler=client, chunk_size=6)
    finally:
        client.close()
        cluster.close()
    pd.testing.assert_frame_equal(by_address, reference)
    pd.testing.assert_frame_equal(by_client, reference)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_chunked_output_resumes_without_redoing_finished_chunks(small, reference, tmp_path, monkeypatch, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    out = tmp_path / f"sweep{suffix}"
    calls = []
    real = sweep_module._run_chunk

    def flaky(payload, scenario_index, seeds):
        if len(calls) == 4:
            raise KeyboardInterrupt  # the analyst stops the sweep
        calls.append((scenario_index, seeds))
        return real(payload, scenario_index, seeds)

    monkeypatch.setattr(sweep_module, "_run_chunk", flaky)
    with pytest.raises(KeyboardInterrupt):
        simulate(small, SCENARIOS, seeds=12, executor="serial", chunk_size=3, out=out)
    assert not out.exists()
    parts = sorted((tmp_path / f"sweep{suffix}.parts").glob(f"*{suffix}"))
    assert len(parts) == 4
    done = list(calls)
    calls.clear()
    monkeypatch.setattr(sweep_module, "_run_chunk", lambda *a: calls.append(a[1:]) or real(*a))
    frame = simulate(small, SCENARIOS, seeds=12, executor="serial", chunk_size=3, out=out)
    assert len(calls) == 12 - 4 and not set(calls) & set(done)
    pd.testing.assert_frame_equal(frame, reference)
    pd.testing.assert_frame_equal(read_sweep(out), reference)
    assert not (tmp_path / f"sweep{suffix}.parts").exists()
    with pytest.raises(OutputExistsError):
        simulate(small, SCENARIOS, seeds=12, executor="serial", out=out)
    simulate(small, {"scenarios": {"base": {}}}, seeds=2, executor="serial", out=out, force=True)
    assert read_sweep(out)["seed"].nunique() == 2


def test_progress_bar_is_quiet_when_not_a_terminal(small, capsys):
    simulate(small, None, seeds=3, executor="serial")
    assert capsys.readouterr().err == ""
    simulate(small, None, seeds=3, executor="serial", progress=True)
    assert "3/3 draws" in capsys.readouterr().err


def test_scenarios_toml_of_national_demo_loads_and_runs():
    tender = load_tender(NATIONAL)
    scenarios = load_scenarios(NATIONAL / "scenarios.toml", tender=tender)
    assert [s.name for s in scenarios][:2] == ["batch4", "no-cut-route"]
    frame = simulate(NATIONAL, seeds=2, executor="serial")  # picks up the folder's scenarios.toml
    assert list(dict.fromkeys(frame["scenario"])) == [s.name for s in scenarios]
    assert len(frame) == len(scenarios) * 2 * len(tender.lots)


def test_scenario_file_problems_are_all_reported(tmp_path):
    bad = tmp_path / "scenarios.toml"
    bad.write_text('[defaults]\ncolour = "red"\n[scenarios.a]\npreset = "batch99"\n'
                   '[scenarios.b]\nrules = { fuse_ratio = -1, nonsense = 2 }\nmarket = { strategy = "psychic" }\n'
                   '[scenarios.c]\nmode = "magic"\n', encoding="utf-8")
    with pytest.raises(TenderFileErrors) as err:
        load_scenarios(bad)
    text = str(err.value)
    for needle in ("defaults.colour", "batch99", "fuse_ratio", "nonsense", "psychic", "magic"):
        assert needle in text
    with pytest.raises(FileNotFoundError):
        load_scenarios(tmp_path / "missing.toml")


def test_scenario_presets_by_name_skip_when_not_registered(small):
    from procurement.rules.presets import preset_names

    names = [p for p in ("batch10", "batch11") if p in preset_names()]
    if not names:
        pytest.skip("presets batch10/batch11 not registered yet")
    frame = simulate(small, [Scenario(p, preset=p) for p in names], seeds=3, executor="serial")
    assert list(dict.fromkeys(frame["scenario"])) == names


def test_parse_seeds():
    assert parse_seeds("0:5") == [0, 1, 2, 3, 4]
    assert parse_seeds("10:20:5") == [10, 15]
    assert parse_seeds("3,1,2") == [3, 1, 2]
    assert parse_seeds(3) == [0, 1, 2] == parse_seeds("3")
    for bad in ("a:b", "5:5", "-1:2", "1,1", True):
        with pytest.raises(ValueError):
            parse_seeds(bad)


def test_unknown_names_are_errors_listing_valid_ones(small):
    with pytest.raises(UnknownNameError, match="dask"):
        simulate(small, None, seeds=1, executor="spark")
    with pytest.raises(UnknownNameError, match="rules"):
        simulate(small, None, seeds=1, mode="optimal-ish")
    with pytest.raises(UnknownNameError, match="cost-plus"):
        MarketParams().with_overrides(strategy="psychic")
    with pytest.raises(UnknownNameError, match="markup"):
        MarketParams().with_overrides(markups=0.2)
    with pytest.raises(ValueError):
        MarketParams().with_overrides(markup=-1)
    assert {"cost-plus", "empirical", "best-response", "equilibrium"} <= set(strategy_names())


def test_strategies_best_response_and_equilibrium_run_in_a_sweep():
    tender = synthetic_tender(lots=2, regions=4, suppliers=10, bids_per_lot=4, seed=2)
    market = {"grid_points": 21, "samples": 30, "iterations": 3}
    scenarios = [Scenario("br", market={**market, "strategy": "best-response"}),
                 Scenario("eq", market={**market, "strategy": "equilibrium"})]
    a = simulate(tender, scenarios, seeds=4, executor="serial")
    b = simulate(tender, scenarios, seeds=4, jobs=2, executor="process", chunk_size=1)
    pd.testing.assert_frame_equal(a, b)
    assert (a["bidders"] > 0).any()
    ratios = a["lowest_bid_ratio"].dropna()
    assert ((ratios > 0) & (ratios <= 1)).all()


def test_entry_cost_and_capacity_reduce_entry(small):
    scenarios = [Scenario("free"), Scenario("costly", market={"entry_cost": 0.05}),
                 Scenario("capacity", market={"use_capacity": True}),
                 Scenario("quote", market={"unprofitable": "quote", "cost_median": 0.6})]
    frame = simulate(small, scenarios, seeds=10, executor="serial")
    bidders = frame.groupby("scenario", sort=False)["bidders"].mean()
    assert bidders["costly"] < bidders["free"]
    assert bidders["capacity"] <= bidders["free"]
    quote = frame[frame["scenario"] == "quote"]
    assert (quote["valid_bids"] < quote["bidders"]).any()  # invalid quotes above the ceiling


def test_compare_gives_means_with_95_percent_intervals(reference):
    table = compare(reference, baseline="base")
    assert {"scenario", "metric", "mean", "ci_low", "ci_high", "diff", "diff_low", "diff_high"} <= set(table.columns)
    per_draw = draw_metrics(reference)
    row = table[(table["scenario"] == "no-cut") & (table["metric"] == "winners_per_lot")].iloc[0]
    values = per_draw.loc[per_draw["scenario"] == "no-cut", "winners_per_lot"].to_numpy()
    half = 2.201 * values.std(ddof=1) / np.sqrt(12)  # t(0.975, 11)
    assert row["mean"] == pytest.approx(values.mean())
    assert row["ci_low"] == pytest.approx(values.mean() - half)
    assert row["ci_high"] == pytest.approx(values.mean() + half)
    base = table[table["scenario"] == "base"]
    assert np.allclose(base["diff"].fillna(0), 0)
    with pytest.raises(KeyError):
        compare(reference, baseline="nope")


def test_other_modes_run_the_full_api_and_match_the_lean_path(monkeypatch):
    """A mode other than ``rules`` (e.g. ``optimal``) runs procurement.api.run per draw; with a stand-in
    mode that runs the full rules engine the sweep must equal the lean path, random picks included."""
    from procurement import api
    from procurement.rules.engine import run_rules

    real_run = api.run

    def run(tender, mode="rules", **options):
        return run_rules(tender) if mode == "rules-full" else real_run(tender, mode, **options)

    monkeypatch.setattr(api, "MODES", ("rules", "rules-full"))
    monkeypatch.setattr(api, "run", run)
    tender = synthetic_tender(lots=3, regions=6, suppliers=12, bids_per_lot=5, seed=9).replace(
        pick_policy="random")
    lean = simulate(tender, None, seeds=3, executor="serial")
    full = simulate(tender, None, seeds=3, executor="serial", mode="rules-full")
    pd.testing.assert_frame_equal(lean, full, check_exact=False, rtol=1e-9)


def test_optimal_mode_sweep_solves_every_draw_and_never_costs_more_than_rules():
    """Optimal mode per draw (the real MIP): same draws as rules mode (common random numbers), every
    lot solved, and the optimum over the same candidate bids never spends more than the rules outcome."""
    from procurement.optimize import OptimizeOptions

    tender = synthetic_tender(lots=3, regions=6, suppliers=12, bids_per_lot=5, seed=9)
    # payment only, no capacity: the rules outcome is then feasible for the MIP, so the optimum's spend is
    # at most the rules spend (to the MIP gap)
    tender = tender.replace(extra={**tender.extra, "optimize": OptimizeOptions(circulation="none",
                                                                             capacity=False)})
    rules = simulate(tender, None, seeds=3, executor="serial")
    optimal = simulate(tender, None, seeds=3, executor="serial", mode="optimal")
    assert list(optimal.columns) == list(rules.columns)
    assert len(optimal) == len(rules) == 3 * len(tender.lots)
    pd.testing.assert_series_equal(optimal["run_seed"], rules["run_seed"])
    both = rules.merge(optimal, on=["scenario", "seed", "lot_id"], suffixes=("_rules", "_optimal"))
    assert (both["failed_rules"] == both["failed_optimal"]).all()
    solved = both[~both["failed_optimal"]]
    assert len(solved) > 0
    assert (solved["spend_optimal"] <= solved["spend_rules"] * (1 + 1e-3)).all()
    assert (solved["winners_optimal"] >= 1).all()
    assert (solved["spend_optimal"] < solved["spend_rules"] * (1 - 1e-3)).any()  # the optimum differs
