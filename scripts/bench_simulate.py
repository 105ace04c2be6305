"""Benchmark scenario sweeps in rules mode: draws of a synthetic 60-lot national batch.

Runs 1000 draws (``--draws``) of a seeded synthetic 60-lot, 31-province tender with one process, with a
pool of 2 processes and (if dask.distributed is installed) on a 2-worker LocalCluster, each ``--repeat``
times, and prints the median seconds and the speed-up of 2 processes over 1.

    python scripts/bench_simulate.py [--draws 1000] [--lots 60] [--repeat 3] [--json bench.json]

``--json FILE`` writes one record per configuration with keys ``name, draws, lots, jobs, seconds``
(median over the repeats; ``runs`` lists every repeat).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings

from procurement.simulate import simulate
from procurement.synthetic import synthetic_tender


def timed(tender, draws: int, jobs: int, executor: str, scheduler=None) -> float:
    start = time.perf_counter()
    simulate(tender, None, draws, jobs=jobs, executor=executor, scheduler=scheduler, progress=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--lots", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-dask", action="store_true", help="Skip the dask LocalCluster benchmark.")
    parser.add_argument("--json", default=None, help="Write the records to this JSON file.")
    args = parser.parse_args()
    tender = synthetic_tender(lots=args.lots, regions=31, suppliers=90, bids_per_lot=7.5, seed=60)
    configs = [("rules-serial", 1, "process"), ("rules-process-pool", 2, "process")]
    cluster = client = None
    if not args.no_dask:
        try:
            import distributed
        except ImportError:
            print("dask.distributed not installed: skipping the dask benchmark")
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                                   dashboard_address=None)
                client = distributed.Client(cluster)
            configs.append(("rules-dask-localcluster", 2, "dask"))
    records = []
    try:
        timed(tender, 20, 1, "process")  # warm-up: imports, first compilation
        for name, jobs, executor in configs:
            runs = [timed(tender, args.draws, jobs, executor, client if executor == "dask" else None)
                    for _ in range(args.repeat)]
            records.append({"name": name, "draws": args.draws, "lots": args.lots, "jobs": jobs,
                            "seconds": round(statistics.median(runs), 3), "runs": [round(r, 3) for r in runs]})
    finally:
        if client is not None:
            client.close()
            cluster.close()
    print(f"{'name':26s} {'draws':>6s} {'lots':>5s} {'jobs':>5s} {'seconds':>8s}  runs")
    for r in records:
        print(f"{r['name']:26s} {r['draws']:6d} {r['lots']:5d} {r['jobs']:5d} {r['seconds']:8.2f}  {r['runs']}")
    serial = records[0]["seconds"]
    for r in records[1:]:
        print(f"speed-up of {r['name']} over {records[0]['name']}: {serial / r['seconds']:.2f}x")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(records, fh, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
