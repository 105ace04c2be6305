"""Atomic output folders: everything is written to a temporary sibling, then renamed into place."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from procurement.errors import OutputExistsError


def check_writable(out: str | Path, force: bool) -> Path:
    """Fail early, before any work, if ``out`` exists and ``force`` is not set.

    Raises:
        OutputExistsError: the folder (or a file of that name) exists.
    """
    path = Path(out)
    if path.exists() and not force:
        raise OutputExistsError(f"{path} already exists; use --force (force=True) to replace it")
    if path.exists() and not path.is_dir():
        raise OutputExistsError(f"{path} exists and is not a folder")
    return path


@contextlib.contextmanager
def atomic_dir(out: str | Path, force: bool = False) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``out`` in one rename, on error it vanishes.

    An existing ``out`` is replaced only with ``force``; readers never see a half-written folder.

    Raises:
        OutputExistsError: ``out`` exists and ``force`` is False.
    """
    path = check_writable(out, force)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if path.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
        os.replace(path, old / "previous")
    os.replace(tmp, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def atomic_file(out: str | Path, text: str, force: bool = False) -> Path:
    """Write a text file atomically (temporary file + rename)."""
    path = check_writable(out, force)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path
