"""Untag, delete, prune and collect garbage, the way ``docker rmi`` behaves.

``rmi busybox`` on an image with two tags only untags; ``rmi <id>`` of an image
with several tags is refused unless forced; an image a container uses is refused
unless forced. Deleting an image then collects the blobs and snapshots no other
image (or container) references.
"""

from __future__ import annotations

from typing import Any

from ..errors import Conflict, EngineError, ImageInUse
from ..reference import looks_like_id, parse
from ..types import PruneReport, RemoveReport
from . import usage
from .model import chain_ids
from .store import ImageStore


def remove(store: ImageStore, name: str, *, force: bool = False) -> RemoveReport:
    containers = usage.scan(store.cfg.containers_dir)
    with store.transaction() as db:
        image_id = store.resolve(name, db)
        tags = sorted(r for r, i in db["tags"].items() if i == image_id)
        by_tag = not looks_like_id(name) and not _is_digest_ref(name)
        users = containers.by_image.get(image_id, [])
        if by_tag and len(tags) > 1:
            ref = str(parse(name, default_registry=store.cfg.default_registry))
            del db["tags"][ref]
            return RemoveReport(name, image_id, untagged=(_familiar(ref),))
        if users and not force:
            raise ImageInUse(image_id, users, ref=name)
        if not by_tag and len(tags) > 1 and not force:
            raise Conflict(f"unable to delete {image_id.removeprefix('sha256:')[:12]} (must be "
                           f"forced) - image is referenced in multiple repositories")
        for t in tags:
            del db["tags"][t]
        del db["images"][image_id]
        untagged = tuple(_familiar(t) for t in tags)
    deleted = (image_id,) + tuple(collect(store)[0])
    return RemoveReport(name, image_id, untagged=untagged, deleted=deleted)


def prune(store: ImageStore, *, all_unused: bool = False) -> PruneReport:
    """Delete dangling images (``all_unused``: every image no container uses)."""
    containers = usage.scan(store.cfg.containers_dir)
    deleted: list[str] = []
    untagged: list[str] = []
    with store.transaction() as db:
        tagged = set(db["tags"].values())
        for image_id in list(db["images"]):
            if image_id in containers.by_image:
                continue
            if image_id in tagged and not all_unused:
                continue
            for t in [t for t, i in db["tags"].items() if i == image_id]:
                del db["tags"][t]
                untagged.append(_familiar(t))
            del db["images"][image_id]
            deleted.append(image_id)
    _, freed = collect(store)
    return PruneReport(tuple(deleted), tuple(untagged), freed)


def collect(store: ImageStore) -> tuple[list[str], int]:
    """Delete blobs and snapshots nothing references; return (chain IDs removed, bytes)."""
    containers = usage.scan(store.cfg.containers_dir)
    # Exclusive against every ingest in flight (they hold it shared): their blobs
    # and snapshots are not yet referenced by any record but must survive.
    with store.ingest_lock(exclusive=True), store.transaction() as db:
        live_blobs: set[str] = set()
        live_chains: set[str] = set()
        for rec in db["images"].values():
            _mark(store, rec, live_blobs, live_chains)
        for chain in containers.chain_ids:
            live_chains.update(_ancestors(store, chain))
        # The build cache keeps its layers until `builder prune` (engine/build/cache.py).
        if (store.cfg.root / "build-cache" / "index.json").exists():
            from ..build.cache import live_refs

            cache_blobs, cache_chains = live_refs(store.cfg.root)
            live_blobs |= cache_blobs
            for chain in cache_chains:
                live_chains.update(_ancestors(store, chain))
        freed = 0
        removed: list[str] = []
        for digest in list(store.content.digests()):
            if digest not in live_blobs:
                freed += store.content.delete(digest)
        for chain in store.snapshots.chain_ids():
            if chain not in live_chains:
                freed += store.snapshots.remove(chain)
                removed.append(chain)
    return removed, freed


def _mark(store: ImageStore, rec: dict[str, Any], blobs: set[str], chains: set[str]) -> None:
    blobs.add(rec["manifest"])
    try:
        manifest = store.content.read_json(rec["manifest"])
        cfg_digest = manifest["config"]["digest"]
        blobs.add(cfg_digest)
        blobs.update(layer["digest"] for layer in manifest.get("layers", ()))
        config = store.content.read_json(cfg_digest)
    except EngineError:
        return  # a damaged record keeps what it can name; never widen deletion
    chains.update(chain_ids(list((config.get("rootfs") or {}).get("diff_ids") or [])))


def _ancestors(store: ImageStore, chain: str) -> list[str]:
    out = []
    seen = set()
    cur: str | None = chain
    while cur and cur not in seen:
        seen.add(cur)
        out.append(cur)
        parent = store.snapshots.meta(cur).get("parent")
        cur = str(parent) if parent else None
    return out


def _is_digest_ref(name: str) -> bool:
    return "@" in name


def _familiar(full_ref: str) -> str:
    return parse(full_ref).familiar
