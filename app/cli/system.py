"""``pydock events``, ``version`` and ``info``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from engine import Engine
from engine.errors import InvalidArgument
from engine.types import EventRecord

from . import output


def register(sub: Any) -> None:
    p = sub.add_parser("events", help="Get real time events")
    p.add_argument("--since", default=None, help="timestamp or relative (10m, 1h)")
    p.add_argument("--until", default=None)
    p.add_argument("-f", "--filter", action="append", default=[],
                   help="type=, event=, image=, container=")
    p.add_argument("--format", default="", help="json, or a Go template per event")
    p.set_defaults(handler=_events)
    p = sub.add_parser("version", help="Show the pydock version")
    p.add_argument("-f", "--format", default="", help="json or a Go template")
    p.set_defaults(handler=_version)
    p = sub.add_parser("info", help="Display system-wide information")
    p.add_argument("-f", "--format", default="", help="json or a Go template")
    p.set_defaults(handler=_info)


def parse_time(value: str | None, now: float | None = None) -> float | None:
    """docker's ``--since``/``--until``: Unix seconds, RFC 3339, or a duration ago."""
    if value is None:
        return None
    now = time.time() if now is None else now
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if value and value[-1] in units and value[:-1].replace(".", "", 1).isdigit():
        return now - float(value[:-1]) * units[value[-1]]
    try:
        return float(value)
    except ValueError:
        pass
    from engine.images.model import parse_rfc3339

    ts = parse_rfc3339(value if "T" in value else value + "T00:00:00Z")
    if not ts:
        raise InvalidArgument(f"invalid time {value!r} (want seconds, RFC 3339 or 10m)")
    return ts


def _matcher(filters: list[str]) -> Any:
    want: dict[str, set[str]] = {}
    for f in filters:
        key, eq, value = f.partition("=")
        if not eq or key not in ("type", "event", "image", "container", "volume", "network",
                                 "label"):
            raise InvalidArgument(f"invalid filter {f!r}")
        want.setdefault(key, set()).add(value)

    def match(ev: EventRecord) -> bool:
        if "type" in want and ev.type not in want["type"]:
            return False
        # "health_status: healthy" matches event=health_status too (moby's filter).
        if "event" in want and not {ev.action, ev.action.split(":")[0]} & want["event"]:
            return False
        if "label" in want and not all(_has_label(ev, lbl) for lbl in want["label"]):
            return False
        for kind in ("image", "container", "volume", "network"):
            if kind in want:
                if ev.type != kind:
                    return False
                names = {ev.actor_id, ev.actor_id.removeprefix("sha256:")[:12],
                         ev.attributes.get("name", "")}
                # IDs match by prefix, as docker's fuzzy container filter does.
                if not names & want[kind] and not any(
                        len(w) >= 3 and ev.actor_id.removeprefix("sha256:").startswith(w)
                        for w in want[kind]):
                    return False
        return True

    return match


def _has_label(ev: EventRecord, label: str) -> bool:
    key, eq, value = label.partition("=")
    return key in ev.attributes and (not eq or ev.attributes[key] == value)


def _events(engine: Engine, args: argparse.Namespace) -> int:
    since, until = parse_time(args.since), parse_time(args.until)
    match = _matcher(args.filter)
    stream = (engine.events_list(since=since, until=until, match=match)
              if until is not None and until <= time.time()
              else engine.events_follow(since=since, until=until, match=match))
    template = None
    if args.format not in ("", "json"):
        from .gotemplate import from_flag

        template = from_flag(args.format)
    for ev in stream:
        if args.format == "json":
            sys.stdout.write(json.dumps(ev.to_json(), separators=(",", ":")) + "\n")
        elif template is not None:
            sys.stdout.write(template.render(ev.to_json()) + "\n")
        else:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(ev.time))
            attrs = ", ".join(f"{k}={v}" for k, v in sorted(ev.attributes.items()))
            sys.stdout.write(f"{stamp}.{ev.time_nano % 10**9:09d} {ev.type} {ev.action} "
                             f"{ev.actor_id}" + (f" ({attrs})" if attrs else "") + "\n")
        sys.stdout.flush()
    return 0


def version_line() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("pydock-tui")
    except PackageNotFoundError:
        v = "dev"
    return f"pydock version {v} (python {sys.version.split()[0]})"


def _version(engine: Engine, args: argparse.Namespace) -> int:
    if not args.format:
        print(version_line())
        return 0
    import os
    import platform
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("pydock-tui")
    except PackageNotFoundError:
        v = "dev"
    side = {"Version": v, "ApiVersion": "1.41", "GoVersion": "python" + platform.python_version(),
            "Os": "linux", "Arch": _arch(), "KernelVersion": os.uname().release}
    _print_object({"Client": side, "Server": side}, args.format)
    return 0


def _info(engine: Engine, args: argparse.Namespace) -> int:
    """docker's ``info``: counts, the host, and where state lives."""
    import os
    import shutil

    from engine.cgroups.detect import mode

    states = [c.status for c in engine.containers_list(all=True)]
    images = engine.images_list()
    running = states.count("running") + states.count("restarting")
    cg = mode(engine.config.cgroup_root)
    info: dict[str, Any] = {
        "Containers": len(states), "ContainersRunning": running,
        "ContainersPaused": states.count("paused"),
        "ContainersStopped": len(states) - running - states.count("paused"),
        "Images": len({r.id for r in images}), "Driver": "overlay2",
        "LoggingDriver": "json-file", "CgroupDriver": "cgroupfs",
        "CgroupVersion": "2" if cg == "v2" else "1", "KernelVersion": os.uname().release,
        "OperatingSystem": _os_name(), "OSType": "linux", "Architecture": os.uname().machine,
        "NCPU": os.cpu_count() or 1, "MemTotal": _mem_total(), "Name": os.uname().nodename,
        "ServerVersion": version_line().split()[2], "DockerRootDir": str(engine.config.root),
        "CgroupRoot": str(engine.config.cgroup_root), "DefaultRuntime": "pydock",
        "Runtimes": {n: {"path": shutil.which(n) or n} for n in ("pydock", "runc", "crun")
                     if n == "pydock" or shutil.which(n)},
        "SecurityOptions": ["name=seccomp,profile=builtin"],
    }
    if args.format:
        _print_object(info, args.format)
        return 0
    labels = (("Containers", "Containers"), ("ContainersRunning", " Running"),
              ("ContainersPaused", " Paused"), ("ContainersStopped", " Stopped"),
              ("Images", "Images"), ("ServerVersion", "Server Version"),
              ("Driver", "Storage Driver"), ("LoggingDriver", "Logging Driver"),
              ("CgroupDriver", "Cgroup Driver"), ("CgroupVersion", "Cgroup Version"),
              ("DefaultRuntime", "Default Runtime"), ("KernelVersion", "Kernel Version"),
              ("OperatingSystem", "Operating System"), ("OSType", "OSType"),
              ("Architecture", "Architecture"), ("NCPU", "CPUs"), ("Name", "Name"),
              ("DockerRootDir", "Docker Root Dir"))
    print("Server:")
    for key, label in labels:
        print(f" {label}: {info[key]}")
    print(f" Runtimes: {' '.join(info['Runtimes'])}")
    print(f" Total Memory: {info['MemTotal'] / 2**30:.2f}GiB")
    print(f" Images size: {output.human_size(sum(r.size for r in images))}")
    return 0


def _print_object(obj: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(obj, separators=(",", ":")))
        return
    from .gotemplate import from_flag

    print(from_flag(fmt).render(obj))


def _arch() -> str:
    import os

    machine = os.uname().machine
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def _os_name() -> str:
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "Linux"


def _mem_total() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0
