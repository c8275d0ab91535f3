"""Which cgroup layout the host has, and the driver for it.

Detection looks at files rather than ``statfs`` magic numbers so a fixture tree
under ``EngineConfig.cgroup_root`` is detected exactly like the real mount:

- ``v2``: ``<root>/cgroup.controllers`` exists (the unified hierarchy is the root);
- ``hybrid``: v1 controllers, plus a v2 mount at ``<root>/unified`` (systemd's
  hybrid mode) that holds no controllers but has ``cgroup.freeze``/``cgroup.kill``;
- ``v1``: only per-controller hierarchies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from engine.config import EngineConfig
from engine.errors import Unavailable

from .base import CgroupDriver
from .v1 import V1Driver
from .v1_fs import mounted_controllers
from .v2 import V2Driver

Mode = Literal["v1", "v2", "hybrid"]


def detect(cgroup_root: Path) -> Mode:
    """The layout under ``cgroup_root``; Unavailable when there is no cgroup mount at all."""
    root = Path(cgroup_root)
    if (root / "cgroup.controllers").is_file():
        return "v2"
    v1 = mounted_controllers(root)
    if (root / "unified" / "cgroup.controllers").is_file():
        return "hybrid"
    if v1:
        return "v1"
    raise Unavailable(f"no cgroup hierarchy is mounted under {root}")


def get_driver(config: EngineConfig, parent: str | None = None, *,
               timeout: float = 5.0) -> CgroupDriver:
    """The driver for this host; containers live under ``parent`` in every hierarchy.

    On hybrid hosts v1 is the driver (the v2 mount has no controllers to limit
    anything); the unified mount is used alongside for cgroup.kill and as a
    freezer when the v1 freezer is not mounted.
    """
    root = config.cgroup_root
    parent = parent or config.cgroup_parent
    host = Path(root) == _HOST_ROOT
    if host and (parent, timeout) in _host_drivers:
        # The same driver for the process's life: a v1 driver resolves its
        # hierarchies' real paths once (a start and its exit both ask for one).
        return _host_drivers[(parent, timeout)]
    mode, mounts = _layout(Path(root))
    driver: CgroupDriver
    if mode == "v2":
        driver = V2Driver(root, parent, timeout=timeout)
    else:
        unified = root / "unified" if mode == "hybrid" else None
        driver = V1Driver(root, parent, unified=unified, timeout=timeout, mounts=mounts)
    if host:
        _host_drivers[(parent, timeout)] = driver
    return driver


_HOST_ROOT = Path("/sys/fs/cgroup")
_host_layout: tuple[Mode, dict[str, Path]] | None = None
_host_drivers: dict[tuple[str, float], CgroupDriver] = {}


def mode(root: Path) -> Mode:
    """:func:`detect`, read once per process for the host's own hierarchy."""
    return _layout(Path(root))[0]


def _layout(root: Path) -> tuple[Mode, dict[str, Path]]:
    # The host's layout is read once per process: it cannot change under a
    # running container (a cgroupfs is only remounted with its cgroups empty),
    # and a start and its exit each asked up to three times (~0.3 ms a time).
    # Fixture trees are read every time: tests reshape them.
    global _host_layout
    if root == _HOST_ROOT and _host_layout is not None:
        return _host_layout
    mode = detect(root)
    layout = (mode, {} if mode == "v2" else mounted_controllers(root))
    if root == _HOST_ROOT:
        _host_layout = layout
    return layout
