"""``docker import``: a root filesystem tarball becomes a one-layer image."""

from __future__ import annotations

import time
from typing import Any, BinaryIO

from ..compression import detect, layer_media_type
from ..reference import Reference, parse
from ..types import ImportOptions
from . import ingest, remove
from .changes import apply_changes
from .model import (
    MEDIA_OCI_CONFIG,
    canonical_json,
    descriptor,
    new_manifest,
    rfc3339,
    split_platform,
)
from .store import ImageStore


def import_rootfs(store: ImageStore, src: BinaryIO, opts: ImportOptions,
                  source: str = "-") -> tuple[str, list[str]]:
    # Validate everything the user typed before a byte is stored.
    tags = [parse(opts.reference, default_registry=store.cfg.default_registry)] \
        if opts.reference else []
    container_config: dict[str, Any] = {}
    apply_changes(container_config, opts.changes)
    created = rfc3339(opts.created if opts.created is not None else time.time())

    try:
        with store.ingest_lock():
            return _ingest(store, src, tags, container_config, created, opts.platform, source,
                           opts.message)
    except BaseException:
        remove.collect(store)  # a refused tarball leaves no blob or snapshot behind
        raise


def _ingest(store: ImageStore, src: BinaryIO, tags: list[Reference], container_config:
            dict[str, Any], created: str, platform: str, source: str,
            message: str) -> tuple[str, list[str]]:
    os_, arch, variant = split_platform(platform)
    layer_digest, size = store.content.write_stream(src)
    with store.content.open(layer_digest) as f:
        media = layer_media_type(detect(f.read(4)))
        f.seek(0)
        _, stats = store.snapshots.unpack(None, None, f)
    config: dict[str, Any] = {
        "created": created,
        "architecture": arch,
        "os": os_,
        "config": container_config,
        "rootfs": {"type": "layers", "diff_ids": [stats.diff_id]},
        "history": [{"created": created,
                     "comment": message or f"Imported from {source}"}],
    }
    if variant:
        config["variant"] = variant
    config_bytes = canonical_json(config)
    config_digest = store.content.write_bytes(config_bytes)
    manifest = new_manifest(descriptor(MEDIA_OCI_CONFIG, config_digest, len(config_bytes)),
                            [descriptor(media, layer_digest, size)])
    manifest_digest = store.content.write_bytes(canonical_json(manifest))
    return ingest.register(store, manifest_digest, tags)
