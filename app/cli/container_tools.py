"""``pydock exec|top|diff|cp|export|commit``."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from engine import Engine
from engine.errors import InvalidArgument
from engine.types_tools import CommitOptions, ExecOptions

from . import output


def _bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean value {text!r}")


def register(sub: Any) -> None:
    p = sub.add_parser("exec", help="Execute a command in a running container")
    p.add_argument("-d", "--detach", action="store_true")
    p.add_argument("-i", "--interactive", action="store_true")
    p.add_argument("-t", "--tty", action="store_true")
    p.add_argument("-u", "--user")
    p.add_argument("-w", "--workdir")
    p.add_argument("-e", "--env", action="append", default=[])
    p.add_argument("--env-file", action="append", default=[])
    p.add_argument("--privileged", action="store_true")
    p.add_argument("container")
    p.add_argument("command", nargs=argparse.REMAINDER)
    p.set_defaults(handler=_exec)
    p = sub.add_parser("top", help="Display the running processes of a container")
    p.add_argument("container")
    p.add_argument("ps_args", nargs=argparse.REMAINDER)
    p.set_defaults(handler=_top)
    p = sub.add_parser("diff", help="Inspect changes to files on a container's filesystem")
    p.add_argument("container")
    p.set_defaults(handler=_diff)
    p = sub.add_parser("cp", help="Copy files between a container and the local filesystem")
    p.add_argument("-a", "--archive", action="store_true")
    p.add_argument("-L", "--follow-link", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("src")
    p.add_argument("dest")
    p.set_defaults(handler=_cp)
    p = sub.add_parser("export", help="Export a container's filesystem as a tar archive")
    p.add_argument("-o", "--output")
    p.add_argument("container")
    p.set_defaults(handler=_export)
    p = sub.add_parser("commit", help="Create a new image from a container's changes")
    p.add_argument("-a", "--author", default="")
    p.add_argument("-c", "--change", action="append", default=[])
    p.add_argument("-m", "--message", default="")
    p.add_argument("-p", "--pause", type=_bool, nargs="?", const=True, default=True)
    p.add_argument("container")
    p.add_argument("reference", nargs="?")
    p.set_defaults(handler=_commit)


def _exec(engine: Engine, args: argparse.Namespace) -> int:
    from engine.runtime.exec import ExecFailed
    from engine.runtime.options import parse_env_file

    from .exec_client import relay, terminal_size

    if not args.command:
        raise InvalidArgument('"pydock exec" requires at least 2 arguments')
    if args.tty and args.interactive and not os.isatty(0):
        raise InvalidArgument("the input device is not a TTY")
    env = [e for f in args.env_file for e in parse_env_file(f)] + args.env
    opts = ExecOptions(command=tuple(args.command), user=args.user, workdir=args.workdir,
                       env=tuple(env), tty=args.tty, stdin=args.interactive,
                       detach=args.detach, privileged=args.privileged,
                       console_size=terminal_size() if args.tty else None)
    sys.stdout.flush()
    try:
        proc = engine.containers_exec_start(args.container, opts)
    except ExecFailed as err:
        sys.stderr.write(f"OCI runtime exec failed: {err}\n")
        return err.code
    if args.tty and not args.detach:
        return relay(proc, stdin=args.interactive)
    return proc.wait()


def _top(engine: Engine, args: argparse.Namespace) -> int:
    titles, rows = engine.containers_top(args.container, args.ps_args)
    output.table(titles, rows)
    return 0


def _diff(engine: Engine, args: argparse.Namespace) -> int:
    for change in engine.containers_diff(args.container):
        print(change)
    return 0


def _split(arg: str) -> tuple[str | None, str]:
    """docker's rule: an absolute or ./relative path is local, else ``container:path``."""
    if arg == "-" or arg.startswith(("/", ".")) or ":" not in arg:
        return None, arg
    ref, _, path = arg.partition(":")
    return ref, path or "/"


def _cp(engine: Engine, args: argparse.Namespace) -> int:
    (src_ref, src), (dst_ref, dst) = _split(args.src), _split(args.dest)
    if src_ref and dst_ref:
        raise InvalidArgument("copying between containers is not supported")
    if not src_ref and not dst_ref:
        raise InvalidArgument("must specify at least one container source")
    kw = {"follow_link": args.follow_link, "archive": args.archive}
    if src_ref:
        if dst == "-":
            engine.containers_copy_from(src_ref, src, sys.stdout.buffer, **kw)
            sys.stdout.buffer.flush()
        else:
            engine.containers_copy_from(src_ref, src, dst, **kw)
        return 0
    assert dst_ref is not None
    engine.containers_copy_to(dst_ref, dst, sys.stdin.buffer if src == "-" else src, **kw)
    return 0


def _export(engine: Engine, args: argparse.Namespace) -> int:
    if args.output:
        tmp = f"{args.output}.{os.getpid()}.tmp"
        try:
            with open(tmp, "wb") as f:
                engine.containers_export(args.container, f)
            os.replace(tmp, args.output)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return 0
    if os.isatty(sys.stdout.fileno()):
        raise InvalidArgument("cowardly refusing to save to a terminal. Use the -o flag or "
                              "redirect")
    engine.containers_export(args.container, sys.stdout.buffer)
    sys.stdout.buffer.flush()
    return 0


def _commit(engine: Engine, args: argparse.Namespace) -> int:
    opts = CommitOptions(reference=args.reference, changes=tuple(args.change),
                         message=args.message, author=args.author, pause=args.pause)
    print(engine.containers_commit(args.container, opts))
    return 0
