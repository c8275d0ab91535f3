"""``pydock run|create|start|stop|kill|restart|pause|unpause|rm|rename|wait|logs|ps|attach``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from engine import Engine, EngineError
from engine.errors import InvalidArgument

from . import output
from .container_flags import add_create_flags, create_options

EXIT_ENGINE = 125


def register(sub: Any) -> None:
    for verb, handler in (("run", _run), ("create", _create)):
        # add_help=False: docker's -h is --hostname here.
        p = sub.add_parser(verb, help=f"{verb.capitalize()} a container", add_help=False)
        p.add_argument("--help", action="help")
        p.add_argument("-d", "--detach", action="store_true") if verb == "run" else None
        add_create_flags(p)
        p.set_defaults(handler=handler, error_exit=EXIT_ENGINE)
    p = sub.add_parser("start", help="Start one or more stopped containers")
    p.add_argument("-a", "--attach", action="store_true")
    p.add_argument("-i", "--interactive", action="store_true")
    p.add_argument("containers", nargs="+")
    p.set_defaults(handler=_start)
    for verb, fn, helptext in (("stop", "containers_stop", "Stop running containers"),
                               ("restart", "containers_restart", "Restart containers")):
        p = sub.add_parser(verb, help=helptext)
        p.add_argument("-t", "--time", "--timeout", type=int, default=None, dest="timeout")
        p.add_argument("containers", nargs="+")
        p.set_defaults(handler=_batch(fn, lambda a: {"timeout": a.timeout}))
    p = sub.add_parser("kill", help="Kill running containers")
    p.add_argument("-s", "--signal", default="SIGKILL")
    p.add_argument("containers", nargs="+")
    p.set_defaults(handler=_batch("containers_kill", lambda a: {"signal": a.signal}))
    for verb, fn in (("pause", "containers_pause"), ("unpause", "containers_unpause")):
        p = sub.add_parser(verb, help=f"{verb.capitalize()} all processes in containers")
        p.add_argument("containers", nargs="+")
        p.set_defaults(handler=_batch(fn, lambda a: {}))
    p = sub.add_parser("rm", help="Remove containers")
    p.add_argument("-f", "--force", action="store_true")
    p.add_argument("-v", "--volumes", action="store_true")
    p.add_argument("containers", nargs="+")
    p.set_defaults(handler=_batch("containers_remove",
                                  lambda a: {"force": a.force, "volumes": a.volumes}))
    p = sub.add_parser("rename", help="Rename a container")
    p.add_argument("container")
    p.add_argument("new_name")
    p.set_defaults(handler=lambda e, a: e.containers_rename(a.container, a.new_name) or 0)
    p = sub.add_parser("wait", help="Block until containers stop, then print their exit codes")
    p.add_argument("containers", nargs="+")
    p.set_defaults(handler=_wait)
    p = sub.add_parser("logs", help="Fetch the logs of a container")
    p.add_argument("container")
    p.add_argument("-f", "--follow", action="store_true")
    p.add_argument("-n", "--tail", default="all")
    p.add_argument("--since")
    p.add_argument("--until")
    p.add_argument("-t", "--timestamps", action="store_true")
    p.set_defaults(handler=_logs)
    p = sub.add_parser("attach", help="Attach to a running container")
    p.add_argument("container")
    p.add_argument("--no-stdin", action="store_true")
    p.set_defaults(handler=_attach)
    group = sub.add_parser("container", help="Manage containers (container VERB is pydock VERB)"
                           ).add_subparsers(dest="container_command")
    p = group.add_parser("prune", help="Remove all stopped containers")
    p.add_argument("-f", "--force", action="store_true", help="do not ask")
    p.set_defaults(handler=_prune)
    for p in (sub.add_parser("ps", help="List containers"),
              group.add_parser("ls", aliases=["list"], help="List containers")):
        p.add_argument("-a", "--all", action="store_true")
        p.add_argument("-q", "--quiet", action="store_true")
        p.add_argument("-n", "--last", type=int, default=-1)
        p.add_argument("-l", "--latest", action="store_true")
        p.add_argument("--no-trunc", action="store_true")
        p.add_argument("-s", "--size", action="store_true", help="writable layer sizes")
        p.add_argument("-f", "--filter", action="append", default=[])
        p.add_argument("--format", default="table")
        p.set_defaults(handler=_ps)


def _prune(engine: Engine, args: argparse.Namespace) -> int:
    if not args.force and not output.confirm(
            "WARNING! This will remove all stopped containers.\n"
            "Are you sure you want to continue?"):
        return 0
    rep = engine.containers_prune()
    output.print_deleted("Deleted Containers", rep.deleted)
    print(f"Total reclaimed space: {output.human_size(rep.space_reclaimed)}")
    return 0


def _batch(fn: str, kwargs: Any) -> Any:
    def handler(engine: Engine, args: argparse.Namespace) -> int:
        return output.print_reports(getattr(engine, fn)(args.containers, **kwargs(args)))
    return handler


def _ensure_image(engine: Engine, args: argparse.Namespace) -> None:
    """``--pull missing|always|never``: pull before create, progress on stderr like docker."""
    if args.pull != "always":
        # The common case, a local image, needs no registry code (~5 ms of imports).
        from engine.errors import ImageNotFound

        try:
            engine.images_resolve(args.image)
            return
        except ImageNotFound:
            pass
    from .registry import ensure_image

    ensure_image(engine, args.image, args.pull)


def _create(engine: Engine, args: argparse.Namespace) -> int:
    _ensure_image(engine, args)
    cid = engine.containers_create(create_options(args))
    _warn(engine, cid)
    print(cid)
    return 0


def _run(engine: Engine, args: argparse.Namespace) -> int:
    from engine.runtime.waiting import StartFailed, wait_started

    opts = create_options(args)
    _ensure_image(engine, args)
    cid = engine.containers_create(opts)
    _warn(engine, cid)
    try:
        if args.detach:
            engine.containers_start(cid)
            print(cid)
            return 0
        return _run_attached(engine, cid, stdin=opts.stdin_open, tty=opts.tty,
                             wait_started=wait_started)
    except StartFailed as err:
        sys.stderr.write(f"Error: {err}\n")
        _discard(engine, cid)
        return err.code
    except EngineError:
        _discard(engine, cid)
        raise


def _warn(engine: Engine, cid: str) -> None:
    # docker prints the daemon's warnings (limits this host cannot enforce) first.
    for w in engine.containers_warnings(cid):
        sys.stderr.write(f"WARNING: {w}\n")


def _discard(engine: Engine, cid: str) -> None:
    # A container that could not start is removed: bad input leaves nothing behind.
    engine.containers_remove([cid], force=True)


def _run_attached(engine: Engine, cid: str, *, stdin: bool, tty: bool, wait_started: Any) -> int:
    ready_fd = engine.containers_spawn(cid, wait_attach=True)
    # Imported while the monitor starts (it runs on the other CPU, if there is one).
    from engine.runtime import attach

    from .attach_client import relay

    with os.fdopen(ready_fd, "rb") as ready:
        first = json.loads(ready.readline() or b'{"state": "failed", "code": 125}')
        if first.get("state") != "listening":
            from engine.runtime.waiting import StartFailed

            raise StartFailed(int(first.get("code", 125)), first.get("message", "start failed"))
        sock = attach.connect(str(engine.containers.dir(cid) / "attach.sock"))
        wait_started(ready)
    with sock:
        code, detached = relay(sock, stdin=stdin, tty_mode=tty)
    if detached:
        return 0
    if code is None:
        code = engine.containers_wait(cid)
    engine.containers_wait_removed(cid)  # --rm: gone before we return, as docker
    return code


def _start(engine: Engine, args: argparse.Namespace) -> int:
    from engine.runtime.waiting import wait_started

    if args.attach or args.interactive:
        if len(args.containers) > 1:
            raise InvalidArgument("you cannot start and attach multiple containers at once")
        cid = engine.containers_resolve(args.containers[0])
        cfg = engine.containers.load(cid)["config"]
        return _run_attached(engine, cid, stdin=args.interactive and cfg.get("OpenStdin"),
                             tty=bool(cfg.get("Tty")), wait_started=wait_started)
    code = 0
    for ref in args.containers:
        try:
            engine.containers_start(ref)
            print(ref)
        except EngineError as err:
            sys.stderr.write(f"Error response from daemon: {err}\n")
            code = 1
    return code


def _wait(engine: Engine, args: argparse.Namespace) -> int:
    for ref in args.containers:
        print(engine.containers_wait(ref))
    return 0


def _logs(engine: Engine, args: argparse.Namespace) -> int:
    from engine.runtime.logs_read import format_entry

    from .system import parse_time

    tail = None if args.tail in ("all", "-1") else int(args.tail)
    entries = engine.containers_logs(args.container, tail=tail, since=parse_time(args.since),
                                     until=parse_time(args.until), follow=args.follow)
    out, err = sys.stdout.buffer, sys.stderr.buffer
    for e in entries:
        (err if e.stream == "stderr" else out).write(format_entry(e, args.timestamps))
        if args.follow:
            (err if e.stream == "stderr" else out).flush()
    return 0


def _attach(engine: Engine, args: argparse.Namespace) -> int:
    from engine.runtime import attach

    from .attach_client import relay

    path = engine.containers_attach_path(args.container)
    cfg = engine.containers.load(engine.containers_resolve(args.container))["config"]
    with attach.connect(path) as sock:
        code, detached = relay(sock, stdin=not args.no_stdin and bool(cfg.get("OpenStdin")),
                               tty_mode=bool(cfg.get("Tty")))
    if detached or code is None:
        return 0
    return code


def _ps(engine: Engine, args: argparse.Namespace) -> int:
    from .container_list import ps  # only ps and container ls need it

    return ps(engine, args)
