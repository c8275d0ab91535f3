"""The cgroup driver interface, resource limits and the shared driver logic.

A driver turns :class:`Limits` into a *plan*: ``(controller, file, value)`` writes,
computed purely (``plan_writes``) so docker's conversions are unit-tested without
root; ``set_limits`` then applies the plan to the cgroup's directories. Only the
standard library is used: the per-container monitor imports this module.
"""

from __future__ import annotations

import errno
import os
import re
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Literal

from engine.errors import EngineError, InvalidArgument, Unavailable
from engine.record import dataclass, field, fields, replace

from ._fs import Write, read_pids, rmdir_retry, signal_pid, translate, wait_until, write_text

Version = Literal["v1", "v2"]

MIN_MEMORY = 6 * 1024 * 1024  # docker's linuxMinMemory: smaller limits OOM at start
DEFAULT_CPU_PERIOD = 100_000  # what docker uses for --cpus
SIGKILL = 9  # the same on every Linux architecture; importing signal costs ~0.5 ms
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,254}")
_CPU_LIST = re.compile(r"\d+(-\d+)?(,\d+(-\d+)?)*")
_DEVICE = re.compile(r"\d+:\d+")


@dataclass(frozen=True)
class Limits:
    """Resource limits with docker's HostConfig meaning.

    Every field is optional: ``None`` (or ``0``, docker's "unset") leaves the
    kernel's value alone. ``-1`` means unlimited for memory, memory_swap and
    cpu_quota; ``pids_limit`` 0 or -1 means unlimited (docker's API), only None
    leaves it alone. ``memory_swap`` is memory
    plus swap, as ``--memory-swap``. Invalid values raise ``InvalidArgument``.
    """

    memory: int | None = None
    memory_swap: int | None = None
    memory_reservation: int | None = None
    cpu_quota: int | None = None
    cpu_period: int | None = None
    cpu_shares: int | None = None
    cpuset_cpus: str | None = None
    pids_limit: int | None = None
    blkio_weight: int | None = None
    # ("MAJ:MIN", bytes per second): --device-read-bps / --device-write-bps.
    device_read_bps: tuple[tuple[str, int], ...] = ()
    device_write_bps: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        self.validate()

    @classmethod
    def from_cpus(cls, cpus: float | str, **other: Any) -> Limits:
        """``--cpus 0.5`` → quota 50000 over docker's 100 ms period (via NanoCPUs)."""
        try:
            nano = round(float(cpus) * 1e9)
        except ValueError as err:
            raise InvalidArgument(f"invalid --cpus value {cpus!r}") from err
        if nano <= 0:
            raise InvalidArgument(f"invalid --cpus value {cpus!r}: must be positive")
        quota = nano * DEFAULT_CPU_PERIOD // 1_000_000_000
        return cls(cpu_quota=quota, cpu_period=DEFAULT_CPU_PERIOD, **other)

    def with_default_swap(self) -> Limits:
        """Docker's daemon default: a memory limit without --memory-swap gets 2× as swap total."""
        if self.memory and self.memory > 0 and not self.memory_swap:
            return replace(self, memory_swap=2 * self.memory)
        return self

    def is_empty(self) -> bool:
        return self.pids_limit is None and all(
            not getattr(self, f.name) for f in fields(self) if f.name != "pids_limit")

    def validate(self) -> None:
        mem, swap, res = self.memory or 0, self.memory_swap or 0, self.memory_reservation or 0
        if mem < -1 or swap < -1 or res < 0:
            raise InvalidArgument("memory values must be positive, or -1 for unlimited")
        if 0 < mem < MIN_MEMORY:
            raise InvalidArgument("Minimum memory limit allowed is 6MB")
        if 0 < res < MIN_MEMORY:
            raise InvalidArgument("Minimum memory reservation allowed is 6MB")
        if swap > 0 and mem <= 0:
            raise InvalidArgument(
                "You should always set the Memory limit when using Memoryswap limit")
        if swap > 0 and swap < mem:
            raise InvalidArgument("Minimum memoryswap limit should be larger than memory limit")
        if mem > 0 and res > mem:
            raise InvalidArgument(
                "Minimum memory limit can not be less than memory reservation limit")
        quota, period = self.cpu_quota or 0, self.cpu_period or 0
        if period and not 1000 <= period <= 1_000_000:
            raise InvalidArgument("CPU cfs period can not be less than 1ms (i.e. 1000) "
                                  "or larger than 1s (i.e. 1000000)")
        if quota and quota != -1 and quota < 1000:
            raise InvalidArgument("CPU cfs quota can not be less than 1ms (i.e. 1000)")
        if self.cpu_shares and not 2 <= self.cpu_shares <= 262144:
            raise InvalidArgument("cpu shares must be between 2 and 262144")
        if self.cpuset_cpus and not _valid_cpu_list(self.cpuset_cpus):
            raise InvalidArgument(f"invalid value {self.cpuset_cpus!r} for cpuset cpus")
        if self.blkio_weight and not 10 <= self.blkio_weight <= 1000:
            raise InvalidArgument("Range of blkio weight is from 10 to 1000")
        for dev, rate in (*self.device_read_bps, *self.device_write_bps):
            if not _DEVICE.fullmatch(dev) or rate < 0:
                raise InvalidArgument(f"invalid device rate {dev}:{rate}")


def _valid_cpu_list(text: str) -> bool:
    if not _CPU_LIST.fullmatch(text):
        return False
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        if hi and int(hi) < int(lo):
            return False
    return True


@dataclass(frozen=True)
class CgroupHandle:
    """One container's cgroup: its directory in each hierarchy.

    ``dirs`` maps a controller (v1: ``memory``, ``freezer``…; v2 and hybrid: also
    ``unified``) to a directory. Cheap to rebuild with ``driver.handle(name)``,
    so front ends in other processes never need to pickle it.
    """

    name: str
    parent: str
    version: Version
    dirs: tuple[tuple[str, Path], ...]
    warnings: tuple[str, ...] = field(default=(), compare=False)  # set by create()

    def dir(self, controller: str) -> Path | None:
        return dict(self.dirs).get(controller)

    @property
    def relpath(self) -> str:
        """The path as the OCI spec's ``linux.cgroupsPath`` spells it."""
        return f"/{self.parent}/{self.name}"


def check_name(name: str, what: str = "cgroup name") -> str:
    # Names become directory components: no separators, no dot-dot, no hidden files.
    if not _NAME.fullmatch(name):
        raise InvalidArgument(f"invalid {what} {name!r}")
    return name


def check_parent(parent: str) -> str:
    for part in parent.strip("/").split("/"):
        check_name(part, "cgroup parent")
    return parent.strip("/")


# -- the interface ---------------------------------------------------------------------


class CgroupDriver(ABC):
    """Creates and drives per-container cgroups under one parent (``pydock``).

    Every method takes a :class:`CgroupHandle`; only ``create`` and ``remove``
    change the tree. Methods raise :class:`engine.errors.EngineError` subclasses.
    """

    version: Version
    cgroup_root: Path
    parent: str
    timeout: float

    @staticmethod
    @abstractmethod
    def plan_writes(limits: Limits) -> list[Write]:
        """The (controller, file, value) writes that apply ``limits``; pure."""

    @abstractmethod
    def handle(self, name: str) -> CgroupHandle:
        """The handle for ``name`` without touching the filesystem."""

    @abstractmethod
    def create(self, name: str, limits: Limits | None = None) -> CgroupHandle:
        """Make the cgroup (idempotent) and apply ``limits``; warnings land on the handle."""

    @abstractmethod
    def add_pid(self, handle: CgroupHandle, pid: int) -> None:
        """Move ``pid`` into the cgroup in every hierarchy."""

    def self_join_files(self, handle: CgroupHandle) -> list[Path]:
        """Files a process joins *itself* through by writing "0" (v1 ``tasks``).

        Any ``cgroup.procs`` write takes the global cgroup_threadgroup_rwsem for
        writing, which first waits out an RCU grace period (~10 ms here, more on
        big or busy hosts); a thread moving itself through ``tasks`` takes no such
        lock. A starter that uses these calls :meth:`add_pid_rest` for the rest.
        """
        return []

    def add_pid_rest(self, handle: CgroupHandle, pid: int) -> None:
        """``add_pid`` for the hierarchies :meth:`self_join_files` does not cover."""
        if not self.self_join_files(handle):
            self.add_pid(handle, pid)

    @abstractmethod
    def pids(self, handle: CgroupHandle) -> list[int]:
        """Processes in the cgroup (and cgroups nested under it), sorted."""

    @abstractmethod
    def freeze(self, handle: CgroupHandle) -> None:
        """Freeze and wait until the kernel reports it frozen (Unavailable on timeout)."""

    @abstractmethod
    def thaw(self, handle: CgroupHandle) -> None:
        """Thaw and wait until the kernel reports it thawed."""

    @abstractmethod
    def is_frozen(self, handle: CgroupHandle) -> bool: ...

    @abstractmethod
    def oom_killed_count(self, handle: CgroupHandle) -> int:
        """How many processes the OOM killer took in this cgroup; read before remove()."""

    @abstractmethod
    def set_limits(self, handle: CgroupHandle, limits: Limits) -> list[str]:
        """Apply ``limits``; return warnings for limits this host cannot enforce."""

    @abstractmethod
    def paths(self, handle: CgroupHandle) -> dict[str, Path]:
        """Controller → directory, for readers of stat files."""

    @abstractmethod
    def prune_parent(self) -> None:
        """Remove the parent cgroup in every hierarchy if nothing is left in it."""

    def set_devices(self, handle: CgroupHandle, rules: list[dict[str, Any]]) -> list[str]:
        """Apply OCI ``linux.resources.devices`` rules; return warnings if this host can't.

        The base class has no device controller to write to (v2 needs an eBPF program).
        """
        return ["device rules are not enforced on this cgroup version"] if rules else []

    def _kill_file(self, handle: CgroupHandle) -> Path | None:
        """``cgroup.kill`` (kernel >= 5.14) when this cgroup has one."""
        return None

    def exists(self, handle: CgroupHandle) -> bool:
        return any(d.is_dir() for _c, d in handle.dirs)

    def _unique_dirs(self, handle: CgroupHandle) -> list[Path]:
        # Co-mounted v1 controllers (cpu,cpuacct) share one directory.
        if len(handle.dirs) == 1:
            return [handle.dirs[0][1]]
        seen: dict[str, Path] = {}
        for _c, d in handle.dirs:
            seen.setdefault(os.path.realpath(d), d)
        return list(seen.values())

    def _all_pids(self, handle: CgroupHandle) -> set[int]:
        return {p for d in self._unique_dirs(handle) for p in read_pids(d)}

    def kill_all(self, handle: CgroupHandle, sig: int = SIGKILL) -> None:
        """Signal every process; for SIGKILL, wait until the cgroup is empty.

        Without cgroup.kill the cgroup is frozen first so nothing forks between
        reading cgroup.procs and signalling (as runc), then thawed so the kill lands.
        """
        kill_file = self._kill_file(handle)
        if sig == SIGKILL and kill_file is not None:
            try:
                write_text(kill_file, "1")
            except FileNotFoundError:
                return
            except OSError as err:
                raise translate(err, "kill the cgroup") from err
        else:
            frozen = False
            if sig == SIGKILL:
                try:
                    self.freeze(handle)
                    frozen = True
                except EngineError:
                    pass  # no freezer or stuck: signal the moving set anyway
            signalled: set[int] = set()
            try:
                # Re-read to catch children forked meanwhile; bounded against fork loops.
                for _round in range(100):
                    new = self._all_pids(handle) - signalled
                    if not new:
                        break
                    for pid in new:
                        signal_pid(pid, sig)
                    signalled |= new
            finally:
                if frozen or (sig == SIGKILL and self.is_frozen(handle)):
                    self.thaw(handle)  # frozen tasks only die once thawed
            if sig != SIGKILL:
                return
        if not wait_until(lambda: not self._kill_pass(handle), self.timeout):
            raise Unavailable(f"processes of cgroup {handle.relpath} survived SIGKILL")

    def _kill_pass(self, handle: CgroupHandle) -> set[int]:
        left = self._all_pids(handle)
        for pid in left:
            signal_pid(pid, SIGKILL)
        return left

    def remove_if_empty(self, handle: CgroupHandle) -> bool:
        """rmdir in every hierarchy at once; False (some left) when one is busy or nested.

        The usual end of a container: its init has been reaped, and the kernel
        ends a PID namespace's other tasks before its init can be, so the cgroup
        is already empty. This saves :meth:`remove`'s kill sweeps (two reads of
        every hierarchy's ``cgroup.procs``) and its walks.
        """
        for d in self._unique_dirs(handle):
            try:
                os.rmdir(d)
            except FileNotFoundError:
                continue
            except OSError as err:
                if err.errno in (errno.EBUSY, errno.ENOTEMPTY):
                    return False
                raise translate(err, f"remove cgroup {d}") from err
        return True

    def remove(self, handle: CgroupHandle) -> None:
        """Kill what is left and rmdir in every hierarchy; a missing cgroup is fine."""
        if not self.exists(handle):
            return
        self.kill_all(handle)
        for d in self._unique_dirs(handle):
            # Nested cgroups a container created go first, deepest first.
            subdirs = [Path(p) for p, _d, _f in os.walk(d)]
            for sub in sorted(subdirs, key=lambda p: len(p.parts), reverse=True):
                rmdir_retry(sub, self.timeout)
