"""HiGHS in process (highspy), fed the matrix model's arrays directly (no per-element objects)."""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from procurement.optimize.matrix import MatrixModel


def highs_available() -> bool:
    try:
        import highspy  # noqa: F401
    except ImportError:
        return False
    return True


_banner_shown = False

#: HiGHS options set on every solve, chosen by scripts/bench_optimize.py (2 cores, HiGHS 1.16). These models
#: are assignment-structured with binary links: the root LP relaxation is nearly integral and rounding finds
#: incumbents at once, so presolve (31 s of 63 s on the 3000-region instance; half the time on 31x200x40
#: and 31x500x60) and the feasibility-jump heuristic (20 s before the root LP of the 3000-region instance)
#: cost more than they save.
HIGHS_OPTIONS: dict[str, object] = {"presolve": "off", "mip_heuristic_run_feasibility_jump": False}


def new_highs():
    """A silent ``highspy.Highs``.

    HiGHS prints its banner to the process's stdout from the C++ constructor, once per process, before any
    option can be set; a command's output (and piped CSV/JSON) should not carry it, so the first
    construction runs with file descriptor 1 pointed at /dev/null.
    """
    global _banner_shown
    import highspy

    if _banner_shown:
        h = highspy.Highs()
    else:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _banner_shown = True
    h.setOptionValue("output_flag", False)
    return h


def solve_highs(matrix: MatrixModel, time_limit: float | None, mip_gap: float | None,
                threads: int | None = None) -> dict:
    """Solve with HiGHS; same return dict as :func:`procurement.optimize.pulp_adapter.solve_cbc`."""
    import highspy

    h = new_highs()
    for key, value in HIGHS_OPTIONS.items():
        h.setOptionValue(key, value)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    if mip_gap is not None:
        h.setOptionValue("mip_rel_gap", float(mip_gap))
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    start = time.perf_counter()
    h.passModel(matrix.num_col, matrix.num_row, matrix.num_nz, int(highspy.MatrixFormat.kRowwise),
                int(highspy.ObjSense.kMinimize), float(matrix.offset), matrix.col_cost, matrix.col_lower,
                matrix.col_upper, matrix.row_lower, matrix.row_upper, matrix.a_start, matrix.a_index,
                matrix.a_value, matrix.integrality)
    h.run()
    elapsed = time.perf_counter() - start
    status = h.getModelStatus()
    info = h.getInfo()
    ms = highspy.HighsModelStatus
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    mip = bool(matrix.integrality.any())
    if status in (ms.kInfeasible, ms.kUnboundedOrInfeasible):
        return {"status": "infeasible", "objective": None, "gap": None, "solve_time_s": elapsed, "values": None}
    if status == ms.kOptimal or has_solution:
        values = np.asarray(h.getSolution().col_value, dtype=float)
        gap = float(info.mip_gap) if mip else 0.0
        if not np.isfinite(gap):
            gap = None
        return {"status": "optimal" if status == ms.kOptimal else "time-limit",
                "objective": float(info.objective_function_value), "gap": gap, "solve_time_s": elapsed,
                "values": values}
    label = h.modelStatusToString(status)
    return {"status": "time-limit" if status == ms.kTimeLimit else "error", "objective": None, "gap": None,
            "solve_time_s": elapsed, "values": None, "message": f"HiGHS status {label}"}
