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
    # Resources, docker's HostConfig units (0 / None: not set): bytes, CPUs x 1e9,
    # device rates as (path, bytes per second). See engine.runtime.resources.
    memory: int = 0
    memory_swap: int = 0  # memory plus swap; -1 unlimited
    memory_reservation: int = 0
    nano_cpus: int = 0
    cpu_shares: int = 0
    cpu_period: int = 0
    cpu_quota: int = 0
    cpuset_cpus: str = ""
    pids_limit: int | None = None  # <= 0: unlimited
    blkio_weight: int = 0
    device_read_bps: tuple[tuple[str, int], ...] = ()
    device_write_bps: tuple[tuple[str, int], ...] = ()
    # Health check flags over the image's HEALTHCHECK; durations in nanoseconds.
    health_cmd: str | None = None
    health_interval: int = 0
    health_timeout: int = 0
    health_start_period: int = 0
    health_start_interval: int = 0
    health_retries: int = 0
    no_healthcheck: bool = False
    # Volumes (engine.volumes): docker's -v, --mount, --tmpfs, --volumes-from strings.
    volumes: tuple[str, ...] = ()
    mounts: tuple[str, ...] = ()
    tmpfs: tuple[str, ...] = ()
    volumes_from: tuple[str, ...] = ()
    # Networks (engine.network): ``network`` is the first; ``networks`` the others.
    # ``ip`` and ``aliases`` apply to the first network, as docker's --ip/--network-alias.
    networks: tuple[str, ...] = ()
    ip: str | None = None
    aliases: tuple[str, ...] = ()
    add_hosts: tuple[str, ...] = ()
    dns: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    dns_options: tuple[str, ...] = ()
    publish: tuple[str, ...] = ()  # -p [ip:][hostPort:]containerPort[/proto]
    publish_all: bool = False  # -P


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


@dataclass(frozen=True)
class UpdateOptions:
    """``docker update`` flags: ``None`` leaves a value as it is (units as CreateOptions)."""

    memory: int | None = None
    memory_swap: int | None = None
    memory_reservation: int | None = None
    nano_cpus: int | None = None
    cpu_shares: int | None = None
    cpu_period: int | None = None
    cpu_quota: int | None = None
    cpuset_cpus: str | None = None
    pids_limit: int | None = None
    blkio_weight: int | None = None
    restart: str | None = None


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


def human_duration(seconds: float) -> str:
    """docker's units.HumanDuration: ``Less than a second``, ``3 minutes``, ``2 weeks``.

    Lives in this leaf module so the CLI (``ps``) and the TUI widgets word ages alike.
    """
    s = int(max(0, seconds))
    if s < 1:
        return "Less than a second"
    if s < 60:
        return f"{s} second{'s' if s != 1 else ''}"
    m = s // 60
    if m < 60:
        return "About a minute" if m == 1 else f"{m} minutes"
    h = m // 60
    if h < 48:
        return "About an hour" if h == 1 else f"{h} hours"
    d = h // 24
    return f"{d} days" if d < 14 else f"{d // 7} weeks"
