"""Names → images → blobs and snapshots: the image half of the store.

``images.json`` is the source of truth, changed only under ``locks/images.lock``
with atomic writes: ``images`` maps an image ID (config digest) to its manifest
and bookkeeping, ``tags`` maps a full reference (``docker.io/library/busybox:latest``)
to an image ID. After every change ``content/index.json`` is rewritten from it,
so the content directory stays a valid OCI layout that skopeo and umoci read.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from ..config import EngineConfig
from ..content.store import ContentStore
from ..errors import Conflict, EngineError, ImageNotFound
from ..fsutil import atomic_write_json, file_lock, read_json
from ..record import dataclass
from ..reference import Reference, looks_like_id, parse
from ..snapshots.store import SnapshotStore
from .model import FULL_REF_NAME, MEDIA_OCI_MANIFEST, REF_NAME, chain_ids, descriptor, parse_rfc3339


@dataclass(frozen=True)
class ImageRecord:
    """One image as the store knows it (config and manifest are parsed blobs)."""

    id: str
    manifest_digest: str
    manifest: dict[str, Any]
    config: dict[str, Any]
    tags: tuple[str, ...]
    repo_digests: tuple[str, ...]
    added: float
    last_tag_time: float

    @property
    def created(self) -> float:
        return parse_rfc3339(str(self.config.get("created", "")))

    @property
    def diff_ids(self) -> list[str]:
        return list((self.config.get("rootfs") or {}).get("diff_ids") or [])

    @property
    def chain_ids(self) -> list[str]:
        return chain_ids(self.diff_ids)

    @property
    def top_chain_id(self) -> str | None:
        c = self.chain_ids
        return c[-1] if c else None


class ImageStore:
    def __init__(self, cfg: EngineConfig, content: ContentStore, snapshots: SnapshotStore) -> None:
        self.cfg = cfg
        self.content = content
        self.snapshots = snapshots
        self._lock_path = cfg.locks_dir / "images.lock"

    # -- the database -------------------------------------------------------
    def _load(self) -> dict[str, Any]:
        db = read_json(self.cfg.images_db, None)
        if not isinstance(db, dict):
            db = {}
        db.setdefault("images", {})
        db.setdefault("tags", {})
        return db

    @contextlib.contextmanager
    def transaction(self) -> Iterator[dict[str, Any]]:
        """Read-modify-write of ``images.json`` under the images lock."""
        with file_lock(self._lock_path):
            db = self._load()
            yield db
            atomic_write_json(self.cfg.images_db, db)
            self._write_oci_index(db)

    @contextlib.contextmanager
    def ingest_lock(self, *, exclusive: bool = False) -> Iterator[None]:
        """Held shared while blobs are written ahead of their image record."""
        with file_lock(self.cfg.locks_dir / "gc.lock", shared=not exclusive):
            yield

    def snapshot_db(self) -> dict[str, Any]:
        with file_lock(self._lock_path, shared=True):
            return self._load()

    def _write_oci_index(self, db: dict[str, Any]) -> None:
        entries = []
        by_image: dict[str, list[str | None]] = {}
        for ref, image_id in sorted(db["tags"].items()):
            by_image.setdefault(image_id, []).append(ref)
        for image_id, rec in sorted(db["images"].items()):
            for ref in by_image.get(image_id) or [None]:
                ann = {}
                if ref:
                    # The short form (the tag) is what `skopeo ... oci:dir:tag` looks up.
                    ann = {REF_NAME: parse(ref).tag or "", FULL_REF_NAME: ref}
                entries.append(descriptor(rec.get("manifest_media_type", MEDIA_OCI_MANIFEST),
                                          rec["manifest"], rec["manifest_size"],
                                          annotations=ann))
        self.content.write_index(entries)

    # -- queries -------------------------------------------------------------
    def record(self, image_id: str, db: dict[str, Any] | None = None) -> ImageRecord:
        db = db if db is not None else self.snapshot_db()
        rec = db["images"].get(image_id)
        if rec is None:
            raise ImageNotFound(image_id)
        manifest = self.content.read_json(rec["manifest"])
        config = self.content.read_json(manifest["config"]["digest"])
        tags = tuple(sorted(r for r, i in db["tags"].items() if i == image_id))
        return ImageRecord(image_id, rec["manifest"], manifest, config, tags,
                           tuple(rec.get("repo_digests", ())), float(rec.get("added", 0)),
                           float(rec.get("last_tag_time", 0)))

    def records(self) -> list[ImageRecord]:
        db = self.snapshot_db()
        return [self.record(i, db) for i in db["images"]]

    def resolve(self, name: str, db: dict[str, Any] | None = None) -> str:
        """Image ID for a reference, a full or short ID, or a repo digest."""
        db = db if db is not None else self.snapshot_db()
        if looks_like_id(name):
            hexpart = name.removeprefix("sha256:")
            matches = [i for i in db["images"] if i.removeprefix("sha256:").startswith(hexpart)]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise Conflict(f"short ID {name!r} is ambiguous: it matches {len(matches)} images")
            if name.startswith("sha256:"):
                raise ImageNotFound(name)
        try:
            ref = parse(name, default_registry=self.cfg.default_registry)
        except EngineError:
            if looks_like_id(name):
                raise ImageNotFound(name) from None
            raise
        if ref.digest:
            for image_id, rec in db["images"].items():
                if rec["manifest"] == ref.digest or f"{ref.name}@{ref.digest}" in rec.get(
                        "repo_digests", ()):
                    return str(image_id)
            raise ImageNotFound(name)
        image_id = db["tags"].get(str(ref))
        if image_id is None:
            raise ImageNotFound(name)
        return str(image_id)

    # -- changes -------------------------------------------------------------
    def add(self, manifest_digest: str, tags: list[Reference], *,
            repo_digests: tuple[str, ...] = ()) -> tuple[str, list[str]]:
        """Register an image whose blobs are all stored and whose snapshots exist.

        Returns (image ID, tags that moved here from another image).
        """
        manifest = self.content.read_json(manifest_digest)
        image_id = manifest["config"]["digest"]
        now = time.time()
        moved: list[str] = []
        with self.transaction() as db:
            rec = db["images"].setdefault(image_id, {"added": now})
            rec["manifest"] = manifest_digest
            rec["manifest_size"] = self.content.size(manifest_digest)
            rec["manifest_media_type"] = manifest.get("mediaType") or MEDIA_OCI_MANIFEST
            rds = set(rec.get("repo_digests", ())) | set(repo_digests)
            rec["repo_digests"] = sorted(rds)
            for ref in tags:
                old = db["tags"].get(str(ref))
                if old and old != image_id:
                    moved.append(str(ref))
                db["tags"][str(ref)] = image_id
                rec["last_tag_time"] = now
        return image_id, moved

    def tag(self, image_id: str, ref: Reference) -> str | None:
        """Point ``ref`` at ``image_id``; return the image it was taken from, if any."""
        with self.transaction() as db:
            if image_id not in db["images"]:
                raise ImageNotFound(image_id)
            old = db["tags"].get(str(ref))
            db["tags"][str(ref)] = image_id
            db["images"][image_id]["last_tag_time"] = time.time()
        return old if old != image_id else None

