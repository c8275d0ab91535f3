"""COPY and ADD: put selected files into a step's root file system.

The destination resolves inside the step's root (``openat2(RESOLVE_IN_ROOT)``
through :class:`engine.runtime.tarwrite.Writer`), so a symlink in the image
such as ``/bin -> usr/bin`` is followed the way the container will follow it.
Docker's rules:

- a directory source copies its *contents*; a file goes *into* the destination
  when that ends with ``/``, already is a directory, or several sources were
  given, and *becomes* the destination otherwise;
- from the context (and heredocs, downloads) files belong to 0:0; from a stage
  or image, and inside ADD's archives, they keep their owners; ``--chown``
  overrides both, and directories the copy creates get the same owner;
- modes and mtimes are kept unless ``--chmod`` says otherwise;
- ADD unpacks local tar archives (plain, gzip, bzip2, xz), never downloads.
"""

from __future__ import annotations

import os
import stat
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ..errors import InvalidArgument
from ..record import dataclass
from ..runtime.tarwrite import Writer
from ..snapshots._paths import open_dir
from .context import Tree, walk
from .dockerignore import DockerIgnore
from .owners import apply_chmod, parse_chown


@dataclass(frozen=True)
class Item:
    """One source: a path in a tree, an inline document or a downloaded file."""

    name: str  # the name it gets inside a destination directory
    tree: Tree | None = None
    rel: str = ""  # its real path in the tree
    data: bytes | None = None  # inline (heredoc) content
    file: Path | None = None  # a host file (download)
    mtime: float = 0.0
    mode: int = 0o644
    keep_owner: bool = False  # a stage's or image's files keep their uid/gid
    unpack: bool = False  # ADD: extract this archive

    def is_dir(self) -> bool:
        return self.tree is not None and stat.S_ISDIR(os.lstat(self._path()).st_mode)

    def _path(self) -> Path:
        assert self.tree is not None
        return self.tree.root / self.rel if self.rel != "." else self.tree.root


def is_archive(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode) and tarfile.is_tarfile(path)
    except (OSError, tarfile.TarError, EOFError):
        return False


def apply(merged: Path, items: list[Item], dest: str, *, chown: str | None,
          chmod: str | None, excludes: DockerIgnore | None, force_dir: bool) -> None:
    """Copy ``items`` to ``dest`` (absolute, inside ``merged``)."""
    rootfd = os.open(merged, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        owner = parse_chown(rootfd, chown) if chown else None
        parts = tuple(p for p in dest.split("/") if p not in ("", "."))
        into_dir = (force_dir or dest.endswith(("/", "/.")) or not parts
                    or (len(items) == 1 and (items[0].unpack or items[0].is_dir()))
                    or _is_dir(rootfd, parts))
        base = parts if into_dir else parts[:-1]
        mkdir_p(rootfd, base, owner or (0, 0))
        for item in items:
            name = item.name if into_dir else parts[-1]
            forced = owner if owner is not None else (None if item.keep_owner else (0, 0))
            writer = Writer(rootfd, base, owner=forced)
            try:
                for ti, data in _entries(item, name, excludes):
                    if chmod and not ti.issym() and not ti.islnk():
                        ti.mode = apply_chmod(chmod, ti.mode, ti.isdir())
                    writer.apply(ti, data)
            finally:
                writer.finish()
    finally:
        os.close(rootfd)


def _is_dir(rootfd: int, parts: tuple[str, ...]) -> bool:
    try:
        os.close(open_dir(rootfd, parts, create=False))
        return True
    except (FileNotFoundError, NotADirectoryError):
        return False


def mkdir_p(rootfd: int, parts: tuple[str, ...], owner: tuple[int, int]) -> None:
    """Create the missing directories of ``parts`` (0755, owned by ``owner``)."""
    for i in range(1, len(parts) + 1):
        if _is_dir(rootfd, parts[:i]):
            continue
        parent = open_dir(rootfd, parts[:i - 1], create=False)
        try:
            try:
                os.mkdir(parts[i - 1], 0o755, dir_fd=parent)
            except FileExistsError:
                raise InvalidArgument(f"cannot copy to /{'/'.join(parts)}: "
                                      f"/{'/'.join(parts[:i])} is not a directory") from None
            os.chown(parts[i - 1], *owner, dir_fd=parent, follow_symlinks=False)
        finally:
            os.close(parent)


def _entries(item: Item, name: str, excludes: DockerIgnore | None
             ) -> Iterator[tuple[tarfile.TarInfo, IO[bytes] | None]]:
    if item.data is not None or item.file is not None:
        ti = tarfile.TarInfo(name)
        ti.mode, ti.mtime = item.mode, item.mtime or time.time()
        if item.data is not None:
            ti.size = len(item.data)
            import io

            yield ti, io.BytesIO(item.data)
            return
        assert item.file is not None
        ti.size = os.path.getsize(item.file)
        with open(item.file, "rb") as f:
            yield ti, f
        return
    assert item.tree is not None
    path = item._path()
    if item.unpack:
        yield from _archive(path)
        return
    links: dict[tuple[int, int], str] = {}
    top_is_dir = item.is_dir()
    for sub, st in walk(item.tree, item.rel, excludes):
        if top_is_dir:
            inner = os.path.relpath(sub, item.rel) if item.rel != "." else sub
            if inner == ".":
                continue  # a directory source copies its contents
            arcname = inner
        else:
            arcname = name
        info = _info(item.tree.root / sub, st, arcname, links)
        if info is None:
            continue
        ti = info
        if ti.isreg():
            with open(item.tree.root / sub, "rb") as f:
                yield ti, f
        else:
            yield ti, None


def _info(path: Path, st: os.stat_result, arcname: str,
          links: dict[tuple[int, int], str]) -> tarfile.TarInfo | None:
    ti = tarfile.TarInfo(arcname)
    ti.mode, ti.uid, ti.gid, ti.mtime = stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, \
        st.st_mtime
    mode = st.st_mode
    if stat.S_ISREG(mode) and st.st_nlink > 1:
        first = links.setdefault((st.st_dev, st.st_ino), arcname)
        if first != arcname:
            ti.type, ti.linkname = tarfile.LNKTYPE, first
            return ti
    if stat.S_ISREG(mode):
        ti.size = st.st_size
    elif stat.S_ISDIR(mode):
        ti.type = tarfile.DIRTYPE
    elif stat.S_ISLNK(mode):
        ti.type, ti.linkname = tarfile.SYMTYPE, os.readlink(path)
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        if stat.S_ISCHR(mode) and st.st_rdev == 0:
            return None  # an overlay whiteout seen through a lower dir: not a file
        ti.type = tarfile.CHRTYPE if stat.S_ISCHR(mode) else tarfile.BLKTYPE
        ti.devmajor, ti.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
    elif stat.S_ISFIFO(mode):
        ti.type = tarfile.FIFOTYPE
    else:
        return None  # sockets are not copied (Docker skips them too)
    return ti


def _archive(path: Path) -> Iterator[tuple[tarfile.TarInfo, Any]]:
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                if member.isreg():
                    yield member, tar.extractfile(member)
                elif member.isdir() or member.issym() or member.islnk() or member.ischr() \
                        or member.isblk() or member.isfifo():
                    yield member, None
    except (tarfile.TarError, EOFError) as err:
        raise InvalidArgument(f"ADD {path.name}: damaged archive: {err}") from err
