"""Writer side of the container log: docker's json-file format, with rotation.

The monitor process owns one :class:`LogWriter` per container. It is imported
by that small, single-threaded process, so it sticks to the standard library
(``gzip`` is imported only when a compressed rotation actually happens).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.errors import InvalidArgument, Unavailable

# docker's copier reads stdio through a 16 KiB buffer and emits a full buffer
# without a newline as a partial message; we keep the same unit.
MAX_LINE = 16 * 1024

_SIZE_RE = re.compile(r"(\d+(?:\.\d+)?) ?([kmgtp]?)i?b?", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
_TRUE = {"1", "t", "true"}  # Go's strconv.ParseBool, which docker uses for compress
_FALSE = {"0", "f", "false"}

# Go's encoder (docker writes json-file through it) escapes control characters
# as \u00XX except \n and \r, and also <, >, & and U+2028/9 (HTML-safe JSON).
# U+FFFD comes out escaped because in docker it only appears for invalid bytes.
_ESCAPES: dict[int, str] = {c: f"\\u{c:04x}" for c in range(0x20)}
_ESCAPES.update({ord("\n"): "\\n", ord("\r"): "\\r", ord('"'): '\\"', ord("\\"): "\\\\"})
_ESCAPES.update({c: f"\\u{c:04x}" for c in (ord("<"), ord(">"), ord("&"), 0x2028, 0x2029, 0xFFFD)})


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
    if _last_second[0] != sec:  # lines come in bursts within one second: format it once
        _last_second = (sec, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)))
    digits = f"{frac:09d}" if fixed else f"{frac:09d}".rstrip("0")
    return f"{_last_second[1]}.{digits}Z" if digits else f"{_last_second[1]}Z"


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


def utf8_cut(data: bytes, n: int) -> int:
    """An offset at most ``n`` that does not split a UTF-8 sequence (``n`` if none is found),
    so a 16 KiB partial chunk does not turn one character into two replacement marks."""
    cut = n
    while cut > n - 4 and cut > 0 and cut < len(data) and (data[cut] & 0xC0) == 0x80:
        cut -= 1
    if cut <= 0 or (cut < len(data) and (data[cut] & 0xC0) == 0x80):
        return n
    return cut


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


class LogWriter:
    """Appends stdout/stderr data to ``path`` as json-file lines and rotates the file set.

    Single-threaded by design (the monitor is). Every batch goes out in one
    ``os.write`` on an ``O_APPEND`` descriptor, so readers see whole lines in
    practice, and rotation only renames, so a reader holding the old file keeps
    reading it to its end.
    """

    def __init__(self, path: Path, opts: LogOptions | None = None, *,
                 clock: Callable[[], int] = time.time_ns) -> None:
        self.path = path
        self.opts = opts or LogOptions()
        self._clock = clock
        self._pending: dict[str, bytes] = {}
        self._fd = -1
        self._size = 0
        self._open()

    def _open(self) -> None:
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC,
                               0o640)
            self._size = os.fstat(self._fd).st_size
        except OSError as err:
            raise Unavailable(f"cannot open container log {self.path}: {err.strerror}") from err

    def write(self, stream: str, data: bytes) -> None:
        """Log ``data`` from ``stream`` ("stdout"/"stderr"): whole lines now, the rest later."""
        if stream not in ("stdout", "stderr"):
            raise ValueError(f"unknown stream {stream!r}")
        buf = self._pending.get(stream, b"") + data
        pieces: list[bytes] = []
        start = 0
        while (nl := buf.find(b"\n", start)) >= 0:
            pieces.extend(_chunks(buf[start:nl + 1]))
            start = nl + 1
        rest = buf[start:]
        while len(rest) >= MAX_LINE:  # a full buffer without newline goes out as a partial line
            cut = utf8_cut(rest, MAX_LINE)
            pieces.append(rest[:cut])
            rest = rest[cut:]
        self._pending[stream] = rest
        if pieces:
            now = self._clock()
            self._append([self._encode(stream, p, now) for p in pieces])

    def flush(self) -> None:
        """Write buffered partial lines as they are (at stream end, before the exit is recorded)."""
        now = self._clock()
        lines = [self._encode(s, b, now) for s, b in self._pending.items() if b]
        self._pending.clear()
        self._append(lines)

    def close(self) -> None:
        if self._fd >= 0:
            self.flush()
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> LogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _encode(self, stream: str, data: bytes, now_ns: int) -> bytes:
        text = data.decode("utf-8", "replace").translate(_ESCAPES)
        return f'{{"log":"{text}","stream":"{stream}","time":"{rfc3339_nano(now_ns)}"}}\n'.encode()

    def _append(self, lines: list[bytes]) -> None:
        batch = bytearray()
        for line in lines:
            used = self._size + len(batch)
            if used and used + len(line) > self.opts.max_size:
                self._write_all(batch)
                batch.clear()
                self._rotate()
            batch += line
        self._write_all(batch)

    def _write_all(self, data: bytes | bytearray) -> None:
        view = memoryview(data)
        try:
            while view:
                n = os.write(self._fd, view)
                self._size += n
                view = view[n:]
        except OSError as err:
            raise Unavailable(f"cannot write container log {self.path}: {err.strerror}") from err

    def _rotate(self) -> None:
        try:
            if self.opts.max_file <= 1:
                # One file only: start it over. Followers notice the shrink and rewind.
                os.ftruncate(self._fd, 0)
                self._size = 0
                return
            keep = self.opts.max_file - 1  # rotated files kept besides the current one
            # Highest number first so no rename lands on a file still to be moved; numbers
            # past the limit (also leftovers of a larger max-file) are dropped.
            for k, p, gz in sorted(rotated_files(self.path), reverse=True):
                if k >= keep:
                    os.unlink(p)
                else:
                    os.rename(p, rotated_name(self.path, k + 1, gz))
            os.rename(self.path, rotated_name(self.path, 1))
            os.close(self._fd)
            self._open()
            if self.opts.compress:
                self._compress(rotated_name(self.path, 1))
        except OSError as err:
            raise Unavailable(f"cannot rotate container log {self.path}: {err.strerror}") from err

    @staticmethod
    def _compress(src: Path) -> None:
        import gzip  # only paid for by containers that asked for compression
        import shutil

        tmp = src.with_name(src.name + ".gz.tmp")
        with open(src, "rb") as fin, gzip.open(tmp, "wb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
        # Readers prefer the plain file while both exist, so this order never hides data.
        os.rename(tmp, src.with_name(src.name + ".gz"))
        os.unlink(src)


def _chunks(line: bytes) -> list[bytes]:
    """A complete line longer than docker's buffer becomes partial chunks plus the end."""
    out = []
    while len(line) > MAX_LINE:
        cut = utf8_cut(line, MAX_LINE)
        out.append(line[:cut])
        line = line[cut:]
    out.append(line)
    return out
