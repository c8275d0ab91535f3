"""A container's pump: its output to the log and attached clients, their input to it.

The loop the monitor sits in while a container runs (:class:`engine.runtime.session.Session`
is a :class:`Pump`): one selector over the output pipes or the pty, the attach
socket and its clients, the init's pidfd, the port proxy and health probes.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import selectors
import socket
import struct
import termios
import time
from typing import TYPE_CHECKING, Any, cast

from . import attach
from .logs_write import LogWriter, parse_log_opts

if TYPE_CHECKING:
    from .monitor import Monitor
    from .session import Session


class Pump:
    mon: Monitor
    rec: dict[str, Any]
    cfg: dict[str, Any]
    listener: socket.socket
    clients: dict[socket.socket, attach.FrameReader]
    outputs: dict[int, str]
    master: int | None
    stdin_w: int | None

    def _pump(self, pidfd: int, pid: int) -> int:
        opts = parse_log_opts([f"{k}={v}" for k, v in
                               (self.rec["host_config"]["LogConfig"].get("Config") or {}).items()])
        log = LogWriter(self.mon.cdir / "ctr.log", opts)
        sel = selectors.DefaultSelector()
        for fd in self.outputs:
            os.set_blocking(fd, False)
            sel.register(fd, selectors.EVENT_READ, "out")
        sel.register(self.listener, selectors.EVENT_READ, "listen")
        for c in self.clients:
            sel.register(c, selectors.EVENT_READ, "client")
        sel.register(pidfd, selectors.EVENT_READ, "exit")
        proxy = self.mon.proxy  # published ports: their sockets share this loop
        if proxy is not None:
            proxy.attach(sel)
        status = None
        health = None
        if self.cfg.get("Healthcheck"):
            from . import health as healthmod  # only containers with a check pay for it

            health = healthmod.start(cast("Session", self), sel, time.time())
        try:
            while status is None:
                for key, mask in sel.select(health.timeout() if health is not None else None):
                    what = key.data
                    if what == "out":
                        self._output(sel, key.fd, log)
                    elif what == "listen":
                        c, _ = self.listener.accept()
                        self.clients[c] = attach.FrameReader()
                        sel.register(c, selectors.EVENT_READ, "client")
                    elif what == "client":
                        self._client_input(sel, key.fileobj)  # type: ignore[arg-type]
                    elif what == "exit":
                        _, status = os.waitpid(pid, 0)
                    elif callable(what):
                        what(mask)  # the port proxy
                    elif health is not None:
                        health.on_ready(sel, key)
                if health is not None and status is None:
                    health.tick(sel)
            if proxy is not None:
                proxy.detach(sel)
            deadline = time.time() + 1.0
            while self.outputs and time.time() < deadline:
                for key, _ in sel.select(timeout=0.05):
                    if key.data == "out":
                        self._output(sel, key.fd, log)
                if not sel.select(timeout=0):
                    break
        finally:
            if health is not None:
                health.close(sel)
            log.close()
            os.close(pidfd)
            sel.close()
        code = os.waitstatus_to_exitcode(status)
        return code if code >= 0 else 128 - code

    def _output(self, sel: selectors.BaseSelector, fd: int, log: LogWriter) -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError as err:
            if err.errno != errno.EIO:  # EIO: the pty's last writer is gone
                raise
            data = b""
        stream = self.outputs[fd]
        if not data:
            sel.unregister(fd)
            del self.outputs[fd]
            if fd != self.master:
                os.close(fd)
            return
        log.write(stream, data)
        frame = attach.frame(attach.STDOUT if stream == "stdout" else attach.STDERR, data)
        for c in list(self.clients):
            try:
                c.sendall(frame)
            except OSError:
                self._drop(sel, c)

    def _client_input(self, sel: selectors.BaseSelector, c: socket.socket) -> None:
        try:
            data = c.recv(65536)
        except OSError:
            data = b""
        if not data:
            # A client going away is a detach, not the end of input: only an
            # explicit STDIN_EOF closes the container's stdin (docker's StdinOnce).
            self._drop(sel, c)
            return
        for kind, payload in self.clients[c].feed(data):
            if kind == attach.STDIN and self.cfg.get("OpenStdin"):
                target = self.master if self.master is not None else self.stdin_w
                if target is not None:
                    with contextlib.suppress(OSError):
                        os.write(target, payload)
            elif kind == attach.RESIZE and self.master is not None:
                size = json.loads(payload)
                set_winsize(self.master, size["rows"], size["cols"])
            elif kind == attach.STDIN_EOF:
                self._close_stdin()

    def _close_stdin(self) -> None:
        if self.stdin_w is not None:
            os.close(self.stdin_w)
            self.stdin_w = None
        elif self.master is not None:
            with contextlib.suppress(OSError):
                os.write(self.master, b"\x04")

    def _drop(self, sel: selectors.BaseSelector, c: socket.socket) -> None:
        with contextlib.suppress(KeyError, ValueError):
            sel.unregister(c)
        self.clients.pop(c, None)
        c.close()


def set_winsize(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
