"""``create``/``run`` and ``update`` flags (see :mod:`engine.types`).

Leaf module: imports nothing from the engine.
"""

from __future__ import annotations

from engine.record import dataclass


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
