"""The container's PID 1 from fork to ``execve``: the steps of :mod:`init` in order."""

from __future__ import annotations

import fcntl
import os
import socket
import struct
from collections.abc import Sequence
from typing import Any, NoReturn

from ..errors import EngineError
from ..sys import libc

# Everything the init uses is imported here: after pivot_root the host's
# files, Python's modules included, are out of reach.
from . import caps, init, seccomp, seccomp_cache, users

SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1


def loopback_up() -> None:
    """A new network namespace starts with ``lo`` down; docker brings it up."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        req = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, SIOCGIFFLAGS, req))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))
    finally:
        s.close()


def run(spec: dict[str, Any], *, sync_r: int, err_w: int, console: socket.socket | None,
        stdio: tuple[int, int, int], cgroup2: bool,
        cgroup_paths: Sequence[str] = ()) -> NoReturn:
    """Become the container; never returns. Errors go to ``err_w`` as JSON.

    ``cgroup_paths``: v1 ``tasks`` files to join by writing "0" (see
    ``CgroupDriver.self_join_files``); the monitor placed us in the rest.
    """
    try:
        _run(spec, sync_r, err_w, console, stdio, cgroup2, cgroup_paths)
    except init.InitError as err:
        init.report(err_w, err.code, str(err))
    except EngineError as err:
        init.report(err_w, 125, str(err))
    except OSError as err:
        where = f" ({err.filename})" if err.filename else ""
        init.report(err_w, 125, f"container init: {err.strerror or err}{where}")
    except BaseException as err:  # noqa: BLE001 - a child must never unwind into the monitor
        init.report(err_w, 125, f"container init: {type(err).__name__}: {err}")
    os._exit(125)


def _run(spec: dict[str, Any], sync_r: int, err_w: int, console: socket.socket | None,
         stdio: tuple[int, int, int], cgroup2: bool, cgroup_paths: Sequence[str]) -> NoReturn:
    flags = os.CLONE_NEWNS | os.CLONE_NEWUTS | os.CLONE_NEWIPC
    kinds = {n["type"] for n in spec["linux"]["namespaces"]}
    if "cgroup" in kinds:
        # The cgroup namespace, unshared next, must be rooted at the container's cgroup.
        _wait_for_cgroup(sync_r, cgroup_paths)
    netns = next((n.get("path") for n in spec["linux"]["namespaces"]
                  if n["type"] == "network"), None)
    if netns:
        # A bridge network: the engine made and wired this namespace; join it by
        # path (before the mount namespace is private, while the path is visible).
        fd = os.open(netns, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.setns(fd, os.CLONE_NEWNET)
        finally:
            os.close(fd)
    elif "network" in kinds:
        flags |= os.CLONE_NEWNET
    if "cgroup" in kinds:
        flags |= os.CLONE_NEWCGROUP
    os.unshare(flags)
    if "network" in kinds:
        loopback_up()
    proc = spec["process"]
    filt = _seccomp_filter(spec)
    pty = init.setup_rootfs(spec, cgroup2)
    if "cgroup" not in kinds:
        # Without a cgroup namespace (v1), the mounts above overlap the monitor's
        # cgroup work, and we join the v1 hierarchies ourselves (a cgroup.procs
        # write by the monitor first waits out an RCU grace period, ~10 ms).
        # Nothing of the container's own runs before this point.
        _wait_for_cgroup(sync_r, cgroup_paths)
    if pty is not None and console is not None:
        init.send_fd(console, pty[0])
        os.close(pty[0])
        console.recv(1)  # the monitor has set the window size
    init.pivot(spec["root"]["path"])
    init.mask_paths(spec)
    if spec["root"].get("readonly"):
        libc.mount(None, "/", None, libc.MS_BIND | libc.MS_REMOUNT | libc.MS_RDONLY)
    socket.sethostname(spec.get("hostname") or "localhost")
    os.setsid()
    if pty is not None:
        tty = os.open(f"/dev/pts/{pty[1]}", os.O_RDWR)
        fcntl.ioctl(tty, 0x540E, 0)  # TIOCSCTTY
        for fd in (0, 1, 2):
            os.dup2(tty, fd)
        if tty > 2:
            os.close(tty)
    else:
        for fd, src in enumerate(stdio):
            os.dup2(src, fd)
    init.set_rlimits(spec)
    _become(spec, proc, err_w, filt)


def _wait_for_cgroup(sync_r: int, cgroup_paths: Sequence[str]) -> None:
    # EOF instead of "g": the monitor died before placing us, or could not make
    # our cgroup; never run unconfined.
    ok = os.read(sync_r, 1) == b"g"
    os.close(sync_r)
    if not ok:
        raise init.InitError(125, "container init: the monitor did not set up the cgroup")
    for path in cgroup_paths:  # made by the starter while we mounted (still the host's view)
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, b"0")
        finally:
            os.close(fd)


def _seccomp_filter(spec: dict[str, Any]) -> Any:
    """Built before pivot_root: the profile, the program cache and libseccomp are on the host."""
    ann = spec.get("annotations", {})
    mode = ann.get("io.pydock.seccomp", "default")
    if mode == "unconfined":
        return None
    return seccomp_cache.compiled(None if mode == "default" else mode,
                                  spec["process"]["capabilities"]["bounding"],
                                  seccomp_cache.cache_dir)


def _become(spec: dict[str, Any], proc: dict[str, Any], err_w: int, filt: Any) -> NoReturn:
    ident = users.identity_for(spec, "/")
    env = list(proc["env"])
    if not any(e.startswith("HOME=") for e in env):
        env.append(f"HOME={ident.home or '/'}")
    cwd = proc.get("cwd") or "/"
    os.makedirs(cwd, exist_ok=True)
    names = proc["capabilities"]["bounding"]
    nnp = bool(proc.get("noNewPrivileges"))
    if nnp:
        libc.prctl(libc.PR_SET_NO_NEW_PRIVS, 1)
    elif filt is not None:
        # Without no_new_privs the filter must be loaded while we still hold
        # CAP_SYS_ADMIN (runc loads it early for the same reason).
        seccomp.apply_filter(filt)
    caps.apply_identity_and_caps(ident.uid, ident.gid, list(ident.additional_gids), names)
    os.chdir(cwd)
    if nnp and filt is not None:
        seccomp.apply_filter(filt)
    path = init.find_executable(proc["args"][0], env)
    os.closerange(3, err_w)
    os.closerange(err_w + 1, 65536)
    try:
        os.execve(path, proc["args"], dict(e.split("=", 1) for e in env if "=" in e))
    except OSError as err:
        code = 126 if err.errno in (13, 8) else 127  # EACCES, ENOEXEC
        init.report(err_w, code, f'exec: "{proc["args"][0]}": {err.strerror}')
    os._exit(127)
