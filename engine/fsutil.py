"""Crash-safe files and inter-process locks.

Every state file is replaced atomically (temp file in the same directory, fsync,
rename) and every read-modify-write runs under an ``flock`` on a file in
``<root>/locks``, so the TUI and any number of CLI processes can act at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

Sync = Literal["all", "file", "none"]


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644, *,
                       sync: Sync = "all") -> None:
    """Replace ``path`` with ``data``; running readers see the old or the new file, never half.

    ``sync`` is about an OS crash (a process crash loses nothing either way):
    ``"all"`` fsyncs the file and its directory, so the new file survives;
    ``"file"`` fsyncs the file only: the rename may be lost, leaving the old
    file, but never a torn one, on any filesystem; for records whose previous
    version is an equally valid state after a crash (runtime state: every
    process is gone after a reboot anyway). ``"none"`` may leave an empty or torn
    file after an OS crash: only for files whose readers treat that as absent.
    """
    fd, tmp = mkstemp(path.parent, f".{path.name}.", ".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if sync != "none":
                os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if sync == "all":
        _fsync_dir(path.parent)


def mkstemp(directory: str | os.PathLike[str], prefix: str, suffix: str = "") -> tuple[int, str]:
    """:func:`tempfile.mkstemp`'s file (O_EXCL, 0600, close-on-exec, no symlink followed).

    Importing tempfile pulls shutil, bz2, lzma and random (~4 ms) into every command.
    """
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    directory = os.path.abspath(directory)
    for _ in range(100):  # 48 random bits: a clash is a stale file, not bad luck
        name = os.path.join(directory, f"{prefix}{os.urandom(6).hex()}{suffix}")
        try:
            return os.open(name, flags, 0o600), name
        except FileExistsError:
            continue
    raise FileExistsError(f"no usable temporary name in {directory}")


def mkdtemp(directory: str | os.PathLike[str], prefix: str) -> Path:
    """:func:`tempfile.mkdtemp`'s directory (mode 0700, a fresh name), without tempfile."""
    directory = os.path.abspath(directory)
    for _ in range(100):
        name = os.path.join(directory, f"{prefix}{os.urandom(6).hex()}")
        try:
            os.mkdir(name, 0o700)
        except FileExistsError:
            continue
        return Path(name)
    raise FileExistsError(f"no usable temporary name in {directory}")


def atomic_write_json(path: Path, obj: Any, mode: int = 0o644, *, sync: Sync = "all") -> None:
    atomic_write_bytes(path, json.dumps(obj, indent=1, sort_keys=True).encode() + b"\n", mode,
                       sync=sync)


def read_json(path: str | os.PathLike[str], default: Any = None) -> Any:
    try:
        with open(path, "rb") as f:
            return json.load(f)
    except FileNotFoundError:
        return default


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def file_lock(path: Path, *, shared: bool = False) -> Iterator[None]:
    """Hold an ``flock`` on ``path`` (created if missing) for the ``with`` body.

    flock locks belong to the open file description, so they are released if the
    process dies; no stale lock files to clean up.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
