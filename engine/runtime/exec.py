"""``docker exec``: one more program inside a running container's namespaces.

Processes (C is the caller, a single-threaded front end such as the CLI)::

    C ─ fork ─► A  joins the container's ipc/uts/net/cgroup/pid/mnt namespaces and
                   its root, and forks
                   └─► B  (a PID of the container) waits until C has moved it into the
                          container's cgroup (from the host: A is never in it, so it
                          neither shows in ``top`` nor counts against the limits), then
                          pty, user, rlimits, capabilities, seccomp, cwd, closes every
                          fd, execve of the user's program

Everything A and B run (:mod:`engine.runtime.exec_child`) is imported before A
leaves the host's mount namespace: after it the host's files, Python's modules
included, are out of reach, and the only program ever executed is the user's,
from the container's root, never our interpreter (CVE-2019-5736). A and B are
non-dumpable, so a container process cannot open ``/proc/<pid>/exe`` or ``mem``
of them while they still run host code.
Setup errors reach C on a close-on-exec pipe as ``{"code", "message"}`` with the
init's wording (126 cannot run, 127 not found); EOF means the program runs.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import socket
import stat
import struct
import termios
from collections.abc import Callable
from typing import Any

from ..errors import Conflict, EngineError, InvalidArgument
from ..types_tools import ExecOptions
from . import caps as capmod
from . import seccomp
from .exec_child import NAMESPACES, Target, run_a
from .options import parse_env
from .state import alive

__all__ = ["ExecFailed", "ExecProcess", "Target", "plan", "start"]


class ExecFailed(EngineError):
    """The program could not be started; ``code`` is docker's exit code (126/127)."""

    default_title = "Exec failed"

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def plan(rec: dict[str, Any], spec: dict[str, Any], opts: ExecOptions) -> Target:
    """Check the options against the container and compile its seccomp filter (host side)."""
    if not opts.command:
        raise InvalidArgument("exec needs a command to run")
    st = rec["state"]
    if st.get("status") == "paused":
        raise Conflict(f"container {rec['name']} is paused, unpause the container before exec")
    if st.get("status") != "running" or not alive(st.get("pid", 0), st.get("pid_start", 0)):
        raise Conflict(f"container {rec['name']} is not running")
    proc, ann = spec["process"], spec.get("annotations", {})
    base = list(proc["env"])
    if opts.tty and not any(e.startswith("TERM=") for e in base):
        base.append("TERM=xterm")  # docker's CreateDaemonEnvironment
    cwd = opts.workdir or proc.get("cwd") or "/"
    if not cwd.startswith("/"):
        raise InvalidArgument(f'the working directory "{cwd}" is invalid, it needs to be an '
                              "absolute path")
    bounding = list(proc["capabilities"]["bounding"])
    mode = ann.get("io.pydock.seccomp", "default")
    filt = None
    if mode != "unconfined":
        # The container's profile for the container's capabilities, as moby does for exec.
        filt = seccomp.compile_filter(seccomp.load_profile(None if mode == "default" else mode),
                                      bounding)
    extra = ann.get("io.pydock.group_add", "")
    return Target(
        pid=int(st["pid"]), pid_start=int(st["pid_start"]), args=list(opts.command),
        env=parse_env(opts.env, base),
        user=opts.user if opts.user is not None else ann.get("io.pydock.user", ""),
        group_add=tuple(extra.split(",")) if extra else (), cwd=cwd,
        caps=capmod.known_to_kernel() if opts.privileged else bounding,
        no_new_privs=bool(proc.get("noNewPrivileges")), spec=spec, filt=filt)


class ExecProcess:
    """The running program as the caller sees it: A's pid, and the pty master with ``-t``."""

    def __init__(self, pid: int, master: int | None) -> None:
        self.pid = pid
        self.master = master
        self.pidfd = os.pidfd_open(pid)  # readable once A (hence the program) has ended
        self.on_exit: Callable[[int], None] | None = None  # called once, from wait()
        self._code: int | None = None

    def resize(self, rows: int, cols: int) -> None:
        if self.master is not None:
            set_winsize(self.master, rows, cols)

    def wait(self) -> int:
        """The program's exit code (128+N for a signal); closes the pty master."""
        if self._code is None:
            _, status = os.waitpid(self.pid, 0)
            code = os.waitstatus_to_exitcode(status)
            self._code = code if code >= 0 else 128 - code
            self.close()
            if self.on_exit is not None:
                hook, self.on_exit = self.on_exit, None
                hook(self._code)
        return self._code

    def close(self) -> None:
        if self.master is not None:
            os.close(self.master)
            self.master = None
        if self.pidfd >= 0:
            os.close(self.pidfd)
            self.pidfd = -1


def start(t: Target, opts: ExecOptions, join_cgroup: Callable[[int], None]) -> ExecProcess:
    """Fork A and B; return once the program runs, or raise :class:`ExecFailed`."""
    ns_fds, root_fd = _open_container(t.pid, t.pid_start)
    devnull = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
    ends: list[int] = [devnull, root_fd, *ns_fds.values()]
    try:
        wanted = (devnull,) * 3 if opts.detach else opts.stdio or (
            0 if opts.stdin else devnull, 1, 2)
        stdio = tuple(_usable(fd, devnull) for fd in wanted)
        err_r, err_w = os.pipe()
        pid_r, pid_w = os.pipe()
        go_r, go_w = os.pipe()
        ends += [err_w, pid_w, go_r]
        parent, child = socket.socketpair() if opts.tty else (None, None)
        a = os.fork()
        if a == 0:
            run_a(t, opts, ns_fds, root_fd, (err_w, pid_w, go_r), child, stdio)
    finally:
        for fd in ends:
            os.close(fd)
    if child is not None:
        child.close()
    master = None
    try:
        b = _read_all(pid_r)
        if b:
            try:
                join_cgroup(int(b))
            except BaseException:
                os.close(go_w)  # B sees EOF and gives up
                os.close(err_r)
                os.waitpid(a, 0)
                raise
            os.write(go_w, b"g")
        os.close(go_w)
        if parent is not None:
            master = _receive_console(parent, opts.console_size)
        failure = _read_all(err_r)
    finally:
        if parent is not None:
            parent.close()
    if failure:
        os.waitpid(a, 0)
        if master is not None:
            os.close(master)
        err = json.loads(failure)
        raise ExecFailed(int(err["code"]), str(err["message"]))
    return ExecProcess(a, master)


def _usable(fd: int, devnull: int) -> int:
    """``fd`` for the program's stdio; a closed one becomes /dev/null."""
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return devnull
    if stat.S_ISDIR(mode):  # a directory fd is a way out of the root (CVE-2024-21626)
        raise InvalidArgument("exec: a standard stream is a directory")
    return fd


def _open_container(pid: int, start: int) -> tuple[dict[str, int], int]:
    """The container's namespace files and root, opened while its init provably lives."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        raise Conflict("the container is not running") from None
    fds: dict[str, int] = {}
    try:
        if not alive(pid, start):
            raise Conflict("the container is not running")
        for kind, _ in NAMESPACES:
            path = f"/proc/{pid}/ns/{kind}"
            if os.stat(path).st_ino == os.stat(f"/proc/self/ns/{kind}").st_ino:
                continue  # shared with the host (--network host, cgroup v1): nothing to join
            fds[kind] = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        root = os.open(f"/proc/{pid}/root", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        # Still alive after the opens: they name this process, not a recycled PID.
        if select.select([pidfd], [], [], 0)[0]:
            os.close(root)
            raise Conflict("the container stopped")
        return fds, root
    except BaseException:
        for fd in fds.values():
            os.close(fd)
        raise
    finally:
        os.close(pidfd)


def _receive_console(sock: socket.socket, size: tuple[int, int] | None) -> int | None:
    _, fds, _, _ = socket.recv_fds(sock, 1, 1)
    if not fds:
        return None  # B failed before it had a pty; its error is on the pipe
    os.set_inheritable(fds[0], False)
    if size is not None:
        set_winsize(fds[0], *size)
    sock.send(b"k")  # the program may start: it sees the right size from the first line
    return fds[0]


def set_winsize(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def _read_all(fd: int) -> bytes:
    out = b""
    while chunk := os.read(fd, 65536):
        out += chunk
    os.close(fd)
    return out
