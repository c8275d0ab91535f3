"""The container's root filesystem: an overlay of the image snapshots plus its own upper dir.

Mounted by the monitor in the host mount namespace at ``containers/<id>/merged``
(so ``cp``, ``diff`` and ``export`` see it while the container runs) and
unmounted when the container ends. Lowerdirs are given relative to the
snapshots directory to keep the option string within one page.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from ..errors import EngineError
from ..sys import libc

PAGE = 4096


def overlay_options(snapshots_dir: Path, chain_ids: list[str], upper: Path,
                    work: Path) -> str:
    """Mount data for ``chain_ids`` (base first), relative to ``snapshots_dir``."""
    lowers = [f"{c.removeprefix('sha256:')}/diff" for c in reversed(chain_ids)]
    opts = f"lowerdir={':'.join(lowers)},upperdir={upper},workdir={work},index=off"
    if len(opts) >= PAGE:
        raise EngineError(f"image has too many layers ({len(chain_ids)}) for one overlay mount")
    return opts


def mount_overlay(snapshots_dir: Path, chain_ids: list[str], cdir: Path, *,
                  volatile: bool = False) -> Path:
    """Mount the container's rootfs at ``cdir/merged`` (idempotent).

    ``volatile`` (a ``--rm`` container, as podman does): overlayfs skips every
    sync of the upper dir, the container's own fsyncs included, and the unmount
    flushes nothing. Such a container does not outlive its run; one left by an
    OS crash cannot be mounted again (the kernel refuses that upper dir) and is
    only good for ``pydock rm``.
    """
    merged = cdir / "merged"
    upper, work = cdir / "upper", cdir / "work"
    for d in (merged, upper, work):
        d.mkdir(mode=0o755, exist_ok=True)
    if is_mounted(merged):
        return merged
    if not chain_ids:
        # An image without layers: an empty read-only lower keeps overlay happy.
        empty = cdir / "empty"
        empty.mkdir(exist_ok=True)
        opts = f"lowerdir={empty},upperdir={upper},workdir={work},index=off"
    else:
        opts = overlay_options(snapshots_dir, chain_ids, upper, work)
    cwd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.chdir(snapshots_dir)
        try:
            libc.mount("overlay", str(merged), "overlay", 0,
                       opts + ",volatile" if volatile else opts)
        except OSError as err:
            if not volatile or err.errno != errno.EINVAL:
                raise
            libc.mount("overlay", str(merged), "overlay", 0, opts)  # a kernel before 5.10
    except OSError as err:
        raise EngineError(f"cannot mount the container's root filesystem: "
                          f"{os.strerror(err.errno or 0)}") from err
    finally:
        os.fchdir(cwd)
        os.close(cwd)
    return merged


def unmount(path: Path) -> None:
    """Detach ``path`` if mounted (idempotent)."""
    for _ in range(8):
        try:
            libc.umount2(str(path), libc.MNT_DETACH)
        except OSError as err:
            if err.errno in (errno.EINVAL, errno.ENOENT):
                return
            raise
    return


def is_mounted(path: Path) -> bool:
    target = os.path.realpath(path)
    try:
        with open("/proc/self/mountinfo") as f:
            return any(line.split()[4] == target for line in f)
    except OSError:
        return False
