"""Docker-style terminal output: aligned tables, human sizes and ages, JSON lines."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any, TextIO


def human_size(n: int) -> str:
    """``4.26MB`` like the docker CLI: decimal units, three significant digits."""
    units = ("B", "kB", "MB", "GB", "TB", "PB")
    size = float(n)
    for unit in units:
        if size < 1000 or unit == units[-1]:
            return f"{size:.3g}{unit}"
        size /= 1000
    return f"{n}B"


def human_age(ts: float, now: float | None = None) -> str:
    """``3 days ago`` / ``N/A``; humanize phrases it, imported only when needed."""
    if not ts:
        return "N/A"
    import datetime

    import humanize

    delta = datetime.timedelta(seconds=max(0.0, (now or time.time()) - ts))
    return humanize.naturaltime(delta)


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], out: TextIO = sys.stdout) -> None:
    rows = [list(r) for r in rows]
    widths = [len(h) for h in headers]
    for r in rows:
        for i, cell in enumerate(r):
            widths[i] = max(widths[i], len(cell))
    # Three spaces between columns, no trailing padding on the last: docker's tabwriter.
    for r in [list(headers), *rows]:
        cells = [c.ljust(widths[i]) for i, c in enumerate(r[:-1])] + [r[-1]]
        out.write("   ".join(cells).rstrip() + "\n")


def json_lines(objs: Iterable[Any], out: TextIO = sys.stdout) -> None:
    for o in objs:
        out.write(json.dumps(o, separators=(",", ":")) + "\n")


def json_array(objs: list[Any], out: TextIO = sys.stdout) -> None:
    out.write(json.dumps(objs, indent=4) + "\n")


def short_id(image_id: str, *, trunc: bool = True) -> str:
    return image_id.removeprefix("sha256:")[:12] if trunc else image_id


def confirm(question: str, *, stdin: TextIO = sys.stdin, out: TextIO = sys.stderr) -> bool:
    out.write(f"{question} [y/N] ")
    out.flush()
    answer = stdin.readline().strip().lower()
    return answer in ("y", "yes")


def print_reports(reports: Iterable[Any]) -> int:
    """Batch verbs: one line per item on stdout, each failure on stderr; exit 1 if any failed."""
    code = 0
    for rep in reports:
        if rep.error:
            sys.stderr.write(f"Error response from daemon: {rep.error}\n")
            code = 1
        else:
            print(rep.item)
    return code
