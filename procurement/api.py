"""The public Python API: load a tender, run it, write or read results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from procurement.errors import UnknownNameError
from procurement.io.results import write_result
from procurement.io.tender_files import load_tender
from procurement.model.result import TenderResult
from procurement.model.tender import Tender

MODES = ("rules", "optimal")


def run(tender: Tender | str | Path, mode: str = "rules", **options: Any) -> TenderResult:
    """Run a tender.

    Args:
        tender: a :class:`Tender`, or the path of a tender folder (loaded and validated first).
        mode: ``rules`` applies the preset's procedure (winner selection, agreed volumes, province
            picking).
        **options: mode-specific options; rules mode takes none.

    Returns:
        :class:`TenderResult` with frames ``lots``, ``bids``, ``awards``, ``allocation``, ``supply`` and a
        ``summary`` dict.

    Raises:
        TenderFileErrors: the tender folder is invalid.
        UnknownNameError: unknown mode.
    """
    if not isinstance(tender, Tender):
        tender = load_tender(tender)
    if mode == "rules":
        if options:
            raise TypeError(f"rules mode takes no options, got {', '.join(options)}")
        from procurement.rules.engine import run_rules

        return run_rules(tender)
    if mode == "optimal":
        bad = set(options) - {"solver", "time_limit", "mip_gap", "options"}
        if bad:
            raise TypeError(f"optimal mode: unknown options {', '.join(sorted(bad))}")
        from procurement.optimize import solve_tender

        return solve_tender(tender, **options)
    raise UnknownNameError("mode", mode, list(MODES))


def run_to_dir(tender: Tender | str | Path, out: str | Path, *, force: bool = False, mode: str = "rules",
               **options: Any) -> TenderResult:
    """Run a tender and write its result folder atomically (checked for overwrite before running)."""
    from procurement.io.atomic import check_writable

    check_writable(out, force)
    result = run(tender, mode=mode, **options)
    write_result(result, out, force=force)
    return result


__all__ = ["MODES", "load_tender", "run", "run_to_dir", "write_result"]
