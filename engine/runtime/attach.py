"""The attach protocol between a container's monitor and its clients (a unix socket).

Frames are ``type (1 byte) | length (4 bytes, big-endian) | payload``. The monitor
sends output and, at the end, the exit code; clients send input, window sizes
and the end of their input. Docker's detach keys (ctrl-p ctrl-q) are a client
matter: the client just closes its end.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..sys.usock import UnixSocket

if TYPE_CHECKING:
    import socket

STDIN, STDOUT, STDERR, EXIT, RESIZE, STDIN_EOF = 0, 1, 2, 3, 4, 5
_HEAD = struct.Struct(">BI")
MAX_FRAME = 1 << 20


def frame(kind: int, payload: bytes) -> bytes:
    return _HEAD.pack(kind, len(payload)) + payload


def json_frame(kind: int, obj: Any) -> bytes:
    return frame(kind, json.dumps(obj).encode())


class FrameReader:
    """Incremental parser: feed bytes, get complete frames."""

    def __init__(self) -> None:
        self.buf = b""

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self.buf += data
        out = []
        while len(self.buf) >= _HEAD.size:
            kind, n = _HEAD.unpack_from(self.buf)
            if n > MAX_FRAME:
                raise ValueError("attach frame too large")
            if len(self.buf) < _HEAD.size + n:
                break
            out.append((kind, self.buf[_HEAD.size:_HEAD.size + n]))
            self.buf = self.buf[_HEAD.size + n:]
        return out


def _via_fd(path: str, act: Callable[[str], None]) -> None:
    """Run ``act`` on a short alias of ``path``: unix socket paths stop at 108 bytes.

    ``/proc/self/fd/N/attach.sock`` names the same file through an open
    descriptor of its directory, whatever the length of the real path.
    """
    d, base = os.path.split(path)
    fd = os.open(d or ".", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        act(f"/proc/self/fd/{fd}/{base}")
    finally:
        os.close(fd)


def connect(path: str, timeout: float = 5.0) -> UnixSocket:
    s = UnixSocket()  # not socket.socket: front ends skip importing socket
    s.settimeout(timeout)
    try:
        _via_fd(path, s.connect)
    except BaseException:
        s.close()
        raise
    s.settimeout(None)
    return s


def bind(s: socket.socket, path: str) -> None:
    _via_fd(path, s.bind)
