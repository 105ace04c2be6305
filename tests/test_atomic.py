"""procurement.io.atomic: permissions, refusal without force, overwrite with force, nothing partial on error."""

from __future__ import annotations

import os
import stat

import pytest

from procurement.errors import OutputExistsError
from procurement.io import atomic
from procurement.io.atomic import atomic_dir, atomic_file, check_writable


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


def test_umask_is_read_without_changing_it(umask_022):
    assert atomic._umask() == 0o022
    os.umask(0o027)
    assert atomic._umask() == 0o027
    assert os.umask(0o027) == 0o027  # unchanged by the read


def test_atomic_file_text_and_bytes_with_normal_permissions(tmp_path, umask_022):
    text = atomic_file(tmp_path / "sub" / "a.txt", "price 0.1 yuan\n")
    assert text.read_text(encoding="utf-8") == "price 0.1 yuan\n"
    data = atomic_file(tmp_path / "b.bin", b"\x00\x01\xff")
    assert data.read_bytes() == b"\x00\x01\xff"
    assert _mode(text) == _mode(data) == 0o644  # not mkstemp's 0600
    os.umask(0o077)
    assert _mode(atomic_file(tmp_path / "private.txt", "x")) == 0o600  # the umask is respected


def test_atomic_dir_normal_permissions(tmp_path, umask_022):
    with atomic_dir(tmp_path / "out") as tmp:
        (tmp / "x.csv").write_text("a\n")
    assert _mode(tmp_path / "out") == 0o755  # not mkdtemp's 0700
    assert (tmp_path / "out" / "x.csv").read_text() == "a\n"
    assert _leftovers(tmp_path) == []


def test_refuse_without_force_overwrite_with_force(tmp_path):
    path = tmp_path / "r.html"
    atomic_file(path, "old")
    with pytest.raises(OutputExistsError, match="--force"):
        atomic_file(path, "new")
    assert path.read_text() == "old"
    with pytest.raises(OutputExistsError):
        check_writable(path, False, kind="file")
    assert check_writable(path, True, kind="file") == path
    atomic_file(path, "new", force=True)
    assert path.read_text() == "new"
    atomic_file(path, b"newer", force=True)
    assert path.read_bytes() == b"newer"
    assert _leftovers(tmp_path) == []


def test_kinds_are_never_swapped(tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    with pytest.raises(OutputExistsError, match="folder"):
        atomic_file(folder, "x", force=True)
    assert folder.is_dir()
    file = tmp_path / "f"
    file.write_text("keep")
    with pytest.raises(OutputExistsError, match="not a folder"):
        check_writable(file, True)  # default kind: a folder
    with pytest.raises(OutputExistsError, match="not a folder"), atomic_dir(file, force=True):
        pass
    assert file.read_text() == "keep"


def test_atomic_dir_refuse_and_replace(tmp_path):
    out = tmp_path / "out"
    with atomic_dir(out) as tmp:
        (tmp / "a").write_text("1")
    with pytest.raises(OutputExistsError), atomic_dir(out):
        pass
    with atomic_dir(out, force=True) as tmp:
        (tmp / "b").write_text("2")
    assert sorted(p.name for p in out.iterdir()) == ["b"]
    assert _leftovers(tmp_path) == []


def test_no_partial_file_when_the_write_fails(tmp_path, monkeypatch):
    path = tmp_path / "r.html"
    atomic_file(path, "complete old report")
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, data):
            self.fh.write(data[:3])
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: HalfWriter(real_fdopen(fd, *a, **k)))
    with pytest.raises(OSError, match="No space"):
        atomic_file(path, "new report", force=True)
    with pytest.raises(OSError, match="No space"):
        atomic_file(tmp_path / "fresh.html", "new report")
    monkeypatch.undo()
    assert path.read_text() == "complete old report"
    assert not (tmp_path / "fresh.html").exists()
    assert _leftovers(tmp_path) == []


def test_no_partial_file_when_the_rename_fails(tmp_path, monkeypatch):
    def boom(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="rename failed"):
        atomic_file(tmp_path / "x.txt", "data")
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_no_partial_folder_when_the_writer_raises(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError), atomic_dir(out) as tmp:
        (tmp / "half.csv").write_text("a,b\n1")
        raise RuntimeError("writer failed")
    assert not out.exists() and list(tmp_path.iterdir()) == []
    with atomic_dir(out) as tmp:
        (tmp / "good.csv").write_text("ok")
    with pytest.raises(RuntimeError), atomic_dir(out, force=True) as tmp:
        raise RuntimeError("writer failed")
    assert (out / "good.csv").read_text() == "ok"  # the previous folder is untouched
    assert _leftovers(tmp_path) == []


def test_bad_data_type_writes_nothing(tmp_path):
    with pytest.raises(TypeError, match="str or bytes"):
        atomic_file(tmp_path / "x", 123)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_report_writer_uses_the_shared_atomic_writer():
    import procurement.report as R

    assert not hasattr(R, "_atomic_bytes") and not hasattr(R, "_check_file")
    assert R.atomic_file is atomic_file
