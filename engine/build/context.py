"""The build context: a directory (or an unpacked tar) seen through ``.dockerignore``.

Nothing is read up front: COPY, ADD and bind mounts ask for the paths they
name (:func:`select`), and only those files are hashed for the cache key
(:func:`hash_tree`), as BuildKit's lazy context transfer does. The same
selection code serves a stage's or image's file system (``COPY --from``),
without an ignore file.

A tar context (``pydock build - < ctx.tar``) is unpacked into the engine's
tmp dir with the standard library's ``data`` filter (no absolute names, no
``..``, no links out, no devices) and removed after the build.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from ..digest import file_sha256_hex, small_sha256
from ..errors import InvalidArgument
from ..fsutil import mkdtemp
from ..record import dataclass, field
from .dockerignore import DockerIgnore, _translate, go_clean

if TYPE_CHECKING:
    import tarfile

_WILDCARD = re.compile(r"[*?\[]")
_CHUNK = 1 << 20


@dataclass
class Tree:
    """A directory a build reads from: the context or a stage's root file system."""

    root: Path
    ignore: DockerIgnore = field(default_factory=lambda: DockerIgnore([]))
    name: str = "context"  # for messages: "context", "stage build", "image alpine"

    def hidden(self, rel: str) -> bool:
        return bool(self.ignore.patterns) and self.ignore.excluded(rel)


def clean(path: str) -> str:
    """A source path relative to the tree's root: ``/a/../b/`` → ``b``, root → ``.``."""
    return go_clean("/" + path).lstrip("/") or "."


def resolve(root: Path, rel: str) -> str | None:
    """``rel`` with symlinks followed as if ``root`` were ``/``; None if missing."""
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    done: list[str] = []
    links = 0
    while parts:
        name = parts.pop(0)
        if name == "..":
            if done:
                done.pop()
            continue
        path = root.joinpath(*done, name)
        try:
            st = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if stat.S_ISLNK(st.st_mode):
            links += 1
            if links > 40:
                raise InvalidArgument(f"too many levels of symbolic links in {rel!r}")
            target = os.readlink(path)
            if target.startswith("/"):
                done = []
            parts = [p for p in target.split("/") if p not in ("", ".")] + parts
            continue
        done.append(name)
    return "/".join(done) or "."


def _match_component(pattern: str, name: str) -> bool:
    kind, source = _translate(pattern)
    if not _WILDCARD.search(pattern):
        return pattern == name
    return re.fullmatch(source, name) is not None


def select(tree: Tree, source: str) -> list[tuple[str, str]]:
    """``(name, real path)`` of what ``source`` names (Go ``filepath.Match`` wildcards).

    ``name`` is the last component as matched (a symlink keeps its own name),
    ``real`` the tree-relative path with symlinks followed inside the tree. A
    path that is missing or hidden by ``.dockerignore`` is an error, as is a
    wildcard that matches nothing.
    """
    rel = clean(source)
    if not _WILDCARD.search(rel):
        real = resolve(tree.root, rel)
        if real is None or (rel != "." and tree.hidden(rel)):
            raise InvalidArgument(f'"/{rel}": not found' if rel != "." else "context missing")
        return [(posixpath.basename(rel) if rel != "." else ".", real)]
    matches = ["."]
    for comp in rel.split("/"):
        nxt = []
        for base in matches:
            d = tree.root / base
            if not _WILDCARD.search(comp):
                cand = posixpath.normpath(posixpath.join(base, comp))
                if os.path.lexists(tree.root / cand):
                    nxt.append(cand)
                continue
            try:
                names = sorted(os.listdir(d))
            except (NotADirectoryError, FileNotFoundError):
                continue
            nxt += [posixpath.normpath(posixpath.join(base, n)) for n in names
                    if _match_component(comp, n)]
        matches = [m for m in nxt if not tree.hidden(m)]
    if not matches:
        raise InvalidArgument(f"no source files were specified: {source!r} matches nothing "
                              f"in the {tree.name}")
    out = []
    for m in matches:
        real = resolve(tree.root, m)
        if real is not None:  # a dangling symlink matched by a wildcard is skipped
            out.append((posixpath.basename(m), real))
    return out


def walk(tree: Tree, rel: str, excludes: DockerIgnore | None = None
         ) -> Iterator[tuple[str, os.stat_result]]:
    """``rel`` and, for a directory, everything below it that the build may see."""
    top = tree.root / rel if rel != "." else tree.root
    st = os.lstat(top)
    yield rel, st
    if not stat.S_ISDIR(st.st_mode):
        return
    for dirpath, dirs, files in os.walk(top):
        dirs.sort()
        base = os.path.relpath(dirpath, tree.root)
        keep = []
        for name in dirs:
            sub = posixpath.normpath(posixpath.join(base, name))
            if tree.hidden(sub) and tree.ignore.can_skip_dir(sub):
                continue
            keep.append(name)
        dirs[:] = keep
        for name in sorted(dirs + files):
            sub = posixpath.normpath(posixpath.join(base, name))
            inner = os.path.relpath(sub, rel) if rel != "." else sub
            if tree.hidden(sub) or (excludes is not None and excludes.excluded(inner)):
                continue
            yield sub, os.lstat(tree.root / sub)


def hash_tree(tree: Tree, paths: list[str], excludes: DockerIgnore | None = None) -> str:
    """Content hash of exactly these paths: names, types, modes, link targets, bytes.

    Owners and mtimes are left out (COPY from the context sets neither from the
    files), so touching a file without changing it keeps the cache.
    """
    h = small_sha256()  # names and file digests: small, however big the files
    for rel in paths:
        h.update(b"\0source\0" + os.fsencode(rel))
        for sub, st in walk(tree, rel, excludes):
            inner = os.path.relpath(sub, rel) if rel != "." else sub
            h.update(b"\0" + os.fsencode(inner) + f"\0{stat.S_IFMT(st.st_mode)}"
                     f"\0{stat.S_IMODE(st.st_mode)}".encode())
            if stat.S_ISLNK(st.st_mode):
                h.update(os.fsencode(os.readlink(tree.root / sub)))
            elif stat.S_ISREG(st.st_mode):
                h.update(file_digest(tree.root / sub).encode())
    return "sha256:" + h.hexdigest()


def file_digest(path: Path) -> str:
    return file_sha256_hex(path, _CHUNK)


def _keep_mode(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
    import tarfile

    safe = tarfile.data_filter(member, dest)
    if safe is None:
        return None
    # The data filter drops group/other write and exec bits; a context keeps its modes.
    if member.isreg() or member.isdir():
        return safe.replace(mode=member.mode & 0o777, deep=False)
    return safe


def unpack_tar(src: BinaryIO, tmp_dir: Path) -> Path:
    """Unpack a context archive (plain, gzip, bzip2 or xz) into a new dir under ``tmp_dir``."""
    import shutil  # here: only a context sent as a tar needs it
    import tarfile

    dest = mkdtemp(tmp_dir, "build-context-")
    try:
        with tarfile.open(fileobj=src, mode="r|*") as tar:
            tar.extractall(dest, filter=_keep_mode)
    except (tarfile.TarError, OSError, EOFError) as err:
        shutil.rmtree(dest, ignore_errors=True)
        raise InvalidArgument(f"the build context is not a valid tar archive: {err}") from err
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return dest
