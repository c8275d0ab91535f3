"""One sampling pass over every running container, with docker's formulas.

CPU % needs two readings. Docker's ``stats --no-stream`` waits for two of its
1-second samples; here the previous reading is kept instead:

- in memory, for a process that samples repeatedly (``stats`` streaming, the TUI);
- on disk (``<root>/stats-cache.json``, written after a pass, at most every
  ``SAVE_EVERY`` seconds), so a one-shot
  ``pydock stats --no-stream`` pairs with the last pass of any process when it is
  between 0.1 and 10 seconds old;
- otherwise the pass reads twice, ``WINDOW`` (0.1 s) apart, for the containers
  that have no usable previous reading.

Formulas (docker/cli ``stats_helpers.go``): CPU % = Δcontainer / Δsystem × online
CPUs × 100; memory = usage − inactive file cache; limit capped at host RAM.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..record import dataclass
from ..types import StatsSample
from . import cgroupfs

if TYPE_CHECKING:
    from ..cgroups.base import CgroupDriver

WINDOW = 0.1  # seconds between the two reads of a cold one-shot pass
MIN_AGE, MAX_AGE = 0.1, 10.0  # a persisted reading older or younger is not used
SAVE_EVERY = 3.0  # seconds between writes of the cache file by a repeating sampler


@dataclass(frozen=True)
class Target:
    """A running container to sample: its init PID names its network namespace."""

    id: str
    name: str
    pid: int
    network: str = "none"


@dataclass(frozen=True)
class Point:
    """What the next pass needs from this one."""

    cpu_ns: int
    system_ns: int
    pid: int
    at: float  # time.time() of the reading


class Sampler:
    def __init__(self, driver: CgroupDriver, proc_root: Path, cache: Path | None = None,
                 host_memory: int | None = None) -> None:
        self.driver = driver
        self.proc_root = proc_root
        self.cache = cache
        self._host_memory = host_memory
        self.prev: dict[str, Point] = {}
        self._dirs: dict[str, dict[str, str]] = {}
        self._handles = cgroupfs.Handles()
        # One pass at a time: the handles and readings are shared state.
        self._lock = threading.Lock()
        self._saved = 0.0  # monotonic time of the last write of the cache file
        # The descriptors die with the sampler (an Engine dropped in a long-lived process).
        weakref.finalize(self, self._handles.close)

    @property
    def host_memory(self) -> int:
        if self._host_memory is None:
            import psutil  # front-end side only; the monitor never imports this module

            self._host_memory = int(psutil.virtual_memory().total)
        return self._host_memory

    def sample(self, targets: list[Target]) -> list[StatsSample]:
        with self._lock:
            return self._sample(targets)

    def close(self) -> None:
        """Close the files kept open between passes (they are reopened on the next)."""
        with self._lock:
            self._handles.close()

    def _sample(self, targets: list[Target]) -> list[StatsSample]:
        started = time.monotonic()
        raws, system_ns, ncpu, at = self.read(targets)
        cold = [t for t in targets if not self._usable(self.prev.get(t.id), t, at)]
        persisted: dict[str, Point] = {}
        if cold and self.cache is not None:
            persisted = _load(self.cache)
            still = []
            for t in cold:
                if self._usable(persisted.get(t.id), t, at, MAX_AGE):
                    self.prev[t.id] = persisted[t.id]
                else:
                    still.append(t)
            cold = still
        if cold:
            wait = 0.0
            for t in cold:
                p = persisted.get(t.id)
                if p is not None and p.pid == t.pid and 0.0 <= at - p.at < MIN_AGE:
                    # A reading just written by another front end (back-to-back
                    # `stats --no-stream`): pair with it once it is MIN_AGE old
                    # rather than start a new window.
                    self.prev[t.id] = p
                    wait = max(wait, p.at + MIN_AGE - time.time())
                else:
                    raw = raws[t.id][0]
                    self.prev[t.id] = Point(raw.cpu_ns, system_ns, t.pid, at)
                    wait = max(wait, WINDOW - (time.monotonic() - started))
            time.sleep(max(0.0, wait))
            raws, system_ns, ncpu, at = self.read(targets)
        out = [self._compute(t, raws[t.id], system_ns, ncpu, at) for t in targets]
        self.prev = {t.id: Point(raws[t.id][0].cpu_ns, system_ns, t.pid, at) for t in targets}
        self._dirs = {t.id: self._dirs[t.id] for t in targets}  # forget removed containers
        self._handles.keep({_group(t) for t in targets})
        now = time.monotonic()
        if self.cache is not None and now - self._saved >= SAVE_EVERY:
            # A one-shot reader pairs with any reading up to MAX_AGE old: a sampler
            # that runs every second need not rewrite the file every second.
            _save(self.cache, self.prev)
            self._saved = now
        return out

    def read(self, targets: list[Target]
             ) -> tuple[dict[str, tuple[cgroupfs.Raw, int, int]], int, int, float]:
        """The one pass: cgroup files and net/dev of every target, then /proc/stat."""
        v2 = self.driver.version == "v2"
        raws: dict[str, tuple[cgroupfs.Raw, int, int]] = {}
        for t in targets:
            dirs = self._dirs.get(t.id)
            if dirs is None:  # paths as plain strings, once: Path joins cost more than reads
                dirs = self._dirs[t.id] = {c: str(d) for c, d in self.driver.handle(t.id).dirs}
            read = self._handles.reader(_group(t))
            if v2:
                raw = cgroupfs.read_v2(dirs.get("unified", ""), read)
            else:
                raw = cgroupfs.read_v1(dirs, read)
            rx, tx = (0, 0) if t.network == "host" else \
                cgroupfs.net_dev(self.proc_root, t.pid, read)
            raws[t.id] = (raw, rx, tx)
        system_ns, ncpu = cgroupfs.system_cpu(self.proc_root)
        return raws, system_ns, ncpu, time.time()

    def _usable(self, p: Point | None, t: Target, at: float, max_age: float = 1e18) -> bool:
        return p is not None and p.pid == t.pid and MIN_AGE <= at - p.at <= max_age

    def _compute(self, t: Target, reading: tuple[cgroupfs.Raw, int, int], system_ns: int,
                 ncpu: int, at: float) -> StatsSample:
        raw, rx, tx = reading
        cpu = 0.0
        p = self.prev.get(t.id)
        if p is not None and p.pid == t.pid:
            d_cpu, d_sys = raw.cpu_ns - p.cpu_ns, system_ns - p.system_ns
            if d_cpu > 0 and d_sys > 0:  # docker computes only when both moved
                cpu = d_cpu / d_sys * ncpu * 100.0
        usage = raw.mem_usage
        if raw.inactive_file is not None and raw.inactive_file < usage:
            usage -= raw.inactive_file
        limit = min(raw.mem_limit or self.host_memory, self.host_memory)
        return StatsSample(
            id=t.id, name=t.name, read=at, cpu_percent=cpu, mem_usage=usage, mem_limit=limit,
            mem_percent=usage / limit * 100.0 if limit else 0.0, net_rx=rx, net_tx=tx,
            block_read=raw.blk_read, block_write=raw.blk_write, pids=raw.pids,
            cpu_total_ns=raw.cpu_ns, system_cpu_ns=system_ns, online_cpus=ncpu,
            pids_limit=raw.pids_limit)


def _group(t: Target) -> str:
    # One run of one container: a restart (new PID, new cgroup) gets fresh handles.
    return f"{t.id}:{t.pid}"


def idle(cid: str, name: str) -> StatsSample:
    """The row docker shows for a named container that is not running: all zeros."""
    return StatsSample(id=cid, name=name, read=time.time(), cpu_percent=0.0, mem_usage=0,
                       mem_limit=0, mem_percent=0.0, net_rx=0, net_tx=0, block_read=0,
                       block_write=0, pids=0)


def _load(path: Path) -> dict[str, Point]:
    try:
        data: dict[str, Any] = json.loads(path.read_bytes())
        return {cid: Point(*v) for cid, v in data.items()}
    except (OSError, ValueError, TypeError):
        return {}  # a missing or torn cache only costs one short wait


def _save(path: Path, points: dict[str, Point]) -> None:
    # Several front ends may write at once: temp file + rename keeps it whole.
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    with contextlib.suppress(OSError):
        tmp.write_bytes(json.dumps({cid: [p.cpu_ns, p.system_ns, p.pid, p.at]
                                    for cid, p in points.items()}).encode())
        os.replace(tmp, path)
