"""Whether the engine's code changed under a running zygote (then it must not fork more).

A zygote forks every monitor from the modules it loaded at start; after an
edit, a checkout or an upgrade those are stale, and a front end told so starts
a new zygote. The zygote watches the directories of the engine modules it has
loaded with inotify, so a request costs one non-blocking read instead of a stat
of every module (~100 files, ≈0.4 ms on each start). On a filesystem where a
watch cannot be added, it falls back to those stats.
"""

from __future__ import annotations

import contextlib
import os
import struct
import sys

from ..sys import libc

Stamp = tuple[int, int, int]
_EVENTS = (libc.IN_MODIFY | libc.IN_ATTRIB | libc.IN_MOVED_TO | libc.IN_MOVED_FROM
           | libc.IN_CREATE | libc.IN_DELETE | libc.IN_DELETE_SELF | libc.IN_MOVE_SELF)
_EVENT = struct.Struct("iIII")  # struct inotify_event: wd, mask, cookie, len; then the name


def module_stamps(engine_dir: str) -> dict[str, Stamp]:
    """(mtime, size, inode) of every module under ``engine_dir`` this process has loaded."""
    prefix = engine_dir.rstrip(os.sep) + os.sep
    out = {}
    for mod in list(sys.modules.values()):
        path = getattr(mod, "__file__", None)
        if path and path.startswith(prefix):
            with contextlib.suppress(OSError):
                st = os.stat(path)
                out[path] = (st.st_mtime_ns, st.st_size, st.st_ino)
    return out


def stamps_now(stamps: dict[str, Stamp]) -> dict[str, Stamp | None]:
    out: dict[str, Stamp | None] = {}
    for path in stamps:
        try:
            st = os.stat(path)
            out[path] = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            out[path] = None
    return out


class CodeWatch:
    """The loaded engine modules, watched on ``fd`` (an inotify fd shared with other watches)."""

    def __init__(self, fd: int, engine_dir: str) -> None:
        self.fd = fd
        self.stamps = module_stamps(engine_dir)
        self.seen = False
        self.wds: set[int] | None = set()
        try:
            for d in sorted({os.path.dirname(p) for p in self.stamps}):
                self.wds.add(libc.inotify_add_watch(fd, d, _EVENTS))
        except OSError:
            self.wds = None

    def changed(self) -> bool:
        if self.wds is None:
            return stamps_now(self.stamps) != self.stamps
        self.drain()  # an event that raced the request
        return self.seen

    def drain(self) -> None:
        """Read the pending events; note one that touches a module file or its directory."""
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return
        if self.wds and touches_code(data, self.wds):
            self.seen = True


def touches_code(data: bytes, wds: set[int]) -> bool:
    at = 0
    while at + _EVENT.size <= len(data):
        wd, mask, _cookie, length = _EVENT.unpack_from(data, at)
        name = data[at + _EVENT.size:at + _EVENT.size + length].rstrip(b"\0")
        at += _EVENT.size + length
        if wd in wds and (name.endswith(b".py")
                          or mask & (libc.IN_DELETE_SELF | libc.IN_MOVE_SELF)):
            return True
    return False
