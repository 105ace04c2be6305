"""procurement: simulate and optimise centralised volume-based drug procurement (VBP) tenders.

Quick start::

    import procurement
    tender = procurement.load_tender("tenders/demo")
    result = procurement.run(tender)            # rules mode: the official procedure
    result.awards, result.allocation, result.summary
"""

from procurement.analysis import savings
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
from procurement.rules.presets import get_preset, preset_names

__version__ = "0.1.0"

__all__ = [
    "MODES",
    "InfeasibleTenderError",
    "InputProblem",
    "OutputExistsError",
    "ProcurementError",
    "Tender",
    "TenderFileErrors",
    "TenderResult",
    "UnknownNameError",
    "get_preset",
    "load_tender",
    "preset_names",
    "read_result",
    "run",
    "run_to_dir",
    "savings",
    "tender_from_frames",
    "write_result",
]
