"""Writer side of the container log: docker's json-file format, with rotation.

The monitor process owns one :class:`LogWriter` per container. It is imported
by that small, single-threaded process, so it sticks to the standard library
(``gzip`` is imported only when a compressed rotation actually happens).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from engine.errors import Unavailable

from .logs import MAX_LINE, LogOptions, rfc3339_nano, rotated_files, rotated_name
from .logs import parse_log_opts as parse_log_opts  # where the monitor and create look

# Go's encoder (docker writes json-file through it) escapes control characters
# as \u00XX except \n and \r, and also <, >, & and U+2028/9 (HTML-safe JSON).
# U+FFFD comes out escaped because in docker it only appears for invalid bytes.
_ESCAPES: dict[int, str] = {c: f"\\u{c:04x}" for c in range(0x20)}
_ESCAPES.update({ord("\n"): "\\n", ord("\r"): "\\r", ord('"'): '\\"', ord("\\"): "\\\\"})
_ESCAPES.update({c: f"\\u{c:04x}" for c in (ord("<"), ord(">"), ord("&"), 0x2028, 0x2029, 0xFFFD)})


def utf8_cut(data: bytes, n: int) -> int:
    """An offset at most ``n`` that does not split a UTF-8 sequence (``n`` if none is found),
    so a 16 KiB partial chunk does not turn one character into two replacement marks."""
    cut = n
    while cut > n - 4 and cut > 0 and cut < len(data) and (data[cut] & 0xC0) == 0x80:
        cut -= 1
    if cut <= 0 or (cut < len(data) and (data[cut] & 0xC0) == 0x80):
        return n
    return cut


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
        # Level 6 (Go's default, docker's too): the monitor stalls its pipes while it runs.
        with open(src, "rb") as fin, gzip.open(tmp, "wb", compresslevel=6) as fout:
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
