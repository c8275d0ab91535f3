"""cgroup v1: one directory per controller, ``<root>/<controller>/<parent>/<name>``.

Controllers that are not mounted are skipped (their limits become warnings), and
co-mounted ones (``cpu,cpuacct``) share a directory. ``name=systemd`` is left to
systemd. On a hybrid host the container also gets a directory in the unified
mount: it has no controllers, but gives ``cgroup.kill`` and a freezer fallback.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

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
from .v1_fs import device_rule_line, make_dirs, mounted_controllers
from .v2 import frozen_state, prune, set_frozen

# Where pids() looks: any hierarchy holds every task; the freezer is the one runc reads.
_PRIMARY = ("freezer", "pids", "memory", "cpu", "cpuacct", "blkio", "devices", "cpuset",
            "unified")


def _num(value: int) -> str:
    return "-1" if value == -1 else str(value)


class V1Driver(CgroupDriver):
    """Legacy per-controller hierarchies; ``unified`` is the v2 mount on hybrid hosts."""

    version = "v1"

    def __init__(self, cgroup_root: Path, parent: str = "pydock", *,
                 unified: Path | None = None, timeout: float = 5.0,
                 mounts: dict[str, Path] | None = None) -> None:
        self.cgroup_root = Path(cgroup_root)
        self.parent = check_parent(parent)
        self.timeout = timeout
        # ``mounts``: what get_driver already read (a copy: "unified" is added below).
        self.mounts = dict(mounts) if mounts is not None else mounted_controllers(self.cgroup_root)
        if unified is not None:
            self.mounts["unified"] = Path(unified)
        self._real_mounts: dict[str, str] | None = None

    @staticmethod
    def plan_writes(limits: Limits) -> list[Write]:
        w: list[Write] = []
        mem, swap = limits.memory or 0, limits.memory_swap or 0
        if mem:
            w.append(("memory", "memory.limit_in_bytes", _num(mem)))
        if swap or mem == -1:
            # memsw is memory + swap, docker's own unit; lifting memory lifts it too
            # (runc), or the kernel would keep memory capped by the old memsw.
            w.append(("memory", "memory.memsw.limit_in_bytes", _num(swap or -1)))
        if limits.memory_reservation:
            w.append(("memory", "memory.soft_limit_in_bytes", str(limits.memory_reservation)))
        if limits.cpu_shares:
            w.append(("cpu", "cpu.shares", str(limits.cpu_shares)))
        if limits.cpu_period:
            w.append(("cpu", "cpu.cfs_period_us", str(limits.cpu_period)))
        if limits.cpu_quota:
            w.append(("cpu", "cpu.cfs_quota_us", _num(limits.cpu_quota)))
        if limits.cpuset_cpus:
            w.append(("cpuset", "cpuset.cpus", limits.cpuset_cpus))
        if limits.pids_limit is not None:
            pids = limits.pids_limit
            w.append(("pids", "pids.max", "max" if pids <= 0 else str(pids)))
        if limits.blkio_weight:
            w.append(("blkio", "blkio.weight", str(limits.blkio_weight)))
        # One write per device: the kernel keeps a rule per MAJ:MIN (0 removes it).
        for dev, rate in limits.device_read_bps:
            w.append(("blkio", "blkio.throttle.read_bps_device", f"{dev} {rate}"))
        for dev, rate in limits.device_write_bps:
            w.append(("blkio", "blkio.throttle.write_bps_device", f"{dev} {rate}"))
        return w

    def handle(self, name: str) -> CgroupHandle:
        check_name(name)
        dirs = tuple((c, base / self.parent / name) for c, base in self.mounts.items())
        return CgroupHandle(name, self.parent, "v1", dirs)

    def create(self, name: str, limits: Limits | None = None) -> CgroupHandle:
        h = self.handle(name)
        try:
            for ctrl, d in h.dirs:
                make_dirs(self.mounts[ctrl], str(d), cpuset=ctrl == "cpuset")
        except OSError as err:
            raise translate(err, f"create cgroup {h.relpath}") from err
        warnings = self.set_limits(h, limits) if limits is not None else []
        return replace(h, warnings=tuple(warnings))

    def _unique_dirs(self, handle: CgroupHandle) -> list[Path]:
        # As the base class, but the co-mount test resolves each hierarchy's root
        # once per driver instead of every path on every call (≈100 lstats a start).
        real = self._real_mounts
        if real is None:
            real = self._real_mounts = {c: os.path.realpath(b) for c, b in self.mounts.items()}
        seen: dict[str, Path] = {}
        for c, d in handle.dirs:
            ours = c in real and str(d) == f"{self.mounts[c]}{handle.relpath}"
            seen.setdefault(real[c] + handle.relpath if ours else os.path.realpath(d), d)
        return list(seen.values())

    def add_pid(self, handle: CgroupHandle, pid: int) -> None:
        for d in self._unique_dirs(handle):
            try:
                write_text(d / "cgroup.procs", str(pid))
            except FileNotFoundError as err:
                raise NotFound(f"cgroup {handle.relpath} does not exist in {d}") from err
            except OSError as err:
                raise translate(err, f"move {pid} into {d}") from err

    def self_join_files(self, handle: CgroupHandle) -> list[Path]:
        return [d / "tasks" for d in self._unique_dirs(handle) if d != handle.dir("unified")]

    def add_pid_rest(self, handle: CgroupHandle, pid: int) -> None:
        # Only the v2 mount of a hybrid host has no ``tasks`` file.
        unified = handle.dir("unified")
        if unified is None:
            return
        try:
            write_text(unified / "cgroup.procs", str(pid))
        except FileNotFoundError as err:
            raise NotFound(f"cgroup {handle.relpath} does not exist in {unified}") from err
        except OSError as err:
            raise translate(err, f"move {pid} into {unified}") from err

    def _primary(self, handle: CgroupHandle) -> Path | None:
        for c in _PRIMARY:
            d = handle.dir(c)
            if d is not None:
                return d
        return None

    def pids(self, handle: CgroupHandle) -> list[int]:
        d = self._primary(handle)
        return read_pids(d) if d is not None else []

    def freeze(self, handle: CgroupHandle) -> None:
        self._freeze(handle, True)

    def thaw(self, handle: CgroupHandle) -> None:
        self._freeze(handle, False)

    def _freeze(self, handle: CgroupHandle, frozen: bool) -> None:
        d = handle.dir("freezer")
        if d is None:
            unified = handle.dir("unified")
            if unified is None:
                raise Unavailable("the freezer cgroup is not mounted: cannot pause")
            set_frozen(unified, frozen, self.timeout)
            return
        want = "FROZEN" if frozen else "THAWED"
        state = d / "freezer.state"

        def request() -> None:
            try:
                write_text(state, want)
            except FileNotFoundError as err:
                raise NotFound(f"cgroup {handle.relpath} does not exist") from err
            except OSError as err:
                raise translate(err, f"set {state} to {want}") from err

        def reached() -> bool:
            now = read_text(state)
            if now is None:
                raise NotFound(f"cgroup {handle.relpath} disappeared while (un)freezing")
            return now.strip() == want

        request()
        # FREEZING can stick (a task in vfork or uninterruptible sleep): rewriting
        # the request makes the kernel retry the tasks it missed.
        if not wait_until(reached, self.timeout, nudge=request):
            if frozen:
                try:
                    write_text(state, "THAWED")
                except OSError:
                    pass
            raise Unavailable(f"cgroup {handle.relpath} did not reach {want} "
                              f"within {self.timeout:g}s")

    def is_frozen(self, handle: CgroupHandle) -> bool:
        d = handle.dir("freezer")
        if d is not None:
            return (read_text(d / "freezer.state") or "").strip() == "FROZEN"
        unified = handle.dir("unified")
        return bool(unified is not None and frozen_state(unified))

    def set_devices(self, handle: CgroupHandle, rules: list[dict[str, Any]]) -> list[str]:
        """Deny every device, then allow the rules' list (runc's order on v1).

        Without this a container holding CAP_MKNOD could create and open a host
        block device node.
        """
        d = handle.dir("devices")
        if d is None or not d.is_dir():
            return ["the devices controller is not mounted: device rules not enforced"]
        # One open per file, one write per rule: the kernel parses each write as
        # one rule, and a dozen opens of cgroupfs files cost more than the writes.
        fds: dict[str, int] = {}
        try:
            for rule in rules:
                line = device_rule_line(rule)
                name = "devices.allow" if rule.get("allow") else "devices.deny"
                try:
                    fd = fds.get(name)
                    if fd is None:
                        fd = fds[name] = os.open(d / name, os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC)
                    os.write(fd, line.encode())
                except OSError as err:
                    raise translate(err, f"set device rule {line!r}") from err
        finally:
            for fd in fds.values():
                os.close(fd)
        return []

    def _kill_file(self, handle: CgroupHandle) -> Path | None:
        unified = handle.dir("unified")
        if unified is None or not (unified / "cgroup.kill").exists():
            return None
        return unified / "cgroup.kill"

    def oom_killed_count(self, handle: CgroupHandle) -> int:
        # The oom_kill line exists since Linux 4.13; older kernels report 0.
        d = handle.dir("memory")
        if d is None:
            return 0
        return int(read_keyed(d / "memory.oom_control").get("oom_kill", "0"))

    def set_limits(self, handle: CgroupHandle, limits: Limits) -> list[str]:
        def resolve(directory: Path, name: str, value: str) -> tuple[str, str]:
            # Under the BFQ scheduler the weight lives in blkio.bfq.weight (runc).
            if name == "blkio.weight" and (directory / "blkio.bfq.weight").exists():
                return "blkio.bfq.weight", value
            return name, value

        return apply_plan(dict(handle.dirs), self.plan_writes(limits), resolve)

    def paths(self, handle: CgroupHandle) -> dict[str, Path]:
        return dict(handle.dirs)

    def prune_parent(self) -> None:
        seen: set[str] = set()
        for base in self.mounts.values():
            if os.path.realpath(base) not in seen:
                seen.add(os.path.realpath(base))
                prune(base, self.parent)
