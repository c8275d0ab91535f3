"""Volumes, networks, disk usage and the remove/prune reports they share
with images (see :mod:`engine.types`).

Leaf module: imports nothing from the engine.
"""

from __future__ import annotations

from engine.record import dataclass, field


@dataclass(frozen=True)
class RemoveReport:
    """Per-item result of a batch remove: ``error`` is a message, or ``None``."""

    item: str
    image_id: str = ""
    untagged: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class PruneReport:
    deleted: tuple[str, ...] = ()
    untagged: tuple[str, ...] = ()
    space_reclaimed: int = 0


@dataclass(frozen=True)
class VolumeSummary:
    """One row of ``pydock volume ls`` (``size`` is -1 unless asked for: it walks the data)."""

    name: str
    driver: str
    mountpoint: str
    created_at: str
    labels: dict[str, str] = field(default_factory=dict)
    anonymous: bool = False
    containers: tuple[str, ...] = ()  # names of the containers that reference it
    size: int = -1


@dataclass(frozen=True)
class VolumeCreateOptions:
    name: str | None = None  # None: a random (anonymous-looking) name, as docker
    labels: tuple[tuple[str, str], ...] = ()
    driver: str = "local"
    options: tuple[tuple[str, str], ...] = ()  # driver options: refused (local dirs only)


@dataclass(frozen=True)
class DiskUsage:
    """One row of ``pydock system df``: a resource kind and what it occupies."""

    type: str  # Images, Containers, Local Volumes, Build Cache
    total: int
    active: int
    size: int
    reclaimable: int


@dataclass(frozen=True)
class NetworkCreateOptions:
    """``docker network create``; ``subnet``/``gateway`` are picked when not given."""

    name: str
    driver: str = "bridge"
    subnet: str | None = None
    gateway: str | None = None
    internal: bool = False
    labels: tuple[tuple[str, str], ...] = ()
    options: tuple[tuple[str, str], ...] = ()  # -o key=value (bridge name, mtu, nat)


@dataclass(frozen=True)
class NetworkSummary:
    """One row of ``pydock network ls``."""

    id: str
    name: str
    driver: str
    scope: str
    subnet: str
    gateway: str
    internal: bool
    created: float
    labels: dict[str, str] = field(default_factory=dict)
    containers: tuple[str, ...] = ()  # names of running containers attached

    @property
    def short_id(self) -> str:
        return self.id[:12]
