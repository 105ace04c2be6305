"""Solve a tender's MIP: build -> precheck -> solve (HiGHS, CBC fallback) -> extract or diagnose."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from procurement.errors import InfeasibleTenderError, ProcurementError
from procurement.model.result import TenderResult
from procurement.model.tender import Tender
from procurement.optimize.build import BuiltModel, build_model, resolve_options
from procurement.optimize.config import OptimizeOptions
from procurement.optimize.diagnose import precheck, relaxation_diagnosis
from procurement.optimize.matrix import MatrixModel


def solve_matrix(matrix: MatrixModel, solver: str = "highs", time_limit: float | None = None,
                 mip_gap: float | None = None) -> dict[str, Any]:
    """Solve a matrix model; HiGHS in process by default, CBC (through PuLP) as the fallback.

    Returns:
        dict: ``status`` (``optimal``/``time-limit``/``infeasible``/``error``), ``objective``, ``gap``,
        ``solve_time_s``, ``values`` (ndarray or None) and ``solver`` (the one actually used).
    """
    if matrix.num_col == 0:
        return {"status": "optimal", "objective": float(matrix.offset), "gap": 0.0, "solve_time_s": 0.0,
                "values": np.zeros(0), "solver": solver}
    if solver == "highs":
        from procurement.optimize.highs import highs_available, solve_highs

        if highs_available():
            out = solve_highs(matrix, time_limit, mip_gap)
            if out["status"] != "error":
                out["solver"] = "highs"
                return out
        # fall back to CBC: highspy missing, or HiGHS failed on this model
    from procurement.optimize.pulp_adapter import solve_cbc

    out = solve_cbc(matrix, time_limit, mip_gap)
    out["solver"] = "cbc"
    return out


def _options(tender: Tender, options: OptimizeOptions | None, solver: str | None, time_limit: float | None,
             mip_gap: float | None) -> OptimizeOptions:
    return resolve_options(tender, options).with_overrides(solver=solver, time_limit=time_limit, mip_gap=mip_gap)


def build_problem(tender: Tender, options: OptimizeOptions | None = None) -> BuiltModel:
    """Build the tender's MIP without solving it.

    Args:
        tender: a validated tender.
        options: optimal-mode options; None = the tender's ``[optimize]`` section.

    Returns:
        :class:`~procurement.optimize.build.BuiltModel` (``.matrix`` holds the arrays; pass it to
        :func:`procurement.optimize.pulp_adapter.to_pulp` for a PuLP problem).

    Raises:
        TenderFileErrors: inconsistent optional tables.
    """
    return build_model(tender, resolve_options(tender, options))


def write_lp(tender: Tender, path: str | Path, options: OptimizeOptions | None = None) -> Path:
    """Write the tender's model as an LP file (through PuLP) without solving it.

    Returns:
        The path written.
    """
    from procurement.optimize.pulp_adapter import write_lp_file

    built = build_problem(tender, options)
    return write_lp_file(built.matrix, path, name=tender.name)


def solve_tender(tender: Tender, *, solver: str | None = None, time_limit: float | None = None,
                 mip_gap: float | None = None, options: OptimizeOptions | None = None) -> TenderResult:
    """Solve a tender in optimal mode: one MIP over all lots.

    Args:
        tender: a validated tender.
        solver: ``highs`` (default) or ``cbc``; None = the ``[optimize]`` option.
        time_limit: seconds; None = the ``[optimize]`` option (default: none).
        mip_gap: relative gap; None = the ``[optimize]`` option (default 1e-3).
        options: full options replacing the tender's ``[optimize]`` section.

    Returns:
        :class:`TenderResult` with ``mode == "optimal"``; ``summary`` adds status, objective, gap,
        solve_time_s, build_time_s and solver.

    Raises:
        InfeasibleTenderError: no solution satisfies the constraints (``diagnosis`` names the families,
            lots, regions and suppliers).
        ProcurementError: the solver stopped (time limit) before finding any solution, or failed.
        ValueError: an unknown option value.
    """
    from procurement.optimize.extract import extract

    opts = _options(tender, options, solver, time_limit, mip_gap)
    built = build_model(tender, opts)
    found = precheck(built.data, built.families)
    if found:
        raise InfeasibleTenderError(f"tender {tender.name!r} is infeasible in optimal mode", diagnosis=found)
    out = solve_matrix(built.matrix, opts.solver, opts.time_limit, opts.mip_gap)
    if out["status"] == "infeasible":
        def feasible_without(family: str) -> bool:
            relaxed = build_model(tender, opts, disabled=frozenset({family}))
            limit = min(opts.time_limit or 30.0, 30.0)
            return solve_matrix(relaxed.matrix, opts.solver, limit, opts.mip_gap)["status"] != "infeasible"

        raise InfeasibleTenderError(f"tender {tender.name!r} is infeasible in optimal mode",
                                    diagnosis=relaxation_diagnosis(built.families, feasible_without))
    if out["values"] is None:
        raise ProcurementError(f"optimal mode: no solution for tender {tender.name!r}: "
                               f"{out.get('message', out['status'])}"
                               + (f" (time limit {opts.time_limit:g} s)" if opts.time_limit else ""))
    return extract(built, out["values"], out)
