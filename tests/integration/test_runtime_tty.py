"""``run -it`` and ``attach`` through a real pseudo-terminal, as a user would type."""

from __future__ import annotations

import os
import pty
import select
import struct
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.runtime_helpers import (
    IMAGE,
    PYDOCK,
    REPO,
    eventually,
    import_busybox,
    inspect,
    pydock,
    remove_all,
)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


@pytest.fixture
def rt(root: Path, tmp_path: Path) -> Iterator[Path]:
    import_busybox(root, tmp_path)
    yield root
    remove_all(root)


class Term:
    """The CLI running on a pty we hold the master of."""

    def __init__(self, root: Path, *args: str, rows: int = 30, cols: int = 100) -> None:
        pid, fd = pty.fork()
        if pid == 0:
            os.chdir(REPO)
            os.execv(PYDOCK[0], [*PYDOCK, "--root", str(root), *args])
        self.pid, self.fd = pid, fd
        self.resize(rows, cols)
        self.buf = b""

    def resize(self, rows: int, cols: int) -> None:
        import fcntl

        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def expect(self, needle: bytes, timeout: float = 10) -> bytes:
        end = time.time() + timeout
        while needle not in self.buf:
            left = end - time.time()
            if left <= 0:
                raise AssertionError(f"{needle!r} not seen; got {self.buf[-500:]!r}")
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    self._feed(os.read(self.fd, 65536))
                except OSError:
                    break
        return self.buf

    def _feed(self, data: bytes) -> None:
        # Answer cursor-position queries like a real terminal: busybox's line
        # editor asks (ESC[6n) and waits for the reply before reading input.
        for _ in range(data.count(b"\x1b[6n")):
            os.write(self.fd, b"\x1b[1;1R")
        self.buf += data

    def wait(self, timeout: float = 10) -> int:
        end = time.time() + timeout
        while time.time() < end:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            with_data = select.select([self.fd], [], [], 0.05)[0]
            if with_data:
                try:
                    self.buf += os.read(self.fd, 65536)
                except OSError:
                    pass
        os.kill(self.pid, 9)
        raise AssertionError(f"the CLI did not exit; screen: {self.buf[-300:]!r}")


def test_run_it_gives_a_real_terminal(rt: Path) -> None:
    t = Term(rt, "run", "-it", "--rm", IMAGE, "sh")
    t.expect(b"# ")
    t.send(b"tty; stty size; echo $TERM\r")
    out = t.expect(b"xterm")
    assert b"/dev/pts/0" in out and b"30 100" in out
    t.resize(40, 120)
    time.sleep(0.3)
    t.send(b"stty size\r")
    t.expect(b"40 120")
    # Job control: background jobs and ctrl-z work in an interactive shell.
    t.send(b"sleep 30 &\r")
    t.send(b"jobs\r")
    t.expect(b"Running")
    t.send(b"sleep 20\r")
    time.sleep(0.3)
    t.send(b"\x1a")
    t.expect(b"Stopped")
    t.send(b"kill -9 %1 %2\r")
    time.sleep(0.5)
    t.send(b"exit 3\r")
    time.sleep(0.3)
    t.send(b"exit 3\r")  # ash refuses the first exit while it still lists stopped jobs
    assert t.wait() == 3


def test_detach_keys_and_attach(rt: Path) -> None:
    t = Term(rt, "run", "-it", "--name", "shell", IMAGE, "sh")
    t.expect(b"# ")
    t.send(b"\x10\x11")  # ctrl-p ctrl-q
    assert t.wait() == 0
    assert inspect(rt, "shell")["State"]["Running"] is True
    a = Term(rt, "attach", "shell")
    time.sleep(0.5)  # let the client connect and switch the terminal to raw mode
    # The shell may still wait for the answer to the cursor query it sent to the
    # first client, which detached without answering.
    a.send(b"\x1b[1;1R")
    a.send(b"echo attached-$((1+1))\r")
    a.expect(b"attached-2")
    a.send(b"exit 4\r")
    assert a.wait() == 4
    eventually(lambda: inspect(rt, "shell")["State"]["Status"] == "exited")
    assert inspect(rt, "shell")["State"]["ExitCode"] == 4


def test_start_attach(rt: Path) -> None:
    assert pydock(rt, "create", "--name", "later", IMAGE, "echo", "from-start").returncode == 0
    r = pydock(rt, "start", "-a", "later")
    assert r.returncode == 0 and r.stdout == "from-start\n"
