"""Reading a directory tree into a tar stream without ever following a symlink.

Used for ``cp`` out of a container, ``export`` and ``commit``: the trees are the
container's to shape (and may change while we read a running one), so every
step is relative to an open directory fd with ``O_NOFOLLOW``, file sizes come
from the opened file, and an entry that vanishes midway is skipped.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import tarfile
from collections.abc import Callable, Iterator

from engine.record import dataclass

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_GONE = (errno.ENOENT, errno.ENOTDIR, errno.ELOOP)
# overlayfs metadata: meaningless (or dangerous) anywhere but in our own snapshots.
_SKIP_XATTRS = ("trusted.overlay.", "user.overlay.")
CHUNK = 1 << 20


@dataclass(frozen=True)
class Node:
    """One name in the tree; ``parent`` is an fd of its directory, valid during the yield."""

    parts: tuple[str, ...]
    st: os.stat_result
    parent: int
    name: str


def open_dir(parent: int, name: str) -> int:
    return os.open(name, _DIR, dir_fd=parent)


def walk(top: int) -> Iterator[Node]:
    """Depth first, names sorted, each directory before its content."""
    first = os.open(".", _DIR, dir_fd=top)
    stack: list[tuple[tuple[str, ...], int, Iterator[str]]] = [((), first, _names(first))]
    try:
        while stack:
            parts, dfd, names = stack[-1]
            name = next(names, None)
            if name is None:
                os.close(dfd)
                stack.pop()
                continue
            try:
                st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            except FileNotFoundError:
                continue  # removed while we read a running container
            yield Node((*parts, name), st, dfd, name)
            if stat.S_ISDIR(st.st_mode):
                try:
                    child = open_dir(dfd, name)
                except OSError as err:
                    if err.errno in _GONE:
                        continue
                    raise
                stack.append(((*parts, name), child, _names(child)))
    finally:
        for _, fd, _ in stack:
            os.close(fd)


def _names(fd: int) -> Iterator[str]:
    return iter(sorted(os.listdir(fd)))


class Links:
    """Hard links: the second name of an inode becomes a link entry to the first."""

    def __init__(self) -> None:
        self.seen: dict[tuple[int, int], str] = {}

    def check(self, st: os.stat_result, arcname: str) -> str | None:
        if stat.S_ISDIR(st.st_mode) or st.st_nlink < 2:
            return None
        key = (st.st_dev, st.st_ino)
        first = self.seen.get(key)
        if first is None:
            self.seen[key] = arcname
        return first


def tarinfo(node: Node, arcname: str, links: Links | None = None) -> tarfile.TarInfo:
    """The header for ``node`` (no data); a symlink's target is read fd-relative."""
    st = node.st
    ti = tarfile.TarInfo(arcname)
    ti.mode = stat.S_IMODE(st.st_mode)
    ti.uid, ti.gid = st.st_uid, st.st_gid
    ti.mtime = st.st_mtime
    mode = st.st_mode
    first = links.check(st, arcname) if links is not None else None
    if first is not None:
        ti.type, ti.linkname = tarfile.LNKTYPE, first
    elif stat.S_ISREG(mode):
        ti.size = st.st_size
    elif stat.S_ISDIR(mode):
        ti.type = tarfile.DIRTYPE
    elif stat.S_ISLNK(mode):
        ti.type, ti.linkname = tarfile.SYMTYPE, os.readlink(node.name, dir_fd=node.parent)
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        ti.type = tarfile.CHRTYPE if stat.S_ISCHR(mode) else tarfile.BLKTYPE
        ti.devmajor, ti.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
    elif stat.S_ISFIFO(mode):
        ti.type = tarfile.FIFOTYPE
    else:
        raise ValueError(f"{arcname}: sockets cannot be archived")
    return ti


def entries(parent: int, name: str, arc_top: str,
            swap: Callable[[tuple[str, ...]], Node | None] | None = None
            ) -> Iterator[tuple[tarfile.TarInfo, io.RawIOBase | None]]:
    """Headers and data of ``name`` in ``parent`` and, for a directory, all below it.

    The top entry is named ``arc_top`` (omitted when empty: "the contents of"),
    the rest ``arc_top/relative/path``. A data stream is valid until the next item.
    ``swap(relative parts)`` may supply another file to read in place of a node.
    """
    st = os.stat(name, dir_fd=parent, follow_symlinks=False)
    links = Links()
    if arc_top:
        yield from _with_data(Node((), st, parent, name), arc_top, links)
    if not stat.S_ISDIR(st.st_mode):
        return
    top = open_dir(parent, name)
    try:
        for node in walk(top):
            other = swap(node.parts) if swap is not None else None
            yield from _with_data(other or node, "/".join((arc_top, *node.parts)).lstrip("/"),
                                  links)
    finally:
        os.close(top)


def _with_data(node: Node, arcname: str, links: Links
               ) -> Iterator[tuple[tarfile.TarInfo, io.RawIOBase | None]]:
    try:
        ti = tarinfo(node, arcname, links)
    except FileNotFoundError:
        return  # a symlink removed before readlink
    if not ti.isreg():
        yield ti, None
        return
    try:
        fd = os.open(node.name, _FILE, dir_fd=node.parent)
    except OSError as err:
        if err.errno in _GONE:
            return
        raise
    with os.fdopen(fd, "rb", buffering=0) as raw:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return  # replaced by something else since the walk saw it
        ti.size = st.st_size
        yield ti, _Exact(raw, st.st_size)


def add(tar: tarfile.TarFile, node: Node, ti: tarfile.TarInfo, *, xattrs: bool = False) -> None:
    """Write ``ti`` and, for a regular file, its data read from the opened file."""
    if not ti.isreg():
        if xattrs and ti.isdir():
            fd = open_dir(node.parent, node.name)
            try:
                _xattrs(fd, ti)
            finally:
                os.close(fd)
        tar.addfile(ti)
        return
    fd = os.open(node.name, _FILE, dir_fd=node.parent)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EAGAIN, "replaced while reading", node.name)
        ti.size = st.st_size  # what we read is what we announce
        if xattrs:
            _xattrs(fd, ti)
        with os.fdopen(os.dup(fd), "rb", buffering=0) as raw:
            tar.addfile(ti, _Exact(raw, st.st_size))
    finally:
        os.close(fd)


def _xattrs(fd: int, ti: tarfile.TarInfo) -> None:
    try:
        names = os.listxattr(fd)
    except OSError:
        return
    pax = dict(ti.pax_headers)
    for name in names:
        if name.startswith(_SKIP_XATTRS):
            continue
        try:
            value = os.getxattr(fd, name)
        except OSError:
            continue
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            # Binary values (security.capability): tarfile keeps their bytes only
            # when the header is declared binary.
            text = value.decode("utf-8", "surrogateescape")
            pax["hdrcharset"] = "BINARY"
        pax["SCHILY.xattr." + name] = text
    ti.pax_headers = pax


class _Exact(io.RawIOBase):
    """Exactly ``size`` bytes: a file that shrank while read is padded with zeros."""

    def __init__(self, raw: io.RawIOBase, size: int) -> None:
        self.raw, self.left = raw, size

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        want = self.left if n < 0 else min(n, self.left)
        if want <= 0:
            return b""
        data = self.raw.read(want) or b""
        if not data:
            data = b"\0" * want
        self.left -= len(data)
        return data

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)
