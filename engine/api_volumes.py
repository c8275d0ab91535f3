"""The volumes half of the facade, plus ``system df`` (mixed into :class:`engine.api.Engine`)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from .errors import EngineError, InvalidArgument

if TYPE_CHECKING:
    from .config import EngineConfig
    from .events import EventLog
    from .images.store import ImageStore
    from .types import (
        DiskUsage,
        PruneReport,
        RemoveReport,
        VolumeCreateOptions,
        VolumeSummary,
    )
    from .volumes.store import VolumeStore

ACTIVE = ("running", "paused", "restarting")


def _label_match(labels: dict[str, str], want: list[str]) -> bool:
    for w in want:
        k, eq, v = w.partition("=")
        if k not in labels or (eq and labels[k] != v):
            return False
    return True


class VolumesMixin:
    config: EngineConfig
    events: EventLog
    images: ImageStore

    @cached_property
    def volumes(self) -> VolumeStore:
        from .volumes.store import VolumeStore

        store = VolumeStore(self.config.root / "volumes", self.config.locks_dir)
        store.sweep()
        return store

    def _volume_users(self) -> dict[str, list[str]]:
        from .volumes.usage import scan

        return scan(self.config.containers_dir)

    def volumes_create(self, opts: VolumeCreateOptions) -> dict[str, Any]:
        if opts.driver != "local":
            raise InvalidArgument(f"volume driver {opts.driver!r} is not supported (local)")
        meta, created = self.volumes.create(opts.name, labels=dict(opts.labels),
                                            options=dict(opts.options))
        if created:
            self.events.emit("volume", "create", meta["Name"], {"driver": "local"})
        return meta

    def volumes_list(self, *, filters: list[str] | None = None, size: bool = False
                     ) -> list[VolumeSummary]:
        """``volume ls``; filters: ``dangling=true|false``, ``name=``, ``label=k[=v]``,
        ``driver=``."""
        from .types import VolumeSummary
        from .volumes.store import dir_size, is_anonymous

        want: dict[str, list[str]] = {}
        for f in filters or []:
            k, eq, v = f.partition("=")
            if not eq or k not in ("dangling", "name", "label", "driver"):
                raise InvalidArgument(f"invalid filter {f!r}")
            if k == "dangling" and v.lower() not in ("true", "false", "1", "0"):
                raise InvalidArgument(f"invalid filter 'dangling={v}'")
            want.setdefault(k, []).append(v)
        users = self._volume_users()
        out = []
        for name in self.volumes.names():
            try:
                meta = self.volumes.get(name)
            except EngineError:
                continue  # removed while we looked
            labels = dict(meta.get("Labels") or {})
            used = tuple(users.get(name, ()))
            if "dangling" in want and (want["dangling"][-1].lower() in ("true", "1")) == bool(
                    used):
                continue
            if "name" in want and not any(n in name for n in want["name"]):
                continue
            if "driver" in want and "local" not in want["driver"]:
                continue
            if not _label_match(labels, want.get("label", [])):
                continue
            out.append(VolumeSummary(name, "local", meta["Mountpoint"], meta["CreatedAt"],
                                     labels, is_anonymous(meta), used,
                                     dir_size(self.volumes.data(name)) if size else -1))
        return out

    def volumes_inspect(self, name: str) -> dict[str, Any]:
        return self.volumes.get(name)

    def volumes_remove(self, names: list[str], *, force: bool = False) -> list[RemoveReport]:
        from .types import RemoveReport
        from .volumes.usage import users_of

        out = []
        for name in names:
            try:
                self.volumes.remove(name, lambda n: users_of(self.config.containers_dir, n),
                                    force=force)
            except EngineError as err:
                out.append(RemoveReport(name, error=str(err)))
                continue
            self.events.emit("volume", "destroy", name, {"driver": "local"})
            out.append(RemoveReport(name, deleted=(name,)))
        return out

    def volumes_prune(self, *, all_volumes: bool = False, filters: list[str] | None = None
                      ) -> PruneReport:
        """Unused anonymous volumes (all unused ones with ``all_volumes``), as docker 23+."""
        from .types import PruneReport
        from .volumes.store import dir_size, is_anonymous
        from .volumes.usage import users_of

        labels = [f.partition("=")[2] for f in filters or [] if f.startswith("label=")]
        if any(not f.startswith("label=") for f in filters or []):
            raise InvalidArgument("volume prune supports only label= filters")
        deleted, reclaimed = [], 0
        with self.volumes.lock():
            for name in self.volumes.names():
                meta = self.volumes.get(name)
                if not (all_volumes or is_anonymous(meta)):
                    continue
                if not _label_match(dict(meta.get("Labels") or {}), labels):
                    continue
                size = dir_size(self.volumes.data(name))
                try:
                    self.volumes.remove_locked(
                        name, lambda n: users_of(self.config.containers_dir, n))
                except EngineError:
                    continue  # in use
                deleted.append(name)
                reclaimed += size
        for name in deleted:
            self.events.emit("volume", "destroy", name, {"driver": "local"})
        self.events.emit("volume", "prune", "", {"reclaimed": str(reclaimed)})
        return PruneReport(deleted=tuple(deleted), space_reclaimed=reclaimed)

    def system_df(self) -> list[DiskUsage]:
        """``system df``: images, containers, local volumes and the build cache."""
        from .build.cache import BuildCache
        from .images import usage
        from .runtime.state import ContainerStore
        from .types import DiskUsage
        from .volumes.store import dir_size

        snaps = self.images.snapshots
        containers = ContainerStore(self.config.containers_dir, self.config.locks_dir).all()
        used_images = set(usage.scan(self.config.containers_dir).by_image)
        records = self.images.records()
        image_chains = {c for r in records for c in r.chain_ids}
        used_chains = {c for r in records if r.id in used_images for c in r.chain_ids}
        img_size = sum(snaps.size(c) for c in image_chains)
        img_free = sum(snaps.size(c) for c in image_chains - used_chains)
        rows = [DiskUsage("Images", len(records), len(used_images & {r.id for r in records}),
                          img_size, img_free)]
        sizes = {c["id"]: dir_size(self.config.containers_dir / c["id"] / "upper")
                 for c in containers}
        active = [c for c in containers if (c.get("state") or {}).get("status") in ACTIVE]
        rows.append(DiskUsage("Containers", len(containers), len(active), sum(sizes.values()),
                              sum(sizes.values()) - sum(sizes[c["id"]] for c in active)))
        users = self._volume_users()
        vols = {n: dir_size(self.volumes.data(n)) for n in self.volumes.names()}
        rows.append(DiskUsage("Local Volumes", len(vols), sum(1 for n in vols if n in users),
                              sum(vols.values()),
                              sum(s for n, s in vols.items() if n not in users)))
        cache = BuildCache(self.config.root, self.config.locks_dir)
        entries = cache.entries()
        cache_chains = {str(e.get("chain_id")) for e in entries.values()
                        if isinstance(e, dict) and e.get("chain_id")} - image_chains
        cache_size = dir_size(cache.dir) + sum(snaps.size(c) for c in cache_chains)
        rows.append(DiskUsage("Build Cache", len(entries), 0, cache_size, cache_size))
        return rows
