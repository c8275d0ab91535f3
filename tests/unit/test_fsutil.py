"""engine.fsutil.mkstemp: tempfile.mkstemp's file, without importing tempfile."""

from __future__ import annotations

import fcntl
import os
import stat
from pathlib import Path

import pytest

from engine import fsutil


def test_mkstemp_makes_a_private_new_file(tmp_path: Path) -> None:
    fd, name = fsutil.mkstemp(tmp_path, ".state.json.", ".tmp")
    try:
        assert os.path.isabs(name) and os.path.dirname(name) == str(tmp_path)
        base = os.path.basename(name)
        assert base.startswith(".state.json.") and base.endswith(".tmp")
        assert stat.S_IMODE(os.fstat(fd).st_mode) == 0o600
        assert fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC
        os.write(fd, b"x")
        assert Path(name).read_bytes() == b"x"
    finally:
        os.close(fd)
    assert fsutil.mkstemp(tmp_path, "a")[1] != fsutil.mkstemp(tmp_path, "a")[1]


def test_mkstemp_never_reuses_or_follows_an_existing_name(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    target = tmp_path / "elsewhere"
    (tmp_path / "p-000000000000").symlink_to(target)
    draws = iter([b"\0" * 6, b"\1" * 6])
    monkeypatch.setattr(fsutil.os, "urandom", lambda n: next(draws))
    fd, name = fsutil.mkstemp(tmp_path, "p-")
    os.close(fd)
    assert name == str(tmp_path / "p-010101010101") and not target.exists()

    monkeypatch.setattr(fsutil.os, "urandom", lambda n: b"\1" * n)
    with pytest.raises(FileExistsError):
        fsutil.mkstemp(tmp_path, "p-")


def test_relative_directory_gives_an_absolute_name(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    fd, name = fsutil.mkstemp("d", "x")
    os.close(fd)
    assert name.startswith(str(tmp_path / "d") + "/")


def test_atomic_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    fsutil.atomic_write_json(tmp_path / "state.json", {"a": 1})
    fsutil.atomic_write_bytes(tmp_path / "state.json", b"{}\n", 0o600)
    assert os.listdir(tmp_path) == ["state.json"]
    assert stat.S_IMODE((tmp_path / "state.json").stat().st_mode) == 0o600
