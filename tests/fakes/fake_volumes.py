"""The fake's volumes (``engine/api_volumes.py``) and ``system df``.

Volumes are metadata only; ``Mountpoint`` names where the real one would live under
``config.root`` and ``size`` is what a test set with :meth:`set_volume_size` (0 else).
Any container that names a volume, running or not, keeps it from removal, as docker.
A volume made by ``-v name:/path`` at create time announces nothing (the real engine
does not either); ``volumes_create`` does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.errors import InvalidArgument
from engine.types import (
    CreateOptions,
    DiskUsage,
    PruneReport,
    RemoveReport,
    VolumeCreateOptions,
    VolumeSummary,
)
from engine.volumes.mounts import parse_mount, parse_tmpfs, parse_volume
from engine.volumes.store import ANON_LABEL, VolumeInUse, VolumeNotFound, check_name

if TYPE_CHECKING:
    from engine.config import EngineConfig

    from .events import FakeEventLog

ACTIVE = ("running", "paused", "restarting")


class FakeVolumesMixin:
    config: EngineConfig
    events: FakeEventLog
    clock: Callable[[], float]
    _lock: threading.RLock
    _containers: dict[str, dict[str, Any]]
    _images: dict[str, dict[str, Any]]

    if TYPE_CHECKING:
        def new_id(self, kind: str) -> str: ...

    def _init_volumes(self) -> None:
        self._volumes: dict[str, dict[str, Any]] = {}
        self._volume_sizes: dict[str, int] = {}

    def set_volume_size(self, name: str, size: int) -> None:
        with self._lock:
            self._volume_sizes[name] = size

    def _volume_users(self) -> dict[str, list[str]]:
        users: dict[str, list[str]] = {}
        for rec in self._containers.values():
            for m in rec.get("mounts") or []:
                if m.get("Type") == "volume" and m.get("Name"):
                    users.setdefault(m["Name"], []).append(rec["name"])
        return users

    def _ensure_volume(self, name: str | None, labels: dict[str, str],
                       options: dict[str, str], anonymous: bool = False
                       ) -> tuple[dict[str, Any], bool]:
        if options:
            raise InvalidArgument("volume driver options are not supported "
                                  f"(got {', '.join(sorted(options))}); the local driver "
                                  "keeps plain directories")
        name = check_name(name) if name else self.new_id("volume")
        if name in self._volumes:
            return dict(self._volumes[name]), False
        labels = dict(labels)
        if anonymous:
            labels[ANON_LABEL] = ""
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.clock()))
        meta = {"Name": name, "Driver": "local", "CreatedAt": created, "Labels": labels,
                "Scope": "local", "Options": {},
                "Mountpoint": str(self.config.root / "volumes" / name / "_data")}
        self._volumes[name] = meta
        return dict(meta), True

    # -- verbs -----------------------------------------------------------------------------
    def volumes_create(self, opts: VolumeCreateOptions) -> dict[str, Any]:
        if opts.driver != "local":
            raise InvalidArgument(f"volume driver {opts.driver!r} is not supported (local)")
        with self._lock:
            meta, created = self._ensure_volume(opts.name, dict(opts.labels), dict(opts.options))
        if created:
            self.events.emit("volume", "create", meta["Name"], {"driver": "local"})
        return meta

    def volumes_list(self, *, filters: list[str] | None = None, size: bool = False
                     ) -> list[VolumeSummary]:
        want: dict[str, list[str]] = {}
        for f in filters or []:
            k, eq, v = f.partition("=")
            if not eq or k not in ("dangling", "name", "label", "driver"):
                raise InvalidArgument(f"invalid filter {f!r}")
            if k == "dangling" and v.lower() not in ("true", "false", "1", "0"):
                raise InvalidArgument(f"invalid filter 'dangling={v}'")
            want.setdefault(k, []).append(v)
        out = []
        with self._lock:
            users = self._volume_users()
            for name in sorted(self._volumes):
                meta = self._volumes[name]
                labels = dict(meta["Labels"])
                used = tuple(users.get(name, ()))
                if "dangling" in want and (
                        want["dangling"][-1].lower() in ("true", "1")) == bool(used):
                    continue
                if "name" in want and not any(n in name for n in want["name"]):
                    continue
                if "driver" in want and "local" not in want["driver"]:
                    continue
                if not _label_match(labels, want.get("label", [])):
                    continue
                out.append(VolumeSummary(name, "local", meta["Mountpoint"], meta["CreatedAt"],
                                         labels, ANON_LABEL in labels, used,
                                         self._volume_sizes.get(name, 0) if size else -1))
        return out

    def volumes_inspect(self, name: str) -> dict[str, Any]:
        with self._lock:
            if name not in self._volumes:
                raise VolumeNotFound(name)
            return dict(self._volumes[name])

    def volumes_remove(self, names: list[str], *, force: bool = False) -> list[RemoveReport]:
        out = []
        for name in names:
            with self._lock:
                if name not in self._volumes:
                    if not force:
                        out.append(RemoveReport(name, error=str(VolumeNotFound(name))))
                        continue
                else:
                    users = self._volume_users().get(name)
                    if users:
                        out.append(RemoveReport(name, error=str(VolumeInUse(name, users))))
                        continue
                    del self._volumes[name]
            self.events.emit("volume", "destroy", name, {"driver": "local"})
            out.append(RemoveReport(name, deleted=(name,)))
        return out

    def volumes_prune(self, *, all_volumes: bool = False, filters: list[str] | None = None
                      ) -> PruneReport:
        if any(not f.startswith("label=") for f in filters or []):
            raise InvalidArgument("volume prune supports only label= filters")
        labels = [f.partition("=")[2] for f in filters or []]
        deleted, reclaimed = [], 0
        with self._lock:
            users = self._volume_users()
            for name in sorted(self._volumes):
                meta = self._volumes[name]
                if not (all_volumes or ANON_LABEL in meta["Labels"]) or name in users:
                    continue
                if not _label_match(meta["Labels"], labels):
                    continue
                del self._volumes[name]
                deleted.append(name)
                reclaimed += self._volume_sizes.pop(name, 0)
        for name in deleted:
            self.events.emit("volume", "destroy", name, {"driver": "local"})
        self.events.emit("volume", "prune", "", {"reclaimed": str(reclaimed)})
        return PruneReport(deleted=tuple(deleted), space_reclaimed=reclaimed)

    def system_df(self) -> list[DiskUsage]:
        with self._lock:
            used = {r["image_id"] for r in self._containers.values()}
            sizes = {i: sum(img["sizes"]) for i, img in self._images.items()}
            active = [r for r in self._containers.values() if r["state"]["status"] in ACTIVE]
            users = self._volume_users()
            vols = {n: self._volume_sizes.get(n, 0) for n in self._volumes}
        return [
            DiskUsage("Images", len(sizes), len(used & set(sizes)), sum(sizes.values()),
                      sum(s for i, s in sizes.items() if i not in used)),
            DiskUsage("Containers", len(self._containers), len(active), 0, 0),
            DiskUsage("Local Volumes", len(vols), sum(1 for n in vols if n in users),
                      sum(vols.values()), sum(s for n, s in vols.items() if n not in users)),
            DiskUsage("Build Cache", 0, 0, 0, 0),
        ]

    # -- containers' mounts ---------------------------------------------------------------------
    def _mounts_for_create(self, opts: CreateOptions, img_cfg: dict[str, Any]
                           ) -> list[dict[str, Any]]:
        reqs = [parse_volume(v) for v in opts.volumes] + [parse_mount(m) for m in opts.mounts] \
            + [parse_tmpfs(t) for t in opts.tmpfs]
        seen = {r.destination for r in reqs}
        if len(seen) != len(reqs):
            raise InvalidArgument("Duplicate mount point")
        for dest in sorted(img_cfg.get("Volumes") or {}):
            if dest not in seen:
                reqs.append(parse_volume(dest))
        out = []
        for r in reqs:
            base = {"Destination": r.destination, "Mode": r.mode, "RW": not r.read_only,
                    "Propagation": r.propagation}
            if r.type == "tmpfs":
                out.append({"Type": "tmpfs", "Source": "", **base})
            elif r.type == "bind":
                out.append({"Type": "bind", "Source": r.source, **base})
            else:
                meta, created = self._ensure_volume(r.source or None, dict(r.labels), {},
                                                    anonymous=not r.source)
                out.append({"Type": "volume", "Name": meta["Name"], "Source": meta["Mountpoint"],
                            "Driver": "local", **base, "_anonymous": not r.source and created})
        return out

    def _release_anonymous(self, rec: dict[str, Any]) -> None:
        """``rm -v``: the container's anonymous volumes that no other container names."""
        users = self._volume_users()
        for m in rec.get("mounts") or []:
            if m.get("_anonymous") and not users.get(m["Name"]):
                self._volumes.pop(m["Name"], None)


def _label_match(labels: dict[str, str], want: list[str]) -> bool:
    for w in want:
        k, eq, v = w.partition("=")
        if k not in labels or (eq and labels[k] != v):
            return False
    return True
