"""cgroup v2 (unified): one directory per container, ``<root>/<parent>/<name>``.

Controllers reach the container's directory only when every ancestor lists them
in ``cgroup.subtree_control``; ``create`` enables what ``cgroup.controllers``
offers at each level, as runc does. The freezer helpers here also serve the v1
driver on hybrid hosts, whose unified mount has ``cgroup.freeze`` but no controllers.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from engine.errors import NotFound, Unavailable
from engine.record import replace

from ._fs import (
    Write,
    apply_plan,
    read_keyed,
    read_pids,
    read_text,
    translate,
    wait_until,
    write_text,
)
from .base import CgroupDriver, CgroupHandle, Limits, check_name, check_parent

# Controllers whose files set_limits writes; all other available ones are enabled too.
LIMIT_CONTROLLERS = ("cpu", "cpuset", "io", "memory", "pids")


def swap_max(memory_swap: int, memory: int) -> str | None:
    """docker's --memory-swap (memory + swap) → memory.swap.max (swap alone), as runc.

    None means "leave as is". Unlimited memory with unset swap also lifts swap,
    for compatibility with v1 where swap can never be below memory.
    """
    if memory == -1 and memory_swap == 0:
        return "max"
    if memory_swap == -1:
        return "max"
    if memory_swap == 0:
        return None
    return str(memory_swap - memory)  # Limits.validate: memory > 0 and swap >= memory


def shares_to_weight(shares: int) -> int:
    """cpu.shares [2, 262144] → cpu.weight [1, 10000], runc's linear conversion."""
    return 1 + ((shares - 2) * 9999) // 262142


def blkio_to_io_weight(weight: int) -> int:
    """blkio.weight [10, 1000] → io.weight [1, 10000], runc's conversion."""
    return 1 + ((weight - 10) * 9999) // 990


def frozen_state(directory: Path) -> bool | None:
    """``frozen`` from cgroup.events; None when the cgroup (or the freezer) is absent."""
    state = read_keyed(directory / "cgroup.events").get("frozen")
    return None if state is None else state == "1"


def set_frozen(directory: Path, frozen: bool, timeout: float) -> None:
    """Write cgroup.freeze and wait until cgroup.events agrees (the kernel is asynchronous)."""
    want = "1" if frozen else "0"
    try:
        write_text(directory / "cgroup.freeze", want)
    except FileNotFoundError as err:
        if not directory.is_dir():
            raise NotFound(f"cgroup {directory} does not exist") from err
        raise Unavailable("cgroup.freeze is missing: the kernel is older than 5.2") from err
    except OSError as err:
        raise translate(err, f"write {directory}/cgroup.freeze") from err

    def reached() -> bool:
        state = frozen_state(directory)
        if state is None:
            raise NotFound(f"cgroup {directory} disappeared while (un)freezing")
        return state == frozen

    if not wait_until(reached, timeout):
        if frozen:
            try:  # do not leave it half frozen behind an error
                write_text(directory / "cgroup.freeze", "0")
            except OSError:
                pass
        raise Unavailable(f"cgroup {directory} did not {'freeze' if frozen else 'thaw'} "
                          f"within {timeout:g}s")


def prune(base: Path, parent: str) -> None:
    """rmdir ``base/parent`` and its empty ancestors below ``base``; busy ones stay."""
    parts = parent.split("/")
    for depth in range(len(parts), 0, -1):
        try:
            os.rmdir(base.joinpath(*parts[:depth]))
        except FileNotFoundError:
            continue
        except OSError as err:
            if err.errno in (errno.EBUSY, errno.ENOTEMPTY):
                return  # other containers still live there
            raise translate(err, f"remove cgroup {base}/{parent}") from err


class V2Driver(CgroupDriver):
    """The unified hierarchy on a v2-only host."""

    version = "v2"

    def __init__(self, cgroup_root: Path, parent: str = "pydock", *,
                 timeout: float = 5.0) -> None:
        self.cgroup_root = Path(cgroup_root)
        self.parent = check_parent(parent)
        self.timeout = timeout

    @staticmethod
    def plan_writes(limits: Limits) -> list[Write]:
        w: list[Write] = []
        mem, swap = limits.memory or 0, limits.memory_swap or 0
        swap_value = swap_max(swap, mem)
        if swap_value is not None:
            w.append(("memory", "memory.swap.max", swap_value))
        if mem:
            w.append(("memory", "memory.max", "max" if mem == -1 else str(mem)))
        if limits.memory_reservation:
            w.append(("memory", "memory.low", str(limits.memory_reservation)))
        if limits.cpu_shares:
            w.append(("cpu", "cpu.weight", str(shares_to_weight(limits.cpu_shares))))
        quota, period = limits.cpu_quota or 0, limits.cpu_period or 0
        if quota or period:
            # runc: "max" for no quota; the period is kept by the kernel when omitted.
            value = str(quota) if quota > 0 else "max"
            w.append(("cpu", "cpu.max", f"{value} {period}" if period else value))
        if limits.cpuset_cpus:
            w.append(("cpuset", "cpuset.cpus", limits.cpuset_cpus))
        if limits.pids_limit is not None:
            pids = limits.pids_limit
            w.append(("pids", "pids.max", "max" if pids <= 0 else str(pids)))
        if limits.blkio_weight:
            w.append(("io", "io.weight", str(blkio_to_io_weight(limits.blkio_weight))))
        for key, rules in (("rbps", limits.device_read_bps), ("wbps", limits.device_write_bps)):
            for dev, rate in rules:
                w.append(("io", "io.max", f"{dev} {key}={rate or 'max'}"))
        return w

    def handle(self, name: str) -> CgroupHandle:
        path = self.cgroup_root / self.parent / check_name(name)
        return CgroupHandle(name, self.parent, "v2", (("unified", path),))

    def _dir(self, handle: CgroupHandle) -> Path:
        d = handle.dir("unified")
        assert d is not None, "a v2 handle always has its unified directory"
        return d

    def create(self, name: str, limits: Limits | None = None) -> CgroupHandle:
        h = self.handle(name)
        warnings: list[str] = []
        level = self.cgroup_root
        try:
            for part in self.parent.split("/"):
                warnings += self._enable_controllers(level)
                level = level / part
                level.mkdir(exist_ok=True)
            warnings += self._enable_controllers(level)
            self._dir(h).mkdir(exist_ok=True)
        except OSError as err:
            raise translate(err, f"create cgroup {h.relpath}") from err
        if limits is not None:
            warnings += self.set_limits(h, limits)
        return replace(h, warnings=tuple(warnings))

    def _enable_controllers(self, level: Path) -> list[str]:
        # Enable everything the level offers (as runc); one write first, then one by
        # one so a single refusal (e.g. cpu with realtime tasks) costs only itself.
        available = (read_text(level / "cgroup.controllers") or "").split()
        enabled = set((read_text(level / "cgroup.subtree_control") or "").split())
        todo = [c for c in available if c not in enabled]
        if not todo:
            return []
        control = level / "cgroup.subtree_control"
        try:
            write_text(control, " ".join(f"+{c}" for c in todo))
            return []
        except OSError:
            pass
        warnings = []
        for c in todo:
            try:
                write_text(control, f"+{c}")
            except OSError as err:
                warnings.append(f"cannot enable the {c} controller in {level}: {err.strerror}")
        return warnings

    def add_pid(self, handle: CgroupHandle, pid: int) -> None:
        try:
            write_text(self._dir(handle) / "cgroup.procs", str(pid))
        except FileNotFoundError as err:
            raise NotFound(f"cgroup {handle.relpath} does not exist") from err
        except OSError as err:
            raise translate(err, f"move {pid} into cgroup {handle.relpath}") from err

    def pids(self, handle: CgroupHandle) -> list[int]:
        return read_pids(self._dir(handle))

    def freeze(self, handle: CgroupHandle) -> None:
        set_frozen(self._dir(handle), True, self.timeout)

    def thaw(self, handle: CgroupHandle) -> None:
        set_frozen(self._dir(handle), False, self.timeout)

    def is_frozen(self, handle: CgroupHandle) -> bool:
        return bool(frozen_state(self._dir(handle)))

    def _kill_file(self, handle: CgroupHandle) -> Path | None:
        path = self._dir(handle) / "cgroup.kill"
        return path if path.exists() else None

    def oom_killed_count(self, handle: CgroupHandle) -> int:
        # memory.events counts the subtree too, so nested cgroups' kills show here.
        return int(read_keyed(self._dir(handle) / "memory.events").get("oom_kill", "0"))

    def set_limits(self, handle: CgroupHandle, limits: Limits) -> list[str]:
        d = self._dir(handle)

        def resolve(directory: Path, name: str, value: str) -> tuple[str, str]:
            # Under BFQ the weight goes, unconverted, to io.bfq.weight (runc).
            if name == "io.weight" and (directory / "io.bfq.weight").exists():
                return "io.bfq.weight", str(limits.blkio_weight)
            return name, value

        return apply_plan({c: d for c in LIMIT_CONTROLLERS}, self.plan_writes(limits), resolve)

    def paths(self, handle: CgroupHandle) -> dict[str, Path]:
        d = self._dir(handle)
        out = {"unified": d}
        for c in (read_text(d / "cgroup.controllers") or "").split():
            out[c] = d
        return out

    def prune_parent(self) -> None:
        prune(self.cgroup_root, self.parent)
