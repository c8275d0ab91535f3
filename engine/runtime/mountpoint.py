"""Mount targets resolved inside the container's root, never through it.

Every destination in the spec is opened with the rootfs acting as ``/``
(symlinks in the image are followed the way the container will see them) and
mounted onto ``/proc/self/fd/N`` of that descriptor, so a symlink swapped in by
the image can not redirect a mount onto the host (the runc CVE-2025 family).
"""

from __future__ import annotations

import errno
import os
import stat

from ..snapshots._paths import open_dir
from ..sys import libc

_MAX_LINKS = 40


def open_target(rootfd: int, dest: str, *, directory: bool) -> int:
    """An ``O_PATH`` fd for ``dest`` inside the root, created (dir or empty file) if missing."""
    path = dest
    for _ in range(_MAX_LINKS):
        parts = tuple(p for p in path.split("/") if p not in ("", "."))
        if not parts:
            return os.open(".", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=rootfd)
        parent = open_dir(rootfd, parts[:-1], create=True)
        try:
            name = parts[-1]
            if name == "..":
                raise OSError(errno.EINVAL, "mount destination ends in ..", dest)
            try:
                fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
            except FileNotFoundError:
                if directory:
                    os.mkdir(name, 0o755, dir_fd=parent)
                else:
                    os.close(os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW
                                     | os.O_CLOEXEC, 0o644, dir_fd=parent))
                continue  # reopen through the same checks
            mode = os.fstat(fd).st_mode
            if not stat.S_ISLNK(mode):
                if directory and not stat.S_ISDIR(mode):
                    os.close(fd)
                    raise OSError(errno.ENOTDIR, "mount destination is not a directory", dest)
                return fd
            os.close(fd)
            target = os.readlink(name, dir_fd=parent)
            base = "/".join(parts[:-1])
            path = target if target.startswith("/") else f"{base}/{target}"
        finally:
            os.close(parent)
    raise OSError(errno.ELOOP, "too many symlinks in mount destination", dest)


def fd_path(fd: int) -> str:
    return f"/proc/self/fd/{fd}"


def mount_at(rootfd: int, dest: str, source: str | None, fstype: str | None, flags: int,
             data: str | None, *, directory: bool = True) -> None:
    fd = open_target(rootfd, dest, directory=directory)
    try:
        libc.mount(source, fd_path(fd), fstype, flags, data)
    finally:
        os.close(fd)
