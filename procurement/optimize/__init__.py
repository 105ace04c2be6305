"""Optimal mode: a tender as one mixed-integer program (build -> solve -> extract).

``build`` turns a tender into a solver-neutral matrix model (numpy arrays, one function per constraint
family); ``highs`` solves it in process; ``pulp_adapter`` (the only module importing PuLP) writes LP
files and runs CBC; ``extract`` gives the same result frames as rules mode; ``diagnose`` explains
infeasible tenders; ``compare`` sets rules mode and optimal mode side by side.
"""

from procurement.optimize.compare import ComparisonResult, compare_modes
from procurement.optimize.config import OptimizeOptions
from procurement.optimize.solve import build_problem, solve_matrix, solve_tender, write_lp

__all__ = ["ComparisonResult", "OptimizeOptions", "build_problem", "compare_modes", "solve_matrix",
           "solve_tender", "write_lp"]
