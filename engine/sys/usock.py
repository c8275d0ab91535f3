"""Unix stream sockets for front ends, built on ``_socket``, the C module ``socket`` wraps.

``import socket`` costs every ``pydock run`` ~2.5 ms (four IntEnum conversions,
selectors, math, array); a client that connects, sends and receives needs none
of it. :class:`UnixSocket` is a ``_socket.socket`` (the same methods as
``socket.socket`` but ``makefile`` and ``dup``) that also works as a context
manager. Monitors and the zygote keep the full module: it is preloaded there.
"""

from __future__ import annotations

import _socket
import struct
from typing import Any

AF_UNIX = _socket.AF_UNIX
SOCK_STREAM = _socket.SOCK_STREAM
_SOL_SOCKET = _socket.SOL_SOCKET
_SCM_RIGHTS = _socket.SCM_RIGHTS


class UnixSocket(_socket.socket):
    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(AF_UNIX, SOCK_STREAM | _socket.SOCK_CLOEXEC)

    def __enter__(self) -> UnixSocket:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def send_fds(sock: Any, buffers: list[bytes], fds: list[int]) -> int:
    """``socket.send_fds``: ``buffers`` with ``fds`` attached (SCM_RIGHTS)."""
    return int(sock.sendmsg(buffers, [(_SOL_SOCKET, _SCM_RIGHTS,
                                       struct.pack(f"{len(fds)}i", *fds))]))
