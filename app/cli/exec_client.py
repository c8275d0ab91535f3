"""The terminal side of ``exec -t``: relay this terminal and the pty master directly.

Unlike attach there is no monitor in between: the master of the pty that the
exec'd program got inside the container was handed to us, so bytes go straight
between our terminal (in raw mode) and the master, and SIGWINCH resizes it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import select
import signal
import struct
import termios
import tty
from collections.abc import Iterator
from typing import Any

from engine.runtime.exec import ExecProcess


def terminal_size() -> tuple[int, int] | None:
    """(rows, cols) of whichever standard stream is a terminal."""
    for fd in (1, 0, 2):
        if os.isatty(fd):
            rows, cols, _, _ = struct.unpack(
                "HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
            if rows and cols:
                return rows, cols
    return None


@contextlib.contextmanager
def raw_mode(fd: int, enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    old = termios.tcgetattr(fd)
    try:
        tty.setraw(fd, termios.TCSADRAIN)  # not TCSAFLUSH: keep what was typed ahead
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, old)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except BlockingIOError:
        return b""
    except OSError as err:
        if err.errno == errno.EIO:  # the last slave fd closed: the program is gone
            return b""
        raise


def relay(proc: ExecProcess, *, stdin: bool, in_fd: int = 0, out_fd: int = 1) -> int:
    """Pump until the program ends; return its exit code."""
    master = proc.master
    if master is None:
        return proc.wait()
    use_raw = stdin and os.isatty(in_fd)
    winch_r, winch_w = os.pipe()
    os.set_blocking(winch_w, False)
    old: Any = None
    if os.isatty(out_fd) or os.isatty(in_fd):
        old = signal.signal(signal.SIGWINCH, lambda *_: _poke(winch_w))
    watch = [master, winch_r, proc.pidfd] + ([in_fd] if stdin else [])
    try:
        with raw_mode(in_fd, use_raw):
            while True:
                ready, _, _ = select.select(watch, [], [])
                if master in ready:
                    data = _read(master)
                    if not data:
                        break
                    _write_all(out_fd, data)
                if winch_r in ready:
                    os.read(winch_r, 64)
                    size = terminal_size()
                    if size is not None:
                        proc.resize(*size)
                if in_fd in ready:
                    data = os.read(in_fd, 65536)
                    if data:
                        _write_all(master, data)
                    else:
                        watch.remove(in_fd)
                        if not use_raw:
                            _write_all(master, b"\x04")  # EOF for the program's line discipline
                if proc.pidfd in ready:
                    # The program ended but something may still hold the slave: drain and stop.
                    os.set_blocking(master, False)
                    while data := _read(master):
                        _write_all(out_fd, data)
                    break
    finally:
        if old is not None:
            signal.signal(signal.SIGWINCH, old)
        os.close(winch_r)
        os.close(winch_w)
    return proc.wait()


def _poke(fd: int) -> None:
    with contextlib.suppress(BlockingIOError):
        os.write(fd, b"x")
