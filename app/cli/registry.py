"""``pydock pull|push|login|logout``: docker's output, one error line, exit 1 on failure."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from engine import Engine
from engine.errors import InvalidArgument
from engine.reference import parse
from engine.registry.types import PullOptions, PullProgress

from .progress import ProgressPrinter


def register(sub: Any) -> None:
    p = sub.add_parser("pull", help="Download an image from a registry")
    p.add_argument("--platform", default=None, help="os/arch[/variant], e.g. linux/arm64")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the image name")
    p.add_argument("image")
    p.set_defaults(handler=_pull)
    p = sub.add_parser("push", help="Upload an image to a registry")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("image")
    p.set_defaults(handler=_push)
    p = sub.add_parser("login", help="Log in to a registry")
    p.add_argument("-u", "--username", default="")
    p.add_argument("-p", "--password", default=None)
    p.add_argument("--password-stdin", action="store_true")
    p.add_argument("server", nargs="?", default="")
    p.set_defaults(handler=_login)
    p = sub.add_parser("logout", help="Log out from a registry")
    p.add_argument("server", nargs="?", default="")
    p.set_defaults(handler=_logout)


def pull_with_output(engine: Engine, image: str, *, platform: str | None = None,
                     quiet: bool = False, out: Any = None) -> str:
    """Pull and print docker's lines; returns the image ID. Shared with ``run --pull``."""
    out = out or sys.stdout
    printer = ProgressPrinter(out)
    familiar = parse(image).familiar
    image_id = ""
    for ev in engine.images_pull(image, PullOptions(platform=platform)):
        if ev.done:
            image_id = ev.image_id
            if not quiet:
                printer.line(f"Digest: {ev.digest}")
                what = "Downloaded newer image" if ev.fresh else "Image is up to date"
                printer.line(f"Status: {what} for {familiar}")
            continue
        if quiet:
            continue
        if ev.status.startswith("Pulling from"):
            printer.line(f"{ev.id}: {ev.status}")
        else:
            printer.update(ev)
    out.write(f"{parse(image)}\n")
    return image_id


def progress_to(out: Any, image: str) -> Any:
    """An ``on_progress`` callback for ``images_ensure`` printing to ``out``."""
    printer = ProgressPrinter(out)
    familiar = parse(image).familiar

    def show(ev: PullProgress) -> None:
        if ev.done:
            printer.line(f"Digest: {ev.digest}")
            what = "Downloaded newer image" if ev.fresh else "Image is up to date"
            printer.line(f"Status: {what} for {familiar}")
        elif ev.status.startswith("Pulling from"):
            printer.line(f"{ev.id}: {ev.status}")
        else:
            printer.update(ev)
    return show


def _pull(engine: Engine, args: argparse.Namespace) -> int:
    pull_with_output(engine, args.image, platform=args.platform, quiet=args.quiet)
    return 0


def _push(engine: Engine, args: argparse.Namespace) -> int:
    printer = ProgressPrinter(sys.stdout)
    for ev in engine.images_push(args.image):
        if ev.done:
            printer.line(f"{ev.tag}: digest: {ev.digest} size: {ev.size}")
        elif not args.quiet:
            printer.update(ev)
    return 0


def _login(engine: Engine, args: argparse.Namespace) -> int:
    username, password = args.username, args.password
    if args.password_stdin:
        if password is not None:
            raise InvalidArgument("--password and --password-stdin are mutually exclusive")
        if not username:
            raise InvalidArgument("must provide --username with --password-stdin")
        password = sys.stdin.read().rstrip("\r\n")
    elif password is not None:
        sys.stderr.write("WARNING! Using --password via the CLI is insecure. "
                         "Use --password-stdin.\n")
    if not username:
        if not sys.stdin.isatty():
            raise InvalidArgument("cannot prompt for a username: stdin is not a terminal "
                                  "(use -u and --password-stdin)")
        username = input("Username: ").strip()
    if password is None:
        if not sys.stdin.isatty():
            raise InvalidArgument("cannot prompt for a password: stdin is not a terminal "
                                  "(use --password-stdin)")
        password = getpass.getpass("Password: ")
    print(engine.registry_login(args.server, username, password))
    return 0


def _logout(engine: Engine, args: argparse.Namespace) -> int:
    print(engine.registry_logout(args.server))
    return 0


def ensure_image(engine: Engine, image: str, policy: str) -> str:
    """``run``/``create --pull``: docker's "Unable to find image" line, then the pull on stderr."""
    from engine.errors import ImageNotFound

    if policy == "missing":
        try:
            return engine.images_resolve(image)
        except ImageNotFound:
            sys.stderr.write(f"Unable to find image '{parse(image).familiar}' locally\n")
    return engine.images_ensure(image, policy,  # type: ignore[arg-type]
                                on_progress=progress_to(sys.stderr, image))
