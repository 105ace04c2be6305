"""Result of a tender run: plain pandas frames plus a summary dict."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from procurement.model.tender import Tender

#: Result tables written to a result folder, in this order.
RESULT_TABLES = ("lots", "bids", "awards", "allocation", "supply")


@dataclass(frozen=True, eq=False)
class TenderResult:
    """Outcome of a tender run (rules mode or optimal mode).

    Attributes:
        tender: the tender that was run (None when read back from a result folder).
        mode: ``rules`` or ``optimal``.
        lots: one row per lot: bidders, cap, winners, status (``awarded``/``failed``), volumes, spend, cut.
        bids: every bid with its comparable price, each rule's pass/fail, rank, ``won`` and ``reason``.
        awards: one row per winner: award price, agreed volume, regions won (count and ids), spend.
        allocation: one row per (lot, region): primary and backup supplier, agreed volume, price, spend.
        supply: one row per (lot, region, spec): supplier, reported and agreed volume, award and
            reference price per unit, spend.
        summary: headline figures (see :func:`procurement.rules.engine.summarise`).
        extra: further frames a mode may add (e.g. solver diagnostics), by name.
    """

    tender: Tender | None
    mode: str
    lots: pd.DataFrame
    bids: pd.DataFrame
    awards: pd.DataFrame
    allocation: pd.DataFrame
    supply: pd.DataFrame
    summary: dict[str, Any]
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        """Return one of :data:`RESULT_TABLES` by name."""
        if name not in RESULT_TABLES:
            raise KeyError(f"unknown result table {name!r}; valid: {', '.join(RESULT_TABLES)}")
        return getattr(self, name)

    def __repr__(self) -> str:
        s = self.summary
        return (f"TenderResult({s.get('tender')!r}, mode={self.mode!r}: {s.get('lots')} lots, "
                f"{s.get('winners')} winners of {s.get('bids')} bids, {len(s.get('failed_lots', []))} failed)")
