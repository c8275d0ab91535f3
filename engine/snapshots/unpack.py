"""Apply one layer tar to an empty snapshot directory that becomes an overlay lowerdir.

``tarfile`` only parses headers and hands out member data; every file is written
here with fd-relative syscalls under a root fd, because tarfile's own extraction
and filters have had path-escape CVEs and refuse things images legitimately hold
(absolute symlinks, devices, setuid bits). Whiteouts are written in overlayfs
form (0/0 char devices, an ``opaque`` xattr), as docker's overlay2 driver does.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import shutil
import stat
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from engine.errors import EngineError, InvalidLayer, PermissionDenied
from engine.snapshots._paths import open_dir, split_linkname, split_name
from engine.types import UnpackStats

OPAQUE_XATTR = "trusted.overlay.opaque"

_WH = ".wh."
_WH_META = ".wh..wh."  # AUFS bookkeeping (.wh..wh.plnk, .wh..wh.aufs): never content
_WH_OPAQUE = ".wh..wh..opq"
_PAX_XATTR = "SCHILY.xattr."
# overlayfs reads these from its layers; an image carrying them could redirect
# lookups or fake whiteouts, so they only ever come from our own whiteout code.
_REFUSED_XATTRS = ("trusted.overlay.", "user.overlay.")
_CHUNK = 1 << 20
# tarfile's stream reader re-slices its whole buffer on every header read, so a
# big buffer costs a copy per member; 64 KiB keeps that small and data reads few.
_TAR_BUFSIZE = 64 << 10
_HOST_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EMFILE, errno.ENFILE, errno.ENOMEM}
)
_GONE_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR, errno.ELOOP})
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC

_log = logging.getLogger(__name__)


def unpack_layer(stream: BinaryIO, dest: Path) -> UnpackStats:
    """Unpack the uncompressed tar ``stream`` into the empty directory ``dest``.

    Raises:
        InvalidLayer: the tar is corrupt or an entry is unsafe or inconsistent.
        EngineError: the host failed (disk full, read-only, missing privileges).
    """
    reader = _HashingReader(stream)
    try:
        rootfd = os.open(dest, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as err:
        raise EngineError(f"cannot open snapshot directory {dest}: {err.strerror}") from err
    unpacker = _Unpacker(rootfd)
    try:
        try:
            with tarfile.open(
                fileobj=reader,  # type: ignore[arg-type]
                mode="r|",
                bufsize=_TAR_BUFSIZE,
                tarinfo=_StrictTarInfo,
                encoding="utf-8",
                errors="surrogateescape",
            ) as tar:
                while (member := tar.next()) is not None:
                    tar.members.clear()  # stream mode still keeps every header otherwise
                    try:
                        unpacker.apply(tar, member)
                    except OSError as err:
                        raise _translate(member.name, err) from err
                    except (OverflowError, ValueError) as err:
                        raise InvalidLayer(member.name, str(err)) from err
        except tarfile.TarError as err:
            raise InvalidLayer("<stream>", f"corrupt tar: {err}") from err
        try:
            unpacker.finish()
        except OSError as err:
            raise _translate("<directory metadata>", err) from err
        reader.drain()
    finally:
        unpacker.close()
        os.close(rootfd)
    return UnpackStats(diff_id=reader.diff_id(), size=unpacker.size, entries=unpacker.entries)


class _HashingReader:
    """Hashes every byte read, since the diff_id covers padding and the trailer too."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self._hash.update(data)
        return data

    def drain(self) -> None:
        while data := self._raw.read(_CHUNK):
            self._hash.update(data)

    def diff_id(self) -> str:
        return "sha256:" + self._hash.hexdigest()


class _StrictTarInfo(tarfile.TarInfo):
    """Turns a bad header after the first member into an error.

    tarfile treats it as the end of the archive, which would silently drop the
    rest of a damaged layer; Go's archive/tar, which docker uses, fails instead.
    """

    @classmethod
    def frombuf(cls, buf: bytes, encoding: str, errors: str) -> _StrictTarInfo:
        try:
            return super().frombuf(buf, encoding, errors)
        except (tarfile.InvalidHeaderError, tarfile.TruncatedHeaderError) as err:
            raise tarfile.SubsequentHeaderError(str(err)) from None


class _Unpacker:
    """Per-layer state: the root fd, a cached parent fd, deferred directory metadata."""

    def __init__(self, rootfd: int) -> None:
        self.rootfd = rootfd
        self.size = 0
        self.entries = 0
        self._buf = memoryview(bytearray(_CHUNK))
        # Members come grouped by directory, so most share the previous parent.
        self._pkey: tuple[str, ...] | None = None
        self._pfd = -1
        # Directory mode and mtime are set last: creating children changes the
        # mtime, and a read-only mode would block them for a non-root caller.
        self._dirs: dict[tuple[str, ...], tuple[int, int]] = {}

    def apply(self, tar: tarfile.TarFile, m: tarfile.TarInfo) -> None:
        self.entries += 1
        parts = split_name(m.name)
        if not parts:
            os.fchown(self.rootfd, m.uid, m.gid)
            _set_xattrs(self.rootfd, m)
            self._dirs[()] = (m.mode & 0o7777, _mtime_ns(m))
            return
        if _WH in m.name and self._whiteout(m, parts):
            return
        parent = self._parent(parts[:-1])
        base = parts[-1]
        if m.isreg():
            self._file(tar, m, parent, base, parts)
        elif m.isdir():
            self._dir(m, parent, base, parts)
        elif m.issym():
            self._make(parent, base, parts, lambda: os.symlink(m.linkname, base, dir_fd=parent))
            os.chown(base, m.uid, m.gid, dir_fd=parent, follow_symlinks=False)
            _set_xattrs(f"/proc/self/fd/{parent}/{base}", m, follow=False)
            ns = _mtime_ns(m)
            os.utime(base, ns=(ns, ns), dir_fd=parent, follow_symlinks=False)
        elif m.islnk():
            self._hardlink(m, parent, base, parts)
        elif m.ischr() or m.isblk() or m.isfifo():
            self._node(m, parent, base, parts)
        else:
            raise InvalidLayer(m.name, f"unsupported entry type {m.type!r}")

    def _whiteout(self, m: tarfile.TarInfo, parts: tuple[str, ...]) -> bool:
        """Handle whiteout and AUFS names; False means an ordinary entry."""
        for part in parts[:-1]:
            if part.startswith(_WH_META):
                return True  # inside .wh..wh.plnk: AUFS hard-link storage
            if part.startswith(_WH):
                raise InvalidLayer(m.name, "whiteout name used as a directory")
        base = parts[-1]
        if not base.startswith(_WH):
            return False
        if base == _WH_OPAQUE:
            # Only the xattr: the directory's own entries from this layer stay.
            fd = self._parent(parts[:-1])
            os.setxattr(f"/proc/self/fd/{fd}", OPAQUE_XATTR, b"y")
            return True
        if base.startswith(_WH_META):
            return True
        hidden = base[len(_WH) :]
        if hidden in ("", ".", ".."):
            raise InvalidLayer(m.name, f"whiteout of {hidden or 'nothing'!r}")
        parent = self._parent(parts[:-1])
        path = (*parts[:-1], hidden)
        self._make(parent, hidden, path, lambda: os.mknod(hidden, stat.S_IFCHR, 0, dir_fd=parent))
        os.chown(hidden, m.uid, m.gid, dir_fd=parent, follow_symlinks=False)
        return True

    def _file(
        self, tar: tarfile.TarFile, m: tarfile.TarInfo, parent: int, base: str, parts: tuple[str, ...]
    ) -> None:
        fd = self._make(parent, base, parts, lambda: os.open(base, _NEW_FILE, 0o600, dir_fd=parent))
        try:
            if m.size:
                self._copy(tar, m, fd)
            # Data first (writes clear setuid and file capabilities), chown before
            # chmod (chown clears setuid), xattrs after chown (it drops capabilities).
            os.fchown(fd, m.uid, m.gid)
            os.fchmod(fd, m.mode & 0o7777)
            _set_xattrs(fd, m)
            ns = _mtime_ns(m)
            os.utime(fd, ns=(ns, ns))
        finally:
            os.close(fd)
        self.size += m.size

    def _copy(self, tar: tarfile.TarFile, m: tarfile.TarInfo, fd: int) -> None:
        src = tar.extractfile(m)
        assert src is not None  # isreg() members always have data
        buf = self._buf
        left = m.size
        while left:
            n = src.readinto(buf[: min(left, _CHUNK)])
            if not n:
                raise InvalidLayer(m.name, "file data is truncated")
            done = os.write(fd, buf[:n])
            while done < n:  # short writes happen on signals and near-full disks
                done += os.write(fd, buf[done:n])
            left -= n

    def _dir(self, m: tarfile.TarInfo, parent: int, base: str, parts: tuple[str, ...]) -> None:
        try:
            os.mkdir(base, 0o700, dir_fd=parent)
        except FileExistsError:
            if not stat.S_ISDIR(os.stat(base, dir_fd=parent, follow_symlinks=False).st_mode):
                self._remove(parent, base, parts)
                os.mkdir(base, 0o700, dir_fd=parent)
        os.chown(base, m.uid, m.gid, dir_fd=parent, follow_symlinks=False)
        _set_xattrs(f"/proc/self/fd/{parent}/{base}", m, follow=False)
        self._dirs[parts] = (m.mode & 0o7777, _mtime_ns(m))

    def _hardlink(self, m: tarfile.TarInfo, parent: int, base: str, parts: tuple[str, ...]) -> None:
        target = split_linkname(m.name, m.linkname)
        if target == parts:
            return  # a link to itself changes nothing
        missing = InvalidLayer(m.name, f"hard link target {m.linkname!r} not found in the layer")
        try:
            tparent = open_dir(self.rootfd, target[:-1], create=False)
        except OSError as err:
            if err.errno in _GONE_ERRNOS:
                raise missing from None
            raise
        try:
            self._make(
                parent,
                base,
                parts,
                lambda: os.link(
                    target[-1], base, src_dir_fd=tparent, dst_dir_fd=parent, follow_symlinks=False
                ),
            )
        except FileNotFoundError:
            raise missing from None
        except PermissionError as err:
            if err.errno == errno.EPERM:  # linkat's answer for a directory
                raise InvalidLayer(m.name, f"hard link target {m.linkname!r} is a directory") from None
            raise
        finally:
            os.close(tparent)

    def _node(self, m: tarfile.TarInfo, parent: int, base: str, parts: tuple[str, ...]) -> None:
        kind = stat.S_IFCHR if m.ischr() else stat.S_IFBLK if m.isblk() else stat.S_IFIFO
        dev = 0 if kind == stat.S_IFIFO else os.makedev(m.devmajor, m.devminor)
        self._make(parent, base, parts, lambda: os.mknod(base, kind | 0o600, dev, dir_fd=parent))
        os.chown(base, m.uid, m.gid, dir_fd=parent, follow_symlinks=False)
        # Opening a device or fifo for I/O would act on it: go through an O_PATH fd.
        fd = os.open(base, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
        try:
            os.chmod(f"/proc/self/fd/{fd}", m.mode & 0o7777)
            _set_xattrs(f"/proc/self/fd/{fd}", m)
        finally:
            os.close(fd)
        ns = _mtime_ns(m)
        os.utime(base, ns=(ns, ns), dir_fd=parent, follow_symlinks=False)

    def _parent(self, parts: tuple[str, ...]) -> int:
        if parts != self._pkey:
            fd = open_dir(self.rootfd, parts, create=True)
            if self._pfd >= 0:
                os.close(self._pfd)
            self._pfd, self._pkey = fd, parts
        return self._pfd

    def _make[T](self, parent: int, base: str, parts: tuple[str, ...], create: Callable[[], T]) -> T:
        """Run ``create``; if the name is taken, replace what is there (later entries win)."""
        try:
            return create()
        except FileExistsError:
            self._remove(parent, base, parts)
            return create()

    def _remove(self, parent: int, base: str, parts: tuple[str, ...]) -> None:
        # The cached parent may lie under what goes away: resolve afresh next time
        # (the fd itself stays open, callers still hold it).
        self._pkey = None
        try:
            os.unlink(base, dir_fd=parent)
        except IsADirectoryError:
            shutil.rmtree(base, dir_fd=parent)
            n = len(parts)
            self._dirs = {k: v for k, v in self._dirs.items() if k[:n] != parts}

    def finish(self) -> None:
        for parts, (mode, ns) in self._dirs.items():
            try:
                fd = self.rootfd if not parts else self._open_final_dir(parts)
            except OSError as err:
                if err.errno in _GONE_ERRNOS:
                    continue  # replaced by a later entry, or whited out
                raise
            try:
                os.fchmod(fd, mode)
                os.utime(fd, ns=(ns, ns))
            finally:
                if fd != self.rootfd:
                    os.close(fd)

    def _open_final_dir(self, parts: tuple[str, ...]) -> int:
        flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
        parent = open_dir(self.rootfd, parts[:-1], create=False)
        try:
            return os.open(parts[-1], flags, dir_fd=parent)
        finally:
            os.close(parent)

    def close(self) -> None:
        if self._pfd >= 0:
            os.close(self._pfd)
            self._pfd, self._pkey = -1, None


def _mtime_ns(m: tarfile.TarInfo) -> int:
    return int(m.mtime * 1_000_000_000)


def _set_xattrs(target: int | str, m: tarfile.TarInfo, *, follow: bool = True) -> None:
    if not m.pax_headers:
        return
    for key, value in m.pax_headers.items():
        if not key.startswith(_PAX_XATTR):
            continue
        name = key[len(_PAX_XATTR) :]
        if name.startswith(_REFUSED_XATTRS):
            _log.warning("layer entry %r: refusing xattr %s", m.name, name)
            continue
        data = value.encode("utf-8", "surrogateescape")
        try:
            if isinstance(target, int):
                os.setxattr(target, name, data)
            else:
                os.setxattr(target, name, data, follow_symlinks=follow)
        except OSError as err:
            # Like docker: a filesystem without xattrs (or this namespace) is not fatal.
            if err.errno not in (errno.EOPNOTSUPP, errno.EPERM):
                raise


def _translate(entry: str, err: OSError) -> EngineError:
    reason = err.strerror or str(err)
    if err.errno in _HOST_ERRNOS:
        return EngineError(f"unpacking layer entry {entry!r}: {reason}")
    if err.errno in (errno.EPERM, errno.EACCES):
        return PermissionDenied(f"unpacking layer entry {entry!r}: {reason}")
    return InvalidLayer(entry, reason)
