"""Docker-style terminal output: aligned tables, human sizes and ages, JSON lines."""

from __future__ import annotations

import io
import json
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
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
    aligned([list(headers), *(list(r) for r in rows)], out)


def aligned(rows: list[list[str]], out: TextIO = sys.stdout) -> None:
    """docker's tabwriter: each cell but a row's last padded to its column's widest, three
    spaces apart, no trailing padding (rows may differ in length, as template lines do)."""
    widths: dict[int, int] = {}
    for r in rows:
        for i, cell in enumerate(r[:-1]):
            widths[i] = max(widths.get(i, 0), len(cell))
    for r in rows:
        cells = [c.ljust(widths[i]) for i, c in enumerate(r[:-1])] + r[-1:]
        out.write("   ".join(cells).rstrip() + "\n")


def json_lines(objs: Iterable[Any], out: TextIO = sys.stdout) -> None:
    for o in objs:
        out.write(json.dumps(o, separators=(",", ":")) + "\n")


def json_array(objs: list[Any], out: TextIO = sys.stdout) -> None:
    out.write(json.dumps(objs, indent=4) + "\n")


def print_deleted(title: str, items: Iterable[str]) -> None:
    """A prune's listing, as docker prints it: the title, one item a line, a blank line."""
    items = list(items)
    if items:
        print(f"{title}:\n" + "".join(f"{i}\n" for i in items))


def templated(fmt: str, rows: list[dict[str, Any]], headers: dict[str, str],
              out: TextIO = sys.stdout) -> None:
    """A list command's ``--format`` template (``table ...`` adds docker's header row)."""
    out.write(render_each(fmt, rows, headers))


def inspected(objs: list[Any], fmt: str, out: TextIO = sys.stdout) -> None:
    """docker's ``inspect``: a JSON array, or with ``-f`` each object through the template."""
    if fmt in ("", "json"):
        json_array(objs, out)
        return
    from .gotemplate import from_flag

    tmpl = from_flag(fmt)
    for o in objs:
        out.write(tmpl.render(o) + "\n")


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


def render_each(fmt: str, rows: Sequence[Mapping[str, Any]],
                headers: Mapping[str, str] | None = None) -> str:
    """docker's ``--format`` for a list: ``table ...`` (a header row, columns aligned at
    tabs) or a plain template, one line per row. ``\\t`` and ``\\n`` are escapes."""
    from .gotemplate import from_flag

    is_table = fmt.startswith("table")
    tmpl = from_flag(fmt[5:].lstrip() if is_table else fmt)
    lines = [tmpl.render(r) for r in rows]
    if not is_table:
        return "".join(line + "\n" for line in lines)
    # The header row is the template run over the field names' headers (a method
    # field, as .Label "key", gives its header whatever its arguments).
    names = {**dict.fromkeys(headers or {}), **(rows[0] if rows else {})}
    labels = {k: (headers or {}).get(k, k.upper()) for k in names}
    head = tmpl.render({k: (lambda *_a, h=h: h) if callable((rows[0] if rows else {}).get(k))
                        else h for k, h in labels.items()})
    buf = io.StringIO()
    aligned([line.split("\t") for line in [head, *lines]], buf)
    return buf.getvalue()
