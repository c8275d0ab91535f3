"""The OCI runtime-spec ``config.json`` of a container, computed as data.

Docker's defaults live here (mounts, masked and read-only paths, devices,
namespaces, rlimits); the container init applies the spec, and runc/crun can run
the same bundle. Pure: no syscalls, so it is tested without root.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InvalidArgument
from ..record import dataclass
from . import caps as capmod
from .options import SecurityOpts, default_rlimits, parse_ulimit

DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
INIT_PATH = "/sbin/docker-init"

MASKED_PATHS = [
    "/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys",
    "/proc/latency_stats", "/proc/sched_debug", "/proc/scsi", "/proc/timer_list",
    "/proc/timer_stats", "/sys/devices/virtual/powercap", "/sys/firmware",
]
READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

# (path, type, major, minor): what every container gets in its private /dev.
DEFAULT_DEVICES = [
    ("/dev/null", "c", 1, 3), ("/dev/zero", "c", 1, 5), ("/dev/full", "c", 1, 7),
    ("/dev/random", "c", 1, 8), ("/dev/urandom", "c", 1, 9), ("/dev/tty", "c", 5, 0),
]
# Device cgroup: deny all, then allow the defaults, pty and mknod (runc's list; fuse
# stays denied because nothing allows it).
DEVICE_RULES = [
    {"allow": False, "access": "rwm"},
    *({"allow": True, "type": t, "major": ma, "minor": mi, "access": "rwm"}
      for _, t, ma, mi in DEFAULT_DEVICES),
    {"allow": True, "type": "c", "major": 5, "minor": 1, "access": "rwm"},  # console
    {"allow": True, "type": "c", "major": 5, "minor": 2, "access": "rwm"},  # ptmx
    {"allow": True, "type": "c", "major": 136, "access": "rwm"},  # pts
    {"allow": True, "type": "c", "access": "m"},
    {"allow": True, "type": "b", "access": "m"},
]


@dataclass(frozen=True)
class SpecInput:
    """What the spec is computed from, already parsed and checked."""

    container_id: str
    rootfs: Path
    args: list[str]
    env: list[str]
    cwd: str
    user: str
    hostname: str
    tty: bool
    read_only: bool
    privileged: bool
    cap_add: tuple[str, ...]
    cap_drop: tuple[str, ...]
    security: SecurityOpts
    ulimits: tuple[str, ...]
    network: str  # "none" or "host"
    cgroup_ns: bool
    etc_files: dict[str, Path]  # /etc/hostname, /etc/hosts, /etc/resolv.conf → host file
    init_binary: Path | None = None
    cgroups_path: str = ""
    # Volumes, binds and tmpfs (engine.volumes.plan.spec_mounts), applied after the defaults.
    user_mounts: tuple[dict[str, Any], ...] = ()
    # A bridge network: the engine-made namespace the init joins instead of a new one.
    netns_path: str = ""


def command_args(image_cfg: dict[str, Any], entrypoint: tuple[str, ...] | None,
                 command: tuple[str, ...]) -> list[str]:
    """Docker's ENTRYPOINT/CMD rule: ``--entrypoint`` also drops the image's CMD."""
    if entrypoint is not None:
        ep, cmd = list(entrypoint), list(command)
    else:
        ep = list(image_cfg.get("Entrypoint") or [])
        cmd = list(command) if command else list(image_cfg.get("Cmd") or [])
    args = ep + cmd
    if not args:
        raise InvalidArgument("no command specified")
    return args


def base_env(image_cfg: dict[str, Any], hostname: str, tty: bool) -> list[str]:
    env = list(image_cfg.get("Env") or [])
    keys = {e.partition("=")[0] for e in env}
    if "PATH" not in keys:
        env.insert(0, DEFAULT_PATH)
    env = [e for e in env if not e.startswith("HOSTNAME=")]
    env.insert(1 if "PATH" not in keys else 0, f"HOSTNAME={hostname}")
    if tty and "TERM" not in keys:
        env.append("TERM=xterm")
    return env


def _mounts(inp: SpecInput) -> list[dict[str, Any]]:
    sys_opts = ["nosuid", "noexec", "nodev"] + ([] if inp.privileged else ["ro"])
    mounts: list[dict[str, Any]] = [
        {"destination": "/proc", "type": "proc", "source": "proc",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": sys_opts},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": sys_opts},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=67108864"]},
    ]
    user_dests = {m["destination"] for m in inp.user_mounts}
    mounts = [m for m in mounts if m["destination"] not in user_dests]  # e.g. --tmpfs /dev/shm
    for dest, src in sorted(inp.etc_files.items()):
        if dest in user_dests:
            continue  # the user's own /etc/hosts (etc.) wins, as in docker
        mounts.append({"destination": dest, "type": "bind", "source": str(src),
                       "options": ["rbind", "rprivate"]})
    if inp.init_binary is not None:
        mounts.append({"destination": INIT_PATH, "type": "bind", "source": str(inp.init_binary),
                       "options": ["bind", "ro", "nosuid", "nodev"]})
    mounts.extend(inp.user_mounts)
    return mounts


def _rlimits(ulimits: tuple[str, ...]) -> list[dict[str, Any]]:
    limits = {name: (soft, hard) for name, soft, hard in default_rlimits()}
    for u in ulimits:
        name, soft, hard = parse_ulimit(u)
        limits[name] = (soft, hard)
    return [{"type": k, "soft": s, "hard": h} for k, (s, h) in sorted(limits.items())]


def build(inp: SpecInput) -> dict[str, Any]:
    caps = capmod.resolve_caps(list(inp.cap_add), list(inp.cap_drop), inp.privileged)
    namespaces: list[dict[str, str]] = [{"type": t} for t in ("pid", "ipc", "uts", "mount")]
    if inp.network != "host":
        namespaces.append({"type": "network", **({"path": inp.netns_path}
                                                 if inp.netns_path else {})})
    if inp.cgroup_ns:
        namespaces.append({"type": "cgroup"})
    linux: dict[str, Any] = {
        "namespaces": namespaces,
        "resources": {"devices": [{"allow": True, "access": "rwm"}] if inp.privileged
                      else DEVICE_RULES},
        "devices": [{"path": p, "type": t, "major": ma, "minor": mi, "fileMode": 0o666,
                     "uid": 0, "gid": 0} for p, t, ma, mi in DEFAULT_DEVICES],
        "maskedPaths": [] if inp.privileged else list(MASKED_PATHS),
        "readonlyPaths": [] if inp.privileged else list(READONLY_PATHS),
    }
    if inp.cgroups_path:
        linux["cgroupsPath"] = inp.cgroups_path
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": inp.tty,
            "user": {"uid": 0, "gid": 0},
            "args": inp.args,
            "env": inp.env,
            "cwd": inp.cwd or "/",
            "capabilities": {k: caps for k in ("bounding", "effective", "permitted")},
            "rlimits": _rlimits(inp.ulimits),
            "noNewPrivileges": inp.security.no_new_privileges,
        },
        "root": {"path": str(inp.rootfs), "readonly": inp.read_only},
        "hostname": inp.hostname,
        "mounts": _mounts(inp),
        "linux": linux,
        "annotations": {
            # The user is resolved against the container's own /etc/passwd at start.
            "io.pydock.user": inp.user,
            "io.pydock.seccomp": "unconfined" if inp.privileged else inp.security.seccomp,
        },
    }
