"""``run``/``create`` flags, shared by both verbs, turned into :class:`CreateOptions`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from engine.errors import InvalidArgument

from .netvol_flags import add_netvol_flags, netvol_options
from .resources import add_resource_flags, resource_options

if TYPE_CHECKING:
    from engine.types import CreateOptions


def add_create_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("image")
    p.add_argument("command", nargs=argparse.REMAINDER)
    a = p.add_argument
    a("--name")
    a("-e", "--env", action="append", default=[])
    a("--env-file", action="append", default=[])
    a("-w", "--workdir")
    a("-u", "--user")
    a("--group-add", action="append", default=[])
    a("--entrypoint")
    a("-h", "--hostname")
    a("-i", "--interactive", action="store_true")
    a("-t", "--tty", action="store_true")
    a("--init", action="store_true")
    a("--restart", default="no")
    a("--stop-signal")
    a("--stop-timeout", type=int)
    a("-l", "--label", action="append", default=[])
    a("--read-only", action="store_true")
    a("--cap-add", action="append", default=[])
    a("--cap-drop", action="append", default=[])
    a("--security-opt", action="append", default=[])
    a("--privileged", action="store_true")
    a("--ulimit", action="append", default=[])
    a("--runtime", default="pydock")
    a("--rm", action="store_true")
    a("--log-opt", action="append", default=[])
    a("--log-driver", default="json-file")
    a("--pull", default="missing", choices=("missing", "always", "never"),
      help="pull the image before creating (default: missing)")
    add_resource_flags(p)
    add_netvol_flags(p)


def create_options(args: argparse.Namespace) -> CreateOptions:
    from engine.runtime.options import parse_env_file
    from engine.types import CreateOptions

    if args.log_driver not in ("json-file", "local"):
        raise InvalidArgument(f"log driver {args.log_driver!r} is not supported (json-file)")
    env: list[str] = []
    for f in args.env_file:
        env += parse_env_file(f)
    env += args.env
    labels: list[tuple[str, str]] = []
    for label in args.label:
        k, _, v = label.partition("=")
        labels.append((k, v))
    entrypoint: Any = None
    if args.entrypoint is not None:
        entrypoint = (args.entrypoint,) if args.entrypoint else ()
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    return CreateOptions(
        image=args.image, command=tuple(command), entrypoint=entrypoint, name=args.name,
        env=tuple(env), workdir=args.workdir, user=args.user, group_add=tuple(args.group_add),
        hostname=args.hostname, tty=args.tty, stdin_open=args.interactive, init=args.init,
        restart=args.restart, stop_signal=args.stop_signal, stop_timeout=args.stop_timeout,
        labels=tuple(labels), read_only=args.read_only, cap_add=tuple(args.cap_add),
        cap_drop=tuple(args.cap_drop), security_opt=tuple(args.security_opt),
        privileged=args.privileged, ulimits=tuple(args.ulimit), runtime=args.runtime,
        auto_remove=args.rm, log_opts=tuple(args.log_opt),
        **resource_options(args), **netvol_options(args))
