"""``pydock ps``: the container list, its filters and its formats (table, json, templates)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from engine import Engine, EngineError
from engine.errors import InvalidArgument

from . import output


def ps(engine: Engine, args: argparse.Namespace) -> int:
    """``pydock ps`` / ``container ls``: docker's columns, filters and formats."""
    from engine.runtime.views import status_text

    rows = engine.containers_list(all=args.all or args.latest or args.last > 0)
    for f in args.filter:
        key, eq, value = f.partition("=")
        if not eq or key not in ("status", "name", "label", "ancestor", "id", "exited"):
            raise InvalidArgument(f"invalid filter {f!r}")
        rows = [r for r in rows if _match(engine, r, key, value)]
    if args.latest:
        rows = rows[:1]
    elif args.last > 0:
        rows = rows[:args.last]
    if args.quiet:
        for r in rows:
            print(r.id if args.no_trunc else r.short_id)
        return 0
    if args.format == "json":
        output.json_lines({"ID": r.id if args.no_trunc else r.short_id, "Image": r.image,
                           "Command": json.dumps(r.command), "CreatedAt": r.created,
                           "Names": r.name, "Ports": r.ports, "State": r.status,
                           "Status": status_text(
                               _state(r)), "Labels": ",".join(f"{k}={v}" for k, v in
                                                               r.labels.items())}
                          for r in rows)
        return 0
    sizes = {r.id: _size(engine, r.id) for r in rows} if args.size else {}
    if args.format != "table":
        output.templated(args.format, [_ps_fields(r, args.no_trunc, status_text,
                                                  sizes.get(r.id, "")) for r in rows],
                         PS_HEADERS)
        return 0
    output.table(["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
                 + (["SIZE"] if args.size else []), (
        [r.id if args.no_trunc else r.short_id, r.image, _cmd(r.command, args.no_trunc),
         output.human_age(r.created), status_text(_state(r)), r.ports, r.name]
        + ([sizes[r.id]] if args.size else []) for r in rows))
    return 0


def _size(engine: Engine, cid: str) -> str:
    try:
        rw, rootfs = engine.containers_size(cid)
    except EngineError:
        return "-"  # removed meanwhile
    return f"{output.human_size(rw)} (virtual {output.human_size(rootfs)})"


# docker's `ps --format` fields and the table headers it prints for them.
PS_HEADERS = {"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND",
              "CreatedAt": "CREATED AT", "RunningFor": "CREATED", "Ports": "PORTS",
              "State": "STATE", "Status": "STATUS", "Names": "NAMES", "Labels": "LABELS",
              "Label": "LABEL", "Size": "SIZE"}


def _ps_fields(r: Any, no_trunc: bool, status_text: Any, size: str = "") -> dict[str, Any]:
    import time

    return {"ID": r.id if no_trunc else r.short_id, "Image": r.image,
            "Command": _cmd(r.command, no_trunc),
            "CreatedAt": time.strftime("%Y-%m-%d %H:%M:%S %z %Z", time.localtime(r.created)),
            "RunningFor": output.human_age(r.created), "Ports": r.ports, "State": r.status,
            "Status": status_text(_state(r)), "Names": r.name,
            "Labels": ",".join(f"{k}={v}" for k, v in r.labels.items()),
            "Label": lambda key: r.labels.get(key, ""), "Size": size}


def _state(r: Any) -> dict[str, Any]:
    return {"status": r.status, "exit_code": r.exit_code, "started_at": r.started_at,
            "finished_at": r.finished_at, "health": r.health}


def _cmd(command: str, no_trunc: bool) -> str:
    s = f'"{command}"'
    return s if no_trunc or len(s) <= 22 else s[:20] + '…"'


def _match(engine: Engine, r: Any, key: str, value: str) -> bool:
    if key == "status":
        return bool(r.status == value)
    if key == "name":
        return value in r.name
    if key == "id":
        return bool(r.id.startswith(value))
    if key == "exited":
        return bool(r.status == "exited" and str(r.exit_code) == value)
    if key == "label":
        k, eq, v = value.partition("=")
        return k in r.labels and (not eq or r.labels[k] == v)
    try:
        return bool(engine.images_resolve(value) == r.image_id)
    except EngineError:
        return False
