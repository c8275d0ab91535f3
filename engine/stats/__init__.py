"""Container resource usage: one pass over every running container's cgroup files.

    sampler = Sampler(get_driver(config), config.proc_root, cache=root / "stats-cache.json")
    rows = sampler.sample([Target(id, name, init_pid, network_mode), ...])

:mod:`.cgroupfs` reads the raw counters (v1 and v2 layouts, ``/proc/<pid>/net/dev``,
``/proc/stat``); :mod:`.sampler` pairs them with the previous reading and applies
docker's formulas. Front-end side only: it may import psutil, the monitor never
imports this package.
"""

from __future__ import annotations

from .cgroupfs import Raw, read_v1, read_v2
from .sampler import Sampler, Target

__all__ = ["Raw", "Sampler", "Target", "read_v1", "read_v2"]
