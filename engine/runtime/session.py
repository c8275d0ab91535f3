"""One run of a container inside its monitor: start, pump output, record the exit."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..cgroups import get_driver
from ..errors import EngineError
from ..record import dataclass
from . import attach, netvol, starter
from .pump import Pump, set_winsize

if TYPE_CHECKING:
    from .monitor import Monitor


class StartError(Exception):
    """The container did not start; ``code`` is docker's exit code for it, ``pid`` the
    init's when one was forked (the monitor reaps it)."""

    def __init__(self, code: int, message: str, pid: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.pid = pid


@dataclass
class Result:
    exit_code: int = 0
    oom: bool = False
    start_error: dict[str, Any] | None = None


def listen(path: Path) -> socket.socket:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    attach.bind(s, str(path))
    os.chmod(path, 0o600)
    s.listen(16)
    return s


class Session(Pump):
    def __init__(self, mon: Monitor, rec: dict[str, Any], listener: socket.socket,
                 first_client: socket.socket | None) -> None:
        self.mon = mon
        self.rec = rec
        self.listener = listener
        self.clients: dict[socket.socket, attach.FrameReader] = {}
        if first_client is not None:
            self.clients[first_client] = attach.FrameReader()
        self.cfg = rec["config"]
        self.master: int | None = None
        self.stdin_w: int | None = None
        self.outputs: dict[int, str] = {}
        self.late_join = False  # the init joined its v1 cgroups itself; the v2 mount is left

    # -- start ---------------------------------------------------------------
    def run(self) -> Result:
        mon = self.mon
        try:
            # Here, not in the starter: the proxy's sockets live in the pump loop.
            netvol.publish_ports(self)
        except StartError as err:
            self.record_exit(err.code, False, error=str(err), started=False)
            return Result(exit_code=err.code, start_error={"code": err.code,
                                                           "message": str(err)})
        report = starter.launch(self)
        if report.error is not None:
            for fd in report.fds:
                os.close(fd)
            if report.pid:  # a failed init: reparented to us, reap it
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(report.pid, 0)
            if report.msg.get("crashed"):  # nothing was recorded: do it here
                mon.apply_env()
                driver = get_driver(mon.cfg)
                cleanup_cgroup(driver, driver.handle(mon.cid))
                self.record_exit(125, False, error=report.error["message"], started=False)
            return Result(exit_code=int(report.error["code"]), start_error=report.error)
        self._take_over(report.msg["streams"], report.fds)
        pid = report.pid
        pidfd = os.pidfd_open(pid)
        mon.close_ready()  # the starter told the front end "running"
        if self.cfg.get("Healthcheck"):
            mon.apply_env()  # probes are processes: give them the front end's environment
        code = self._pump(pidfd, pid)
        mon.apply_env()
        driver = get_driver(mon.cfg)
        cg = driver.handle(mon.cid)
        oom = driver.oom_killed_count(cg) > report.oom_before
        runtime = self.rec.get("runtime", "pydock")
        if runtime != "pydock":
            from . import session_oci

            session_oci.delete(self, runtime)
        cleanup_cgroup(driver, cg)
        self.record_exit(code, oom)
        return Result(exit_code=code, oom=oom)

    def handover(self) -> tuple[list[str], list[int]]:
        """The starter's side: the I/O ends the monitor pumps, and what each one is."""
        streams, fds = [], []
        for fd, stream in self.outputs.items():
            streams.append("master" if fd == self.master else stream)
            fds.append(fd)
        if self.master is not None and self.master not in self.outputs:
            streams.append("master")
            fds.append(self.master)
        if self.stdin_w is not None:
            streams.append("stdin")
            fds.append(self.stdin_w)
        return streams, fds

    def _take_over(self, streams: list[str], fds: list[int]) -> None:
        self.outputs = {}
        for stream, fd in zip(streams, fds, strict=True):
            if stream == "stdin":
                self.stdin_w = fd
            elif stream == "master":
                self.master = fd
                self.outputs[fd] = "stdout"
            else:
                self.outputs[fd] = stream

    def stdio(self, tty: bool, child_ends: list[int]) -> tuple[int, int, int]:
        if tty:
            return (-1, -1, -1)
        if self.cfg.get("OpenStdin"):
            stdin_r, self.stdin_w = os.pipe()
        else:
            stdin_r = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        self.outputs = {out_r: "stdout", err_r: "stderr"}
        child_ends += [stdin_r, out_w, err_w]
        return (stdin_r, out_w, err_w)

    def take_console(self, sock: socket.socket, *, ack: bool = True) -> None:
        _, fds, _, _ = socket.recv_fds(sock, 1, 1)
        self.master = fds[0]
        os.set_inheritable(self.master, False)
        rows, cols = self.cfg.get("ConsoleSize") or (24, 80)
        for c, reader in list(self.clients.items()):
            # A resize the attached client sent before the pty existed.
            c.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                for kind, payload in reader.feed(c.recv(65536)):
                    if kind == attach.RESIZE:
                        size = json.loads(payload)
                        rows, cols = size["rows"], size["cols"]
            c.setblocking(True)
        set_winsize(self.master, rows, cols)
        self.outputs = {self.master: "stdout"}
        if ack:
            sock.send(b"k")
        sock.close()

    # -- exit ----------------------------------------------------------------
    def record_exit(self, code: int, oom: bool, *, error: str = "",
                     started: bool = True) -> None:
        from .monitor import write_exit

        write_exit(self.mon.cdir, code, oom)
        fields = {"status": "exited" if started else "created", "exit_code": code,
                  "oom_killed": oom, "finished_at": time.time(), "pid": 0, "pid_start": 0,
                  "error": error, "paused": False}
        if started and self.rec["host_config"].get("AutoRemove"):
            # Removed next (Monitor._cleanup): the record is not written once more
            # only to be deleted. Until then it says "running", and if the removal
            # fails, it names a dead monitor, which readers fold with exit.json.
            rec = self.rec
            rec["state"].update(fields)
        else:
            rec = self.mon.update(**fields)
        if started:
            if oom:
                self.mon.emit("oom", rec)
            self.mon.emit("die", rec, exitCode=str(code))
        for c in list(self.clients):
            with contextlib.suppress(OSError):
                c.sendall(attach.json_frame(attach.EXIT, {"code": code, "error": error}))
            c.close()
        self.clients.clear()
        self.close_io()

    def close_io(self) -> None:
        for fd in list(self.outputs):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.outputs.clear()
        if self.master is not None:
            with contextlib.suppress(OSError):
                os.close(self.master)
            self.master = None
        if self.stdin_w is not None:
            os.close(self.stdin_w)
            self.stdin_w = None


def cleanup_cgroup(driver: Any, cg: Any) -> None:
    # Best effort: a cgroup that cannot be emptied now is removed by the next
    # front end's reconciliation; the exit must still be recorded.
    with contextlib.suppress(EngineError):
        if driver.remove_if_empty(cg):
            return
    with contextlib.suppress(EngineError):
        driver.kill_all(cg)
    with contextlib.suppress(EngineError):
        driver.remove(cg)


