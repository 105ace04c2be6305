"""One exception hierarchy for the package.

Input problems are collected, never raised one at a time: :class:`TenderFileErrors` carries every
:class:`InputProblem` found in a tender so that a user fixes them all in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass


class ProcurementError(Exception):
    """Base class of every error raised on purpose by ``procurement``."""


@dataclass(frozen=True)
class InputProblem:
    """One defect in the input, located as precisely as the input allows.

    Attributes:
        file: file (or table) name, e.g. ``bids.csv`` or ``tender.toml``.
        line: 1-based line number in the file (the CSV header is line 1), or None.
        column: column (or TOML key) at fault, or None.
        value: the offending value as written, or None.
        message: the rule that was broken, phrased as what was expected.
    """

    file: str
    line: int | None
    column: str | None
    value: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [where]
        if self.column is not None:
            parts.append(f"{'key' if self.file.endswith('.toml') else 'column'} {self.column}")
        if self.value is not None:
            parts.append(f"value {self.value!r}")
        return " ".join(parts) + f": {self.message}"

    def sort_key(self) -> tuple:
        return (self.file, self.line or 0, self.column or "", self.message)


class TenderFileErrors(ProcurementError):
    """Every problem found while loading or validating a tender, reported together."""

    def __init__(self, problems: list[InputProblem], source: str | None = None):
        self.problems = sorted(set(problems), key=InputProblem.sort_key)
        self.source = source
        super().__init__(self.report())

    def report(self) -> str:
        head = f"{len(self.problems)} problem(s)"
        if self.source:
            head += f" in {self.source}"
        return head + ":\n" + "\n".join(f"  - {p}" for p in self.problems)


class UnknownNameError(ProcurementError, KeyError):
    """A registry lookup failed; the message lists the valid names."""

    def __init__(self, kind: str, name: str, valid: list[str]):
        self.kind, self.name, self.valid = kind, name, sorted(valid)
        super().__init__(f"unknown {kind} {name!r}; valid: {', '.join(self.valid)}")

    def __str__(self) -> str:  # KeyError would quote the whole message
        return self.args[0]


class OutputExistsError(ProcurementError):
    """The output folder exists and ``force`` was not given."""


class InfeasibleTenderError(ProcurementError):
    """A tender has no solution under its constraints; ``diagnosis`` names the families at fault."""

    def __init__(self, message: str, diagnosis: list[str] | None = None):
        self.diagnosis = diagnosis or []
        super().__init__(message if not self.diagnosis else message + ":\n" + "\n".join(
            f"  - {d}" for d in self.diagnosis))
