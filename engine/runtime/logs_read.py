"""Reader side of the container log: ``pydock logs [-f] [--tail N] [--since] [--until]``.

The file set is ``ctr.log.N`` (oldest) … ``ctr.log.1``, ``ctr.log`` (newest); rotated
files may be gzipped (``ctr.log.K.gz``). Readers never lock the writer out: they open
the files they will read up front and recognise them by inode (or, for a gzipped copy,
by first line), so a rotation racing with a read neither loses nor repeats entries.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from .logs import MAX_LINE, LogEntry, parse_line, rotated_files, rotated_name
from .logs import format_entry as format_entry  # where the CLI looks

BLOCK = 64 * 1024  # backwards-read unit for --tail
_LONGEST_LINE = 6 * MAX_LINE + 1024  # json-file line for a full 16 KiB of control bytes
_MAX_PENDING = 4 * 1024 * 1024  # a follower drops an unterminated run longer than this


def _open(path: Path) -> BinaryIO:
    # Every read goes through here, so a test can count the bytes a --tail reads.
    return open(path, "rb")


class _Seg:
    """One file of the set, opened at snapshot time; gzip members are inflated on use."""

    def __init__(self, f: BinaryIO, gz: bool, end: int | None = None) -> None:
        self.f, self.gz, self.end = f, gz, end

    def view(self) -> tuple[BinaryIO, int]:
        self.f.seek(0)
        if not self.gz:
            return self.f, self.end if self.end is not None else os.fstat(self.f.fileno()).st_size
        import gzip  # rare: only compressed rotations need it

        try:
            data = gzip.decompress(self.f.read())
        except (OSError, EOFError):  # a damaged archive reads as empty, like a malformed line
            data = b""
        return io.BytesIO(data), len(data)

    def head(self) -> bytes:
        """The first line: with its nanosecond time, what identifies a gzipped copy."""
        self.f.seek(0)
        if not self.gz:
            return self.f.readline()
        import gzip

        try:  # only the first block is inflated
            return gzip.GzipFile(fileobj=self.f).readline()
        except (OSError, EOFError):
            return b""

    def matches(self, ino: int, head: bytes) -> bool:
        """Is this the file with inode ``ino`` or its gzipped copy (same first line)?"""
        if not self.gz:
            return os.fstat(self.f.fileno()).st_ino == ino
        return bool(head) and self.head() == head


def _open_split(path: Path, ino: int, head: bytes) -> tuple[list[_Seg], list[_Seg], bool]:
    """Open the rotated files and split them around the one that is inode ``ino`` or its
    gzipped copy (same first line): (older, newer, found), oldest first, without it."""
    kept: list[_Seg] = []  # newest first
    drop: list[_Seg] = []
    cut, inodes, heads = -1, set(), set()
    listed = rotated_files(path)
    top, gz_mode = max((k for k, _, _ in listed), default=0), any(gz for _, _, gz in listed)
    # Newest first, every number up to one past the last: one rotation shifting the set
    # as we scan moves each file, atomically, to a number still ahead (more: see _split).
    for k in range(1, top + 2):
        seg = None
        for gz in (False, True):  # plain first: while it is being compressed it is whole
            with contextlib.suppress(FileNotFoundError):
                seg = _Seg(_open(rotated_name(path, k, gz)), gz)
                break
        if seg is None:
            continue
        st_ino, h = os.fstat(seg.f.fileno()).st_ino, seg.head() if gz_mode or seg.gz else b""
        if st_ino in inodes or (seg.gz and h and h in heads):  # seen before it moved up, or
            drop.append(seg)  # the gzipped copy of a plain file we hold
        elif cut < 0 and (h == head != b"" if seg.gz else st_ino == ino):
            drop.append(seg)
            cut = len(kept)
        else:
            kept.append(seg)
        inodes.add(st_ino)
        heads.add(h)
    for seg in drop:  # closed only now: an unlinked file's inode number could be reused
        seg.f.close()
    if cut < 0:
        return kept[::-1], [], False
    return kept[cut:][::-1], kept[:cut][::-1], True


def _line_end(f: BinaryIO, size: int) -> int:
    """Offset after the last newline before ``size``; no line is longer than one read."""
    start = max(0, size - _LONGEST_LINE)
    f.seek(start)
    return start + f.read(size - start).rfind(b"\n") + 1


def _split(path: Path, f: BinaryIO | None) -> tuple[list[_Seg], list[_Seg], bool]:
    """:func:`_open_split` around ``f`` (its first line read anew: it may have been empty),
    again if the set rotated meanwhile: a newer file can then turn up behind an older one."""
    for attempt in range(5):
        try:  # held open, so its inode number cannot be reused by a newer file meanwhile
            anchor: BinaryIO | None = _open(path)
        except FileNotFoundError:
            anchor = None
        ino = os.fstat(f.fileno()).st_ino if f else -1
        older, newer, found = _open_split(path, ino, _Seg(f, False).head() if f else b"")
        same = _inode(path) == (os.fstat(anchor.fileno()).st_ino if anchor else -1)
        if anchor:
            anchor.close()
        if same or attempt == 4:  # or rotating all the time: take what we have
            return older, newer, found
        for seg in older + newer:
            seg.f.close()
    raise AssertionError("unreachable")


def _snapshot(path: Path) -> tuple[list[_Seg], _Seg | None]:
    """The file set, oldest first, and the current file's segment, which ends after its
    last complete line (a half-written one is left for the follower, not dropped)."""
    try:
        cur: _Seg | None = _Seg(_open(path), False)
    except FileNotFoundError:
        cur = None
    older, newer, _ = _split(path, cur.f if cur else None)
    for seg in newer:  # rotated after we opened the current file: later entries
        seg.f.close()
    if not cur:
        return older, None
    cur.end = _line_end(cur.f, os.fstat(cur.f.fileno()).st_size)
    return older + [cur], cur


def _inode(path: Path) -> int:
    try:
        return os.stat(path).st_ino
    except FileNotFoundError:
        return -1


def _backward(f: BinaryIO, end: int) -> Iterator[bytes]:
    pos, carry = end, b""
    while pos > 0:
        start = max(0, pos - BLOCK)
        f.seek(start)
        lines = (f.read(pos - start) + carry).split(b"\n")
        pos, carry = start, lines[0]
        for line in reversed(lines[1:]):
            if line:
                yield line
    if carry:
        yield carry


def _forward(f: BinaryIO, end: int) -> Iterator[bytes]:
    f.seek(0)
    left = end
    while left > 0 and (line := f.readline(left)):
        left -= len(line)
        yield line


def _newest_first(segs: list[_Seg], since: int | None,
                  until: int | None) -> Iterator[LogEntry]:
    for seg in reversed(segs):
        f, end = seg.view()
        for raw in _backward(f, end):
            e = parse_line(raw)
            if e is None or (until is not None and e.time_ns > until):
                continue
            if since is not None and e.time_ns < since:
                return  # the writer stamps lines in file order: nothing older matches
            yield e


def _emit(segs: list[_Seg], tail: int | None, since: int | None,
          until: int | None) -> Iterator[LogEntry]:
    if tail is not None and tail >= 0:  # lazily, so only the last blocks are ever read
        yield from reversed(list(itertools.islice(_newest_first(segs, since, until), tail)))
        return
    for seg in segs:
        f, end = seg.view()
        for raw in _forward(f, end):
            e = parse_line(raw)
            if e is not None and (since is None or e.time_ns >= since) \
                    and (until is None or e.time_ns <= until):
                yield e


def _ns(t: float | None) -> int | None:
    return None if t is None else int(t * 1_000_000_000)


def read_logs(path: Path, *, tail: int | None = None, since: float | None = None,
              until: float | None = None) -> Iterator[LogEntry]:
    """Entries already written, oldest first, across rotated files.

    ``tail=N`` keeps the last N entries that pass ``since``/``until`` (Unix seconds,
    inclusive) and reads the files backwards, so its cost follows N, not the log size.
    A negative ``tail`` means all, like docker's ``--tail all``.
    """
    segs, _ = _snapshot(path)
    try:
        yield from _emit(segs, tail, _ns(since), _ns(until))
    finally:
        for s in segs:
            s.f.close()


class _Live:
    """The file a follower is reading: where it stopped and the unterminated rest."""

    def __init__(self, f: BinaryIO, pos: int) -> None:
        self.f, self.pos, self.buf = f, pos, b""
        self.ino = os.fstat(f.fileno()).st_ino

    def drain(self, since: int | None = None) -> Iterator[LogEntry]:
        self.f.seek(self.pos)
        while chunk := self.f.read(1 << 20):
            self.pos += len(chunk)
            *lines, self.buf = (self.buf + chunk).split(b"\n")
            if len(self.buf) > _MAX_PENDING:
                self.buf = b""
            for raw in lines:
                if (e := parse_line(raw)) is not None and (since is None or e.time_ns >= since):
                    yield e


def _switch(path: Path, old: _Live, new: _Live, since: int | None) -> Iterator[LogEntry]:
    """Finish ``old`` after a rotation, then any files rotated between it and ``new``
    (several rotations within one poll), which was opened before looking for them."""
    try:
        yield from old.drain(since)  # every write to it happened before its rename
        older, newer, _ = _split(path, old.f)
        new_head = _Seg(new.f, False).head()
        between = list(itertools.takewhile(lambda seg: not seg.matches(new.ino, new_head), newer))
        try:
            yield from _emit(between, None, since, None)
        finally:
            for seg in older + newer:
                seg.f.close()
    finally:
        old.f.close()


def follow_logs(path: Path, *, since: float | None = None, tail: int | None = None,
                stop: Callable[[], bool], poll: float = 0.1) -> Iterator[LogEntry]:
    """``logs -f``: the backlog (as :func:`read_logs`), then entries as they are appended.

    Survives rotation (the path's inode changes: finish the old file, then read the new
    one from its start) and truncation (the file shrinks: rewind). Ends once ``stop()``
    is true and everything written before that check has been yielded.
    """
    since_ns = _ns(since)
    segs, cur = _snapshot(path)
    live = _Live(cur.f, cur.end or 0) if cur is not None else None
    try:
        try:
            yield from _emit(segs, tail, since_ns, None)
        finally:
            for s in segs[:-1] if cur is not None else segs:
                s.f.close()
        while True:
            stopping = stop()  # checked before draining so the final output is not cut off
            if live is not None:
                yield from live.drain(since_ns)
            ino = _inode(path)  # -1 between a rotation's rename and the new file
            if ino != -1 and (live is None or ino != live.ino):
                try:
                    new = _Live(_open(path), 0)
                except FileNotFoundError:
                    pass  # renamed again already: keep the old file to find its successors
                else:
                    old, live = live, new  # so that `finally` closes the new file
                    if old is not None:
                        yield from _switch(path, old, new, since_ns)
                    continue
            elif live is not None and os.fstat(live.f.fileno()).st_size < live.pos:
                live.pos, live.buf = 0, b""  # truncated in place (max-file=1)
                continue
            if stopping:
                return
            time.sleep(poll)
    finally:
        if live is not None:
            live.f.close()
