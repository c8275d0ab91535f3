"""Forking the built-in runtime's init, in the starter (:mod:`.starter`).

The starter unshares the PID namespace (which applies to its children, so
its next fork is the namespace's PID 1) and forks the init. The starter exits
soon after, and the init is reparented to the monitor, the nearest child
subreaper; the monitor itself never unshares, so it can start the next run
with a fresh starter. The init waits on a pipe until its
cgroup is joined, reports a failure before ``execve`` as JSON on a CLOEXEC
pipe, and hands a pty master over a socket when it has a terminal.
"""

from __future__ import annotations

import json
import os
import select
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import child
from .session import StartError

if TYPE_CHECKING:
    from .session import Session


def start_builtin(sess: Session, spec: dict[str, Any], driver: Any, cg: Any
                  ) -> tuple[int, int]:
    """Fork the init (PID 1 of a new PID namespace); return its PID and a pidfd."""
    tty = bool(spec["process"].get("terminal"))
    sync_r, sync_w = os.pipe()
    err_r, err_w = os.pipe()
    console_parent, console_child = socket.socketpair() if tty else (None, None)
    child_ends: list[int] = [sync_r, err_w]
    stdio = sess.stdio(tty, child_ends)
    join_fds = _open_joins(driver.self_join_files(cg))  # v1: the init joins itself
    child_ends += join_fds
    # No fork happens in this process after this one: once PID 1 of a
    # namespace exits, the kernel refuses new processes in it.
    os.unshare(os.CLONE_NEWPID)
    pid = os.fork()
    if pid == 0:
        child.run(spec, sync_r=sync_r, err_w=err_w, console=console_child,
                  stdio=stdio, cgroup2=driver.version == "v2", cgroup_fds=join_fds)
    for fd in child_ends:
        os.close(fd)
    if console_child is not None:
        console_child.close()
    if join_fds:
        sess.late_join = True
    else:
        driver.add_pid(cg, pid)
    pidfd = os.pidfd_open(pid)
    os.write(sync_w, b"g")
    os.close(sync_w)
    if console_parent is not None:
        sess.take_console(console_parent)
    failure = _read_all(err_r)
    if failure:
        # Ours to wait for, the monitor's to reap (a zombie is reparented to the
        # subreaper when this starter exits).
        select.select([pidfd], [], [])
        os.close(pidfd)
        err = json.loads(failure)
        raise StartError(int(err["code"]), str(err["message"]), pid)
    return pid, pidfd


def _open_joins(files: list[Path]) -> list[int]:
    """Open the files the init writes "0" to (cgroups.base.self_join_files) before fork."""
    fds: list[int] = []
    for f in files:
        try:
            fds.append(os.open(f, os.O_WRONLY | os.O_CLOEXEC))
        except OSError as err:
            for fd in fds:
                os.close(fd)
            raise StartError(125, f"cgroup {f.parent}: {err.strerror}") from err
    return fds


def _read_all(fd: int) -> bytes:
    out = b""
    while chunk := os.read(fd, 65536):
        out += chunk
    os.close(fd)
    return out
