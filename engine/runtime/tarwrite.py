"""Writing ``cp`` entries below a directory, with every name resolved inside a root.

The root is the container's (copy in) or the local destination's parent (copy
out); parents are opened with ``openat2(RESOLVE_IN_ROOT)`` through
:func:`engine.snapshots._paths.open_dir`, so an absolute or ``../../..``
symlink planted in the container leads back into the root, never onto the host
(CVE-2018-15664), and the last component is created with ``O_NOFOLLOW``/``O_EXCL``.
Like ``docker cp``, a directory never replaces a non-directory nor the reverse.
"""

from __future__ import annotations

import errno
import os
import stat
import tarfile
from pathlib import Path
from typing import IO, Any

from ..errors import EngineError, InvalidArgument, PermissionDenied
from ..snapshots._paths import RootDir, open_dir

_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
CHUNK = 1 << 20


def split(name: str) -> tuple[str, ...]:
    """Components of an entry name; ``..``, NUL and empty components are refused."""
    if "\0" in name:
        raise InvalidArgument(f"invalid archive entry {name!r}: NUL byte")
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        raise InvalidArgument(f"invalid archive entry {name!r}: '..' in name")
    return parts


class Writer:
    """Applies entries under ``base`` (components relative to the root fd).

    ``owner`` (uid, gid) replaces the entries' ownership (docker's default for
    copy-in is the container's root, 0:0); ``None`` keeps what the entries say.
    ``binds`` maps in-root file paths that are bind-mounted in the container
    (``/etc/hostname``...) to their source, which is rewritten in place.
    """

    def __init__(self, rootfd: int, base: tuple[str, ...], *, owner: tuple[int, int] | None,
                 binds: dict[tuple[str, ...], Path] | None = None) -> None:
        self.root = RootDir(rootfd)
        self.base = base
        self.owner = owner
        self.binds = binds or {}
        self._dirs: list[tuple[tuple[str, ...], int, float]] = []

    def apply(self, ti: tarfile.TarInfo, data: IO[bytes] | Any | None) -> None:
        rel = split(ti.name)
        if not rel:
            return  # the archive's "." never changes the destination directory itself
        parts = self.base + rel
        uid, gid = self.owner if self.owner is not None else (ti.uid, ti.gid)
        try:
            self._apply(ti, data, parts, uid, gid)
        except OSError as err:
            raise _translate(ti.name, err) from err

    def _apply(self, ti: tarfile.TarInfo, data: Any, parts: tuple[str, ...], uid: int,
               gid: int) -> None:
        parent, name = self.root.parent(parts[:-1]), parts[-1]
        existing = _lstat(parent, name)
        if ti.isdir():
            if existing is None:
                os.mkdir(name, 0o700, dir_fd=parent)
            elif not stat.S_ISDIR(existing.st_mode):
                raise InvalidArgument(f'cannot overwrite non-directory "/{"/".join(parts)}" '
                                      f'with directory "{ti.name}"')
            os.chown(name, uid, gid, dir_fd=parent, follow_symlinks=False)
            self._dirs.append((parts, ti.mode & 0o7777, ti.mtime))
            return
        if existing is not None and stat.S_ISDIR(existing.st_mode):
            raise InvalidArgument(f'cannot overwrite directory "/{"/".join(parts)}" with '
                                  f'non-directory "{ti.name}"')
        if ti.isreg() and parts in self.binds:
            self._write_bind(self.binds[parts], data, ti.size)
            return
        if existing is not None:
            os.unlink(name, dir_fd=parent)
        if ti.isreg():
            fd = os.open(name, _NEW, 0o600, dir_fd=parent)
            try:
                _copy(data, fd, ti.size)
                os.fchown(fd, uid, gid)  # chown before chmod: chown clears setuid
                os.fchmod(fd, ti.mode & 0o7777)
                os.utime(fd, (ti.mtime, ti.mtime))
            finally:
                os.close(fd)
            return
        if ti.issym():
            os.symlink(ti.linkname, name, dir_fd=parent)
        elif ti.islnk():
            target = self.base + split(ti.linkname)
            tfd = open_dir(self.root.fd, target[:-1], create=False)
            try:
                os.link(target[-1], name, src_dir_fd=tfd, dst_dir_fd=parent,
                        follow_symlinks=False)
            finally:
                os.close(tfd)
            return  # a hard link shares its target's metadata
        elif ti.ischr() or ti.isblk() or ti.isfifo():
            kind = stat.S_IFCHR if ti.ischr() else stat.S_IFBLK if ti.isblk() else stat.S_IFIFO
            dev = 0 if ti.isfifo() else os.makedev(ti.devmajor, ti.devminor)
            os.mknod(name, kind | 0o600, dev, dir_fd=parent)
        else:
            raise InvalidArgument(f"unsupported archive entry type for {ti.name!r}")
        os.chown(name, uid, gid, dir_fd=parent, follow_symlinks=False)
        if not ti.issym():  # a special file: chmod through an O_PATH fd, never opened
            fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
            try:
                os.chmod(f"/proc/self/fd/{fd}", ti.mode & 0o7777)
            finally:
                os.close(fd)
        os.utime(name, (ti.mtime, ti.mtime), dir_fd=parent, follow_symlinks=False)

    def _write_bind(self, source: Path, data: Any, size: int) -> None:
        # In place: unlinking the file would detach the container's bind mount.
        fd = os.open(source, os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            _copy(data, fd, size)
        finally:
            os.close(fd)

    def finish(self) -> None:
        """Directory modes and times last: adding entries changes them."""
        try:
            for parts, mode, mtime in reversed(self._dirs):
                parent = self.root.parent(parts[:-1], create=False)
                fd = os.open(parts[-1], _DIR, dir_fd=parent)
                try:
                    os.fchmod(fd, mode)
                    os.utime(fd, (mtime, mtime))
                finally:
                    os.close(fd)
        except OSError as err:
            raise _translate("/".join(self.base), err) from err
        finally:
            self.root.close()


def _lstat(parent: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _copy(src: Any, fd: int, size: int) -> None:
    left = size
    while left > 0:
        chunk = src.read(min(CHUNK, left)) if src is not None else b""
        if not chunk:
            raise InvalidArgument("archive data is truncated")
        view = memoryview(chunk)
        while view:
            view = view[os.write(fd, view):]
        left -= len(chunk)


def _translate(entry: str, err: OSError) -> EngineError:
    reason = err.strerror or str(err)
    if err.errno == errno.EROFS:
        return PermissionDenied(f"copying {entry}: the file system is read-only")
    if err.errno in (errno.EPERM, errno.EACCES):
        return PermissionDenied(f"copying {entry}: {reason}")
    if err.errno in (errno.ENOENT, errno.ENOTDIR):
        return InvalidArgument(f"copying {entry}: {reason}")
    return EngineError(f"copying {entry}: {reason}")
