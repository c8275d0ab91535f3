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
    p.add_argument("--format", default="", help="json for one object per line")
    p.set_defaults(handler=_events)
    p = sub.add_parser("version", help="Show the pydock version")
    p.set_defaults(handler=_version)
    p = sub.add_parser("info", help="Display system-wide information")
    p.add_argument("--format", default="")
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
    for ev in stream:
        if args.format == "json":
            sys.stdout.write(json.dumps(ev.to_json(), separators=(",", ":")) + "\n")
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
    print(version_line())
    return 0


def _info(engine: Engine, args: argparse.Namespace) -> int:
    images = engine.images_list()
    info = {"Images": len({r.id for r in images}), "DockerRootDir": str(engine.config.root),
            "Driver": "overlay2", "CgroupRoot": str(engine.config.cgroup_root)}
    if args.format == "json":
        print(json.dumps(info))
    else:
        for k, v in info.items():
            print(f" {k}: {v}")
        print(f" Images size: {output.human_size(sum(r.size for r in images))}")
    return 0
