"""Scenario sweeps: every scenario x seed, on a local process pool or a dask.distributed cluster.

A sweep is cut into chunks of seeds of one scenario. Each chunk is computed from its seeds alone (the
draw's generator comes from the seed's child seed, :func:`~procurement.simulate.draws.run_seed`), so the
result does not depend on the executor, the number of workers or the chunking: the same seeds give the
same numbers everywhere. With ``out``, every finished chunk is written at once to ``<out>.parts/`` under a
content key (tender, scenario's resolved rules and market parameters, mode, master seed, seeds of the
chunk); a sweep that is interrupted and started again reads the chunks already there instead of redoing
them. When every chunk is done the parts are joined into ``out`` (written atomically) and removed.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from procurement.errors import OutputExistsError, UnknownNameError
from procurement.model.tender import Tender
from procurement.simulate.draws import PreparedScenario, prepare_tables, run_draw
from procurement.simulate.market import LOT_METRICS, compile_market
from procurement.simulate.scenarios import SCENARIO_FILE, Scenario, load_scenarios, parse_seeds

EXECUTORS = ("process", "dask", "serial")
FORMATS = (".parquet", ".csv")
_INT_METRICS = ("bidders", "valid_bids", "winners", "originator_wins")
#: Bump when the meaning of a sweep's numbers changes, so stale chunks are not reused.
SWEEP_VERSION = "1"

_WORKER_PAYLOAD: tuple | None = None


def simulate(tender: Tender | str | Path, scenarios: str | Path | Mapping | Iterable[Scenario] | None = None,
             seeds: int | str | Iterable[int] = 100, *, jobs: int = 1, executor: str = "process",
             scheduler: Any = None, out: str | Path | None = None, mode: str = "rules", master_seed: int = 0,
             chunk_size: int | None = None, progress: bool | None = None, force: bool = False) -> pd.DataFrame:
    """Run every scenario x seed and return a tidy long frame (one row per scenario, seed and lot).

    Args:
        tender: a :class:`Tender` or a tender folder.
        scenarios: scenario file, parsed mapping or :class:`Scenario` list; None = the tender folder's
            ``scenarios.toml`` if there is one, else a single ``baseline`` scenario.
        seeds: ``N`` (0..N-1), ``"A:B"``, ``"a,b,c"`` or a list of seeds.
        jobs: worker processes (``process`` executor) or local dask workers (``dask`` without a scheduler).
        executor: ``process`` (local pool; in-process when jobs == 1), ``serial`` or ``dask``.
        scheduler: dask scheduler address, or a ``distributed.Client``; None starts a LocalCluster.
        out: file to write (``.parquet``, needs pyarrow, or ``.csv``); chunks go to ``<out>.parts/``.
        mode: mode of scenarios that do not set one: ``rules`` (lean array path) or any mode of
            :func:`procurement.api.run` (e.g. ``optimal``: one MIP per draw, slower).
        master_seed: root of every draw's child seed.
        chunk_size: seeds per chunk (default: up to 50, at least 8 chunks per scenario when possible).
        progress: show a progress bar on stderr; None = only when stderr is a terminal.
        force: replace an existing ``out``.

    Returns:
        Frame with columns ``scenario, seed, run_seed, lot_id`` and the metrics of
        :data:`~procurement.simulate.market.LOT_METRICS`, ordered by scenario (file order), seed, lot.

    Raises:
        TenderFileErrors: invalid tender folder or scenario file.
        UnknownNameError: unknown executor, mode, preset, parameter or strategy.
        OutputExistsError: ``out`` exists and ``force`` is False.
        ValueError: bad seeds, jobs or output format.
    """
    from procurement.io.tender_files import load_tender

    if executor not in EXECUTORS:
        raise UnknownNameError("executor", executor, list(EXECUTORS))
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    if not isinstance(tender, Tender):
        tender = load_tender(tender)
    if scenarios is None and tender.source and (Path(tender.source) / SCENARIO_FILE).is_file():
        scenarios = Path(tender.source) / SCENARIO_FILE
    scenario_list = load_scenarios(scenarios, tender=tender)
    seed_list = parse_seeds(seeds)
    out_path = Path(out) if out is not None else None
    if out_path is not None:
        if out_path.suffix not in FORMATS:
            raise ValueError(f"output {out_path}: expected a {' or '.join(FORMATS)} file")
        if out_path.suffix == ".parquet":
            _require_pyarrow()
        if out_path.exists() and not force:
            raise OutputExistsError(f"{out_path} exists; use force (--force) to replace it")
    prepared = prepare_scenarios(tender, scenario_list, mode=mode, master_seed=master_seed,
                                 jobs=jobs if executor == "process" else 1)
    size = chunk_size or max(1, min(50, math.ceil(len(seed_list) / 8)))
    chunks = [(i, tuple(seed_list[k:k + size])) for i in range(len(prepared))
              for k in range(0, len(seed_list), size)]
    keys = [_chunk_key(tender, prepared[i], master_seed, s) for i, s in chunks]
    parts_dir = Path(str(out_path) + ".parts") if out_path is not None else None
    results: dict[int, pd.DataFrame] = {}
    if parts_dir is not None:
        parts_dir.mkdir(parents=True, exist_ok=True)
        for c, key in enumerate(keys):
            part = parts_dir / f"{key}{out_path.suffix}"
            if part.is_file():
                results[c] = read_sweep(part)
    pending = [c for c in range(len(chunks)) if c not in results]
    bar = _Progress(sum(len(s) for _, s in chunks), sys.stderr.isatty() if progress is None else progress)
    bar.update(sum(len(chunks[c][1]) for c in results))
    payload = (tuple(prepared), master_seed)

    def done(c: int, frame: pd.DataFrame) -> None:
        results[c] = frame
        if parts_dir is not None:
            _atomic_write(frame, parts_dir / f"{keys[c]}{out_path.suffix}")
        bar.update(len(chunks[c][1]))

    if pending:
        if executor == "dask":
            _run_dask(payload, [(c, chunks[c]) for c in pending], done, scheduler, jobs)
        elif executor == "serial" or jobs == 1:
            for c in pending:
                done(c, _run_chunk(payload, *chunks[c]))
        else:
            _run_pool(payload, [(c, chunks[c]) for c in pending], done, jobs)
    bar.close()
    frame = pd.concat([results[c] for c in range(len(chunks))], ignore_index=True)
    if out_path is not None:
        _atomic_write(frame, out_path)
        shutil.rmtree(parts_dir, ignore_errors=True)
    return frame


def prepare_scenarios(tender: Tender, scenarios: list[Scenario], *, mode: str = "rules",
                      master_seed: int = 0, jobs: int = 1) -> list[PreparedScenario]:
    """Resolve every scenario against the tender: rule set, compiled market, strategy tables.

    Strategy tables (``best-response``, ``equilibrium``) are computed here, once, seeded from
    ``master_seed`` and the scenario's position, so every executor uses the same ones; with ``jobs`` > 1
    the lots' tables are computed on a local process pool (same results).

    Raises:
        UnknownNameError: unknown mode (valid: ``rules`` and the modes of :func:`procurement.api.run`).
    """
    from procurement import api
    from procurement.simulate.strategies import get_strategy

    valid_modes = ["rules", *[m for m in api.MODES if m != "rules"]]
    resolved = []
    for s in scenarios:
        m = s.mode or mode
        if m not in valid_modes:
            raise UnknownNameError("mode", m, valid_modes)
        resolved.append((s, m, *s.resolve(tender)))
    needs_tables = any(get_strategy(params.strategy).table is not None for _, _, _, params in resolved)
    pool = _local_pool(jobs) if needs_tables and jobs > 1 else None
    markets: dict[str, Any] = {}
    out = []
    try:
        for i, (s, m, rules, params) in enumerate(resolved):
            key = repr(rules)
            if key not in markets:
                markets[key] = compile_market(tender, rules)
            market = markets[key]
            seed = int(np.random.SeedSequence([int(master_seed), 7919, i]).generate_state(1)[0])
            tables = prepare_tables(market, params, seed=seed, mapper=pool.map if pool is not None else None)
            out.append(PreparedScenario(name=s.name, mode=m, market=market, params=params, tables=tables,
                                        tender=tender.replace(rules=rules) if m != "rules" else None))
    finally:
        if pool is not None:
            pool.shutdown()
    return out


def _local_pool(jobs: int, **kwargs: Any):
    """A local process pool; fork shares the parent's imported modules (fast start) where available."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    return ProcessPoolExecutor(max_workers=jobs, mp_context=context, **kwargs)


def _run_chunk(payload: tuple, scenario_index: int, seeds: tuple[int, ...]) -> pd.DataFrame:
    """Run the draws of one chunk; the frame rows follow seeds, then lots."""
    prepared_all, master_seed = payload
    prepared = prepared_all[scenario_index]
    lot_ids = prepared.market.lot_ids
    n_lots = len(lot_ids)
    cols: dict[str, list] = {name: [] for name in LOT_METRICS}
    run_seeds = []
    for seed in seeds:
        m = run_draw(prepared, seed, master_seed)
        run_seeds.append(m.pop("run_seed"))
        for name in LOT_METRICS:
            cols[name].append(m[name])
    frame = pd.DataFrame({
        "scenario": pd.array([prepared.name] * (len(seeds) * n_lots), dtype="str"),
        "seed": np.repeat(np.asarray(seeds, dtype=np.int64), n_lots),
        "run_seed": np.repeat(np.asarray(run_seeds, dtype=np.int64), n_lots),
        "lot_id": pd.array(lot_ids * len(seeds), dtype="str"),
    })
    for name in LOT_METRICS:
        values = np.concatenate(cols[name]) if cols[name] else np.array([])
        if name in _INT_METRICS:
            frame[name] = values.astype(np.int64)
        elif name == "failed":
            frame[name] = values.astype(bool)
        else:
            frame[name] = values
    return frame


def _init_worker(payload: tuple) -> None:
    global _WORKER_PAYLOAD
    _WORKER_PAYLOAD = payload


def _pool_chunk(scenario_index: int, seeds: tuple[int, ...]) -> pd.DataFrame:
    return _run_chunk(_WORKER_PAYLOAD, scenario_index, seeds)


def _run_pool(payload: tuple, tasks: list, done, jobs: int) -> None:
    from concurrent.futures import as_completed

    with _local_pool(jobs, initializer=_init_worker, initargs=(payload,)) as pool:
        futures = {pool.submit(_pool_chunk, *chunk): c for c, chunk in tasks}
        for fut in as_completed(futures):
            done(futures[fut], fut.result())


def _run_dask(payload: tuple, tasks: list, done, scheduler: Any, jobs: int) -> None:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover - depends on the installation
        raise ImportError("the dask executor needs dask.distributed: pip install 'procurement[dask]'") from None
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    elif isinstance(scheduler, Client):
        client = scheduler
    else:
        client = Client(scheduler)
    try:
        shared = client.scatter(payload, broadcast=True)
        futures = {client.submit(_run_chunk, shared, *chunk, pure=False): c for c, chunk in tasks}
        for fut in as_completed(futures):
            done(futures[fut], fut.result())
    finally:
        if client is not scheduler:
            client.close()
        if cluster is not None:
            cluster.close()


def _chunk_key(tender: Tender, prepared: PreparedScenario, master_seed: int, seeds: tuple[int, ...]) -> str:
    h = hashlib.sha256()
    h.update(SWEEP_VERSION.encode())
    h.update(_tender_fingerprint(tender).encode())
    h.update(repr((prepared.name, prepared.mode, prepared.market.rules, prepared.params,
                   int(master_seed))).encode())
    if prepared.tables is not None:
        for t in prepared.tables:
            h.update(np.nan_to_num(t.bid, nan=-1.0).tobytes())
    h.update(np.asarray(seeds, dtype=np.int64).tobytes())
    return h.hexdigest()[:24]


def _tender_fingerprint(tender: Tender) -> str:
    h = hashlib.sha256()
    h.update(repr((tender.name, tender.pick_policy, tender.seed, tender.rules)).encode())
    for name in ("lots", "specs", "suppliers", "bids", "regions", "demand"):
        frame = getattr(tender, name)
        h.update(name.encode())
        h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()


def read_sweep(path: str | Path) -> pd.DataFrame:
    """Read a sweep written by :func:`simulate` (``.parquet`` or ``.csv``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"sweep file not found: {path}")
    if path.suffix == ".parquet":
        _require_pyarrow()
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype={"scenario": "str", "lot_id": "str"})
    raise ValueError(f"{path}: expected a {' or '.join(FORMATS)} file")


def _atomic_write(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    if path.suffix == ".parquet":
        frame.to_parquet(tmp, index=False)
    else:
        frame.to_csv(tmp, index=False)
    os.replace(tmp, path)


def _require_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the installation
        raise ImportError("parquet output needs pyarrow (pip install 'procurement[dask]' or pyarrow); "
                          "or write .csv") from None


class _Progress:
    """A one-line progress bar on stderr (draws done, rate, remaining time); silent when disabled."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.enabled, self.done = total, enabled, 0
        self.start = time.perf_counter()
        self._last = 0.0

    def update(self, n: int) -> None:
        self.done += n
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self._last < 0.2 and self.done < self.total:
            return
        self._last = now
        elapsed = now - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else float("nan")
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        sys.stderr.write(f"\rsimulate [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} draws"
                         f" {rate:,.0f}/s eta {eta:,.0f} s ")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()
