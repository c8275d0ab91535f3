"""Turn blobs already in the content store into a registered image.

Shared by import, load, and later pull, build and commit: check the manifest,
unpack every layer into its ChainID snapshot (verifying DiffIDs), then record
the image and its tags in one transaction.
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidArchive
from ..reference import Reference
from .model import MANIFEST_TYPES, MEDIA_DOCKER_CONFIG, MEDIA_OCI_CONFIG
from .store import ImageStore

_CONFIG_TYPES = {MEDIA_OCI_CONFIG, MEDIA_DOCKER_CONFIG}


def check_manifest(manifest: Any, what: str) -> dict[str, Any]:
    if not isinstance(manifest, dict) or manifest.get("schemaVersion") != 2:
        if isinstance(manifest, dict) and manifest.get("schemaVersion") == 1:
            raise InvalidArchive(f"{what}: Docker schema 1 manifests are not supported")
        raise InvalidArchive(f"{what}: not an image manifest (schemaVersion 2 expected)")
    mt = manifest.get("mediaType")
    if mt is not None and mt not in MANIFEST_TYPES:
        raise InvalidArchive(f"{what}: unsupported manifest media type {mt}")
    cfg = manifest.get("config") or {}
    if cfg.get("mediaType") not in _CONFIG_TYPES:
        raise InvalidArchive(f"{what}: not a container image (config type "
                             f"{cfg.get('mediaType')!r})")
    if not isinstance(manifest.get("layers"), list):
        raise InvalidArchive(f"{what}: manifest has no layer list")
    return manifest


def register(store: ImageStore, manifest_digest: str, tags: list[Reference], *,
             repo_digests: tuple[str, ...] = ()) -> tuple[str, list[str]]:
    """Unpack the image's layers and record it; returns (image ID, tags moved here)."""
    manifest = check_manifest(store.content.read_json(manifest_digest), manifest_digest)
    config = store.content.read_json(manifest["config"]["digest"])
    diff_ids = list((config.get("rootfs") or {}).get("diff_ids") or [])
    layers = manifest["layers"]
    if len(diff_ids) != len(layers):
        raise InvalidArchive(f"image config lists {len(diff_ids)} diff_ids but the manifest "
                             f"has {len(layers)} layers")
    parent: str | None = None
    for layer, diff_id in zip(layers, diff_ids, strict=True):
        with store.content.open(layer["digest"]) as blob:
            parent, _ = store.snapshots.unpack(parent, diff_id, blob)
    return store.add(manifest_digest, tags, repo_digests=repo_digests)
