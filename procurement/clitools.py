"""Shared pieces of the command line: error handling and exit codes."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click

from procurement.errors import (
    InfeasibleTenderError,
    OutputExistsError,
    ProcurementError,
    TenderFileErrors,
    UnknownNameError,
)

EXIT_ERROR, EXIT_INVALID, EXIT_INFEASIBLE = 1, 2, 3


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn package errors into one clear message and an exit code (traceback only with --debug)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = click.get_current_context().find_root().params.get("debug", False)
        try:
            return func(*args, **kwargs)
        except TenderFileErrors as exc:
            if debug:
                raise
            click.echo(f"invalid input: {exc.report()}", err=True)
            sys.exit(EXIT_INVALID)
        except InfeasibleTenderError as exc:
            if debug:
                raise
            click.echo(f"infeasible: {exc}", err=True)
            sys.exit(EXIT_INFEASIBLE)
        except (UnknownNameError, OutputExistsError, ProcurementError, FileNotFoundError, ValueError) as exc:
            if debug:
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_INVALID if isinstance(exc, UnknownNameError) else EXIT_ERROR)
    return wrapper


