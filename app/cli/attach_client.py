"""The terminal side of attach: relay stdio to a container's monitor over its socket."""

from __future__ import annotations

import contextlib
import json
import os
import select
import struct
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from engine.runtime import attach

if TYPE_CHECKING:
    from engine.sys.usock import UnixSocket

DETACH = b"\x10\x11"  # ctrl-p ctrl-q, docker's default detach keys


# termios, tty and signal only in a terminal: a plain `run` skips ~1 ms of imports.
def _winsize(fd: int) -> tuple[int, int]:
    import fcntl
    import termios

    rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
    return rows, cols


@contextlib.contextmanager
def _raw(fd: int, enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    import termios
    import tty

    old = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, old)


def send_size(sock: UnixSocket) -> None:
    if os.isatty(sys.stdout.fileno()):
        rows, cols = _winsize(sys.stdout.fileno())
        sock.sendall(attach.json_frame(attach.RESIZE, {"rows": rows, "cols": cols}))


def relay(sock: UnixSocket, *, stdin: bool, tty_mode: bool) -> tuple[int | None, bool]:
    """Pump until the container exits or the user detaches; (exit code, detached)."""
    in_fd = sys.stdin.fileno()
    out = sys.stdout.buffer
    err = sys.stderr.buffer
    use_tty = tty_mode and os.isatty(in_fd)
    reader = attach.FrameReader()
    pending = b""
    winch_r, winch_w = os.pipe()
    old_handler: Any = None
    if use_tty:
        import signal

        old_handler = signal.signal(signal.SIGWINCH, lambda *_: os.write(winch_w, b"x"))
        send_size(sock)
    watch: list[Any] = [sock, winch_r] + ([in_fd] if stdin else [])
    try:
        with _raw(in_fd, use_tty):
            while True:
                ready, _, _ = select.select(watch, [], [])
                if winch_r in ready:
                    os.read(winch_r, 64)
                    send_size(sock)
                if stdin and in_fd in ready:
                    data = os.read(in_fd, 65536)
                    if not data:
                        sock.sendall(attach.frame(attach.STDIN_EOF, b""))
                        watch.remove(in_fd)
                    else:
                        if use_tty:
                            data = pending + data
                            if DETACH in data:
                                before = data[:data.index(DETACH)]
                                if before:
                                    sock.sendall(attach.frame(attach.STDIN, before))
                                return None, True
                            # Hold back a trailing ctrl-p: it may start the detach keys.
                            pending = b"\x10" if data.endswith(b"\x10") else b""
                            data = data[:-1] if pending else data
                        if data:
                            sock.sendall(attach.frame(attach.STDIN, data))
                if sock in ready:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return None, False
                    for kind, payload in reader.feed(chunk):
                        if kind == attach.STDOUT:
                            out.write(payload)
                            out.flush()
                        elif kind == attach.STDERR:
                            err.write(payload)
                            err.flush()
                        elif kind == attach.EXIT:
                            return int(json.loads(payload)["code"]), False
    finally:
        if old_handler is not None:
            import signal

            signal.signal(signal.SIGWINCH, old_handler)
        os.close(winch_r)
        os.close(winch_w)
