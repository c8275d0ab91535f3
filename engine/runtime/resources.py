"""Resource limits: docker's units and checks, HostConfig fields, the OCI spec part.

One set of flags flows three ways: ``HostConfig`` in the record (docker's names;
what ``inspect`` shows and ``update`` changes), ``linux.resources`` in the OCI
spec (so runc/crun apply the same limits), and a :class:`Limits` that the
monitor's session hands to the cgroup driver at every start. The record is the
truth: the session rebuilds its limits from ``HostConfig`` each run, so an
``update`` made while the container was stopped applies at the next start.

Standard library and ``engine.cgroups`` only: the per-container monitor imports it.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..cgroups.base import DEFAULT_CPU_PERIOD, Limits
from ..errors import Conflict, InvalidArgument

if TYPE_CHECKING:
    from ..cgroups.base import CgroupDriver
    from ..types import CreateOptions, UpdateOptions

# docker's units.RAMInBytes: binary multiples, an optional "i" and "b".
_SIZE = re.compile(r"(\d+(?:\.\d+)?) ?([kmgtp])?i?b?", re.IGNORECASE)
_MULT = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}

# Docker's daemon warnings, keyed by the cgroup file a limit needs.
_MEM = "memory limit capabilities or the cgroup is not mounted. Limitation discarded."
_SWAP = "swap limit capabilities or the cgroup is not mounted. Memory limited without swap."
_SOFT = "memory soft limit capabilities or the cgroup is not mounted. Limitation discarded."
_SHARES = "CPU shares or the cgroup is not mounted. Shares discarded."
_CFS = "CPU CFS scheduler. CPU period/quota discarded."
_CPUSET = "cpuset or the cgroup is not mounted. Cpuset discarded."
_PIDS = "PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded."
_WEIGHT = "Block I/O weight or the cgroup is not mounted. Weight discarded."
_RBPS = "BPS Block I/O read limit or the cgroup is not mounted. Block I/O BPS read limit discarded."
_WBPS = ("BPS Block I/O write limit or the cgroup is not mounted. "
         "Block I/O BPS write limit discarded.")
_WARN = {
    "memory.limit_in_bytes": _MEM, "memory.max": _MEM,
    "memory.memsw.limit_in_bytes": _SWAP, "memory.swap.max": _SWAP,
    "memory.soft_limit_in_bytes": _SOFT, "memory.low": _SOFT,
    "cpu.shares": _SHARES, "cpu.weight": _SHARES,
    "cpu.cfs_period_us": _CFS, "cpu.cfs_quota_us": _CFS, "cpu.max": _CFS,
    "cpuset.cpus": _CPUSET, "pids.max": _PIDS, "blkio.weight": _WEIGHT, "io.weight": _WEIGHT,
    "blkio.throttle.read_bps_device": _RBPS, "blkio.throttle.write_bps_device": _WBPS,
}
_BFQ = {"blkio.weight": "blkio.bfq.weight", "io.weight": "io.bfq.weight"}


# -- flag values -----------------------------------------------------------------------
def parse_bytes(text: str, flag: str = "--memory") -> int:
    """``512m``, ``1g``, ``1.5GiB``, ``100`` (bytes), as docker's CLI reads sizes."""
    m = _SIZE.fullmatch(text.strip())
    if m is None:
        raise InvalidArgument(f'invalid argument "{text}" for "{flag}" flag: '
                              f"invalid size: '{text}'")
    return int(float(m[1]) * _MULT[(m[2] or "").lower()])


def parse_swap(text: str, flag: str = "--memory-swap") -> int:
    """``--memory-swap``: a size, or -1 for unlimited swap."""
    return -1 if text.strip() == "-1" else parse_bytes(text, flag)


def parse_cpus(text: str) -> int:
    """``--cpus 1.5`` → NanoCpus."""
    try:
        value = float(text)
    except ValueError:
        raise InvalidArgument(f'invalid argument "{text}" for "--cpus" flag: failed to parse '
                              f"{text} as a rational number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InvalidArgument(f'invalid argument "{text}" for "--cpus" flag')
    return round(value * 1e9)


def parse_device_rate(text: str, flag: str = "--device-read-bps") -> tuple[str, int]:
    """``/dev/sda:1mb`` → (path, bytes per second)."""
    path, sep, rate = text.rpartition(":")
    if not sep or not path:
        raise InvalidArgument(f'invalid argument "{text}" for "{flag}" flag: bad format: {text}')
    if not path.startswith("/dev/"):
        raise InvalidArgument(f'invalid argument "{text}" for "{flag}" flag: '
                              f"bad format for path: {path}")
    try:
        return path, parse_bytes(rate, flag)
    except InvalidArgument:
        raise InvalidArgument(
            f'invalid argument "{text}" for "{flag}" flag: invalid rate for device: {text}. '
            "The correct format is <device-path>:<number>[<unit>]. Number must be a positive "
            "integer. Unit is optional and can be kb, mb, or gb") from None


# -- create ----------------------------------------------------------------------------
def host_config(opts: CreateOptions, online_cpus: int | None = None) -> dict[str, Any]:
    """The checked HostConfig resource fields; InvalidArgument on the first bad value."""
    ncpu = online_cpus or os.cpu_count() or 1
    if opts.nano_cpus and opts.cpu_period:
        raise InvalidArgument("Conflicting options: Nano CPUs and CPU Period cannot both be set")
    if opts.nano_cpus and opts.cpu_quota:
        raise InvalidArgument("Conflicting options: Nano CPUs and CPU Quota cannot both be set")
    if opts.nano_cpus and not 10_000_000 <= opts.nano_cpus <= ncpu * 1_000_000_000:
        raise InvalidArgument(f"Range of CPUs is from 0.01 to {ncpu}.00, as there are only "
                              f"{ncpu} CPUs available")
    if opts.cpuset_cpus:
        _check_cpuset(opts.cpuset_cpus, ncpu)
    swap = opts.memory_swap
    if opts.memory > 0 and not swap:
        swap = 2 * opts.memory  # the daemon's default: as much swap as memory
    hc: dict[str, Any] = {
        "Memory": opts.memory, "MemorySwap": swap, "MemoryReservation": opts.memory_reservation,
        "NanoCpus": opts.nano_cpus, "CpuShares": opts.cpu_shares, "CpuPeriod": opts.cpu_period,
        "CpuQuota": opts.cpu_quota, "CpusetCpus": opts.cpuset_cpus, "CpusetMems": "",
        "PidsLimit": opts.pids_limit, "BlkioWeight": opts.blkio_weight,
        "BlkioDeviceReadBps": [{"Path": p, "Rate": r} for p, r in opts.device_read_bps],
        "BlkioDeviceWriteBps": [{"Path": p, "Rate": r} for p, r in opts.device_write_bps],
    }
    limits_from_host_config(hc)  # Limits.validate: docker's daemon checks
    return hc


def _check_cpuset(cpus: str, ncpu: int) -> None:
    Limits(cpuset_cpus=cpus)  # the syntax
    wanted: set[int] = set()
    for part in cpus.split(","):
        lo, _, hi = part.partition("-")
        wanted.update(range(int(lo), int(hi or lo) + 1))
    if max(wanted) >= ncpu:
        raise InvalidArgument(f"Requested CPUs are not available - requested {cpus}, "
                              f"available: {'0' if ncpu == 1 else f'0-{ncpu - 1}'}")


def limits_from_host_config(hc: Mapping[str, Any]) -> Limits:
    """What the cgroup driver applies for these HostConfig fields (devices resolved now)."""
    nano = int(hc.get("NanoCpus") or 0)
    quota, period = int(hc.get("CpuQuota") or 0), int(hc.get("CpuPeriod") or 0)
    if nano:
        period = DEFAULT_CPU_PERIOD  # docker: NanoCpus over a fixed 100 ms period
        quota = nano * period // 1_000_000_000
    pids = hc.get("PidsLimit")
    return Limits(
        memory=int(hc.get("Memory") or 0) or None,
        memory_swap=int(hc.get("MemorySwap") or 0) or None,
        memory_reservation=int(hc.get("MemoryReservation") or 0) or None,
        cpu_quota=quota or None, cpu_period=period or None,
        cpu_shares=int(hc.get("CpuShares") or 0) or None,
        cpuset_cpus=hc.get("CpusetCpus") or None,
        pids_limit=None if pids is None else int(pids),
        blkio_weight=int(hc.get("BlkioWeight") or 0) or None,
        device_read_bps=_devices(hc.get("BlkioDeviceReadBps")),
        device_write_bps=_devices(hc.get("BlkioDeviceWriteBps")))


def _devices(entries: Any) -> tuple[tuple[str, int], ...]:
    out = []
    for e in entries or ():
        path = str(e["Path"])
        try:
            st = os.stat(path)
        except OSError as err:
            raise InvalidArgument(f"{path}: {err.strerror}") from None
        if not stat.S_ISBLK(st.st_mode):
            raise InvalidArgument(f"{path} is not a block device")
        out.append((f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}", int(e["Rate"])))
    return tuple(out)


def spec_resources(limits: Limits) -> dict[str, Any]:
    """``linux.resources`` entries (besides devices) in the runtime-spec's terms."""
    out: dict[str, Any] = {}
    mem = {k: v for k, v in (("limit", limits.memory), ("swap", limits.memory_swap),
                             ("reservation", limits.memory_reservation)) if v}
    cpu = {k: v for k, v in (("shares", limits.cpu_shares), ("quota", limits.cpu_quota),
                             ("period", limits.cpu_period), ("cpus", limits.cpuset_cpus)) if v}
    if mem:
        out["memory"] = mem
    if cpu:
        out["cpu"] = cpu
    if limits.pids_limit is not None:
        out["pids"] = {"limit": limits.pids_limit if limits.pids_limit > 0 else -1}
    blk: dict[str, Any] = {}
    if limits.blkio_weight:
        blk["weight"] = limits.blkio_weight
    for key, rules in (("throttleReadBpsDevice", limits.device_read_bps),
                       ("throttleWriteBpsDevice", limits.device_write_bps)):
        if rules:
            blk[key] = [{"major": int(d.split(":")[0]), "minor": int(d.split(":")[1]),
                         "rate": r} for d, r in rules]
    if blk:
        out["blockIO"] = blk
    return out


def unsupported(driver: CgroupDriver, limits: Limits) -> list[str]:
    """Docker's warnings for limits this host cannot enforce, found on a throwaway cgroup.

    A probe is the only faithful check: which files a new cgroup gets depends on
    the mounted v1 controllers, or on what v2 delegates down to pydock's parent.
    """
    if limits.is_empty():
        return []
    plan = driver.plan_writes(limits)
    handle = driver.create(f"probe-{os.urandom(6).hex()}")  # not secrets: ~4 ms of imports
    try:
        dirs = driver.paths(handle)
        out: list[str] = []
        for ctrl, name, value in plan:
            d = dirs.get(ctrl)
            if value in ("-1", "max") or (d is not None and any(
                    (d / n).exists() for n in (name, _BFQ.get(name, name)))):
                continue
            reason = (_RBPS if "rbps=" in value else _WBPS) if name == "io.max" \
                else _WARN.get(name)
            text = (f"Your kernel does not support {reason}" if reason
                    else f"{name} is not supported by this host; limit discarded.")
            if text not in out:
                out.append(text)
        return out
    finally:
        driver.remove(handle)


# -- update ----------------------------------------------------------------------------
_FIELDS = (("memory", "Memory"), ("memory_swap", "MemorySwap"),
           ("memory_reservation", "MemoryReservation"), ("nano_cpus", "NanoCpus"),
           ("cpu_shares", "CpuShares"), ("cpu_period", "CpuPeriod"), ("cpu_quota", "CpuQuota"),
           ("cpuset_cpus", "CpusetCpus"), ("pids_limit", "PidsLimit"),
           ("blkio_weight", "BlkioWeight"))


def updated_host_config(hc: Mapping[str, Any], u: UpdateOptions,
                        online_cpus: int | None = None) -> dict[str, Any]:
    """HostConfig after ``docker update``, with the daemon's conflict rules."""
    old_swap = int(hc.get("MemorySwap") or 0)
    if u.memory and u.memory > 0 and u.memory_swap is None and 0 < old_swap < u.memory:
        raise Conflict("Memory limit should be smaller than already set memoryswap limit, "
                       "update the memoryswap at the same time")
    if u.nano_cpus and (hc.get("CpuQuota") or u.cpu_quota):
        raise Conflict("Conflicting options: Nano CPUs cannot be updated as CPU Quota has "
                       "already been set")
    if u.cpu_quota and hc.get("NanoCpus") and u.nano_cpus is None:
        raise Conflict("Conflicting options: CPU Quota cannot be updated as NanoCPUs has "
                       "already been set")
    ncpu = online_cpus or os.cpu_count() or 1
    if u.nano_cpus and not 10_000_000 <= u.nano_cpus <= ncpu * 1_000_000_000:
        raise InvalidArgument(f"Range of CPUs is from 0.01 to {ncpu}.00, as there are only "
                              f"{ncpu} CPUs available")
    if u.cpuset_cpus:
        _check_cpuset(u.cpuset_cpus, ncpu)
    new = dict(hc)
    for attr, key in _FIELDS:
        value = getattr(u, attr)
        if value is not None:
            new[key] = value
    limits_from_host_config(new)  # the combined values must still make sense
    return new


def changed_limits(u: UpdateOptions) -> bool:
    return any(getattr(u, attr) is not None for attr, _k in _FIELDS)
