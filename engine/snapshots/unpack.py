"""Apply one layer tar to an empty snapshot directory that becomes an overlay lowerdir.

``tarfile`` only parses headers and hands out member data. Files are written with
fd-relative syscalls: tarfile's extraction and filters had path-escape CVEs and refuse
what images legitimately hold (absolute symlinks, devices, setuid bits). Whiteouts
take overlayfs form (0/0 char devices, an ``opaque`` xattr), as in docker's overlay2.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import io
import logging
import os
import stat
import tarfile
from pathlib import Path
from typing import BinaryIO

from engine.errors import EngineError, InvalidLayer, PermissionDenied
from engine.snapshots import _paths
from engine.snapshots._paths import Kind
from engine.types import UnpackStats

OPAQUE_XATTR = "trusted.overlay.opaque"

_PAX_XATTR = "SCHILY.xattr."
# overlayfs reads these from its layers; an image carrying them could redirect
# lookups or fake whiteouts, so they only ever come from our own whiteout code.
_REFUSED_XATTRS = ("trusted.overlay.", "user.overlay.")
_CHUNK = 1 << 20
# Decompressed data is handled in pieces this big: small enough to stay in the CPU
# cache from the decompressor's write through sha256 to os.write.
_SOURCE_CHUNK = 256 << 10
_HOST_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EMFILE, errno.ENFILE, errno.ENOMEM}
)
_GONE_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR, errno.ELOOP})
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC

# Undocumented (absent from typeshed) but stable since Python 3.2.
_BAD_HEADER = (tarfile.InvalidHeaderError, tarfile.TruncatedHeaderError)  # type: ignore[attr-defined]
_FATAL_HEADER = tarfile.SubsequentHeaderError  # type: ignore[attr-defined]
_log = logging.getLogger(__name__)


def unpack_layer(stream: BinaryIO, dest: Path) -> UnpackStats:
    """Unpack the uncompressed tar ``stream`` into the empty directory ``dest``.

    Raises:
        InvalidLayer: the tar is corrupt or an entry is unsafe or inconsistent.
        EngineError: the host failed (disk full, read-only, missing privileges).
    """
    try:
        rootfd = os.open(dest, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as err:
        raise EngineError(f"cannot open snapshot directory {dest}: {err.strerror}") from err
    reader = _TarSource(stream)
    unpacker, entry = _Unpacker(rootfd, reader), ""
    try:
        # "r:" rather than the stream mode "r|": see _TarSource.
        with tarfile.open(  # type: ignore[call-overload]
            fileobj=reader,
            mode="r:",
            tarinfo=_StrictTarInfo,
            encoding="utf-8",
            errors="surrogateescape",
        ) as tar:
            while (member := tar.next()) is not None:
                tar.members.clear()  # stream mode still keeps every header otherwise
                entry = member.name
                unpacker.apply(tar, member)
        entry = "<directory metadata>"
        unpacker.finish()
        reader.drain()  # the padding and trailer tarfile left unread
    except _StreamError as err:
        cause = err.__cause__
        if isinstance(cause, OSError) and cause.errno in _HOST_ERRNOS:
            raise EngineError(f"reading the layer: {cause.strerror}") from cause
        raise InvalidLayer("<stream>", f"cannot read the layer: {cause}") from cause
    except tarfile.TarError as err:
        raise InvalidLayer("<stream>", f"corrupt tar: {err}") from err
    except OSError as err:
        raise _translate(entry, err) from err
    except (OverflowError, ValueError) as err:
        raise InvalidLayer(entry, str(err)) from err
    finally:
        unpacker.root.close()
        os.close(rootfd)
    digest = "sha256:" + reader.hash.hexdigest()
    return UnpackStats(diff_id=digest, size=unpacker.size, entries=unpacker.entries)


class _StreamError(Exception):
    """Wraps any failure to read the stream, so it is never blamed on an entry."""


class _TarSource:
    """The layer's bytes for tarfile: read forward only, hashed as they come in.

    tarfile's stream mode joins and re-slices its buffer on every read, so each
    byte of file data was copied three or four times on its way to the disk. Given
    this file object, which seeks forward by reading, mode ``r:`` parses headers
    just the same (it never seeks back), and file data goes from one reused buffer,
    which the decompressor fills in place, to ``os.write`` (:meth:`write_to`): no
    copy, no allocation per chunk. The hash covers every byte, since the diff_id
    covers padding and the trailer too.
    """

    def __init__(self, raw: BinaryIO) -> None:
        into = getattr(raw, "readinto", None)
        if into is None or getattr(type(raw), "readinto", None) is io.RawIOBase.readinto:
            into = None  # a raw stream that only implements read()
        self._into = into
        self._read = getattr(raw, "read1", None) or raw.read
        self._buf = memoryview(bytearray(_SOURCE_CHUNK)) if into else memoryview(b"")
        self.hash = hashlib.sha256()
        self._chunk = memoryview(b"")
        self._off = 0
        self._pos = 0

    def _more(self) -> bool:
        try:
            if self._into is not None:
                data = self._buf[: self._into(self._buf) or 0]
            else:
                data = memoryview(self._read(_CHUNK))
        except Exception as err:
            raise _StreamError() from err
        if not data:
            return False
        self.hash.update(data)
        self._chunk, self._off = data, 0
        return True

    def read(self, size: int = -1) -> bytes:
        parts: list[bytes] = []
        left = size if size >= 0 else 1 << 62
        while left:
            if self._off >= len(self._chunk) and not self._more():
                break
            end = min(len(self._chunk), self._off + left)
            parts.append(bytes(self._chunk[self._off : end]))
            left -= end - self._off
            self._pos += end - self._off
            self._off = end
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = os.SEEK_SET) -> int:
        if whence != os.SEEK_SET or pos < self._pos:
            raise tarfile.StreamError("seeking backwards is not allowed")
        left = pos - self._pos
        while left and (self._off < len(self._chunk) or self._more()):
            n = min(left, len(self._chunk) - self._off)
            self._off += n
            self._pos += n
            left -= n
        return self._pos

    def write_to(self, fd: int, size: int) -> int:
        """Copy the next ``size`` bytes to ``fd``; fewer only if the stream ends."""
        left = size
        while left and (self._off < len(self._chunk) or self._more()):
            n = min(left, len(self._chunk) - self._off)
            view = self._chunk[self._off : self._off + n]
            done = os.write(fd, view)
            while done < n:  # short writes happen on signals and near-full disks
                done += os.write(fd, view[done:])
            self._off += n
            self._pos += n
            left -= n
        return size - left

    def drain(self) -> None:
        while self._more():
            self._pos += len(self._chunk)
            self._off = len(self._chunk)


class _StrictTarInfo(tarfile.TarInfo):
    """Turns a bad header after the first member into an error: tarfile takes it for
    the end of the archive and would drop the rest of a damaged layer silently."""

    @classmethod
    def frombuf(cls, buf: bytes | bytearray, encoding: str, errors: str) -> _StrictTarInfo:
        try:
            return super().frombuf(buf, encoding, errors)
        except _BAD_HEADER as err:
            raise _FATAL_HEADER(str(err)) from None


class _Unpacker:
    """Per-layer state: the root, deferred directory metadata, counters."""

    def __init__(self, rootfd: int, src: _TarSource) -> None:
        self.root = _paths.RootDir(rootfd)
        self.src = src
        self.size = self.entries = 0
        # Directory mode and mtime are set last: creating children changes the
        # mtime, and a read-only mode would block them for a non-root caller.
        self._dirs: dict[tuple[str, ...], tuple[int, int]] = {}

    def apply(self, tar: tarfile.TarFile, m: tarfile.TarInfo) -> None:
        self.entries += 1
        parts = _paths.split_name(m.name)
        kind, hidden = _paths.whiteout_kind(m.name, parts)
        if kind is Kind.OPAQUE:
            # Only the xattr: entries of this same layer in that directory stay.
            fd = self.root.parent(parts[:-1])
            os.setxattr(f"/proc/self/fd/{fd}", OPAQUE_XATTR, b"y")
        elif kind is Kind.WHITEOUT:
            path = (*parts[:-1], hidden)
            p, _ = self.root.make(path, lambda p, b: os.mknod(b, stat.S_IFCHR, 0, dir_fd=p))
            os.chown(hidden, m.uid, m.gid, dir_fd=p, follow_symlinks=False)
        elif kind is Kind.SKIP:
            pass
        elif not parts:
            if not m.isdir():
                raise InvalidLayer(m.name, "the layer root can only be a directory")
            os.fchown(self.root.fd, m.uid, m.gid)
            _set_xattrs(self.root.fd, m)
            self._dirs[()] = (m.mode & 0o7777, _mtime_ns(m))
        elif m.isreg():
            self._file(tar, m, parts)
        elif m.isdir():
            self._dir(m, parts)
        elif m.issym():
            p, _ = self.root.make(parts, lambda p, b: os.symlink(m.linkname, b, dir_fd=p))
            self._meta_at(p, parts[-1], m, chmod=False)
        elif m.islnk():
            self._hardlink(m, parts)
        elif m.ischr() or m.isblk() or m.isfifo():
            fmt = stat.S_IFCHR if m.ischr() else stat.S_IFBLK if m.isblk() else stat.S_IFIFO
            dev = 0 if m.isfifo() else os.makedev(m.devmajor, m.devminor)
            p, _ = self.root.make(parts, lambda p, b: os.mknod(b, fmt | 0o600, dev, dir_fd=p))
            self._meta_at(p, parts[-1], m, chmod=True)
        else:
            raise InvalidLayer(m.name, f"unsupported entry type {m.type!r}")

    def _file(self, tar: tarfile.TarFile, m: tarfile.TarInfo, parts: tuple[str, ...]) -> None:
        _, fd = self.root.make(parts, lambda p, b: os.open(b, _NEW_FILE, 0o600, dir_fd=p))
        try:
            if m.sparse is None:
                if self.src.tell() != m.offset_data:
                    self.src.seek(m.offset_data)
                if self.src.write_to(fd, m.size) != m.size:
                    raise InvalidLayer(m.name, "file data is truncated")
            else:
                self._sparse(tar, m, fd)
            # Data first (writes clear setuid and file capabilities), chown before
            # chmod (chown clears setuid), xattrs after chown (it drops capabilities).
            os.fchown(fd, m.uid, m.gid)
            os.fchmod(fd, m.mode & 0o7777)
            _set_xattrs(fd, m)
            os.utime(fd, ns=(_mtime_ns(m),) * 2)
        finally:
            os.close(fd)
        self.size += m.size

    def _sparse(self, tar: tarfile.TarFile, m: tarfile.TarInfo, fd: int) -> None:
        """GNU sparse files: tarfile expands the holes (seeking forward only)."""
        src, buf, left = tar.extractfile(m), memoryview(bytearray(_CHUNK)), m.size
        assert isinstance(src, io.BufferedReader)  # tarfile.ExFileObject
        while left:
            n = src.readinto(buf[: min(left, _CHUNK)])
            if not n:
                raise InvalidLayer(m.name, "file data is truncated")
            done = os.write(fd, buf[:n])
            while done < n:  # short writes happen on signals and near-full disks
                done += os.write(fd, buf[done:n])
            left -= n

    def _dir(self, m: tarfile.TarInfo, parts: tuple[str, ...]) -> None:
        parent, base = self.root.parent(parts[:-1]), parts[-1]
        try:
            os.mkdir(base, 0o700, dir_fd=parent)
        except FileExistsError:
            if not stat.S_ISDIR(os.stat(base, dir_fd=parent, follow_symlinks=False).st_mode):
                self.root.remove(parent, base)
                os.mkdir(base, 0o700, dir_fd=parent)
        os.chown(base, m.uid, m.gid, dir_fd=parent, follow_symlinks=False)
        _set_xattrs(f"/proc/self/fd/{parent}/{base}", m, follow=False)
        self._dirs[parts] = (m.mode & 0o7777, _mtime_ns(m))

    def _hardlink(self, m: tarfile.TarInfo, parts: tuple[str, ...]) -> None:
        target = _paths.split_linkname(m.name, m.linkname)
        if target == parts:
            return  # a link to itself changes nothing
        missing = InvalidLayer(m.name, f"hard link target {m.linkname!r} not found in the layer")
        try:
            tfd = _paths.open_dir(self.root.fd, target[:-1], create=False)
        except OSError as err:
            if err.errno in _GONE_ERRNOS:
                raise missing from None
            raise
        try:
            # No AT_SYMLINK_FOLLOW: a link to a symlink links the symlink, as tar does.
            link = functools.partial(os.link, src_dir_fd=tfd, follow_symlinks=False)
            self.root.make(parts, lambda p, b: link(target[-1], b, dst_dir_fd=p))
        except FileNotFoundError:
            raise missing from None
        except PermissionError as err:
            if err.errno != errno.EPERM:  # EPERM is linkat's answer for a directory
                raise
            raise InvalidLayer(m.name, f"hard link target {m.linkname!r} is a directory") from None
        finally:
            os.close(tfd)

    def _meta_at(self, parent: int, base: str, m: tarfile.TarInfo, *, chmod: bool) -> None:
        """Metadata of a symlink or special file, never opening it for I/O."""
        os.chown(base, m.uid, m.gid, dir_fd=parent, follow_symlinks=False)
        if chmod:  # symlinks have no mode of their own; devices go through O_PATH
            fd = os.open(base, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
            try:
                os.chmod(f"/proc/self/fd/{fd}", m.mode & 0o7777)
                _set_xattrs(f"/proc/self/fd/{fd}", m)
            finally:
                os.close(fd)
        else:
            _set_xattrs(f"/proc/self/fd/{parent}/{base}", m, follow=False)
        os.utime(base, ns=(_mtime_ns(m),) * 2, dir_fd=parent, follow_symlinks=False)

    def finish(self) -> None:
        """Apply directory modes and mtimes, by path: the entry may have been replaced since."""
        flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
        for parts, (mode, ns) in self._dirs.items():
            fd = self.root.fd
            try:
                if parts:
                    dir_fd = self.root.parent(parts[:-1], create=False)
                    fd = os.open(parts[-1], flags, dir_fd=dir_fd)
            except OSError as err:
                if err.errno in _GONE_ERRNOS:
                    continue  # replaced by a later entry, or whited out
                raise
            try:
                os.fchmod(fd, mode)
                os.utime(fd, ns=(ns, ns))
            finally:
                if fd != self.root.fd:
                    os.close(fd)


def _mtime_ns(m: tarfile.TarInfo) -> int:
    return int(m.mtime * 1_000_000_000)


def _set_xattrs(target: int | str, m: tarfile.TarInfo, *, follow: bool = True) -> None:
    if not m.pax_headers:
        return
    path_only = {} if isinstance(target, int) else {"follow_symlinks": follow}
    for key, value in m.pax_headers.items():
        if not key.startswith(_PAX_XATTR):
            continue
        name = key[len(_PAX_XATTR) :]
        if name.startswith(_REFUSED_XATTRS):
            _log.warning("layer entry %r: refusing xattr %s", m.name, name)
            continue
        data = value.encode("utf-8", "surrogateescape")
        try:
            os.setxattr(target, name, data, **path_only)
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
