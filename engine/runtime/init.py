"""The container init: what runs between ``fork`` and ``execve``, in runc's order.

It runs in a child of the (single-threaded) monitor that is already PID 1 of a
new PID namespace, and applies the OCI spec: namespaces, the rootfs and its
mounts resolved inside the root, devices, the console, ``pivot_root``, masked
and read-only paths, hostname, rlimits, user, capabilities, seccomp, then closes
every descriptor not passed and execs. Any failure is reported to the monitor on
a close-on-exec pipe as ``{"code", "message"}``; success is the pipe closing.
"""

from __future__ import annotations

import fcntl
import json
import os
import resource
import socket
import stat
import struct
from typing import Any, NoReturn

from ..sys import libc
from .mountpoint import fd_path, mount_at, open_target

_FLAGS = {
    "ro": libc.MS_RDONLY, "nosuid": libc.MS_NOSUID, "nodev": libc.MS_NODEV,
    "noexec": libc.MS_NOEXEC, "strictatime": libc.MS_STRICTATIME, "bind": libc.MS_BIND,
    "rbind": libc.MS_BIND | libc.MS_REC,
}
_PROPAGATION = {"rprivate", "private", "rslave", "slave", "rshared", "shared"}
TIOCSPTLCK = 0x40045431
TIOCGPTN = 0x80045430


class InitError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _mount_options(opts: list[str]) -> tuple[int, str]:
    flags, data = 0, []
    for o in opts:
        if o in _FLAGS:
            flags |= _FLAGS[o]
        elif o not in _PROPAGATION:
            data.append(o)
    return flags, ",".join(data)


def setup_rootfs(spec: dict[str, Any], cgroup2: bool) -> tuple[int, int] | None:
    """Mount everything under the rootfs; return (console master fd, pts number) if asked."""
    rootfs = spec["root"]["path"]
    libc.mount(None, "/", None, libc.MS_REC | libc.MS_SLAVE)
    libc.mount(rootfs, rootfs, None, libc.MS_BIND | libc.MS_REC)
    rootfd = os.open(rootfs, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    master = None
    try:
        for m in spec.get("mounts", []):
            _mount_one(rootfd, m, cgroup2)
            if m["destination"] == "/dev":
                _make_devices(rootfd, spec["linux"].get("devices", []))
        if spec["process"].get("terminal"):
            master = _console(rootfd)
    finally:
        os.close(rootfd)
    return master


def _mount_one(rootfd: int, m: dict[str, Any], cgroup2: bool) -> None:
    dest, typ = m["destination"], m.get("type", "bind")
    flags, data = _mount_options(m.get("options", []))
    if typ == "bind" or flags & libc.MS_BIND:
        src = m["source"]
        is_dir = stat.S_ISDIR(os.stat(src).st_mode)
        fd = open_target(rootfd, dest, directory=is_dir)
        try:
            libc.mount(src, fd_path(fd), None, libc.MS_BIND | (flags & libc.MS_REC))
        finally:
            os.close(fd)
        if flags & ~(libc.MS_BIND | libc.MS_REC):
            # Bind mounts ignore flags until remounted, and the remount must name the
            # new mount: the fd above still points under it (EINVAL), so reopen.
            fd = open_target(rootfd, dest, directory=is_dir)
            try:
                libc.mount(None, fd_path(fd), None, libc.MS_REMOUNT | libc.MS_BIND
                           | (flags & ~libc.MS_REC))
            finally:
                os.close(fd)
        return
    if typ == "cgroup":
        if cgroup2:
            typ, data = "cgroup2", ""
        else:
            # v1: an empty read-only tmpfs; per-controller views come with the cgroup issue.
            typ, data = "tmpfs", "mode=755,size=4k"
    mount_at(rootfd, dest, m.get("source", typ), typ, flags, data or None)


def _make_devices(rootfd: int, devices: list[dict[str, Any]]) -> None:
    devfd = open_target(rootfd, "/dev", directory=True)
    dev = os.open(fd_path(devfd), os.O_DIRECTORY | os.O_CLOEXEC)
    os.close(devfd)
    try:
        for d in devices:
            name = d["path"].removeprefix("/dev/")
            kind = stat.S_IFCHR if d.get("type", "c") == "c" else stat.S_IFBLK
            os.mknod(name, kind | 0o666, os.makedev(d["major"], d["minor"]), dir_fd=dev)
            os.chmod(name, d.get("fileMode", 0o666), dir_fd=dev)
        for link, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                             ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"),
                             ("ptmx", "pts/ptmx"), ("core", "/proc/kcore")):
            os.symlink(target, link, dir_fd=dev)
    finally:
        os.close(dev)


def _console(rootfd: int) -> tuple[int, int]:
    """A pty from the container's own devpts; the slave becomes /dev/console."""
    ptmx = open_target(rootfd, "/dev/pts/ptmx", directory=False)
    master = os.open(fd_path(ptmx), os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    os.close(ptmx)
    fcntl.ioctl(master, TIOCSPTLCK, struct.pack("i", 0))
    n = struct.unpack("I", fcntl.ioctl(master, TIOCGPTN, b"\0" * 4))[0]
    pts = open_target(rootfd, f"/dev/pts/{n}", directory=False)
    console = open_target(rootfd, "/dev/console", directory=False)
    try:
        libc.mount(fd_path(pts), fd_path(console), None, libc.MS_BIND)
    finally:
        os.close(pts)
        os.close(console)
    return master, n


def pivot(rootfs: str) -> None:
    os.chdir(rootfs)
    # pivot_root(".", "."): the old root ends up stacked under the new one and is
    # detached at once, so no path to the host filesystem remains.
    libc.pivot_root(".", ".")
    libc.mount(None, ".", None, libc.MS_SLAVE | libc.MS_REC)
    libc.umount2(".", libc.MNT_DETACH)
    os.chdir("/")


def mask_paths(spec: dict[str, Any]) -> None:
    linux = spec.get("linux", {})
    null = os.stat("/dev/null")
    if not stat.S_ISCHR(null.st_mode) or null.st_rdev != os.makedev(1, 3):
        raise InitError(125, "/dev/null is not the null device")  # CVE-2025-31133
    for p in linux.get("maskedPaths", []):
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(st.st_mode):
            libc.mount("tmpfs", p, "tmpfs", libc.MS_RDONLY, "size=0k")
        else:
            libc.mount("/dev/null", p, None, libc.MS_BIND)
    for p in linux.get("readonlyPaths", []):
        if not os.path.lexists(p):
            continue
        libc.mount(p, p, None, libc.MS_BIND | libc.MS_REC)
        libc.mount(None, p, None, libc.MS_BIND | libc.MS_REMOUNT | libc.MS_RDONLY
                   | libc.MS_NOSUID | libc.MS_NODEV | libc.MS_NOEXEC)


def set_rlimits(spec: dict[str, Any]) -> None:
    for r in spec["process"].get("rlimits", []):
        res = getattr(resource, r["type"])
        inf = resource.RLIM_INFINITY
        soft = inf if r["soft"] >= 2**63 else r["soft"]
        hard = inf if r["hard"] >= 2**63 else r["hard"]
        resource.setrlimit(res, (soft, hard))


def find_executable(arg0: str, env: list[str]) -> str:
    if "/" in arg0:
        candidates = [arg0]
    else:
        path = next((e[5:] for e in env if e.startswith("PATH=")), "/usr/bin:/bin")
        candidates = [os.path.join(d or ".", arg0) for d in path.split(":")]
    for c in candidates:
        try:
            st = os.stat(c)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            if "/" in arg0:
                raise InitError(126, f'exec: "{arg0}": is a directory')
            continue
        if not os.access(c, os.X_OK):
            raise InitError(126, f'exec: "{arg0}": permission denied')
        return c
    if "/" in arg0:
        raise InitError(127, f'exec: "{arg0}": stat {arg0}: no such file or directory')
    raise InitError(127, f'exec: "{arg0}": executable file not found in $PATH')


def report(err_w: int, code: int, message: str) -> NoReturn:
    try:
        os.write(err_w, json.dumps({"code": code, "message": message}).encode())
    finally:
        os._exit(code)


def send_fd(sock: socket.socket, fd: int) -> None:
    socket.send_fds(sock, [b"c"], [fd])
