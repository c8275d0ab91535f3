"""An append-only event log that every process sharing a root can follow.

Each event is one JSON line in ``<root>/events.jsonl`` (docker's event shape).
Lines are written with a single ``write`` on an ``O_APPEND`` descriptor under an
exclusive ``flock``, so concurrent writers never interleave and a follower never
sees half a line it would keep. The log rotates to ``events.jsonl.1`` past
``max_bytes``; followers notice by inode and reopen.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from .fsutil import file_lock

if TYPE_CHECKING:
    from .types import EventRecord

MAX_BYTES = 16 * 1024 * 1024


class EventLog:
    def __init__(self, path: Path, lock: Path, *, max_bytes: int = MAX_BYTES) -> None:
        self.path = path
        self.lock = lock
        self.max_bytes = max_bytes

    def emit(self, type: str, action: str, actor_id: str,  # noqa: A002 - docker's field name
             attributes: dict[str, str] | None = None) -> EventRecord:
        from .types import EventRecord

        ev = EventRecord(type, action, actor_id, dict(attributes or {}), time.time_ns())
        line = (json.dumps(ev.to_json(), separators=(",", ":")) + "\n").encode()
        with file_lock(self.lock):
            self._rotate_if_needed()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        return ev

    def _rotate_if_needed(self) -> None:
        try:
            if self.path.stat().st_size >= self.max_bytes:
                os.replace(self.path, self.path.with_name(self.path.name + ".1"))
        except FileNotFoundError:
            pass

    def read(self, *, since: float | None = None, until: float | None = None,
             match: Callable[[EventRecord], bool] | None = None) -> list[EventRecord]:
        """Events already logged (rotated file included), oldest first."""
        out: list[EventRecord] = []
        for p in (self.path.with_name(self.path.name + ".1"), self.path):
            try:
                with open(p, "rb") as f:
                    for raw in f:
                        ev = _parse(raw)
                        if ev is not None and _keep(ev, since, until, match):
                            out.append(ev)
            except FileNotFoundError:
                continue
        return out

    def follow(self, *, since: float | None = None, until: float | None = None,
               match: Callable[[EventRecord], bool] | None = None,
               poll: float = 0.2, stop: Callable[[], bool] | None = None) -> Iterator[EventRecord]:
        """Yield past events from ``since`` (none if ``None``), then new ones as they come.

        Ends when ``until`` passes or ``stop()`` turns true. Polling at ``poll``
        seconds keeps this dependency-free; events from another process show up
        within that interval.
        """
        if since is not None:
            yield from self.read(since=since, until=until, match=match)
        f: BinaryIO | None = None
        ino = -1
        pending = b""
        try:
            # Start at the current end: what came before was covered by read().
            f, ino = self._open_at_end()
            while True:
                if stop is not None and stop():
                    return
                if until is not None and time.time() > until:
                    return
                chunk = f.read() if f is not None else b""
                if chunk:
                    pending += chunk
                    *lines, pending = pending.split(b"\n")
                    for raw in lines:
                        ev = _parse(raw)
                        if ev is not None and _keep(ev, None, until, match):
                            yield ev
                    continue
                try:
                    cur = os.stat(self.path).st_ino
                except FileNotFoundError:
                    cur = -1
                if cur != ino and cur != -1:
                    if f is not None:
                        f.close()
                    f, ino = open(self.path, "rb"), cur
                    continue
                time.sleep(poll)
        finally:
            if f is not None:
                f.close()

    def _open_at_end(self) -> tuple[BinaryIO | None, int]:
        try:
            f = open(self.path, "rb")
        except FileNotFoundError:
            return None, -1
        f.seek(0, os.SEEK_END)
        return f, os.fstat(f.fileno()).st_ino


def _parse(raw: bytes) -> EventRecord | None:
    raw = raw.strip()
    if not raw:
        return None
    from .types import EventRecord

    try:
        return EventRecord.from_json(json.loads(raw))
    except (ValueError, TypeError, AttributeError):
        return None  # a torn line from a crashed writer is skipped, not fatal


def _keep(ev: EventRecord, since: float | None, until: float | None,
          match: Callable[[EventRecord], bool] | None) -> bool:
    if since is not None and ev.time < since:
        return False
    if until is not None and ev.time > until:
        return False
    return match is None or match(ev)
