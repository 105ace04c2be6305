"""Atomic outputs: everything is written to a temporary sibling, then renamed into place.

Readers never see a half-written folder or file; on error the temporary is removed. Outputs get the
usual permissions of a new file or folder (``0666`` / ``0777`` minus the umask, e.g. ``0644`` / ``0755``),
not the private ``0600`` / ``0700`` of :mod:`tempfile`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from procurement.errors import OutputExistsError


def _umask() -> int:
    """The process umask: read from /proc on Linux (no side effect), else set and restored at once."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_writable(out: str | Path, force: bool, *, kind: Literal["dir", "file"] = "dir") -> Path:
    """Fail early, before any work, if ``out`` exists and ``force`` is not set.

    Args:
        out: the output folder (``kind="dir"``) or file (``kind="file"``).
        force: allow replacing an existing output of the same kind.
        kind: what ``out`` will be; an existing path of the other kind is never replaced.

    Raises:
        OutputExistsError: ``out`` exists and ``force`` is False, or it exists as the other kind
            (a file where a folder is to be written, or a folder where a file is).
    """
    path = Path(out)
    if not path.exists():
        return path
    if not force:
        raise OutputExistsError(f"{path} already exists; use --force (force=True) to replace it")
    if kind == "dir" and not path.is_dir():
        raise OutputExistsError(f"{path} exists and is not a folder")
    if kind == "file" and path.is_dir():
        raise OutputExistsError(f"{path} exists and is a folder, not a file")
    return path


@contextlib.contextmanager
def atomic_dir(out: str | Path, force: bool = False) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``out`` in one rename, on error it vanishes.

    An existing ``out`` is replaced only with ``force``; readers never see a half-written folder. The
    folder gets mode ``0777`` minus the umask.

    Raises:
        OutputExistsError: ``out`` exists and ``force`` is False.
    """
    path = check_writable(out, force)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700
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


def atomic_file(out: str | Path, data: str | bytes, force: bool = False) -> Path:
    """Write a file atomically (temporary sibling + rename): ``str`` as UTF-8 text, ``bytes`` as is.

    The file gets mode ``0666`` minus the umask (e.g. ``0644``). An existing file is replaced only with
    ``force``; an existing folder of that name never is. On error nothing is left behind and an existing
    file is untouched.

    Returns:
        The path written.

    Raises:
        OutputExistsError: ``out`` exists and ``force`` is False, or ``out`` is a folder.
        TypeError: ``data`` is neither ``str`` nor ``bytes``.
    """
    if isinstance(data, str):
        payload = data.encode("utf-8")
    elif isinstance(data, (bytes, bytearray, memoryview)):
        payload = bytes(data)
    else:
        raise TypeError(f"atomic_file: data must be str or bytes, not {type(data).__name__}")
    path = check_writable(out, force, kind="file")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path
