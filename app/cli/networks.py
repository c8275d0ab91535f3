"""``pydock network create|ls|inspect|rm|prune|connect|disconnect`` and ``pydock port``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from engine import Engine
from engine.errors import EngineError, InvalidArgument
from engine.types import NetworkCreateOptions

from . import output
from .volumes import _kv


def register(sub: Any) -> None:
    n = sub.add_parser("network", help="Manage networks").add_subparsers(dest="network_command")
    p = n.add_parser("create", help="Create a bridge network")
    p.add_argument("name")
    p.add_argument("-d", "--driver", default="bridge")
    p.add_argument("--subnet")
    p.add_argument("--gateway")
    p.add_argument("--internal", action="store_true", help="no route out of the network")
    p.add_argument("--label", action="append", default=[])
    p.add_argument("-o", "--opt", action="append", default=[],
                   help="driver option KEY=VALUE, e.g. com.docker.network.bridge."
                        "enable_ip_masquerade=true")
    p.add_argument("--nat", action="store_true",
                   help="let containers reach the outside world through the host "
                        "(outbound NAT; off by default)")
    p.set_defaults(handler=_create)
    for verb in ("ls", "list"):
        p = n.add_parser(verb, help="List networks")
        p.add_argument("-q", "--quiet", action="store_true")
        p.add_argument("-f", "--filter", action="append", default=[])
        p.add_argument("--no-trunc", action="store_true")
        p.add_argument("--format", default="table")
        p.set_defaults(handler=_ls)
    p = n.add_parser("inspect", help="Display detailed information on networks")
    p.add_argument("networks", nargs="+")
    p.add_argument("-f", "--format", default="json", help="json or a Go template")
    p.set_defaults(handler=_inspect)
    for verb in ("rm", "remove"):
        p = n.add_parser(verb, help="Remove networks")
        p.add_argument("networks", nargs="+")
        p.set_defaults(handler=_rm)
    p = n.add_parser("prune", help="Remove networks no container uses")
    p.add_argument("-f", "--force", action="store_true")
    p.set_defaults(handler=_prune)
    p = n.add_parser("connect", help="Connect a container to a network")
    p.add_argument("network")
    p.add_argument("container")
    p.add_argument("--alias", action="append", default=[])
    p.add_argument("--ip")
    p.set_defaults(handler=lambda e, a: e.networks_connect(
        a.network, a.container, aliases=tuple(a.alias), ip=a.ip) or 0)
    p = n.add_parser("disconnect", help="Disconnect a container from a network")
    p.add_argument("network")
    p.add_argument("container")
    p.add_argument("-f", "--force", action="store_true")
    p.set_defaults(handler=lambda e, a: e.networks_disconnect(
        a.network, a.container, force=a.force) or 0)
    p = sub.add_parser("port", help="List port mappings of a container")
    p.add_argument("container")
    p.add_argument("private_port", nargs="?")
    p.set_defaults(handler=_port)


def _create(engine: Engine, args: argparse.Namespace) -> int:
    options = _kv(args.opt, "option")
    if args.nat:
        from engine.network.model import NAT_OPT, nat_flag

        if any(k == NAT_OPT and not nat_flag(v) for k, v in options):
            raise InvalidArgument(f"--nat conflicts with -o {NAT_OPT}=false")
        options += ((NAT_OPT, "true"),)
    print(engine.networks_create(NetworkCreateOptions(
        name=args.name, driver=args.driver, subnet=args.subnet, gateway=args.gateway,
        internal=args.internal, labels=_kv(args.label, "label"), options=options)))
    return 0


def _ls(engine: Engine, args: argparse.Namespace) -> int:
    rows = engine.networks_list(filters=args.filter)
    ident = (lambda r: r.id) if args.no_trunc else (lambda r: r.short_id)
    if args.quiet:
        for r in rows:
            print(ident(r))
        return 0
    fields = [{"ID": ident(r), "Name": r.name, "Driver": r.driver, "Scope": r.scope,
               "Subnet": r.subnet, "Internal": str(r.internal).lower(),
               "Labels": ",".join(f"{k}={v}" for k, v in r.labels.items()),
               "Containers": ",".join(r.containers)} for r in rows]
    if args.format == "json":
        output.json_lines(fields)
    elif args.format != "table":
        output.templated(args.format, fields, {
            "ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE",
            "Subnet": "SUBNET", "Internal": "INTERNAL", "Labels": "LABELS",
            "Containers": "CONTAINERS"})
    else:
        output.table(["NETWORK ID", "NAME", "DRIVER", "SCOPE"],
                     ([ident(r), r.name, r.driver, r.scope] for r in rows))
    return 0


def _inspect(engine: Engine, args: argparse.Namespace) -> int:
    out, code = [], 0
    for ref in args.networks:
        try:
            out.append(engine.networks_inspect(ref))
        except EngineError as err:
            sys.stderr.write(f"Error response from daemon: {err}\n")
            code = 1
    output.inspected(out, args.format)
    return code


def _rm(engine: Engine, args: argparse.Namespace) -> int:
    return output.print_reports(engine.networks_remove(args.networks))


def _prune(engine: Engine, args: argparse.Namespace) -> int:
    if not args.force and not output.confirm(
            "WARNING! This will remove all custom networks not used by at least one "
            "container.\nAre you sure you want to continue?"):
        return 0
    output.print_deleted("Deleted Networks", engine.networks_prune().deleted)
    return 0


def _port(engine: Engine, args: argparse.Namespace) -> int:
    ports = engine.containers_port(args.container)
    if args.private_port:
        key = args.private_port if "/" in args.private_port else f"{args.private_port}/tcp"
        if key not in ports:
            raise InvalidArgument(f"No public port '{key}' published for {args.container}")
        for b in ports[key] or []:
            print(f"{b['HostIp']}:{b['HostPort']}")
        return 0
    for key in sorted(ports, key=lambda k: (int(k.split("/")[0]), k)):
        for b in ports[key] or []:
            print(f"{key} -> {b['HostIp']}:{b['HostPort']}")
    return 0
