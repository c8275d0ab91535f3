"""Containers: ``ps`` rows and batch-verb reports (see :mod:`engine.types`).

Leaf module: imports nothing from the engine.
"""

from __future__ import annotations

from engine.record import dataclass, field


@dataclass(frozen=True)
class ContainerSummary:
    """One row of ``pydock ps``."""

    id: str
    name: str
    image: str
    image_id: str
    command: str
    created: float
    status: str  # created, running, paused, restarting, exited, dead
    exit_code: int
    started_at: float
    finished_at: float
    labels: dict[str, str] = field(default_factory=dict)
    health: str = ""
    pid: int = 0
    ports: str = ""  # docker's PORTS column: 127.0.0.1:8080->80/tcp

    @property
    def short_id(self) -> str:
        return self.id[:12]


@dataclass(frozen=True)
class ContainerReport:
    """Per-item result of a batch container verb (stop, kill, rm, pause, ...)."""

    item: str
    id: str = ""
    error: str | None = None
