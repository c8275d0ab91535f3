"""The fake's images: import, list, inspect, history, tag, remove, prune, commit.

Rules follow ``engine/images/remove.py`` (docker's ``rmi``): removing one of several
tags only untags; an image a container uses, or one named by ID with several tags, is
refused unless forced; prune takes dangling images (all unused with ``all_unused``).
An imported image's ID is computed as the real importer does (the config digest over
the same config), so the same tarball and options give the same ID in both engines.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, BinaryIO

from engine.errors import Conflict, EngineError, ImageInUse, ImageNotFound, InvalidArchive
from engine.images.changes import apply_changes
from engine.images.model import canonical_json, parse_rfc3339, rfc3339, split_platform
from engine.reference import looks_like_id, parse
from engine.types import HistoryEntry, ImageSummary, ImportOptions, PruneReport, RemoveReport

if TYPE_CHECKING:
    from engine.config import EngineConfig
    from engine.types_tools import CommitOptions

    from .events import FakeEventLog


class FakeImagesMixin:
    config: EngineConfig
    events: FakeEventLog
    clock: Callable[[], float]
    _lock: threading.RLock
    _containers: dict[str, dict[str, Any]]

    def _init_images(self) -> None:
        # image ID -> {"config": OCI config, "layers": [blob digest], "sizes": [layer bytes],
        # "manifest": digest, "last_tag_time": float}
        self._images: dict[str, dict[str, Any]] = {}
        self._tags: dict[str, str] = {}  # full reference -> image ID
        self._blobs: dict[str, tuple[bytes, int]] = {}  # layer digest -> (tar, file bytes)

    # -- helpers ---------------------------------------------------------------------------
    def _ref(self, name: str) -> str:
        return str(parse(name, default_registry=self.config.default_registry))

    def _emit_image(self, action: str, image_id: str, attrs: dict[str, str] | None = None
                    ) -> None:
        self.events.emit("image", action, image_id, {k: v for k, v in (attrs or {}).items() if v})

    def _users(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for rec in self._containers.values():
            out.setdefault(rec["image_id"], []).append(rec["name"])
        return out

    def _tags_of(self, image_id: str) -> list[str]:
        return sorted(t for t, i in self._tags.items() if i == image_id)

    def _store_blob(self, data: bytes) -> tuple[str, str]:
        """Keep a layer tar (gzipped or not); returns (blob digest, diff ID)."""
        raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
        size = _tar_size(raw)
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        with self._lock:
            self._blobs[digest] = (data, size)
        return digest, "sha256:" + hashlib.sha256(raw).hexdigest()

    def _add_image(self, config: dict[str, Any], layers: list[str], tags: list[str]) -> str:
        """Store an image (its layers stored first) under its config digest; point
        ``tags`` at it."""
        image_id = "sha256:" + hashlib.sha256(canonical_json(config)).hexdigest()
        manifest = "sha256:" + hashlib.sha256(b"manifest" + image_id.encode()).hexdigest()
        with self._lock:
            sizes = [self._blobs[d][1] for d in layers]
            img = self._images.setdefault(image_id, {"config": config, "layers": list(layers),
                                                     "sizes": sizes, "manifest": manifest,
                                                     "last_tag_time": 0.0})
            for t in tags:
                self._tags[t] = image_id
                img["last_tag_time"] = self.clock()
        return image_id

    def _image_for_create(self, ref: str) -> tuple[str, dict[str, Any]]:
        image_id = self.images_resolve(ref)
        return image_id, dict(self._images[image_id]["config"].get("config") or {})

    # -- verbs -------------------------------------------------------------------------------
    def images_resolve(self, name: str) -> str:
        with self._lock:
            if looks_like_id(name):
                hexpart = name.removeprefix("sha256:")
                matches = [i for i in self._images
                           if i.removeprefix("sha256:").startswith(hexpart)]
                if len(matches) == 1:
                    return matches[0]
                if len(matches) > 1:
                    raise Conflict(f"short ID {name!r} is ambiguous: it matches "
                                   f"{len(matches)} images")
                if name.startswith("sha256:"):
                    raise ImageNotFound(name)
            try:
                ref = parse(name, default_registry=self.config.default_registry)
            except EngineError:
                if looks_like_id(name):
                    raise ImageNotFound(name) from None
                raise
            if ref.digest:
                for image_id, img in self._images.items():
                    if img["manifest"] == ref.digest:
                        return image_id
                raise ImageNotFound(name)
            tagged = self._tags.get(str(ref))
            if tagged is None:
                raise ImageNotFound(name)
            return tagged

    def images_import(self, src: BinaryIO, opts: ImportOptions, *, source: str = "-") -> str:
        tags = [self._ref(opts.reference)] if opts.reference else []
        container_config: dict[str, Any] = {}
        apply_changes(container_config, opts.changes)
        created = rfc3339(opts.created if opts.created is not None else self.clock())
        digest, diff_id = self._store_blob(src.read())
        os_, arch, variant = split_platform(opts.platform)
        config: dict[str, Any] = {
            "created": created, "architecture": arch, "os": os_, "config": container_config,
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created": created,
                         "comment": opts.message or f"Imported from {source}"}],
        }
        if variant:
            config["variant"] = variant
        image_id = self._add_image(config, [digest], tags)
        self._emit_image("import", image_id, {"name": opts.reference or ""})
        return image_id

    def images_list(self, *, all: bool = True) -> list[ImageSummary]:  # noqa: A002
        with self._lock:
            users = self._users()
            rows: list[ImageSummary] = []
            for image_id, img in self._images.items():
                created = parse_rfc3339(str(img["config"].get("created", "")))
                size, n = sum(img["sizes"]), len(users.get(image_id, ()))
                tags = self._tags_of(image_id)
                if not tags:
                    rows.append(ImageSummary(image_id, "<none>", "<none>", img["manifest"],
                                             created, size, n))
                for t in tags:
                    ref = parse(t)
                    rows.append(ImageSummary(image_id, ref.familiar_name, ref.tag or "<none>",
                                             img["manifest"], created, size, n))
        rows.sort(key=lambda r: (-r.created, r.repository, r.tag))
        return rows

    def images_inspect(self, name: str) -> dict[str, Any]:
        with self._lock:
            image_id = self.images_resolve(name)
            img = self._images[image_id]
            cfg, tags = img["config"], self._tags_of(image_id)
        c = cfg.get("config") or {}
        hist = cfg.get("history") or []
        return {
            "Id": image_id, "RepoTags": [parse(t).familiar for t in tags],
            # Pushed or pulled: where it was; else one per name, as the real store shows.
            "RepoDigests": sorted(img.get("repo_digests") or {
                f"{parse(t).familiar_name}@{img['manifest']}" for t in tags}),
            "Parent": "", "Comment": str(hist[-1].get("comment", "")) if hist else "",
            "Created": cfg.get("created", ""), "DockerVersion": "", "Author":
            cfg.get("author", ""),
            "Config": {"User": c.get("User", ""), "ExposedPorts": c.get("ExposedPorts"),
                       "Env": c.get("Env"), "Cmd": c.get("Cmd"),
                       "Healthcheck": c.get("Healthcheck"), "Volumes": c.get("Volumes"),
                       "WorkingDir": c.get("WorkingDir", ""), "Entrypoint": c.get("Entrypoint"),
                       "Labels": c.get("Labels"), "StopSignal": c.get("StopSignal")},
            "Architecture": cfg.get("architecture", ""), "Variant": cfg.get("variant"),
            "Os": cfg.get("os", ""), "Size": sum(img["sizes"]),
            "RootFS": {"Type": "layers", "Layers": list(cfg["rootfs"]["diff_ids"])},
            "Metadata": {"LastTagTime": rfc3339(img["last_tag_time"])
                         if img["last_tag_time"] else "0001-01-01T00:00:00Z"},
        }

    def images_history(self, name: str) -> list[HistoryEntry]:
        with self._lock:
            image_id = self.images_resolve(name)
            img = self._images[image_id]
        hist = img["config"].get("history") or []
        sizes = iter(img["sizes"])
        rows = []
        for h in hist:
            empty = bool(h.get("empty_layer"))
            rows.append((h, empty, 0 if empty else next(sizes, 0)))
        return [HistoryEntry(id=image_id if n == 0 else "<missing>",
                             created=parse_rfc3339(str(h.get("created", ""))),
                             created_by=str(h.get("created_by", "")), size=size,
                             comment=str(h.get("comment", "")), empty_layer=empty)
                for n, (h, empty, size) in enumerate(reversed(rows))]

    def images_tag(self, source: str, target: str) -> str:
        ref = parse(target, default_registry=self.config.default_registry)
        with self._lock:
            image_id = self.images_resolve(source)
            self._tags[str(ref)] = image_id
            self._images[image_id]["last_tag_time"] = self.clock()
        self._emit_image("tag", image_id, {"name": ref.familiar})
        return image_id

    def images_remove(self, names: list[str], *, force: bool = False) -> list[RemoveReport]:
        reports = []
        for name in names:
            try:
                rep = self._remove_image(name, force)
            except EngineError as err:
                reports.append(RemoveReport(name, error=str(err)))
                continue
            for t in rep.untagged:
                self._emit_image("untag", rep.image_id, {"name": t})
            if rep.deleted:
                self._emit_image("delete", rep.image_id, {"name": name})
            reports.append(rep)
        return reports

    def _remove_image(self, name: str, force: bool) -> RemoveReport:
        with self._lock:
            image_id = self.images_resolve(name)
            tags = self._tags_of(image_id)
            by_tag = not looks_like_id(name) and "@" not in name
            users = self._users().get(image_id, [])
            if by_tag and len(tags) > 1:
                ref = self._ref(name)
                del self._tags[ref]
                return RemoveReport(name, image_id, untagged=(parse(ref).familiar,))
            if users and not force:
                raise ImageInUse(image_id, users, ref=name)
            if not by_tag and len(tags) > 1 and not force:
                raise Conflict(f"unable to delete {image_id.removeprefix('sha256:')[:12]} "
                               "(must be forced) - image is referenced in multiple "
                               "repositories")
            for t in tags:
                del self._tags[t]
            del self._images[image_id]
        return RemoveReport(name, image_id, untagged=tuple(parse(t).familiar for t in tags),
                            deleted=(image_id,))

    def images_prune(self, *, all_unused: bool = False) -> PruneReport:
        deleted: list[str] = []
        untagged: list[str] = []
        freed = 0
        with self._lock:
            used = self._users()
            for image_id in list(self._images):
                tags = self._tags_of(image_id)
                if image_id in used or (tags and not all_unused):
                    continue
                for t in tags:
                    del self._tags[t]
                    untagged.append(parse(t).familiar)
                freed += sum(self._images.pop(image_id)["sizes"])
                deleted.append(image_id)
        for image_id in deleted:
            self._emit_image("delete", image_id)
        self.events.emit("image", "prune", "", {"reclaimed": str(freed)})
        return PruneReport(tuple(deleted), tuple(untagged), freed)

    def _commit_image(self, rec: dict[str, Any], opts: CommitOptions) -> str:
        """``containers_commit``: the container's image plus one (empty) layer."""
        tags = [self._ref(opts.reference)] if opts.reference else []
        base = self._images.get(rec["image_id"])
        if base is None:
            raise ImageNotFound(rec["image_id"])
        cfg = dict(base["config"])
        c = dict(cfg.get("config") or {})
        c.update({"Cmd": rec["config"].get("Cmd"), "Env": rec["config"].get("Env"),
                  "Labels": rec["config"].get("Labels") or None})
        apply_changes(c, opts.changes)
        now = rfc3339(self.clock())
        blob, layer = self._store_blob(empty_tar())  # a fake container writes nothing
        cfg.update(config=c, created=now, author=opts.author,
                   rootfs={"type": "layers", "diff_ids": [*cfg["rootfs"]["diff_ids"], layer]},
                   history=[*(cfg.get("history") or []), {"created": now, "author": opts.author,
                                                        "comment": opts.message}])
        image_id = self._add_image(cfg, [*base["layers"], blob], tags)
        self._emit_image("commit", image_id, {"name": opts.reference or "",
                                              "container": rec["id"], "comment": opts.message})
        return image_id


def empty_tar() -> bytes:
    buf = io.BytesIO()
    tarfile.open(fileobj=buf, mode="w").close()
    return buf.getvalue()


def filler_tar(path: str, size: int) -> bytes:
    """A layer holding one file of ``size`` zero bytes (fixed metadata: stable digests)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(path.lstrip("/"))
        info.size, info.mode, info.mtime = size, 0o644, 1700000000
        tar.addfile(info, io.BytesIO(bytes(size)))
    return buf.getvalue()


def _tar_size(raw: bytes) -> int:
    """Bytes of regular file content, as the real unpacker counts a layer."""
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
            return sum(m.size for m in tar.getmembers() if m.isreg())
    except tarfile.TarError as err:
        raise InvalidArchive(f"not a tar archive: {err}") from err
