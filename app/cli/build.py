"""``pydock build`` and ``pydock builder prune``.

Progress goes to stderr the way ``docker build --progress=plain`` prints it
(``#3 [2/5] RUN apk add curl``, ``#3 0.215 <output>``, ``#3 CACHED``,
``#3 DONE 0.4s``); the image ID ends up alone on stdout, so
``id=$(pydock build -q .)`` and ``pydock build . | tail -1`` both work.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from engine import Engine
from engine.errors import EngineError, InvalidArgument
from engine.types_build import BuildEvent, BuildOptions

from . import output


def register(sub: Any) -> None:
    p = sub.add_parser("build", help="Build an image from a Dockerfile")
    p.add_argument("context", help="a directory, or - for a tar archive (or a Dockerfile) "
                                   "on stdin")
    p.add_argument("-t", "--tag", action="append", default=[], help="name[:tag], repeatable")
    p.add_argument("-f", "--file", default=None, help="the Dockerfile (default: "
                                                      "PATH/Dockerfile; - for stdin)")
    p.add_argument("--build-arg", action="append", default=[], metavar="NAME[=VALUE]")
    p.add_argument("--label", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--target", default=None, help="the stage to build")
    p.add_argument("--no-cache", action="store_true", help="run every step")
    p.add_argument("--pull", action="store_true", help="pull base images even if present")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the image ID")
    p.add_argument("--network", default="default", help="RUN network: default (host), "
                                                        "host or none")
    p.add_argument("--platform", default=None)
    p.add_argument("--iidfile", default=None, help="write the image ID to this file")
    p.add_argument("--progress", default="auto", choices=["auto", "plain", "tty", "quiet"])
    p.add_argument("--rm", action="store_true", default=True, help=argparse.SUPPRESS)
    p.add_argument("--force-rm", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--sequential", action="store_true",
                   help="build stages one after the other")
    p.set_defaults(handler=_build)

    b = sub.add_parser("builder", help="Manage the build cache")
    bsub = b.add_subparsers(dest="builder_command", metavar="COMMAND")
    b.set_defaults(handler=lambda e, a: (b.print_help(), 0)[1])
    pr = bsub.add_parser("prune", help="Remove the build cache")
    pr.add_argument("-a", "--all", action="store_true", help="(everything is removed anyway)")
    pr.add_argument("-f", "--force", action="store_true", help="do not prompt")
    pr.set_defaults(handler=_prune)


def _pairs(items: list[str], flag: str, *, env: bool) -> tuple[tuple[str, Any], ...]:
    out = []
    for item in items:
        key, eq, value = item.partition("=")
        if not key:
            raise InvalidArgument(f"invalid {flag} {item!r} (want NAME=VALUE)")
        if not eq:
            if not env:
                value = ""
            else:
                out.append((key, os.environ.get(key)))  # docker: taken from the environment
                continue
        out.append((key, value))
    return tuple(out)


def options(args: argparse.Namespace) -> tuple[Any, BuildOptions]:
    """(context for the engine, options) from the command line."""
    text = None
    dockerfile = args.file
    if args.context.startswith(("http://", "https://", "git@", "git://")):
        raise InvalidArgument("remote build contexts are not supported; clone or download "
                              "the context first")
    if dockerfile == "-":
        if args.context == "-":
            raise InvalidArgument("the context and the Dockerfile cannot both come from stdin")
        text, dockerfile = sys.stdin.buffer.read(), None
    context: Any = sys.stdin.buffer if args.context == "-" else str(Path(args.context))
    if dockerfile is not None and args.context != "-":
        dockerfile = str(Path(dockerfile).absolute())  # -f is relative to where we stand
    network = "host" if args.network == "default" else args.network
    return context, BuildOptions(
        dockerfile=dockerfile, dockerfile_text=text, tags=tuple(args.tag),
        build_args=_pairs(args.build_arg, "--build-arg", env=True),
        labels=_pairs(args.label, "--label", env=False), target=args.target,
        no_cache=args.no_cache, pull=args.pull, network=network, platform=args.platform,
        parallel=not args.sequential)


class PlainPrinter:
    """BuildKit's plain progress: one ``#N`` line per happening, a blank line between vertices."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.last = -1

    def __call__(self, ev: BuildEvent) -> None:
        if ev.kind == "warning":
            self.out.write(f"WARNING: {ev.text}\n")
        elif ev.kind == "step":
            if self.last != -1:
                self.out.write("\n")
            self.out.write(f"#{ev.vertex} {ev.name}\n")
        elif ev.kind == "output" and not ev.line:
            self.out.write(f"#{ev.vertex} {ev.text}\n")  # an internal vertex: no timestamp
        elif ev.kind == "output":
            self.out.write(f"#{ev.vertex} {ev.duration:.3f} {ev.text}\n")
        elif ev.kind == "cached":
            self.out.write(f"#{ev.vertex} CACHED\n")
        elif ev.kind == "done":
            self.out.write(f"#{ev.vertex} DONE {ev.duration:.1f}s\n")
        elif ev.kind == "error":
            self.out.write(f"#{ev.vertex} ERROR: {ev.text}\n")
        self.last = ev.vertex
        self.out.flush()


def _build(engine: Engine, args: argparse.Namespace) -> int:
    context, opts = options(args)
    quiet = args.quiet or args.progress == "quiet"
    printer = None if quiet else PlainPrinter(sys.stderr)
    image_id = ""
    try:
        for ev in engine.images_build(context, opts):
            if ev.kind == "image":
                image_id = ev.image_id
            elif printer is not None:
                printer(ev)
    except EngineError as err:
        tail = getattr(err, "output", ())
        if quiet and tail:
            sys.stderr.write("".join(f"  {line}\n" for line in tail))
        raise
    if args.iidfile:
        Path(args.iidfile).write_text(image_id)
    print(image_id)
    return 0


def _prune(engine: Engine, args: argparse.Namespace) -> int:
    if not args.force and sys.stdin.isatty() and not output.confirm(
            "WARNING! This will remove all build cache. Are you sure you want to continue?"):
        return 0
    rep = engine.builder_prune()
    print(f"Deleted build cache objects: {rep.entries}, cache mounts: {rep.mounts}")
    print(f"Total reclaimed space: {output.human_size(rep.space_reclaimed)}")
    return 0
