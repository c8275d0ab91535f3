"""Container logs in docker's json-file format, shared by the monitor and the front ends.

One line per entry, exactly as docker writes it, so a ``ctr.log`` reads with the same
tools as docker's::

    {"log":"hello\\n","stream":"stdout","time":"2026-11-27T21:13:33.123456789Z"}

This module holds the format and the options; the monitor writes with
:class:`LogWriter` (``logs_write``), ``pydock logs`` and the TUI read with
:func:`read_logs` / :func:`follow_logs` (``logs_read``), both re-exported here.
Standard library only (plus :mod:`engine.errors`): the monitor must start fast and
stay small.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import InvalidArgument
from engine.record import dataclass

if TYPE_CHECKING:
    from .logs_read import follow_logs, read_logs
    from .logs_write import LogWriter

__all__ = [
    "MAX_LINE", "LogEntry", "LogOptions", "LogWriter", "follow_logs", "format_entry",
    "parse_line", "parse_log_opts", "parse_size", "read_logs", "rfc3339_nano",
]

# docker's copier reads stdio through a 16 KiB buffer and emits a full buffer
# without a newline as a partial message; we keep the same unit.
MAX_LINE = 16 * 1024

_SIZE_RE = re.compile(r"(\d+(?:\.\d+)?) ?([kmgtp]?)i?b?", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
_TRUE = {"1", "t", "true"}  # Go's strconv.ParseBool, which docker uses for compress
_FALSE = {"0", "f", "false"}


@dataclass(frozen=True, slots=True)
class LogOptions:
    """json-file ``--log-opt``s: rotate past ``max_size`` bytes, keep ``max_file`` files."""

    max_size: int = 10 * 1024 * 1024
    max_file: int = 3
    compress: bool = False


def parse_size(text: str, what: str = "size") -> int:
    """docker's size syntax (``units.RAMInBytes``): ``512k``, ``10m``, ``1.5g``, ``100b``;
    multiples of 1024. Anything else, or not positive, is an InvalidArgument."""
    m = _SIZE_RE.fullmatch(text.strip())
    size = int(float(m.group(1)) * _UNITS[m.group(2).lower()]) if m else 0
    if size <= 0:
        raise InvalidArgument(f"invalid {what} {text!r}: expected a positive size such as "
                              "512k, 10m or 1g")
    return size


def parse_log_opts(opts: list[str]) -> LogOptions:
    """Turn repeated ``--log-opt key=value`` arguments into :class:`LogOptions`."""
    vals: dict[str, str] = {}
    for opt in opts:
        key, sep, value = opt.partition("=")
        if not sep or not key:
            raise InvalidArgument(f"invalid log opt {opt!r}: expected key=value")
        if key not in ("max-size", "max-file", "compress"):
            raise InvalidArgument(f"unknown log opt {key!r} for json-file log driver "
                                  "(supported: max-size, max-file, compress)")
        vals[key] = value  # repeated keys: the last one wins, as in docker
    d = LogOptions()
    max_size, max_file, compress = d.max_size, d.max_file, d.compress
    if "max-size" in vals:
        max_size = parse_size(vals["max-size"], "max-size")
    if "max-file" in vals:
        raw = vals["max-file"].strip()
        if not raw.isdigit() or int(raw) < 1:
            raise InvalidArgument(f"invalid max-file {vals['max-file']!r}: expected a whole "
                                  "number of at least 1")
        max_file = int(raw)
    if "compress" in vals:
        flag = vals["compress"].strip().lower()
        if flag not in _TRUE | _FALSE:
            raise InvalidArgument(f"invalid compress {vals['compress']!r}: expected true or false")
        compress = flag in _TRUE
    if compress and max_file < 2:
        raise InvalidArgument("compress needs max-file of at least 2: nothing is rotated otherwise")
    return LogOptions(max_size=max_size, max_file=max_file, compress=compress)


_last_second: tuple[int, str] = (-1, "")


def rfc3339_nano(ns: int, *, fixed: bool = False) -> str:
    """UTC time as Go formats it: ``RFC3339Nano`` trims trailing zeros (json-file's
    ``time``); ``fixed`` keeps nine digits (docker's ``logs -t`` prefix)."""
    global _last_second
    sec, frac = divmod(ns, 1_000_000_000)
    last = _last_second  # one read: front ends may format from several threads
    if last[0] != sec:  # lines come in bursts within one second: format it once
        last = _last_second = (sec, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)))
    digits = f"{frac:09d}" if fixed else f"{frac:09d}".rstrip("0")
    return f"{last[1]}.{digits}Z" if digits else f"{last[1]}Z"


_SEC_CACHE: dict[str, int] = {}


def parse_time(t: str) -> int | None:
    """``2026-11-27T21:13:33.123456789Z`` (or ``±HH:MM``) to Unix nanoseconds; None if malformed."""
    try:
        base, rest = t[:19], t[19:]
        if (sec := _SEC_CACHE.get(base)) is None:
            if base[4:17:3].upper() != "--T::":
                return None
            if len(_SEC_CACHE) > 4096:  # consecutive lines share seconds; keep the cache small
                _SEC_CACHE.clear()
            from datetime import UTC, datetime  # readers only; the monitor never gets here

            y, mo, d, h, mi, s = (int(base[i:i + 2 + 2 * (i == 0)]) for i in (0, 5, 8, 11, 14, 17))
            sec = _SEC_CACHE[base] = int(datetime(y, mo, d, h, mi, s, tzinfo=UTC).timestamp())
        if rest[-1:] in ("Z", "z"):
            rest, off = rest[:-1], 0
        elif len(rest) >= 6 and rest[-6] in "+-" and rest[-3] == ":":
            off = (int(rest[-5:-3]) * 3600 + int(rest[-2:]) * 60) * (-1 if rest[-6] == "-" else 1)
            rest = rest[:-6]
        else:
            return None
        if rest and not (rest[0] == "." and rest[1:].isascii() and rest[1:].isdigit()):
            return None
        return (sec - off) * 1_000_000_000 + (int((rest[1:] + "0" * 9)[:9]) if rest else 0)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One json-file line: the stream, the raw output (with its newline) and its time."""

    stream: str
    data: bytes
    time_ns: int


def format_entry(e: LogEntry, timestamps: bool = False) -> bytes:
    """The entry as ``docker logs`` prints it; ``-t`` adds a fixed-width RFC3339Nano time."""
    return (rfc3339_nano(e.time_ns, fixed=True).encode() + b" " if timestamps else b"") + e.data


def parse_line(raw: bytes) -> LogEntry | None:
    """One json-file line; None for anything malformed (readers skip those)."""
    try:
        d = json.loads(raw)
        log, stream, t = d.get("log", ""), d.get("stream", "stdout"), d["time"]
    except (ValueError, AttributeError, KeyError, TypeError):  # not JSON, not an object
        return None
    ns = parse_time(t) if isinstance(t, str) else None
    if ns is None or not isinstance(log, str) or not isinstance(stream, str):
        return None
    return LogEntry(stream, log.encode("utf-8", "replace"), ns)


def rotated_name(path: Path, k: int, gz: bool = False) -> Path:
    return path.with_name(f"{path.name}.{k}{'.gz' if gz else ''}")


def rotated_files(path: Path) -> list[tuple[int, Path, bool]]:
    """``ctr.log.K`` and ``ctr.log.K.gz`` as (K, path, gzipped), newest (K=1) first and,
    for one K, the plain file first: while it is being compressed it is the complete one."""
    prefix = path.name + "."
    try:
        names = os.listdir(path.parent)
    except FileNotFoundError:
        return []
    out = []
    for name in names:
        num = name[len(prefix):].removesuffix(".gz") if name.startswith(prefix) else ""
        if num.isdigit():
            out.append((int(num), path.parent / name, name.endswith(".gz")))
    return sorted(out)


def __getattr__(name: str) -> Any:
    # The writer and the reader import this module, so they are re-exported lazily.
    if name == "LogWriter":
        from .logs_write import LogWriter

        return LogWriter
    if name in ("read_logs", "follow_logs"):
        from . import logs_read

        return getattr(logs_read, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
