"""Replay of published national-batch results: do the rule presets reproduce what really happened?

``replay(results_csv, volumes_csv, rules)`` builds one tender per batch
(:mod:`procurement.io.published`), runs the batch's preset over every bid
(:func:`procurement.rules.engine.evaluate_bids`) and compares with the published outcome:

- per bid: predicted win/lose against the published ``won``;
- per lot: the number of provinces each winner supplies, winners ordered by price rank. The predicted
  counts come from the rank-order picking rule (:func:`procurement.rules.allocation.pick_regions`) over
  the lot's provinces (every province with a volume row, zero-volume ones included, since the published
  allocations hand those a supplier too); the published counts are the lengths of the ``provinces``
  lists of the published winners, ordered by their comparable price. Winners at an equal comparable
  price are interchangeable (the official tie-breaker is unpublished), so within such a tie the counts are
  compared in descending order.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from procurement.errors import InputProblem, TenderFileErrors
from procurement.io.atomic import atomic_dir
from procurement.io.published import (
    PublishedBatch,
    build_batches,
    read_provinces,
    read_results,
    read_volumes,
)
from procurement.io.tender_files import read_csv_cells
from procurement.rules.allocation import pick_regions
from procurement.rules.engine import evaluate_bids

#: Columns a replay adds to every input row of the results table.
ADDED_COLUMNS = ("lot_id", "spec_id", "supplier_id", "rules", "comparable_price", "valid", "rank",
                 "predicted_won", "match", "published_provinces", "predicted_provinces", "reason")
SUMMARY_COLUMNS = ("batch", "bids", "winners", "predicted_winners", "accuracy", "false_wins",
                   "false_losses", "lots", "lots_province_counts_match")


@dataclass(frozen=True, eq=False)
class ReplayResult:
    """Outcome of a replay.

    Attributes:
        bids: every input row in file order (flags and prices typed, other cells as written) plus
            :data:`ADDED_COLUMNS`:
            ``lot_id``, ``spec_id``, ``supplier_id``, ``rules`` (preset), ``comparable_price`` (on the
            lot's representative spec), ``valid``, ``rank``, ``predicted_won``, ``match`` (predicted ==
            published), ``published_provinces``/``predicted_provinces`` (counts) and the deciding
            ``reason``.
        summary: one row per batch, columns :data:`SUMMARY_COLUMNS`.
        lots: one row per lot: published and predicted winners, province counts by rank, ``counts_match``.
        batches: the :class:`~procurement.io.published.PublishedBatch` objects (tenders) replayed.
        seconds: wall time of the replay, loading included.
    """

    bids: pd.DataFrame
    summary: pd.DataFrame
    lots: pd.DataFrame
    batches: list[PublishedBatch] = field(default_factory=list)
    seconds: float = 0.0


def replay(results_csv: str | Path, volumes_csv: str | Path | None = None, rules: str | None = None,
           overrides: Mapping[str, object] | None = None) -> ReplayResult:
    """Replay published results under the rule presets.

    Args:
        results_csv: published-results table in the format of ``../shared/data/vbp/bids.csv``.
        volumes_csv: agreed volumes in the format of ``volumes.csv``; None = none (each lot's provinces
            are then those its published winners supply).
        rules: preset for every batch; None = the preset named by the ``batch`` column
            (``2`` -> ``batch2``, ``ext`` -> ``ext-2019``, ``4+7`` -> ``pilot-4+7``).
        overrides: rule parameters overridden in every batch, e.g. ``{"normalisation": "none"}``.

    Returns:
        :class:`ReplayResult`.

    Raises:
        TenderFileErrors: bad input (missing column, unreadable value, ...), with file, line, column.
        UnknownNameError: unknown preset or rule parameter.
    """
    start = time.perf_counter()
    problems: list[InputProblem] = []
    results = read_results(results_csv, problems)
    volumes = read_volumes(volumes_csv, problems) if volumes_csv is not None else None
    if problems:
        raise TenderFileErrors(problems, str(results_csv))
    provinces = read_provinces(Path(results_csv).with_name("provinces.csv"))
    batches = build_batches(results, volumes, provinces=provinces, rules=rules, overrides=overrides,
                            files=(Path(results_csv).name,
                                   Path(volumes_csv).name if volumes_csv is not None else "volumes.csv"))
    bid_parts, lot_parts, summary_rows = [], [], []
    for pb in batches:
        bids, lots, row = _replay_batch(pb)
        bid_parts.append(bids)
        lot_parts.append(lots)
        summary_rows.append(row)
    added = pd.concat(bid_parts, ignore_index=True).set_index("_line")
    raw = read_csv_cells(Path(results_csv))  # the input rows exactly as written, in file order
    raw.index = np.arange(len(raw)) + 2
    typed = results.set_index("_line")
    for col in ("originator", "foreign", "won", "ceiling_price", "pre_median_price", "bid_price"):
        raw[col] = typed[col]
    raw["lot_no"] = typed["lot_no"].astype(np.int64)
    bids = raw.join(added[[c for c in ADDED_COLUMNS if c in added]], how="inner").reset_index(drop=True)
    lots = pd.concat(lot_parts, ignore_index=True)
    summary = pd.DataFrame(summary_rows, columns=list(SUMMARY_COLUMNS))
    return ReplayResult(bids=bids, summary=summary, lots=lots, batches=batches,
                        seconds=time.perf_counter() - start)


def _rank_counts(n_winners: int, n_regions: int, first_pick: int) -> list[int]:
    picks = pick_regions(n_winners, np.zeros(n_regions), first_pick_regions=first_pick, backup=False)
    return np.bincount(picks.primary, minlength=n_winners).tolist() if n_winners else []


def _tie_sorted(prices: np.ndarray, counts: list[int]) -> list[int]:
    """Counts in price order, those of equal comparable price (a tie: order unknown) sorted descending."""
    out = list(counts)
    start = 0
    for k in range(1, len(prices) + 1):
        if k == len(prices) or not np.isclose(prices[k], prices[start], rtol=1e-9, atol=0.0):
            out[start:k] = sorted(out[start:k], reverse=True)
            start = k
    return out


def _replay_batch(pb: PublishedBatch) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    tender = pb.tender
    audit, _ = evaluate_bids(tender)
    rows = pb.rows
    # tender.bids keeps the rows' order (built from them), so audit rows align one to one
    out = rows.drop(columns=["strength", "unit", "fill_volume"]).copy()
    out["rules"] = tender.rules.name
    out["comparable_price"] = audit["comparable_price"].to_numpy()
    out["valid"] = audit["valid"].to_numpy()
    out["rank"] = audit["rank"].to_numpy()
    out["predicted_won"] = audit["won"].to_numpy()
    out["match"] = out["predicted_won"] == out["won"]
    out["published_provinces"] = [len([p for p in s.split(";") if p.strip()]) for s in out["provinces"]]
    out["predicted_provinces"] = 0
    out["reason"] = audit["reason"].to_numpy()
    order_key = out["supplier_id"].rank(method="dense").to_numpy()
    first_pick = tender.rules.first_pick_regions
    won = out["won"].to_numpy(bool)
    pred_won = out["predicted_won"].to_numpy(bool)
    comp = out["comparable_price"].to_numpy(float)
    rank = out["rank"].to_numpy()
    pub_n = out["published_provinces"].to_numpy()
    valid = out["valid"].to_numpy(bool)
    match = out["match"].to_numpy(bool)
    lot_names = out["lot"].to_numpy()
    pred_n = np.zeros(len(out), dtype=np.int64)
    lot_rows = []
    for lot_id, idx in out.groupby("lot_id", sort=False).indices.items():
        n_regions = len(pb.lot_regions.get(lot_id, []))
        pub = idx[won[idx]]
        pub = pub[np.lexsort((order_key[pub], comp[pub]))]
        pred = idx[pred_won[idx]]
        pred = pred[np.lexsort((order_key[pred], rank[pred]))]
        pub_counts = _tie_sorted(comp[pub], pub_n[pub].tolist())
        counts = _rank_counts(len(pred), n_regions, first_pick)
        pred_n[pred] = counts
        pred_counts = _tie_sorted(comp[pred], counts)
        lot_rows.append({"batch": pb.batch, "lot_id": lot_id, "lot": lot_names[idx[0]], "bids": len(idx),
                         "valid_bids": int(valid[idx].sum()), "winners": len(pub),
                         "predicted_winners": len(pred), "regions": n_regions,
                         "published_counts": "/".join(map(str, pub_counts)),
                         "predicted_counts": "/".join(map(str, pred_counts)),
                         "bids_match": bool(match[idx].all()), "counts_match": pub_counts == pred_counts})
    out["predicted_provinces"] = pred_n
    lots = pd.DataFrame(lot_rows)
    n = len(out)
    row = {"batch": pb.batch, "bids": n, "winners": int(out["won"].sum()),
           "predicted_winners": int(out["predicted_won"].sum()),
           "accuracy": float(out["match"].mean()) if n else float("nan"),
           "false_wins": int((out["predicted_won"] & ~out["won"]).sum()),
           "false_losses": int((~out["predicted_won"] & out["won"]).sum()),
           "lots": len(lots), "lots_province_counts_match": int(lots["counts_match"].sum())}
    return out, lots, row


def write_replay(result: ReplayResult, out: str | Path, force: bool = False, savings=None) -> Path:
    """Write ``replay_bids.csv``, ``replay_summary.csv`` and ``replay_lots.csv`` atomically into ``out``.

    Args:
        savings: a :class:`~procurement.analysis.batch_savings.BatchSavings` of this replay, written
            into the same folder (``batch_savings*.csv`` and its summary).

    Raises:
        OutputExistsError: ``out`` exists and ``force`` is False.
    """
    with atomic_dir(out, force) as tmp:
        result.bids.to_csv(tmp / "replay_bids.csv", index=False)
        result.summary.to_csv(tmp / "replay_summary.csv", index=False)
        result.lots.to_csv(tmp / "replay_lots.csv", index=False)
        if savings is not None:
            from procurement.analysis.batch_savings import write_batch_savings_files

            write_batch_savings_files(savings, tmp)
    return Path(out)
