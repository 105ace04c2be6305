"""Benchmark optimal mode against the bare solver.

For each seeded synthetic instance: ``total_s`` is :func:`procurement.optimize.solve_tender` end to end
(rules evaluation of the bids, model build, HiGHS solve, extraction of the result frames); ``eval_s``
(the rules engine's evaluation of validity and price conditions, the step both modes share), ``build_s``
(the matrix model from the evaluated bids) and ``solve_s`` are its parts; ``overhead_s = total_s - solve_s``
is everything but the solver (evaluation, build, pre-checks, extraction of the frames); ``direct_highspy_s`` is the same model (the arrays the build produced, prepared beforehand)
passed to a fresh ``highspy.Highs`` and solved with the same options: the floor any modelling layer can
reach. ``ratio = total_s / direct_highspy_s``. Each instance runs ``--repeat`` times, alternating which of the pair runs first; medians are reported.

Usage: python scripts/bench_optimize.py [--repeat 3] [--json FILE] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from procurement.optimize import OptimizeOptions, solve_tender
from procurement.optimize.build import build_model
from procurement.optimize.highs import solve_highs
from procurement.synthetic import synthetic_tender

#: name, regions, lots, suppliers (seeded).
INSTANCES = (("31x100x40", 31, 100, 40), ("31x200x40", 31, 200, 40), ("31x500x60", 31, 500, 60),
             ("3000x20x20", 3000, 20, 20))
SEED = 7


def bench_one(name: str, regions: int, lots: int, suppliers: int, repeat: int) -> dict:
    tender = synthetic_tender(lots=lots, regions=regions, suppliers=suppliers, seed=SEED)
    # the generator draws capacities for its 40-lot default; scale them with the number of lots so
    # that capacity binds about as often on every instance (and every instance stays feasible)
    sup = tender.suppliers.copy()
    sup["capacity"] = sup["capacity"] * max(1.0, lots / 40)
    tender = tender.replace(suppliers=sup)
    opts = OptimizeOptions()
    totals, evals, builds, solves, directs, overheads = [], [], [], [], [], []
    objective = direct_objective = None
    built = build_model(tender, opts)
    for i in range(repeat):
        # alternate which runs first: the second solve of a pair reuses the memory the first one faulted in
        # (measured: up to 25% faster on the 31-province instances), which would bias a fixed order
        for which in (("tender", "direct") if i % 2 == 0 else ("direct", "tender")):
            if which == "tender":
                start = time.perf_counter()
                result = solve_tender(tender, options=opts)
                totals.append(time.perf_counter() - start)
                builds.append(result.summary["build_time_s"])
                evals.append(result.summary["evaluate_time_s"])
                solves.append(result.summary["solve_time_s"])
                overheads.append(totals[-1] - solves[-1])
                objective = result.summary["objective"]
            else:
                out = solve_highs(built.matrix, opts.time_limit, opts.mip_gap)  # passModel + run, timed inside
                directs.append(out["solve_time_s"])
                direct_objective = out["objective"]
    total, direct = statistics.median(totals), statistics.median(directs)
    return {"name": name, "lots": lots, "regions": regions, "suppliers": suppliers,
            "columns": built.matrix.num_col, "rows": built.matrix.num_row,
            "eval_s": round(statistics.median(evals), 4), "build_s": round(statistics.median(builds), 4), "solve_s": round(statistics.median(solves), 4),
            "overhead_s": round(statistics.median(overheads), 4),
            "total_s": round(total, 4), "direct_highspy_s": round(direct, 4), "ratio": round(total / direct, 3),
            "build_share": round(statistics.median(builds) / total, 3),
            "objective": objective, "direct_objective": direct_objective}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", dest="json_file", default=None)
    parser.add_argument("--only", nargs="*", default=None, help="instance names to run")
    args = parser.parse_args()
    rows = []
    head = (f"{'instance':12s} {'columns':>8s} {'rows':>8s} {'eval_s':>7s} {'build_s':>8s} {'solve_s':>8s} {'total_s':>8s} "
            f"{'direct_s':>8s} {'ratio':>6s} {'build%':>6s} {'overhead_s':>10s}")
    print(head)
    for name, regions, lots, suppliers in INSTANCES:
        if args.only and name not in args.only:
            continue
        row = bench_one(name, regions, lots, suppliers, args.repeat)
        rows.append(row)
        print(f"{name:12s} {row['columns']:8d} {row['rows']:8d} {row['eval_s']:7.3f} {row['build_s']:8.3f} {row['solve_s']:8.3f} "
              f"{row['total_s']:8.3f} {row['direct_highspy_s']:8.3f} {row['ratio']:6.2f} "
              f"{row['build_share']:6.1%} {row['overhead_s']:10.3f}", flush=True)
    if args.json_file:
        keys = ("name", "lots", "regions", "suppliers", "columns", "build_s", "solve_s", "total_s",
                "direct_highspy_s", "ratio", "overhead_s")
        with open(args.json_file, "w", encoding="utf-8") as fh:
            json.dump([{k: r[k] for k in keys} for r in rows], fh, indent=2)
            fh.write("\n")


if __name__ == "__main__":
    main()
