"""``docker rm``: every trace of a container goes (mounts, cgroup, files), idempotently."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from ..cgroups import get_driver
from ..config import EngineConfig
from ..errors import EngineError
from ..snapshots.store import remove_tree
from . import rootfs


def remove_files(cfg: EngineConfig, cid: str) -> None:
    """Unmount, drop the cgroup and delete ``containers/<id>``; safe to repeat."""
    cdir = cfg.containers_dir / cid
    rootfs.unmount(cdir / "merged")
    driver = get_driver(cfg)
    h = driver.handle(cid)
    if driver.exists(h):
        driver.remove(h)
    if cdir.exists():
        # Rename first so a half-deleted container never shows up in `ps`.
        trash = cfg.containers_dir / f".trash-{cid}-{os.getpid()}"
        with contextlib.suppress(FileNotFoundError):
            os.rename(cdir, trash)
        if trash.exists():
            try:
                remove_tree(trash)
            except EngineError:
                remove_tree(Path(trash))
    with contextlib.suppress(FileNotFoundError):
        (cfg.locks_dir / f"container-{cid}.lock").unlink()
