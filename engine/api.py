"""The engine facade: the only surface the front ends use.

Verbs are named resource-first (``images_list``, ``images_remove``). Inputs are
frozen ``*Options`` dataclasses, outputs ``*Info``/``*Report`` dataclasses or
plain JSON-shaped dicts where docker prints JSON (``inspect``). Batch verbs
return one report per item and never stop at the first failure. Every state
change is appended to the event log.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any, BinaryIO

from .api_build import BuildMixin
from .api_containers import ContainersMixin
from .api_layers import LayersMixin
from .api_networks import NetworksMixin
from .api_registry import RegistryMixin
from .api_volumes import VolumesMixin
from .config import EngineConfig
from .content.store import ContentStore
from .errors import EngineError, PermissionDenied
from .events import EventLog

if TYPE_CHECKING:  # built where returned: each group of dataclasses costs ms to define
    from .images.store import ImageStore
    from .snapshots.store import SnapshotStore
    from .types import (
        EventRecord,
        HistoryEntry,
        ImageSummary,
        ImportOptions,
        LoadReport,
        PruneReport,
        RemoveReport,
    )


def require_root() -> None:
    """Fail with one line when not root: namespaces, mounts and device nodes need it."""
    if os.geteuid() != 0:
        raise PermissionDenied("pydock needs root for now (rootless mode is not supported yet); "
                               "run it with sudo")


class Engine(ContainersMixin, RegistryMixin, BuildMixin, VolumesMixin, NetworksMixin,
             LayersMixin):
    """One engine over one root. Cheap to create; safe to use from several processes."""

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        cfg = self.config
        try:
            cfg.ensure_layout()
            self.content = ContentStore(cfg.content_dir)
            self.content.ensure()
        except OSError as err:
            raise EngineError(f"cannot use root {cfg.root}: {err.strerror or err}",
                              title="Bad root") from err
        self.events = EventLog(cfg.events_log, cfg.locks_dir / "events.lock")

    # The image and snapshot stores on first use: ps, logs, stop and the like never
    # touch them, and their modules (references, records) cost ~3 ms to import.
    # (The mixins declare plain attributes; a cached_property is one once computed.)
    @cached_property
    def snapshots(self) -> SnapshotStore:  # type: ignore[override]
        from .snapshots.store import SnapshotStore

        cfg = self.config
        return SnapshotStore(cfg.snapshots_dir, cfg.locks_dir, cfg.tmp_dir)

    @cached_property
    def images(self) -> ImageStore:  # type: ignore[override]
        from .images.store import ImageStore

        return ImageStore(self.config, self.content, self.snapshots)

    # -- images ------------------------------------------------------------
    def images_list(self, *, all: bool = True) -> list[ImageSummary]:  # noqa: A002
        from .images import inspect, usage

        return inspect.summaries(self.images, usage.scan(self.config.containers_dir).by_image)

    def images_inspect(self, name: str) -> dict[str, Any]:
        from .images import inspect

        return inspect.inspect(self.images, self.images.record(self.images.resolve(name)))

    def images_history(self, name: str) -> list[HistoryEntry]:
        from .images import inspect

        return inspect.history(self.images, self.images.record(self.images.resolve(name)))

    def images_import(self, src: BinaryIO, opts: ImportOptions, *, source: str = "-") -> str:
        from .images import importer

        image_id, moved = importer.import_rootfs(self.images, src, opts, source)
        self._emit_image("import", image_id, {"name": opts.reference or ""})
        return image_id

    def images_load(self, src: BinaryIO) -> LoadReport:
        from .images import archive
        from .reference import parse
        from .types import LoadReport

        loaded = archive.load(self.images, src, self.config.default_platform)
        tags: list[str] = []
        for image_id, full_tags in loaded:
            familiar = [parse(t).familiar for t in full_tags]
            tags += familiar
            self._emit_image("load", image_id, {"name": ",".join(familiar)})
        return LoadReport(tuple(i for i, _ in loaded), tuple(tags))

    def images_save(self, names: list[str], dst: BinaryIO) -> list[str]:
        from .images import save

        ids = save.save(self.images, names, dst)
        for image_id in ids:
            self._emit_image("save", image_id)
        return ids

    def images_tag(self, source: str, target: str) -> str:
        from .reference import parse

        ref = parse(target, default_registry=self.config.default_registry)
        image_id = self.images.resolve(source)
        self.images.tag(image_id, ref)
        self._emit_image("tag", image_id, {"name": ref.familiar})
        return image_id

    def images_remove(self, names: list[str], *, force: bool = False) -> list[RemoveReport]:
        from .images import remove
        from .types import RemoveReport

        reports = []
        for name in names:
            try:
                rep = remove.remove(self.images, name, force=force)
            except EngineError as err:
                reports.append(RemoveReport(name, error=str(err)))
                continue
            for t in rep.untagged:
                self._emit_image("untag", rep.image_id, {"name": t})
            if rep.deleted:
                self._emit_image("delete", rep.image_id, {"name": name})
            reports.append(rep)
        return reports

    def images_prune(self, *, all_unused: bool = False) -> PruneReport:
        from .images import remove

        rep = remove.prune(self.images, all_unused=all_unused)
        for image_id in rep.deleted:
            self._emit_image("delete", image_id)
        self.events.emit("image", "prune", "", {"reclaimed": str(rep.space_reclaimed)})
        return rep

    def images_resolve(self, name: str) -> str:
        return self.images.resolve(name)

    # -- events -------------------------------------------------------------
    def events_list(self, *, since: float | None = None, until: float | None = None,
                    match: Callable[[EventRecord], bool] | None = None) -> list[EventRecord]:
        return self.events.read(since=since, until=until, match=match)

    def events_follow(self, *, since: float | None = None, until: float | None = None,
                      match: Callable[[EventRecord], bool] | None = None,
                      stop: Callable[[], bool] | None = None) -> Iterator[EventRecord]:
        return self.events.follow(since=since, until=until, match=match, stop=stop)

    def _emit_image(self, action: str, image_id: str, attrs: dict[str, str] | None = None) -> None:
        self.events.emit("image", action, image_id, {k: v for k, v in (attrs or {}).items() if v})
