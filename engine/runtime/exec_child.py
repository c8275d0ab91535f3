"""The two forked halves of ``exec`` (see :mod:`engine.runtime.exec`): A joins, B becomes.

Runs in children of the caller only. Everything used here is imported at the top
of this module, before A leaves the host's mount namespace: afterwards the host's
files, Python's modules included, are out of reach.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import stat
import struct
from typing import Any, NoReturn

from ..errors import EngineError
from ..record import dataclass
from ..sys import libc
from ..types_tools import ExecOptions
from . import caps as capmod
from . import init, seccomp, users

# mnt goes last: the /proc paths are host paths.
NAMESPACES = (("ipc", os.CLONE_NEWIPC), ("uts", os.CLONE_NEWUTS), ("net", os.CLONE_NEWNET),
              ("cgroup", os.CLONE_NEWCGROUP), ("pid", os.CLONE_NEWPID), ("mnt", os.CLONE_NEWNS))
PR_SET_DUMPABLE = 4
TIOCGPTPEER = 0x5441
TIOCSCTTY = 0x540E
_PTMX = os.makedev(5, 2)


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


def run_a(t: Target, opts: ExecOptions, ns_fds: dict[str, int], root_fd: int,
          pipes: tuple[int, int, int], sock: socket.socket | None,
          stdio: tuple[int, ...]) -> NoReturn:
    """A: enter the container, fork B, report B's PID, wait for it (unless detached)."""
    err_w, pid_w, go_r = pipes
    try:
        libc.prctl(PR_SET_DUMPABLE, 0)
        for sig in (signal.SIGINT, signal.SIGQUIT):
            signal.signal(sig, signal.SIG_IGN)  # the terminal's ^C is for the program
        for kind, flag in NAMESPACES:
            if kind in ns_fds:
                os.setns(ns_fds[kind], flag)
                os.close(ns_fds[kind])
        os.fchdir(root_fd)
        os.chroot(".")
        os.close(root_fd)
        b = os.fork()  # the first process to land in the container's PID namespace
        if b == 0:
            os.close(pid_w)
            _b(t, opts, err_w, go_r, sock, stdio)
        os.write(pid_w, str(b).encode())
    except BaseException as err:  # noqa: BLE001 - a child must never unwind into the caller
        init.report(err_w, 126, f"exec failed: {_describe(err)}")
    for fd in pipes:
        os.close(fd)
    if sock is not None:
        sock.close()
    if opts.detach:
        os._exit(0)  # B is reparented to the host's reaper, never to the container's init
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda s, _f: os.kill(b, s))
    code = os.waitstatus_to_exitcode(os.waitpid(b, 0)[1])
    os._exit(code if code >= 0 else 128 - code)


def _b(t: Target, opts: ExecOptions, err_w: int, go_r: int, sock: socket.socket | None,
       stdio: tuple[int, ...]) -> NoReturn:
    try:
        if os.read(go_r, 1) != b"g":  # C moves us into the container's cgroup first
            raise init.InitError(126, "exec failed: could not join the container's cgroup")
        os.close(go_r)
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


def _describe(err: BaseException) -> str:
    if isinstance(err, OSError):
        where = f" ({err.filename})" if err.filename else ""
        return f"{err.strerror or err}{where}"
    return str(err) if isinstance(err, EngineError) else f"{type(err).__name__}: {err}"
