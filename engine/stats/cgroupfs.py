"""Raw counters of one container from its cgroup files (v1 and v2 layouts) and procfs.

The files and fields are the ones containerd's ``Stat()`` reads for docker (see
``notes/engine.md`` §5). Reads use ``os.open``/``os.read`` on bytes and parse
only the keys needed: a pass over a hundred containers touches about 800 files,
so each read must cost microseconds. A missing file (controller not mounted,
container gone mid-pass) reads as zero rather than failing the whole pass.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Callable, Mapping
from pathlib import Path

from engine.record import dataclass

UNLIMITED = 1 << 62  # v1 reports "no limit" as a huge page-aligned number


@dataclass(frozen=True)
class Raw:
    """Counters as the kernel reports them (bytes, nanoseconds, counts)."""

    cpu_ns: int = 0
    mem_usage: int = 0
    mem_limit: int = 0  # 0: unlimited
    inactive_file: int | None = None
    blk_read: int = 0
    blk_write: int = 0
    pids: int = 0
    pids_limit: int = 0  # 0: unlimited


def read_bytes(path: str) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        return os.read(fd, 1 << 16)
    except OSError:
        return None
    finally:
        os.close(fd)


Reader = Callable[[str], "bytes | None"]


class Handles:
    """Files kept open between passes and re-read with ``pread`` at offset 0.

    A cgroup or procfs file regenerates its text on every read from offset 0, so a
    kept descriptor reads fresh counters without the path walk of ``open``: about a
    third of the cost of open, read and close. Handles belong to a group (one
    container's run: its ID and init PID) and are closed when :meth:`keep` no longer
    names the group. Only a share of the descriptor limit is ever held; beyond it,
    files are opened and closed per read as before.
    """

    def __init__(self, budget: int | None = None) -> None:
        if budget is None:
            soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
            budget = 1024 if soft == resource.RLIM_INFINITY else min(soft // 4, 4096)
        self.budget = budget
        self._fds: dict[str, int] = {}
        self._groups: dict[str, list[str]] = {}

    def reader(self, group: str) -> Reader:
        return lambda path: self.read(group, path)

    def read(self, group: str, path: str) -> bytes | None:
        fd = self._fds.get(path)
        if fd is not None:
            try:
                return os.pread(fd, 1 << 16, 0)
            except OSError:
                self._drop(path)  # the cgroup went away under it: try a fresh open once
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None
        if len(self._fds) >= self.budget:
            try:
                return os.read(fd, 1 << 16)
            except OSError:
                return None
            finally:
                os.close(fd)
        self._fds[path] = fd
        self._groups.setdefault(group, []).append(path)
        try:
            return os.pread(fd, 1 << 16, 0)
        except OSError:
            self._drop(path)
            return None

    def keep(self, groups: set[str]) -> None:
        """Close the handles of every group not in ``groups``."""
        for group in [g for g in self._groups if g not in groups]:
            for path in self._groups.pop(group):
                self._drop(path)

    def close(self) -> None:
        self.keep(set())
        for path in list(self._fds):
            self._drop(path)

    def _drop(self, path: str) -> None:
        fd = self._fds.pop(path, None)
        if fd is not None:
            os.close(fd)

    def __len__(self) -> int:
        return len(self._fds)


def _int(path: str, read: Reader = read_bytes) -> int:
    data = read(path)
    if not data:
        return 0
    try:
        return int(data)
    except ValueError:
        return 0  # "max"


def keyed(data: bytes | None, key: bytes) -> int | None:
    """The value of ``key value`` at the start of a line (memory.stat, cpu.stat)."""
    if not data:
        return None
    needle = key + b" "
    pos = 0 if data.startswith(needle) else data.find(b"\n" + needle)
    if pos < 0:
        return None
    start = data.index(b" ", pos + 1) + 1
    end = data.find(b"\n", start)
    return int(data[start:end if end >= 0 else None])


def blkio_v1(data: bytes | None) -> tuple[int, int]:
    """``MAJ:MIN Read N`` / ``MAJ:MIN Write N`` lines (the ``Total`` line is skipped)."""
    read = write = 0
    for line in (data or b"").splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        op = parts[1][:1]
        if op in (b"R", b"r"):
            read += int(parts[2])
        elif op in (b"W", b"w"):
            write += int(parts[2])
    return read, write


def io_v2(data: bytes | None) -> tuple[int, int]:
    """``MAJ:MIN rbytes=N wbytes=N rios=N ...`` lines of io.stat."""
    read = write = 0
    for line in (data or b"").splitlines():
        for field in line.split()[1:]:
            if field.startswith(b"rbytes="):
                read += int(field[7:])
            elif field.startswith(b"wbytes="):
                write += int(field[7:])
    return read, write


def read_v1(dirs: Mapping[str, Path | str], read: Reader = read_bytes) -> Raw:
    """One container's counters from its per-controller v1 directories."""
    def path(ctrl: str, name: str) -> str:
        d = dirs.get(ctrl)
        return f"{d}/{name}" if d is not None else ""

    limit = _int(path("memory", "memory.limit_in_bytes"), read)
    stat = read(path("memory", "memory.stat"))
    blk = read(path("blkio", "blkio.throttle.io_service_bytes_recursive"))
    if blk is None:
        blk = read(path("blkio", "blkio.throttle.io_service_bytes"))
    r, w = blkio_v1(blk)
    return Raw(cpu_ns=_int(path("cpuacct", "cpuacct.usage"), read),
               mem_usage=_int(path("memory", "memory.usage_in_bytes"), read),
               mem_limit=0 if limit >= UNLIMITED else limit,
               inactive_file=keyed(stat, b"total_inactive_file"),
               blk_read=r, blk_write=w, pids=_int(path("pids", "pids.current"), read),
               pids_limit=_int(path("pids", "pids.max"), read))


def read_v2(directory: Path | str, read: Reader = read_bytes) -> Raw:
    """One container's counters from its unified (v2) directory."""
    d = str(directory)
    cpu = keyed(read(d + "/cpu.stat"), b"usage_usec") or 0
    r, w = io_v2(read(d + "/io.stat"))
    return Raw(cpu_ns=cpu * 1000, mem_usage=_int(d + "/memory.current", read),
               mem_limit=_int(d + "/memory.max", read),
               inactive_file=keyed(read(d + "/memory.stat"), b"inactive_file"),
               blk_read=r, blk_write=w, pids=_int(d + "/pids.current", read),
               pids_limit=_int(d + "/pids.max", read))


def net_dev(proc_root: Path | str, pid: int, read: Reader = read_bytes) -> tuple[int, int]:
    """rx/tx bytes of the non-loopback interfaces in ``pid``'s network namespace.

    ``/proc/<pid>/net/dev`` is the namespace of that process, so no setns is
    needed; docker counts the sandbox's interfaces, which never include lo.
    """
    data = read(f"{proc_root}/{pid}/net/dev")
    rx = tx = 0
    for line in (data or b"").splitlines()[2:]:
        name, _, rest = line.partition(b":")
        if name.strip() == b"lo":
            continue
        fields = rest.split()
        if len(fields) >= 9:
            rx += int(fields[0])
            tx += int(fields[8])
    return rx, tx


def system_cpu(proc_root: Path | str) -> tuple[int, int]:
    """(host CPU time in ns, online CPUs) from /proc/stat, as docker's daemon computes them.

    The first seven fields of the ``cpu`` line (user … softirq) in clock ticks;
    online CPUs are the ``cpuN`` lines.
    """
    data = read_bytes(f"{proc_root}/stat") or b""
    ticks = 0
    ncpu = 0
    for line in data.splitlines():
        if line.startswith(b"cpu "):
            ticks = sum(int(v) for v in line.split()[1:8])
        elif line.startswith(b"cpu"):
            ncpu += 1
        elif ncpu:
            break  # the cpu lines come first
    return ticks * 1_000_000_000 // _CLK_TCK, ncpu


_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
