"""``pydock images`` and ``history``: image lists, their filters and their formats."""

from __future__ import annotations

import argparse
import fnmatch
from typing import Any

from engine import Engine
from engine.errors import InvalidArgument
from engine.types import ImageSummary

from . import output


def _matches(row: ImageSummary, pattern: str) -> bool:
    name, _, tag = pattern.partition(":") if "/" not in pattern.rpartition(":")[2] else (
        pattern, "", "")
    if not fnmatch.fnmatchcase(row.repository, name):
        return False
    return not tag or fnmatch.fnmatchcase(row.tag, tag)


def _filter_rows(rows: list[ImageSummary], args: argparse.Namespace) -> list[ImageSummary]:
    for f in args.filter:
        key, eq, value = f.partition("=")
        if not eq:
            raise InvalidArgument(f"bad format of filter (expected name=value): {f!r}")
        if key == "dangling":
            if value not in ("true", "false", "1", "0"):
                raise InvalidArgument(f"invalid filter 'dangling={value}'")
            want = value in ("true", "1")
            rows = [r for r in rows if r.dangling == want]
        elif key == "reference":
            rows = [r for r in rows if _matches(r, value)]
        else:
            raise InvalidArgument(f"invalid filter {key!r} (supported: dangling, reference)")
    if args.reference:
        rows = [r for r in rows if _matches(r, args.reference)]
    return rows


def images(engine: Engine, args: argparse.Namespace) -> int:
    rows = _filter_rows(engine.images_list(), args)
    if args.quiet:
        seen: set[str] = set()
        for r in rows:
            if r.id not in seen:
                seen.add(r.id)
                print(output.short_id(r.id, trunc=not args.no_trunc))
        return 0
    fields = [{
        "Containers": str(r.containers), "CreatedAt": _iso(r.created),
        "CreatedSince": output.human_age(r.created), "Digest": r.digest,
        "ID": output.short_id(r.id, trunc=not args.no_trunc), "Repository": r.repository,
        "Size": output.human_size(r.size), "Tag": r.tag,
    } for r in rows]
    if args.format == "json":
        output.json_lines(fields)
        return 0
    if args.format != "table":
        output.templated(args.format, fields, IMAGE_HEADERS)
        return 0
    headers = ["REPOSITORY", "TAG"] + (["DIGEST"] if args.digests else []) + [
        "IMAGE ID", "CREATED", "SIZE"]
    output.table(headers, ([r.repository, r.tag] + ([r.digest] if args.digests else []) + [
        output.short_id(r.id, trunc=not args.no_trunc), output.human_age(r.created),
        output.human_size(r.size)] for r in rows))
    return 0


IMAGE_HEADERS = {"Containers": "CONTAINERS", "CreatedAt": "CREATED AT",
                 "CreatedSince": "CREATED", "Digest": "DIGEST", "ID": "IMAGE ID",
                 "Repository": "REPOSITORY", "Size": "SIZE", "Tag": "TAG"}


def _iso(ts: float) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M:%S %z %Z", time.localtime(ts)) if ts else ""


def history(engine: Engine, args: argparse.Namespace) -> int:
    rows = engine.images_history(args.image)
    if args.quiet:
        for h in rows:
            print(output.short_id(h.id, trunc=not args.no_trunc) if h.id != "<missing>"
                  else h.id)
        return 0
    fields = [{"ID": h.id, "CreatedAt": _iso(h.created), "CreatedSince": output.human_age(
        h.created), "CreatedBy": h.created_by, "Size": output.human_size(h.size),
        "Comment": h.comment} for h in rows]
    if args.format == "json":
        output.json_lines(fields)
        return 0
    if args.format != "table":
        output.templated(args.format, fields, {
            "ID": "IMAGE", "CreatedAt": "CREATED AT", "CreatedSince": "CREATED",
            "CreatedBy": "CREATED BY", "Size": "SIZE", "Comment": "COMMENT"})
        return 0

    def by(h: Any) -> str:
        s = h.created_by.replace("\n", " ")
        return s if args.no_trunc or len(s) <= 45 else s[:44] + "…"

    output.table(["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"], (
        [output.short_id(h.id, trunc=not args.no_trunc) if h.id != "<missing>" else h.id,
         output.human_age(h.created) if args.human else _iso(h.created), by(h),
         output.human_size(h.size) if args.human else str(h.size), h.comment]
        for h in rows))
    return 0
