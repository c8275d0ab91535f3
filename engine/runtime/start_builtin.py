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
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import EngineError
from . import child
from .session import StartError

if TYPE_CHECKING:
    from .session import Session


def start_builtin(sess: Session, spec: dict[str, Any], driver: Any, cg: Any,
                  make_cgroup: Callable[[], Any] | None = None) -> tuple[int, int, Any]:
    """Fork the init (PID 1 of a new PID namespace); return its PID, a pidfd and its cgroup.

    With ``cg`` None (a v1 host, where the init joins its cgroup itself), the init
    is forked first and ``make_cgroup`` runs while it sets up its mounts: both
    CPUs work, and the init joins by path once told to go.
    """
    tty = bool(spec["process"].get("terminal"))
    sync_r, sync_w = os.pipe()
    err_r, err_w = os.pipe()
    console_parent, console_child = socket.socketpair() if tty else (None, None)
    child_ends: list[int] = [sync_r, err_w]
    stdio = sess.stdio(tty, child_ends)
    # v1: the init joins its cgroup itself, by path, once told to go.
    join_paths = [str(p) for p in driver.self_join_files(driver.handle(sess.mon.cid))]
    # No fork happens in this process after this one: once PID 1 of a
    # namespace exits, the kernel refuses new processes in it.
    os.unshare(os.CLONE_NEWPID)
    pid = os.fork()
    if pid == 0:
        # The starter's ends: held here, the init would never read EOF on the sync
        # pipe when the starter gives up (or dies) before saying "go".
        os.close(sync_w)
        os.close(err_r)
        if console_parent is not None:
            console_parent.close()
        child.run(spec, sync_r=sync_r, err_w=err_w, console=console_child,
                  stdio=stdio, cgroup2=driver.version == "v2", cgroup_paths=join_paths)
    for fd in child_ends:
        os.close(fd)
    if console_child is not None:
        console_child.close()
    pidfd = os.pidfd_open(pid)
    if cg is None:
        assert make_cgroup is not None
        try:
            cg = make_cgroup()
        except EngineError as cg_err:
            os.close(sync_w)  # EOF: the init reports and exits without running anything
            _read_all(err_r)
            select.select([pidfd], [], [])
            os.close(pidfd)
            raise StartError(125, str(cg_err), pid) from cg_err
    if join_paths:
        sess.late_join = True
    else:
        driver.add_pid(cg, pid)
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
    return pid, pidfd, cg


def _read_all(fd: int) -> bytes:
    out = b""
    while chunk := os.read(fd, 65536):
        out += chunk
    os.close(fd)
    return out
