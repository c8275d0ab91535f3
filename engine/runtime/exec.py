"""``docker exec``: one more program inside a running container's namespaces.

Processes (C is the caller, a single-threaded front end such as the CLI)::

    C ─ fork ─► A  joins the container's cgroup, then its ipc/uts/net/cgroup/pid/mnt
                   namespaces and its root, and forks
                   └─► B  (a PID of the container) pty, user, rlimits, capabilities,
                          seccomp, cwd, closes every fd, execve of the user's program

Everything B runs is imported here, before A leaves the host's mount namespace:
after it the host's files, Python's modules included, are out of reach, and the
only program ever executed is the user's, from the container's root, never our
interpreter (CVE-2019-5736). A and B are non-dumpable, so a container process
cannot open ``/proc/<pid>/exe`` or ``mem`` of them while they still run host code.
Setup errors reach C on a close-on-exec pipe as ``{"code", "message"}`` with the
init's wording (126 cannot run, 127 not found); EOF means the program runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import signal
import socket
import stat
import struct
import termios
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from ..errors import Conflict, EngineError, InvalidArgument
from ..sys import libc
from ..types_tools import ExecOptions
from . import caps as capmod
from . import init, seccomp, users
from .options import parse_env
from .state import alive

# mnt goes last: the /proc paths and the cgroup files are host paths.
NAMESPACES = (("ipc", os.CLONE_NEWIPC), ("uts", os.CLONE_NEWUTS), ("net", os.CLONE_NEWNET),
              ("cgroup", os.CLONE_NEWCGROUP), ("pid", os.CLONE_NEWPID), ("mnt", os.CLONE_NEWNS))
PR_SET_DUMPABLE = 4
TIOCGPTPEER = 0x5441
TIOCSCTTY = 0x540E
_PTMX = os.makedev(5, 2)


class ExecFailed(EngineError):
    """The program could not be started; ``code`` is docker's exit code (126/127)."""

    default_title = "Exec failed"

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Target:
    """Everything A and B need, computed by the caller before any fork."""

    pid: int
    pid_start: int
    args: list[str]
    env: list[str]
    user: str
    group_add: tuple[str, ...]
    cwd: str
    caps: list[str]
    no_new_privs: bool
    spec: dict[str, Any]
    filt: Any  # a compiled pyseccomp filter, or None for unconfined


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
        stdio = (devnull,) * 3 if opts.detach else opts.stdio or (
            0 if opts.stdin else devnull, 1, 2)
        for fd in stdio:
            if stat.S_ISDIR(os.fstat(fd).st_mode):  # a directory fd is a way out (CVE-2024-21626)
                raise InvalidArgument("exec: a standard stream is a directory")
        err_r, err_w = os.pipe()
        ends.append(err_w)
        parent, child = socket.socketpair() if opts.tty else (None, None)
        a = os.fork()
        if a == 0:
            _a(t, opts, ns_fds, root_fd, join_cgroup, err_w, child, stdio)
    finally:
        for fd in ends:
            os.close(fd)
    if child is not None:
        child.close()
    master = None
    try:
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


def _a(t: Target, opts: ExecOptions, ns_fds: dict[str, int], root_fd: int,
       join_cgroup: Callable[[int], None], err_w: int, sock: socket.socket | None,
       stdio: tuple[int, ...]) -> NoReturn:
    try:
        libc.prctl(PR_SET_DUMPABLE, 0)
        for sig in (signal.SIGINT, signal.SIGQUIT):
            signal.signal(sig, signal.SIG_IGN)  # the terminal's ^C is for the program
        join_cgroup(os.getpid())  # before the cgroup namespace, which is rooted there
        for kind, flag in NAMESPACES:
            if kind in ns_fds:
                os.setns(ns_fds[kind], flag)
                os.close(ns_fds[kind])
        os.fchdir(root_fd)
        os.chroot(".")
        os.close(root_fd)
        b = os.fork()  # the first process to land in the container's PID namespace
        if b == 0:
            _b(t, opts, err_w, sock, stdio)
    except BaseException as err:  # noqa: BLE001 - a child must never unwind into the caller
        init.report(err_w, 126, f"exec failed: {_describe(err)}")
    os.close(err_w)
    if sock is not None:
        sock.close()
    if opts.detach:
        os._exit(0)  # B is reparented to the host's reaper, never to the container's init
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda s, _f: os.kill(b, s))
    code = os.waitstatus_to_exitcode(os.waitpid(b, 0)[1])
    os._exit(code if code >= 0 else 128 - code)


def _b(t: Target, opts: ExecOptions, err_w: int, sock: socket.socket | None,
       stdio: tuple[int, ...]) -> NoReturn:
    try:
        _become(t, opts, err_w, sock, stdio)
    except init.InitError as err:
        init.report(err_w, err.code, str(err))
    except BaseException as err:  # noqa: BLE001 - never unwind into the caller
        init.report(err_w, 126, f"exec failed: {_describe(err)}")
    os._exit(126)


def _become(t: Target, opts: ExecOptions, err_w: int, sock: socket.socket | None,
            stdio: tuple[int, ...]) -> NoReturn:
    if sock is not None:
        master, slave = _open_pty()
        socket.send_fds(sock, [b"c"], [master])
        os.close(master)
        if sock.recv(1) != b"k":
            raise init.InitError(126, "exec failed: the caller went away")
        os.setsid()
        fcntl.ioctl(slave, TIOCSCTTY, 0)
        stdio = (slave,) * 3
    elif opts.detach:
        os.setsid()  # no SIGHUP or ^C from the caller's terminal
    copies = [os.dup(fd) for fd in stdio]  # a source may be one of 0..2 itself
    for n, fd in enumerate(copies):
        os.dup2(fd, n)
    init.set_rlimits(t.spec)
    root = os.open("/", os.O_DIRECTORY | os.O_CLOEXEC)  # the container's root after chroot
    try:
        ident = users.resolve_user(root, t.user, t.group_add)
    finally:
        os.close(root)
    env = list(t.env)
    if not any(e.startswith("HOME=") for e in env):
        env.append(f"HOME={ident.home or '/'}")
    if t.no_new_privs:
        libc.prctl(libc.PR_SET_NO_NEW_PRIVS, 1)
    elif t.filt is not None:
        seccomp.apply_filter(t.filt)  # while CAP_SYS_ADMIN is held, as the init does
    capmod.apply_identity_and_caps(ident.uid, ident.gid, list(ident.additional_gids), t.caps)
    # Nothing but the pipe and stdio may stay open: a leaked host directory fd
    # plus a cwd of /proc/self/fd/N is a way out (CVE-2024-21626).
    os.closerange(3, err_w)
    os.closerange(err_w + 1, 1 << 16)
    try:
        os.chdir(t.cwd)
        os.getcwd()  # ENOENT "(unreachable)" if the cwd is outside the root
    except OSError as err:
        raise init.InitError(126, f'chdir to cwd ("{t.cwd}") set in config.json failed: '
                                  f"{err.strerror}") from None
    if t.no_new_privs and t.filt is not None:
        seccomp.apply_filter(t.filt)
    path = init.find_executable(t.args[0], env)
    for sig in signal.valid_signals():
        with contextlib.suppress(OSError, ValueError):
            signal.signal(sig, signal.SIG_DFL)  # Python ignores SIGPIPE; programs expect default
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    try:
        os.execve(path, t.args, dict(e.split("=", 1) for e in env if "=" in e))
    except OSError as err:
        code = 126 if err.errno in (13, 8) else 127  # EACCES, ENOEXEC
        raise init.InitError(code, f'exec: "{t.args[0]}": {err.strerror}') from None


def _open_pty() -> tuple[int, int]:
    """A pty from the container's own devpts (after the chroot), checked to be one."""
    master = os.open("/dev/pts/ptmx", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC | os.O_NOFOLLOW)
    if os.fstat(master).st_rdev != _PTMX or not stat.S_ISCHR(os.fstat(master).st_mode):
        os.close(master)
        raise init.InitError(126, "exec failed: /dev/pts/ptmx is not a pty multiplexer")
    fcntl.ioctl(master, init.TIOCSPTLCK, struct.pack("i", 0))
    # TIOCGPTPEER opens the slave from the master itself: no path the container controls.
    slave = fcntl.ioctl(master, TIOCGPTPEER, os.O_RDWR | os.O_NOCTTY)
    return master, int(slave)


def set_winsize(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def _describe(err: BaseException) -> str:
    if isinstance(err, OSError):
        where = f" ({err.filename})" if err.filename else ""
        return f"{err.strerror or err}{where}"
    return str(err) if isinstance(err, EngineError) else f"{type(err).__name__}: {err}"


def _read_all(fd: int) -> bytes:
    out = b""
    while chunk := os.read(fd, 65536):
        out += chunk
    os.close(fd)
    return out
