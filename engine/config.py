"""Where the engine reads and writes: every host path comes from here.

Unit tests point an :class:`EngineConfig` at fixture trees, integration tests at a
temporary root; nothing else in ``engine/`` hard-codes ``/proc`` or ``/sys``.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.record import dataclass, field

DEFAULT_ROOT = Path("/var/lib/pydock")
ROOT_ENV = "PYDOCK_ROOT"
CGROUP_PARENT_ENV = "PYDOCK_CGROUP_PARENT"


def default_cgroup_parent(environ: dict[str, str] | None = None) -> str:
    """``pydock`` unless overridden; test runs use their own parent so they never
    touch (or are confused by) the cgroups of real containers."""
    env = os.environ if environ is None else environ
    return env.get(CGROUP_PARENT_ENV, "").strip().strip("/") or "pydock"


def default_root(environ: dict[str, str] | None = None) -> Path:
    """The root a front end uses when ``--root`` is not given."""
    env = os.environ if environ is None else environ
    value = env.get(ROOT_ENV, "").strip()
    return Path(value) if value else DEFAULT_ROOT


@dataclass(frozen=True)
class EngineConfig:
    """Host paths and defaults of one engine instance.

    Attributes:
        root: state directory; two processes sharing it see the same world.
        proc_root: the procfs mount (psutil-style ``PROCFS_PATH``).
        cgroup_root: where the cgroup hierarchies are mounted.
        cgroup_parent: the cgroup every container's own cgroup is created under.
        default_registry: registry for unqualified names, as docker.
        default_platform: ``os/arch`` picked from image indexes.
    """

    root: Path = field(default_factory=default_root)
    proc_root: Path = Path("/proc")
    cgroup_root: Path = Path("/sys/fs/cgroup")
    cgroup_parent: str = field(default_factory=default_cgroup_parent)
    default_registry: str = "docker.io"
    default_platform: str = "linux/amd64"

    def __post_init__(self) -> None:
        # Accept str paths from callers; everything below relies on Path.
        for name in ("root", "proc_root", "cgroup_root"):
            object.__setattr__(self, name, Path(getattr(self, name)))

    @property
    def content_dir(self) -> Path:
        return self.root / "content"

    @property
    def snapshots_dir(self) -> Path:
        return self.root / "snapshots"

    @property
    def containers_dir(self) -> Path:
        return self.root / "containers"

    @property
    def locks_dir(self) -> Path:
        return self.root / "locks"

    @property
    def tmp_dir(self) -> Path:
        # Same filesystem as the stores, so finished work is renamed in atomically.
        return self.root / "tmp"

    @property
    def images_db(self) -> Path:
        return self.root / "images.json"

    @property
    def events_log(self) -> Path:
        return self.root / "events.jsonl"

    def ensure_layout(self) -> None:
        """Create the directory skeleton (idempotent, safe to race)."""
        for d in (self.root, self.content_dir, self.snapshots_dir, self.containers_dir,
                  self.locks_dir, self.tmp_dir):
            d.mkdir(mode=0o700 if d == self.root else 0o755, parents=True, exist_ok=True)
