"""A container's own changes: its overlay upper dir read against the image's snapshots.

``docker diff`` lists them (C/A/D, parents before children) and ``commit``
writes them as an OCI layer: overlay whiteouts (0/0 character devices) become
``.wh.<name>`` entries and opaque directories get a ``.wh..wh..opq`` entry.
Snapshots are looked up as overlayfs does: top layer first, stopping at a
whiteout, a non-directory or an opaque directory. The empty files and
directories the init created as mount points (``/etc/hostname``...) are not
changes, as they live in docker's separate init layer there.
"""

from __future__ import annotations

import os
import stat
import tarfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from ..types_tools import ContainerChange
from . import tarwalk

OPAQUE_XATTR = "trusted.overlay.opaque"
_WHITEOUT = object()


def is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def is_opaque(dir_fd: int) -> bool:
    try:
        return os.getxattr(dir_fd, OPAQUE_XATTR) == b"y"
    except OSError:
        return False


class Lowers:
    """The image's snapshot dirs (top first), answering overlayfs-style lookups."""

    def __init__(self, dirs: Iterable[Path]) -> None:
        self.fds = [os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC) for d in dirs]

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)
        self.fds = []

    def _find(self, layer: int, parts: tuple[str, ...]) -> tuple[object, bool]:
        """(stat, a dir fd, _WHITEOUT or None; whether lower layers are hidden)."""
        cur, stop = layer, False
        try:
            for i, name in enumerate(parts):
                try:
                    st = os.stat(name, dir_fd=cur, follow_symlinks=False)
                except (FileNotFoundError, NotADirectoryError):
                    return None, stop
                if is_whiteout(st):
                    return _WHITEOUT, True
                if i == len(parts) - 1:
                    return st, True
                if not stat.S_ISDIR(st.st_mode):
                    return _WHITEOUT, True  # a file here hides what lies below
                nxt = tarwalk.open_dir(cur, name)
                if cur != layer:
                    os.close(cur)
                cur = nxt
                stop = stop or is_opaque(cur)
            return None, stop
        finally:
            if cur != layer:
                os.close(cur)

    def lookup(self, parts: tuple[str, ...]) -> os.stat_result | None:
        for layer in self.fds:
            found, stop = self._find(layer, parts)
            if isinstance(found, os.stat_result):
                return found
            if found is _WHITEOUT or stop:
                return None
        return None

    def children(self, parts: tuple[str, ...]) -> set[str]:
        """Names the image shows in directory ``parts``."""
        seen: set[str] = set()
        hidden: set[str] = set()
        for layer in self.fds:
            found, stop = self._find(layer, parts) if parts else (None, False)
            if found is _WHITEOUT or (isinstance(found, os.stat_result)
                                      and not stat.S_ISDIR(found.st_mode)):
                break
            if found is None and parts:
                if stop:
                    break
                continue
            fd = os.open("/".join(parts) or ".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC,
                         dir_fd=layer)  # found as a real dir path by _find: no symlink in it
            try:
                for name in os.listdir(fd):
                    if name in hidden:
                        continue  # whited out by a layer above
                    st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                    (hidden if is_whiteout(st) else seen).add(name)
                opaque = is_opaque(fd)
            finally:
                os.close(fd)
            if opaque:
                break
        return seen


def _same_dir(a: os.stat_result, b: os.stat_result, mtime: bool) -> bool:
    return (a.st_mode == b.st_mode and a.st_uid == b.st_uid and a.st_gid == b.st_gid
            and (not mtime or a.st_mtime_ns == b.st_mtime_ns))


class Scan:
    """The upper dir classified against the lowers, walk order (parents first)."""

    def __init__(self, upper: Path, lowers: Lowers, stubs: set[tuple[str, ...]]) -> None:
        self.upper, self.lowers, self.stubs = upper, lowers, stubs

    def _classified(self) -> Iterator[tuple[tarwalk.Node, str | None]]:
        top = os.open(self.upper, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for node in tarwalk.walk(top):
                yield node, self._classify(node)
        finally:
            os.close(top)

    def changes(self) -> list[ContainerChange]:
        out: dict[tuple[str, ...], str] = {}
        for node, kind in self._classified():
            if kind is None or kind == "C?":
                continue  # unchanged dirs show up only as parents of a change
            out[node.parts] = "C" if kind == "O" else kind
            if kind == "O":  # opaque over a lower dir: the lower content is gone
                fd = tarwalk.open_dir(node.parent, node.name)
                try:
                    mine = set(os.listdir(fd))
                finally:
                    os.close(fd)
                for name in self.lowers.children(node.parts) - mine:
                    out[(*node.parts, name)] = "D"
        for parts, kind in list(out.items()):
            if kind in ("A", "D") and len(parts) > 1:
                out.setdefault(parts[:-1], "C")
        return [ContainerChange(k, "/" + "/".join(p)) for p, k in sorted(out.items())]

    def _classify(self, node: tarwalk.Node) -> str | None:
        """A, C, D, O (opaque dir over a lower dir), C? (dir as in the image) or None."""
        st, parts = node.st, node.parts
        if is_whiteout(st):
            return "D" if self.lowers.lookup(parts) is not None else None
        lower = self.lowers.lookup(parts)
        if parts in self.stubs and lower is None and _empty(node):
            return None
        if lower is None:
            return "A"
        if stat.S_ISDIR(st.st_mode):
            fd = tarwalk.open_dir(node.parent, node.name)
            try:
                opaque = is_opaque(fd)
                stub_child = any((*parts, n) in self.stubs for n in os.listdir(fd))
            finally:
                os.close(fd)
            if opaque and stat.S_ISDIR(lower.st_mode):
                return "O"
            # Creating the mount-point stubs touched the mtime: not the user's change.
            if stat.S_ISDIR(lower.st_mode) and _same_dir(st, lower, mtime=not stub_child):
                return "C?"
        return "C"

    def write_layer(self, out: BinaryIO) -> None:
        """The upper dir as an uncompressed OCI layer tar, like docker's overlay2 diff.

        Every directory on the way to a change is kept with its own metadata: a
        missing one would be created 0755 root-owned by whoever applies the layer.
        """
        include: set[tuple[str, ...]] = set()
        for node, kind in self._classified():
            if kind is not None and kind != "C?":
                include.update(node.parts[:i] for i in range(1, len(node.parts) + 1))
        top = os.open(self.upper, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        links = tarwalk.Links()
        try:
            with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                for node in tarwalk.walk(top):
                    if node.parts in include:
                        for ti, real in self._entries(node, links):
                            if real:
                                tarwalk.add(tar, node, ti, xattrs=True)
                            else:
                                tar.addfile(ti)  # a whiteout marker: empty, no source file
        finally:
            os.close(top)

    def _entries(self, node: tarwalk.Node, links: tarwalk.Links
                 ) -> Iterator[tuple[tarfile.TarInfo, bool]]:
        name = "/".join(node.parts)
        if is_whiteout(node.st):
            wh = tarfile.TarInfo("/".join((*node.parts[:-1], ".wh." + node.name)))
            wh.mode, wh.uid, wh.gid, wh.mtime = 0o600, node.st.st_uid, node.st.st_gid, 0
            yield wh, False
            return
        ti = tarwalk.tarinfo(node, name, links)
        yield ti, True
        if ti.isdir():
            fd = tarwalk.open_dir(node.parent, node.name)
            try:
                opaque = is_opaque(fd)
            finally:
                os.close(fd)
            if opaque:
                wo = tarfile.TarInfo(f"{name}/.wh..wh..opq")
                wo.mode, wo.uid, wo.gid, wo.mtime = 0o600, ti.uid, ti.gid, ti.mtime
                yield wo, False


def _empty(node: tarwalk.Node) -> bool:
    if stat.S_ISREG(node.st.st_mode):
        return node.st.st_size == 0
    if stat.S_ISDIR(node.st.st_mode):
        fd = tarwalk.open_dir(node.parent, node.name)
        try:
            return not os.listdir(fd)
        finally:
            os.close(fd)
    return False
