"""procurement: simulate and optimise centralised volume-based drug procurement (VBP) tenders.

Quick start::

    import procurement
    tender = procurement.load_tender("tenders/demo")
    result = procurement.run(tender)            # rules mode: the official procedure
    result.awards, result.allocation, result.summary
    optimal = procurement.run(tender, mode="optimal")                 # the cost-optimal MIP
    procurement.compare_modes(tender).lots                            # rules vs optimal by lot
    sweep = procurement.simulate(tender, seeds=100)                   # bidding behaviour x scenarios
    procurement.compare(sweep)                                        # means with 95% intervals
    procurement.replay("../shared/data/vbp/bids.csv").summary        # published batches replayed
    procurement.savings(result)                                       # who saves what
    procurement.write_report("results/demo")                          # HTML (needs the report extra)
"""

from procurement.analysis import savings
from procurement.analysis.batch_savings import batch_savings
from procurement.api import MODES, run, run_to_dir
from procurement.errors import (
    InfeasibleTenderError,
    InputProblem,
    OutputExistsError,
    ProcurementError,
    TenderFileErrors,
    UnknownNameError,
)
from procurement.io.results import read_result, write_result
from procurement.io.tender_files import load_tender
from procurement.model.result import TenderResult
from procurement.model.tender import Tender
from procurement.model.validate import tender_from_frames
from procurement.optimize import OptimizeOptions, compare_modes, solve_tender, write_lp
from procurement.replay import replay
from procurement.rules.presets import get_preset, preset_names
from procurement.simulate import compare, read_sweep, simulate

__version__ = "0.1.0"

#: loaded on first use: they need matplotlib (the ``report`` extra)
_REPORT_NAMES = ("build_report", "write_report")


def __getattr__(name: str):
    if name in _REPORT_NAMES:
        from procurement import report

        return getattr(report, name)
    raise AttributeError(f"module 'procurement' has no attribute {name!r}")


__all__ = [
    "MODES",
    "InfeasibleTenderError",
    "InputProblem",
    "OptimizeOptions",
    "OutputExistsError",
    "ProcurementError",
    "Tender",
    "TenderFileErrors",
    "TenderResult",
    "UnknownNameError",
    "batch_savings",
    "build_report",
    "compare",
    "compare_modes",
    "get_preset",
    "load_tender",
    "preset_names",
    "read_result",
    "read_sweep",
    "replay",
    "run",
    "run_to_dir",
    "savings",
    "simulate",
    "solve_tender",
    "tender_from_frames",
    "write_lp",
    "write_report",
    "write_result",
]
