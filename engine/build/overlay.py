"""Overlay mounts of a snapshot chain, for build steps that need no process.

COPY, ADD and WORKDIR write into a writable overlay (the chain below, a fresh
upper dir on top) exactly as a RUN container would, so symlinks in the image,
directory metadata and whiteouts behave the same, and the upper dir becomes the
layer through the same code as RUN. ``COPY --from`` and ``RUN --mount=…,from=``
read a stage through a read-only overlay.

Lower dirs are given as absolute paths (no ``chdir``: the builder may run in a
thread of a bigger process); when they would not fit in one page of mount
options, a directory of short symlinks named through ``/proc/self/fd`` stands in.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from ..errors import EngineError
from ..snapshots.store import SnapshotStore, remove_tree

PAGE = 4096


@contextlib.contextmanager
def _lowers(snapshots: SnapshotStore, chain_ids: list[str], work: Path,
            extra: Path | None) -> Iterator[str]:
    dirs = [str(snapshots.diff_dir(c)) for c in reversed(chain_ids)]
    if extra is not None:
        dirs.append(str(extra))
    joined = ":".join(dirs)
    if len(joined) < PAGE - 512:
        yield joined
        return
    farm = work / "l"
    farm.mkdir()
    for i, d in enumerate(dirs):
        os.symlink(d, farm / str(i))
    fd = os.open(farm, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        short = ":".join(f"/proc/self/fd/{fd}/{i}" for i in range(len(dirs)))
        if len(short) >= PAGE - 512:
            raise EngineError(f"too many layers ({len(dirs)}) for one overlay mount")
        yield short
    finally:
        os.close(fd)


def _mount(options: str, target: Path, *, readonly: bool) -> None:
    from ..sys import libc

    try:
        libc.mount("overlay", str(target), "overlay", libc.MS_RDONLY if readonly else 0,
                   options)
    except OSError as err:
        raise EngineError(f"cannot mount the build step's file system: "
                          f"{os.strerror(err.errno or 0)}") from err


@contextlib.contextmanager
def writable(snapshots: SnapshotStore, chain_ids: list[str], work: Path) -> Iterator[Path]:
    """Mount the chain with ``work/upper`` on top at ``work/merged``; yield ``merged``.

    The upper dir survives the unmount: it is the step's change set.
    """
    for d in ("upper", "work", "merged", "empty"):
        (work / d).mkdir(mode=0o755, parents=True, exist_ok=True)
    merged = work / "merged"
    base = None if chain_ids else work / "empty"
    with _lowers(snapshots, chain_ids, work, base) as lowers:
        _mount(f"lowerdir={lowers},upperdir={work / 'upper'},workdir={work / 'work'},"
               "index=off", merged, readonly=False)
    try:
        yield merged
    finally:
        _unmount(merged)


@contextlib.contextmanager
def readonly(snapshots: SnapshotStore, chain_ids: list[str], work: Path) -> Iterator[Path]:
    """A read-only view of the chain at ``work/view`` (an empty dir for no layers).

    overlayfs wants two lower dirs without an upper one: an empty dir at the
    bottom makes any chain, even a single layer, mountable the same way.
    """
    view, empty = work / "view", work / "view-empty"
    view.mkdir(mode=0o755, parents=True, exist_ok=True)
    empty.mkdir(mode=0o755, exist_ok=True)
    if not chain_ids:
        yield empty
        return
    with _lowers(snapshots, chain_ids, work, empty) as lowers:
        _mount(f"lowerdir={lowers}", view, readonly=True)
    try:
        yield view
    finally:
        _unmount(view)


def _unmount(path: Path) -> None:
    from ..runtime import rootfs  # ctypes and libc only once something was mounted

    rootfs.unmount(path)


def mounts_below(path: Path) -> list[str]:
    prefix = os.path.realpath(path) + "/"
    try:
        with open("/proc/self/mountinfo") as f:
            targets = [line.split()[4] for line in f]
    except OSError:
        return []
    return [t for t in targets if t.startswith(prefix)]


def cleanup(work: Path) -> None:
    """Remove a work dir, unmounting whatever is still mounted below it first.

    Deleting through a live mount would delete inside a snapshot: never do that.
    """
    if not work.exists():
        return
    for target in sorted(set(mounts_below(work)), key=len, reverse=True):
        _unmount(Path(target))
    if mounts_below(work):
        raise EngineError(f"cannot clean up {work}: something is still mounted below it")
    with contextlib.suppress(OSError):
        os.rmdir(work)  # a fully cached build left it empty: no tree walk (nor shutil)
        return
    remove_tree(work)
