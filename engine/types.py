"""Plain data crossing the facade: frozen ``*Options`` in, ``*Info``/``*Report`` out.

A leaf module: it imports nothing from the engine, so every subsystem and every
front end can use it without cycles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ImageSummary:
    """One row of ``pydock images``: one per (image, tag), or one untagged row.

    Attributes:
        id: image ID, the config digest (``sha256:...``).
        repository: ``busybox``, ``localhost:5000/team/app``; ``<none>`` if dangling.
        tag: ``latest``; ``<none>`` if dangling.
        digest: the manifest digest.
        created: image creation time, seconds since the epoch (0 if unknown).
        size: bytes of unpacked content, as docker shows it.
        containers: how many containers use the image.
    """

    id: str
    repository: str
    tag: str
    digest: str
    created: float
    size: int
    containers: int = 0

    @property
    def short_id(self) -> str:
        return self.id.removeprefix("sha256:")[:12]

    @property
    def dangling(self) -> bool:
        return self.repository == "<none>"


@dataclass(frozen=True)
class HistoryEntry:
    """One line of ``pydock history`` (newest first), from the config's history."""

    id: str  # the image ID on the newest line, "<missing>" below, as docker
    created: float
    created_by: str
    size: int
    comment: str
    empty_layer: bool


@dataclass(frozen=True)
class ImportOptions:
    """``docker import``: a rootfs tarball becomes a one-layer image.

    Attributes:
        changes: Dockerfile instructions applied to the config
            (CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL).
        message: commit message shown in history.
        platform: ``os/arch`` recorded in the config.
        created: creation time (seconds); ``None`` means now. Fixed values make
            reproducible image IDs.
    """

    reference: str | None = None
    changes: tuple[str, ...] = ()
    message: str = ""
    platform: str = "linux/amd64"
    created: float | None = None


@dataclass(frozen=True)
class LoadReport:
    """What ``images_load`` brought in: image IDs and the names it set."""

    images: tuple[str, ...]
    tags: tuple[str, ...]


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
class UnpackStats:
    """Result of unpacking one layer tar into a snapshot directory.

    Attributes:
        diff_id: sha256 of the uncompressed tar stream, ``sha256:<hex>``.
        size: bytes of regular file content written.
        entries: tar members processed.
    """

    diff_id: str
    size: int
    entries: int


@dataclass(frozen=True)
class EventRecord:
    """One line of ``events.jsonl``, docker's event shape."""

    type: str
    action: str
    actor_id: str
    attributes: dict[str, str] = field(default_factory=dict)
    time_nano: int = 0

    @property
    def time(self) -> float:
        return self.time_nano / 1e9

    def to_json(self) -> dict[str, Any]:
        return {
            "Type": self.type,
            "Action": self.action,
            "Actor": {"ID": self.actor_id, "Attributes": dict(self.attributes)},
            "time": self.time_nano // 1_000_000_000,
            "timeNano": self.time_nano,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> EventRecord:
        actor = d.get("Actor") or {}
        return cls(
            type=str(d.get("Type", "")),
            action=str(d.get("Action", "")),
            actor_id=str(actor.get("ID", "")),
            attributes={str(k): str(v) for k, v in (actor.get("Attributes") or {}).items()},
            time_nano=int(d.get("timeNano", 0)),
        )


@dataclass(frozen=True)
class CreateOptions:
    """``docker create``/``run`` flags, validated by the engine, not the front end.

    Attributes:
        entrypoint: ``None`` keeps the image's; an empty tuple clears it
            (``--entrypoint ""``).
        restart: ``no``, ``on-failure[:N]``, ``always`` or ``unless-stopped``.
        ulimits: docker's ``name=soft[:hard]`` strings.
        security_opt: ``seccomp=unconfined|<file>``, ``no-new-privileges[:true]``.
        network: ``none`` or ``host`` until networks land.
    """

    image: str
    command: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] | None = None
    name: str | None = None
    env: tuple[str, ...] = ()
    workdir: str | None = None
    user: str | None = None
    group_add: tuple[str, ...] = ()
    hostname: str | None = None
    tty: bool = False
    stdin_open: bool = False
    init: bool = False
    restart: str = "no"
    stop_signal: str | None = None
    stop_timeout: int | None = None
    labels: tuple[tuple[str, str], ...] = ()
    read_only: bool = False
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    security_opt: tuple[str, ...] = ()
    privileged: bool = False
    ulimits: tuple[str, ...] = ()
    runtime: str = "pydock"
    network: str = "none"
    auto_remove: bool = False
    log_opts: tuple[str, ...] = ()


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

    @property
    def short_id(self) -> str:
        return self.id[:12]


@dataclass(frozen=True)
class ContainerReport:
    """Per-item result of a batch container verb (stop, kill, rm, pause, ...)."""

    item: str
    id: str = ""
    error: str | None = None
