"""File-level helpers shared by the cgroup drivers: cgroupfs reads, writes and errors.

``OSError`` from cgroupfs is translated here, once, into engine errors.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from engine.errors import (
    Conflict,
    EngineError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unavailable,
)

Write = tuple[str, str, str]  # (controller, file, value)


def read_text(path: Path) -> str | None:
    """The file's content, or None when it does not exist (controller absent, cgroup gone)."""
    try:
        with open(path, encoding="ascii") as f:
            return f.read()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as err:
        if err.errno == errno.ENODEV:
            return None  # an open file of a cgroup rmdir'd meanwhile (the monitor's cleanup)
        raise translate(err, f"read {path}") from err


def write_text(path: Path, value: str) -> None:
    # No O_CREAT: on cgroupfs a missing file means a missing controller, and on a
    # fixture tree creating it would hide that. O_TRUNC keeps fixture files readable.
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def read_keyed(path: Path) -> dict[str, str]:
    """Parse ``key value`` lines (cgroup.events, memory.events, memory.oom_control)."""
    out: dict[str, str] = {}
    for line in (read_text(path) or "").splitlines():
        key, _, value = line.partition(" ")
        out[key] = value.strip()
    return out


def read_pids(directory: Path) -> list[int]:
    """PIDs in ``directory`` and in any nested cgroups a container made below it."""
    found: set[int] = set()
    for sub, _dirs, _files in os.walk(directory):
        for line in (read_text(Path(sub) / "cgroup.procs") or "").split():
            found.add(int(line))
    return sorted(found)


def translate(err: OSError, what: str) -> EngineError:
    """Map an OSError from cgroupfs to the engine's error categories."""
    msg = f"cannot {what}: {err.strerror or err}"
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return PermissionDenied(msg)
    if err.errno in (errno.EINVAL, errno.ERANGE, errno.EOVERFLOW):
        return InvalidArgument(msg)
    if err.errno == errno.ESRCH:
        return NotFound(msg)
    if err.errno in (errno.EBUSY, errno.ENOTEMPTY):
        return Conflict(msg)
    return Unavailable(msg)


def apply_plan(dirs: Mapping[str, Path], plan: Iterable[Write],
               resolve: Callable[[Path, str, str], tuple[str, str]] | None = None) -> list[str]:
    """Write a plan; return warnings for files this host lacks (docker warns, not fails).

    A write the kernel refuses with EINVAL/EBUSY is retried once after the rest:
    paired limits have an order that depends on the current values (v1
    memory.limit_in_bytes must stay <= memsw, cfs period vs quota).
    """
    warnings: list[str] = []
    pending: list[tuple[Path, str]] = []
    for ctrl, name, value in plan:
        d = dirs.get(ctrl)
        if d is not None and resolve is not None:
            name, value = resolve(d, name, value)
        if d is None or not (d / name).exists():
            if value in ("-1", "max"):
                continue  # "unlimited" is what a missing controller or file gives anyway
            warnings.append(f"{name} is not supported by this kernel or cgroup setup; "
                            f"limit discarded")
            continue
        try:
            write_text(d / name, value)
        except OSError as err:
            if err.errno not in (errno.EINVAL, errno.EBUSY):
                raise translate(err, f"set {name} to {value}") from err
            pending.append((d / name, value))
    for path, value in pending:
        try:
            write_text(path, value)
        except OSError as err:
            raise translate(err, f"set {path.name} to {value}") from err
    return warnings


def wait_until(check: Callable[[], bool], timeout: float,
               nudge: Callable[[], None] | None = None) -> bool:
    """Poll ``check`` with a short backoff; call ``nudge`` every 100 ms (re-request a state)."""
    deadline = time.monotonic() + timeout
    delay, last_nudge = 0.0005, time.monotonic()
    while True:
        if check():
            return True
        now = time.monotonic()
        if now >= deadline:
            return False
        if nudge is not None and now - last_nudge >= 0.1:
            nudge()
            last_nudge = now
        time.sleep(min(delay, deadline - now))
        delay = min(delay * 2, 0.02)


def signal_pid(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass  # exited between reading cgroup.procs and now
    except OSError as err:
        raise translate(err, f"signal {pid}") from err


def rmdir_retry(path: Path, timeout: float) -> None:
    # A killed task leaves its cgroup a moment after it dies: retry EBUSY briefly.
    last: OSError | None = None

    def attempt() -> bool:
        nonlocal last
        try:
            os.rmdir(path)
        except FileNotFoundError:
            return True
        except OSError as err:
            if err.errno != errno.EBUSY:
                raise translate(err, f"remove cgroup {path}") from err
            last = err
            return False
        return True

    if not wait_until(attempt, timeout) and last is not None:
        raise translate(last, f"remove cgroup {path}") from last
