"""``docker cp`` and ``docker export``: a container's files, read and written from the host.

Container paths resolve inside the container's root: the overlay at
``containers/<id>/merged``, which the monitor mounts while the container runs
and which is mounted here for the length of the copy when it does not (under the
container's lock, so a concurrent ``start`` or ``rm`` waits until it is
unmounted). Every lookup is ``openat2(RESOLVE_IN_ROOT)`` relative to the root
fd and all I/O is fd-relative, so a symlink the container planted (``/`` or
``../../..``) can never lead onto the host (CVE-2018-15664). The bind-mounted
``/etc/hostname|hosts|resolv.conf`` are read and written at their source.

Path rules are docker's: a directory goes *into* an existing directory, ``src/.``
copies its content, a trailing ``/`` demands a directory, ``-`` is a tar stream.
"""

from __future__ import annotations

import contextlib
import errno
import os
import posixpath
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ..config import EngineConfig
from ..errors import Conflict, InvalidArgument, NotFound
from ..record import dataclass
from ..snapshots._paths import open_dir
from ..sys import libc
from . import rootfs, tarwalk
from .create import load_spec
from .lifecycle import Lifecycle
from .state import ACTIVE
from .tarwrite import Writer

_RESOLVE = libc.RESOLVE_IN_ROOT | libc.RESOLVE_NO_MAGICLINKS


@dataclass(frozen=True)
class RootView:
    """The container's root as an fd, plus what is needed to name paths inside it."""

    fd: int
    prefix: str  # the root's host path, to turn an fd back into an in-root path
    binds: dict[tuple[str, ...], Path]
    read_only: bool
    name: str

    def parts_of(self, fd: int) -> tuple[str, ...] | None:
        link = os.readlink(f"/proc/self/fd/{fd}")
        if link == self.prefix:
            return ()
        if link.startswith(self.prefix + "/"):
            return tuple(link[len(self.prefix) + 1:].split("/"))
        return None


@contextlib.contextmanager
def container_root(cfg: EngineConfig, lifecycle: Lifecycle, cid: str) -> Iterator[RootView]:
    store = lifecycle.store
    rec = lifecycle.refresh(cid)
    cdir = store.dir(cid)
    merged = cdir / "merged"
    binds = {tuple(p for p in m["destination"].split("/") if p): Path(m["source"])
             for m in load_spec(cdir).get("mounts", [])
             if m.get("type") == "bind" and Path(m["source"]).parent == cdir}

    def view(fd: int) -> RootView:
        return RootView(fd, os.path.realpath(merged), binds,
                        bool(rec["host_config"].get("ReadonlyRootfs")), rec["name"])

    if rec["state"]["status"] in ACTIVE or rec["state"].get("monitor_pid"):
        if not rootfs.is_mounted(merged):
            raise Conflict(f"container {rec['name']} is starting or stopping; try again")
        fd = os.open(merged, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            yield view(fd)  # the fd pins the mount even if the container stops meanwhile
        finally:
            os.close(fd)
        return
    with store.locked(cid):
        if store.load(cid)["state"].get("monitor_pid"):
            raise Conflict(f"container {rec['name']} is starting; try again")
        mounted_here = not rootfs.is_mounted(merged)
        if mounted_here:
            rootfs.mount_overlay(cfg.snapshots_dir, rec["image_chain_ids"], cdir)
        try:
            fd = os.open(merged, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                yield view(fd)
            finally:
                os.close(fd)
        finally:
            if mounted_here:
                rootfs.unmount(merged)


def _clean(path: str) -> tuple[str, ...]:
    """Components of a container path, cleaned lexically like Go's filepath.Clean."""
    return tuple(p for p in posixpath.normpath("/" + path).split("/") if p)


def _lookup(view: RootView, parts: tuple[str, ...], *, follow: bool
            ) -> tuple[int, str, os.stat_result | None, tuple[str, ...]]:
    """(parent fd, name, lstat or None, in-root parts) of ``parts``; the caller closes the fd."""
    if follow and parts:
        try:
            fd = _openat2(view.fd, "/".join(parts))
        except FileNotFoundError:
            fd = -1
        if fd >= 0:
            try:
                real = view.parts_of(fd)
            finally:
                os.close(fd)
            if real is not None:
                return _lookup(view, real, follow=False)
    if not parts:
        return os.dup(view.fd), ".", os.stat(view.fd), ()
    try:
        parent = open_dir(view.fd, parts[:-1], create=False)
    except (FileNotFoundError, NotADirectoryError):
        raise NotFound(f"Could not find the file /{'/'.join(parts)} in container "
                       f"{view.name}") from None
    try:
        st = os.stat(parts[-1], dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        st = None
    real = view.parts_of(parent)
    return parent, parts[-1], st, (*real, parts[-1]) if real is not None else parts


def _openat2(rootfd: int, path: str) -> int:
    for _ in range(8):
        with contextlib.suppress(BlockingIOError):  # EAGAIN: a rename raced the lookup
            return libc.openat2(rootfd, path, os.O_PATH | os.O_CLOEXEC, resolve=_RESOLVE)
    raise OSError(errno.EAGAIN, "path lookup kept racing with renames", path)


def copy_from(cfg: EngineConfig, lifecycle: Lifecycle, cid: str, src: str,
              dest: str | os.PathLike[str] | BinaryIO, *, follow: bool = False,
              archive: bool = False) -> None:
    """Container ``src`` to the local path ``dest`` or, for a stream, a tar of it."""
    parts = _clean(src)
    contents = not parts or src.endswith("/.")
    with container_root(cfg, lifecycle, cid) as view:
        parent, name, st, real = _lookup(view, parts, follow=follow)
        try:
            if st is None:
                raise NotFound(f"Could not find the file {src} in container {view.name}")
            is_dir = stat.S_ISDIR(st.st_mode)
            if (src.endswith("/") or contents) and not is_dir:
                raise InvalidArgument(f"{src}: not a directory")
            if real in view.binds:  # a bind-mounted /etc file: its content is the source
                os.close(parent)
                source = view.binds[real]
                parent, name = os.open(source.parent, os.O_PATH | os.O_CLOEXEC), source.name

            def swap(rel: tuple[str, ...]) -> tarwalk.Node | None:
                source = view.binds.get((*real, *rel))
                if source is None:
                    return None
                st = os.stat(source, follow_symlinks=False)
                return tarwalk.Node(rel, st, libc.AT_FDCWD, str(source))
            if not isinstance(dest, (str, os.PathLike)):
                with tarfile.open(fileobj=dest, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                    top = "" if contents else parts[-1]
                    for ti, data in tarwalk.entries(parent, name, top, swap):
                        tar.addfile(ti, data)
                return
            ldir, top = _local_target(os.fspath(dest), is_dir, contents, parts)
            lroot = os.open(ldir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                writer = Writer(lroot, (), owner=None if archive else (os.getuid(), os.getgid()))
                for ti, data in tarwalk.entries(parent, name, top, swap):
                    writer.apply(ti, data)
                writer.finish()
            finally:
                os.close(lroot)
        finally:
            os.close(parent)


def _local_target(dest: str, is_dir: bool, contents: bool, parts: tuple[str, ...]
                  ) -> tuple[str, str]:
    """(local directory, name of the copy's top entry in it; "" = the content goes there)."""
    if os.path.isdir(dest):
        if is_dir and contents:
            return dest, ""
        return dest, parts[-1] if parts else ""
    if os.path.lexists(dest) and is_dir:
        raise InvalidArgument(f"cannot copy a directory to a file: {dest}")
    if dest.endswith("/") and not is_dir:
        raise InvalidArgument(f"destination directory {dest} does not exist")
    ldir = os.path.dirname(dest.rstrip("/")) or "."
    if not os.path.isdir(ldir):
        raise InvalidArgument(f"destination directory {ldir} does not exist")
    return ldir, os.path.basename(dest.rstrip("/"))


def copy_to(cfg: EngineConfig, lifecycle: Lifecycle, cid: str,
            src: str | os.PathLike[str] | BinaryIO, dest: str, *, follow: bool = False,
            archive: bool = False) -> None:
    """The local path ``src`` (or a tar stream) into the container at ``dest``."""
    owner = None if archive else (0, 0)  # docker: files copied in belong to the container's root
    parts = _clean(dest)
    with container_root(cfg, lifecycle, cid) as view:
        if view.read_only:
            raise Conflict("container rootfs is marked read-only")
        parent, name, st, real = _lookup(view, parts, follow=True)
        os.close(parent)
        dest_is_dir = st is not None and stat.S_ISDIR(st.st_mode)
        if not isinstance(src, (str, os.PathLike)):
            if not dest_is_dir:
                raise InvalidArgument(f"extraction point {dest} is not a directory")
            with tarfile.open(fileobj=src, mode="r|*") as tar:
                _write(view, real, owner, ((m, tar.extractfile(m) if m.isreg() else None)
                                           for m in tar))
            return
        spath = os.fspath(src)
        lst = os.stat(spath) if follow else os.lstat(spath)
        src_dir = stat.S_ISDIR(lst.st_mode)
        contents = spath.endswith("/.")
        if spath.endswith("/") and not src_dir:
            raise InvalidArgument(f"{spath}: not a directory")
        if dest_is_dir:
            base, top = real, "" if contents and src_dir else os.path.basename(
                os.path.normpath(spath))
        elif st is not None and src_dir:
            raise InvalidArgument(f"cannot copy a directory to a file: {dest}")
        elif st is None and dest.endswith("/") and not src_dir:
            raise InvalidArgument(f"destination directory {dest} does not exist")
        else:
            base, top = real[:-1], real[-1]
        lpath = os.path.realpath(spath) if follow else os.path.normpath(spath)
        lparent = os.open(os.path.dirname(lpath) or ".", os.O_PATH | os.O_CLOEXEC)
        try:
            _write(view, base, owner, tarwalk.entries(
                lparent, os.path.basename(lpath) or ".", top))
        finally:
            os.close(lparent)


def _write(view: RootView, base: tuple[str, ...], owner: tuple[int, int] | None,
           items: Iterator[tuple[tarfile.TarInfo, object]]) -> None:
    writer = Writer(view.fd, base, owner=owner, binds=view.binds)
    for ti, data in items:
        writer.apply(ti, data)
    writer.finish()


def export(cfg: EngineConfig, lifecycle: Lifecycle, cid: str, dst: BinaryIO) -> None:
    """The container's filesystem (the overlay view, not the live mounts) as a tar stream."""
    with container_root(cfg, lifecycle, cid) as view:
        with tarfile.open(fileobj=dst, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            for ti, data in tarwalk.entries(view.fd, ".", ""):
                tar.addfile(ti, data)
