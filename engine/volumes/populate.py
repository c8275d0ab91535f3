"""Fill an empty volume from the image, as docker does on first mount.

Runs inside the monitor before the init is forked: the container's overlay is
mounted at ``containers/<id>/merged`` then and the volume is not yet mounted over
it. The image path is resolved with the rootfs as ``/`` (a symlink in the image
can not send us to the host), and every copy step is ``*at()``-relative with
``O_NOFOLLOW``. Ownership, modes and times are kept, so a ``VOLUME`` that belongs
to a non-root user stays writable for it. Standard library only.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from ..fsutil import file_lock
from ..snapshots._paths import open_dir

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def populate(locks_dir: Path, rec: dict[str, Any], merged: Path) -> list[str]:
    """Copy image content into each empty volume that asks for it; return their names."""
    filled = []
    for m in rec.get("mounts") or []:
        if m.get("Type") != "volume" or not m.get("_copy"):
            continue
        # Two containers starting at once on one new volume: the second sees it full.
        with file_lock(locks_dir / f"volume-{m['Name']}.lock"):
            if _fill(Path(m["Source"]), merged, m["Destination"]):
                filled.append(m["Name"])
    return filled


def _fill(data: Path, merged: Path, dest: str) -> bool:
    try:
        if os.listdir(data):
            return False
    except FileNotFoundError:
        return False
    rootfd = os.open(merged, _DIR)
    try:
        try:
            opath = open_dir(rootfd, tuple(p for p in dest.split("/") if p), create=False)
        except (FileNotFoundError, NotADirectoryError):
            return False  # nothing in the image there: the volume starts empty
        try:
            src = os.open(".", _DIR, dir_fd=opath)
        finally:
            os.close(opath)
    finally:
        os.close(rootfd)
    dst = os.open(data, _DIR)
    try:
        st = os.fstat(src)
        _copy_dir(src, dst)
        os.chown(dst, st.st_uid, st.st_gid)
        os.chmod(dst, stat.S_IMODE(st.st_mode))
    finally:
        os.close(src)
        os.close(dst)
    return True


def _copy_dir(src: int, dst: int) -> None:
    with os.scandir(src) as it:
        entries = list(it)
    for e in entries:
        st = e.stat(follow_symlinks=False)
        name, mode = e.name, st.st_mode
        if stat.S_ISDIR(mode):
            os.mkdir(name, 0o700, dir_fd=dst)
            s = os.open(name, _DIR, dir_fd=src)
            d = os.open(name, _DIR, dir_fd=dst)
            try:
                _copy_dir(s, d)
            finally:
                os.close(s)
                os.close(d)
        elif stat.S_ISREG(mode):
            _copy_file(src, dst, name)
        elif stat.S_ISLNK(mode):
            os.symlink(os.readlink(name, dir_fd=src), name, dir_fd=dst)
        elif stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            os.mknod(name, mode, st.st_rdev, dir_fd=dst)
        else:
            continue  # sockets mean nothing in a copy
        os.chown(name, st.st_uid, st.st_gid, dir_fd=dst, follow_symlinks=False)
        if not stat.S_ISLNK(mode):
            # After chown, which clears set-id bits.
            os.chmod(name, stat.S_IMODE(mode), dir_fd=dst)
        os.utime(name, ns=(st.st_atime_ns, st.st_mtime_ns), dir_fd=dst, follow_symlinks=False)


def _copy_file(src_dir: int, dst_dir: int, name: str) -> None:
    s = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=src_dir)
    try:
        d = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                    0o600, dir_fd=dst_dir)
        try:
            size = os.fstat(s).st_size
            copied = 0
            while copied < size:
                try:
                    n = os.copy_file_range(s, d, size - copied)
                except OSError:
                    n = os.sendfile(d, s, None, size - copied)
                if n == 0:
                    break
                copied += n
        finally:
            os.close(d)
    finally:
        os.close(s)
