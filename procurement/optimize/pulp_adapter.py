"""The only module that imports PuLP: a :class:`MatrixModel` as a PuLP problem, LP files, and CBC.

PuLP is the modelling layer for everything a person reads or another solver runs: the LP file
(``procure write-lp``) and the CBC fallback. Variables and constraints are created in bulk from the
matrix arrays (one ``LpAffineExpression`` per row from its (variable, coefficient) pairs), never by
summing PuLP expressions. The default HiGHS path does not go through PuLP (see solve.py).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pulp

from procurement.optimize.matrix import MatrixModel


def to_pulp(matrix: MatrixModel, name: str = "tender") -> tuple[pulp.LpProblem, list[pulp.LpVariable]]:
    """Build the PuLP problem of a matrix model (names from the model's blocks).

    A ranged row (both bounds finite and different) becomes two constraints ``<name>_lo`` / ``<name>_up``.

    Returns:
        (problem, variables in column order).
    """
    prob = pulp.LpProblem(_safe(name), pulp.LpMinimize)
    col_names = matrix.column_names()
    lo = [None if not np.isfinite(v) else float(v) for v in matrix.col_lower]
    up = [None if not np.isfinite(v) else float(v) for v in matrix.col_upper]
    cats = np.where(matrix.integrality == 1, pulp.LpInteger, pulp.LpContinuous)
    variables = [prob.add_variable(n, lo[j], up[j], cat=cats[j]) for j, n in enumerate(col_names)]
    nz = np.flatnonzero(matrix.col_cost)
    prob.setObjective(pulp.LpAffineExpression([(variables[j], float(matrix.col_cost[j])) for j in nz],
                                              constant=float(matrix.offset)))
    row_names = matrix.row_names()
    start, index, value = matrix.a_start, matrix.a_index.tolist(), matrix.a_value.tolist()
    for i, row_name in enumerate(row_names):
        pairs = [(variables[j], v) for j, v in zip(index[start[i]:start[i + 1]], value[start[i]:start[i + 1]],
                                                  strict=True)]
        lower, upper = float(matrix.row_lower[i]), float(matrix.row_upper[i])
        if lower == upper:
            prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(pairs), pulp.LpConstraintEQ,
                                                 row_name, lower))
            continue
        both = np.isfinite(lower) and np.isfinite(upper)
        if np.isfinite(lower):
            prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(pairs), pulp.LpConstraintGE,
                                                 row_name + ("_lo" if both else ""), lower))
        if np.isfinite(upper):
            prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(pairs), pulp.LpConstraintLE,
                                                 row_name + ("_up" if both else ""), upper))
    return prob, variables


def write_lp_file(matrix: MatrixModel, path: str | Path, name: str = "tender") -> Path:
    """Write the model as a CPLEX-LP file through PuLP."""
    prob, _ = to_pulp(matrix, name)
    prob.writeLP(str(path))
    return Path(path)


def cbc_solver(time_limit: float | None, mip_gap: float | None) -> pulp.LpSolver:
    """CBC as shipped with PuLP, driven through the non-deprecated ``COIN_CMD`` interface."""
    bundled = pulp.PULP_CBC_CMD.pulp_cbc_path
    path = bundled if os.path.isfile(bundled) and os.access(bundled, os.X_OK) else None
    return pulp.COIN_CMD(path=path, msg=False, timeLimit=time_limit, gapRel=mip_gap)


def solve_cbc(matrix: MatrixModel, time_limit: float | None, mip_gap: float | None,
              name: str = "tender") -> dict:
    """Solve with CBC; return status, objective, gap, solve time and column values.

    Returns:
        dict with ``status`` (``optimal``, ``infeasible``, ``time-limit`` or ``error``), ``objective``,
        ``gap`` (0 when proven optimal, None when unknown), ``solve_time_s``, ``values`` (ndarray or None).
    """
    prob, variables = to_pulp(matrix, name)
    solver = cbc_solver(time_limit, mip_gap)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        solver.tmpDir = tmp
        prob.solve(solver)
    elapsed = time.perf_counter() - start
    sol = prob.sol_status
    if prob.status == pulp.LpStatusInfeasible or sol == pulp.LpSolutionInfeasible:
        return {"status": "infeasible", "objective": None, "gap": None, "solve_time_s": elapsed, "values": None}
    if sol in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        values = np.array([v.varValue if v.varValue is not None else 0.0 for v in variables], dtype=float)
        optimal = sol == pulp.LpSolutionOptimal and prob.status == pulp.LpStatusOptimal
        objective = float(matrix.col_cost @ values + matrix.offset)
        return {"status": "optimal" if optimal else "time-limit", "objective": objective,
                "gap": 0.0 if optimal else None, "solve_time_s": elapsed, "values": values}
    status = "time-limit" if time_limit else "error"
    return {"status": status, "objective": None, "gap": None, "solve_time_s": elapsed, "values": None,
            "message": f"CBC status {pulp.LpStatus.get(prob.status)}"}


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "_." else "_" for c in name) or "tender"
