"""``pydock images``, ``image …``, ``import``, ``load``, ``save``, ``tag``, ``rmi``."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any, BinaryIO

from engine import Engine, EngineError
from engine.errors import InvalidArgument
from engine.types import ImportOptions

from . import image_list, output


def register(sub: Any) -> None:
    _list_parser(sub.add_parser("images", help="List images"))
    img = sub.add_parser("image", help="Manage images")
    isub = img.add_subparsers(dest="image_command", metavar="COMMAND")
    img.set_defaults(handler=lambda e, a: (img.print_help(), 0)[1])
    _list_parser(isub.add_parser("ls", aliases=["list"], help="List images"))
    _inspect_parser(isub.add_parser("inspect", help="Display detailed information on images"))
    top = sub.add_parser("inspect", help="Return low-level information on objects")
    top.add_argument("--type", choices=["image", "container"], default=None)
    _inspect_parser(top)
    top.set_defaults(handler=_inspect_any)
    _history_parser(isub.add_parser("history", help="Show the history of an image"))
    _history_parser(sub.add_parser("history", help="Show the history of an image"))
    for p in (isub.add_parser("tag", help="Create a tag TARGET that refers to SOURCE"),
              sub.add_parser("tag", help="Create a tag TARGET that refers to SOURCE")):
        p.add_argument("source")
        p.add_argument("target")
        p.set_defaults(handler=_tag)
    for p in (isub.add_parser("rm", aliases=["remove"], help="Remove images"),
              sub.add_parser("rmi", help="Remove images")):
        p.add_argument("-f", "--force", action="store_true")
        p.add_argument("images", nargs="+")
        p.set_defaults(handler=_rm)
    p = isub.add_parser("prune", help="Remove unused images")
    p.add_argument("-a", "--all", action="store_true", help="all images without containers")
    p.add_argument("-f", "--force", action="store_true", help="do not prompt")
    p.set_defaults(handler=_prune)
    for p in (isub.add_parser("import", help="Import a rootfs tarball as an image"),
              sub.add_parser("import", help="Import a rootfs tarball as an image")):
        p.add_argument("file", help="tarball path, or - for stdin")
        p.add_argument("reference", nargs="?")
        p.add_argument("-c", "--change", action="append", default=[])
        p.add_argument("-m", "--message", default="")
        p.add_argument("--platform", default="linux/amd64")
        p.set_defaults(handler=_import)
    for p in (isub.add_parser("load", help="Load images from a tar archive"),
              sub.add_parser("load", help="Load images from a tar archive")):
        p.add_argument("-i", "--input", default="-")
        p.add_argument("-q", "--quiet", action="store_true")
        p.set_defaults(handler=_load)
    for p in (isub.add_parser("save", help="Save images to a tar archive"),
              sub.add_parser("save", help="Save images to a tar archive")):
        p.add_argument("-o", "--output", default="-")
        p.add_argument("images", nargs="+")
        p.set_defaults(handler=_save)


def _list_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("reference", nargs="?", help="REPOSITORY[:TAG] pattern")
    p.add_argument("-a", "--all", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true", help="only IDs")
    p.add_argument("--no-trunc", action="store_true")
    p.add_argument("--digests", action="store_true")
    p.add_argument("-f", "--filter", action="append", default=[],
                   help="dangling=true|false, reference=PATTERN")
    p.add_argument("--format", default="table", help="table, json or a Go template")
    p.set_defaults(handler=image_list.images)


def _inspect_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+")
    p.add_argument("-f", "--format", default="json", help="json or a Go template")
    p.set_defaults(handler=_inspect)


def _history_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("image")
    p.add_argument("-H", "--human", default=True, type=lambda s: s.lower() != "false")
    p.add_argument("--no-trunc", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("--format", default="table")
    p.set_defaults(handler=image_list.history)


def _inspect(engine: Engine, args: argparse.Namespace) -> int:
    found, code = [], 0
    for name in args.images:
        try:
            found.append(engine.images_inspect(name))
        except EngineError as err:
            sys.stderr.write(f"Error: {err}\n")
            code = 1
    output.inspected(found, args.format)
    return code


def _inspect_any(engine: Engine, args: argparse.Namespace) -> int:
    """docker inspect: containers first, then images, unless --type says which."""
    found, code = [], 0
    for name in args.images:
        try:
            if args.type != "image":
                try:
                    found.append(engine.containers_inspect(name))
                    continue
                except EngineError:
                    if args.type == "container":
                        raise
            found.append(engine.images_inspect(name))
        except EngineError as err:
            sys.stderr.write(f"Error: {err}\n")
            code = 1
    output.inspected(found, args.format)
    return code


def _tag(engine: Engine, args: argparse.Namespace) -> int:
    engine.images_tag(args.source, args.target)
    return 0


def _rm(engine: Engine, args: argparse.Namespace) -> int:
    code = 0
    for rep in engine.images_remove(args.images, force=args.force):
        if rep.error:
            sys.stderr.write(f"Error: {rep.error}\n")
            code = 1
            continue
        for t in rep.untagged:
            print(f"Untagged: {t}")
        for d in rep.deleted:
            print(f"Deleted: {d}")
    return code


def _prune(engine: Engine, args: argparse.Namespace) -> int:
    what = "all images without at least one container associated to them" if args.all \
        else "all dangling images"
    if not args.force and not output.confirm(
            f"WARNING! This will remove {what}.\nAre you sure you want to continue?"):
        return 0
    rep = engine.images_prune(all_unused=args.all)
    output.print_deleted("Deleted Images", [f"untagged: {t}" for t in rep.untagged]
                         + [f"deleted: {d}" for d in rep.deleted])
    print(f"Total reclaimed space: {output.human_size(rep.space_reclaimed)}")
    return 0


@contextlib.contextmanager
def _open_in(path: str) -> Iterator[BinaryIO]:
    if path == "-":
        if sys.stdin.isatty():
            raise InvalidArgument("requested load from stdin, but stdin is empty (use -i FILE)")
        yield sys.stdin.buffer
        return
    try:
        f = open(path, "rb")
    except OSError as err:
        raise InvalidArgument(f"cannot open {path}: {err.strerror}") from err
    with f:
        yield f


def _import(engine: Engine, args: argparse.Namespace) -> int:
    if args.file.startswith(("http://", "https://")):
        raise InvalidArgument("importing from a URL is not supported yet; download it first")
    opts = ImportOptions(reference=args.reference, changes=tuple(args.change),
                         message=args.message, platform=args.platform)
    with _open_in(args.file) as f:
        image_id = engine.images_import(f, opts, source=args.file)
    print(image_id)
    return 0


def _load(engine: Engine, args: argparse.Namespace) -> int:
    with _open_in(args.input) as f:
        rep = engine.images_load(f)
    if not args.quiet:
        for t in rep.tags:
            print(f"Loaded image: {t}")
        if not rep.tags:
            for i in rep.images:
                print(f"Loaded image ID: {i}")
    return 0


def _save(engine: Engine, args: argparse.Namespace) -> int:
    if args.output == "-":
        if sys.stdout.isatty():
            raise InvalidArgument("cowardly refusing to save to a terminal. "
                                  "Use the -o flag or redirect")
        engine.images_save(args.images, sys.stdout.buffer)
        return 0
    # Resolve names first, so a typo does not leave an empty file behind.
    for name in args.images:
        engine.images_resolve(name)
    tmp = f"{args.output}.pydock-tmp"
    try:
        with open(tmp, "wb") as f:
            engine.images_save(args.images, f)
        os.replace(tmp, args.output)
    except OSError as err:
        raise InvalidArgument(f"cannot write {args.output}: {err.strerror}") from err
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return 0
