"""``stats`` samples (see :mod:`engine.types`).

Leaf module: imports nothing from the engine.
"""

from __future__ import annotations

from engine.record import dataclass


@dataclass(frozen=True)
class StatsSample:
    """One row of ``pydock stats``: docker's numbers for one running container.

    Attributes:
        cpu_percent: docker CLI formula, 100 % = one CPU fully busy.
        mem_usage: usage minus inactive file cache, bytes.
        mem_limit: the cgroup limit, capped at host RAM.
        net_rx, net_tx: bytes over the container's non-loopback interfaces.
        block_read, block_write: bytes from the blkio/io controller.
        cpu_total_ns, system_cpu_ns, online_cpus: the raw counters behind cpu_percent.
    """

    id: str
    name: str
    read: float
    cpu_percent: float
    mem_usage: int
    mem_limit: int
    mem_percent: float
    net_rx: int
    net_tx: int
    block_read: int
    block_write: int
    pids: int
    cpu_total_ns: int = 0
    system_cpu_ns: int = 0
    online_cpus: int = 0
    pids_limit: int = 0

    @property
    def short_id(self) -> str:
        return self.id[:12]
