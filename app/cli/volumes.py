"""``pydock volume create|ls|inspect|rm|prune`` and ``pydock system df``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from engine import Engine
from engine.errors import EngineError, InvalidArgument
from engine.types import VolumeCreateOptions

from . import output


def _kv(items: list[str], what: str) -> tuple[tuple[str, str], ...]:
    out = []
    for item in items:
        k, _, v = item.partition("=")
        if not k:
            raise InvalidArgument(f"invalid {what} {item!r}: want KEY=VALUE")
        out.append((k, v))
    return tuple(out)


def register(sub: Any) -> None:
    v = sub.add_parser("volume", help="Manage volumes").add_subparsers(dest="volume_command")
    p = v.add_parser("create", help="Create a volume")
    p.add_argument("name", nargs="?")
    p.add_argument("-d", "--driver", default="local")
    p.add_argument("-l", "--label", action="append", default=[])
    p.add_argument("-o", "--opt", action="append", default=[])
    p.set_defaults(handler=_create)
    for verb in ("ls", "list"):
        p = v.add_parser(verb, help="List volumes")
        p.add_argument("-q", "--quiet", action="store_true")
        p.add_argument("-f", "--filter", action="append", default=[])
        p.add_argument("--format", default="table")
        p.set_defaults(handler=_ls)
    p = v.add_parser("inspect", help="Display detailed information on volumes")
    p.add_argument("volumes", nargs="+")
    p.add_argument("-f", "--format", default="")
    p.set_defaults(handler=_inspect)
    p = v.add_parser("rm", help="Remove volumes")
    p.add_argument("-f", "--force", action="store_true")
    p.add_argument("volumes", nargs="+")
    p.set_defaults(handler=_rm)
    p = v.add_parser("prune", help="Remove unused anonymous volumes (-a: all unused)")
    p.add_argument("-a", "--all", action="store_true")
    p.add_argument("-f", "--force", action="store_true")
    p.add_argument("--filter", action="append", default=[])
    p.set_defaults(handler=_prune)
    s = sub.add_parser("system", help="Manage pydock").add_subparsers(dest="system_command")
    p = s.add_parser("df", help="Show disk usage")
    p.add_argument("--format", default="table")
    p.set_defaults(handler=_df)
    p = s.add_parser("prune", help="Remove unused data")
    p.add_argument("-a", "--all", action="store_true", help="every unused image, not only dangling")
    p.add_argument("--volumes", action="store_true", help="unused anonymous volumes too")
    p.add_argument("-f", "--force", action="store_true", help="do not ask")
    p.set_defaults(handler=_system_prune)


def _create(engine: Engine, args: argparse.Namespace) -> int:
    meta = engine.volumes_create(VolumeCreateOptions(
        name=args.name, labels=_kv(args.label, "label"), driver=args.driver,
        options=_kv(args.opt, "option")))
    print(meta["Name"])
    return 0


def _ls(engine: Engine, args: argparse.Namespace) -> int:
    rows = engine.volumes_list(filters=args.filter)
    if args.quiet:
        for r in rows:
            print(r.name)
        return 0
    fields = [{"Driver": r.driver, "Name": r.name, "Mountpoint": r.mountpoint,
               "Labels": ",".join(f"{k}={v}" for k, v in r.labels.items()),
               "Scope": "local", "Links": str(len(r.containers))} for r in rows]
    if args.format == "json":
        output.json_lines(fields)
    elif args.format != "table":
        output.templated(args.format, fields, {
            "Driver": "DRIVER", "Name": "VOLUME NAME", "Mountpoint": "MOUNTPOINT",
            "Labels": "LABELS", "Scope": "SCOPE", "Links": "LINKS"})
    else:
        output.table(["DRIVER", "VOLUME NAME"], ([r.driver, r.name] for r in rows))
    return 0


def _inspect(engine: Engine, args: argparse.Namespace) -> int:
    out, code = [], 0
    for name in args.volumes:
        try:
            out.append(engine.volumes_inspect(name))
        except EngineError as err:  # report and go on, as docker
            sys.stderr.write(f"Error response from daemon: {err}\n")
            code = 1
    output.inspected(out, args.format)
    return code


def _rm(engine: Engine, args: argparse.Namespace) -> int:
    return output.print_reports(engine.volumes_remove(args.volumes, force=args.force))


def _prune(engine: Engine, args: argparse.Namespace) -> int:
    if not args.force and not output.confirm(
            "WARNING! This will remove anonymous local volumes not used by at least one "
            "container.\nAre you sure you want to continue?"):
        return 0
    rep = engine.volumes_prune(all_volumes=args.all, filters=args.filter)
    output.print_deleted("Deleted Volumes", rep.deleted)
    print(f"Total reclaimed space: {output.human_size(rep.space_reclaimed)}")
    return 0


def _df(engine: Engine, args: argparse.Namespace) -> int:
    rows = engine.system_df()
    if args.format == "json":
        output.json_lines({"Type": r.type, "TotalCount": str(r.total), "Active": str(r.active),
                           "Size": output.human_size(r.size), "Reclaimable": _reclaim(r),
                           "SizeBytes": r.size, "ReclaimableBytes": r.reclaimable}
                          for r in rows)
        return 0
    output.table(["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"],
                 ([r.type, str(r.total), str(r.active), output.human_size(r.size), _reclaim(r)]
                  for r in rows))
    return 0


def _reclaim(r: Any) -> str:
    pct = f" ({r.reclaimable * 100 // r.size}%)" if r.size else ""
    return f"{output.human_size(r.reclaimable)}{pct}"


def _system_prune(engine: Engine, args: argparse.Namespace) -> int:
    """docker's ``system prune``: stopped containers, unused networks, dangling (or with -a
    all unused) images and the build cache; anonymous volumes with ``--volumes``."""
    what = ["all stopped containers", "all networks not used by at least one container"]
    if args.volumes:
        what.append("all anonymous volumes not used by at least one container")
    what += ["all images without at least one container associated to them" if args.all
             else "all dangling images", "unused build cache"]
    if not args.force and not output.confirm(
            "WARNING! This will remove:\n" + "".join(f"  - {w}\n" for w in what)
            + "\nAre you sure you want to continue?"):
        return 0
    space = 0
    for title, rep in (("Deleted Containers", engine.containers_prune()),
                       ("Deleted Networks", engine.networks_prune()),
                       ("Deleted Volumes", engine.volumes_prune() if args.volumes else None)):
        if rep is not None:
            output.print_deleted(title, rep.deleted)
            space += rep.space_reclaimed
    images = engine.images_prune(all_unused=args.all)
    output.print_deleted("Deleted Images", [f"untagged: {t}" for t in images.untagged]
                         + [f"deleted: {d}" for d in images.deleted])
    cache = engine.builder_prune()
    if cache.entries or cache.mounts:
        print(f"Deleted build cache objects: {cache.entries + cache.mounts}\n")
    space += images.space_reclaimed + cache.space_reclaimed
    print(f"Total reclaimed space: {output.human_size(space)}")
    return 0
