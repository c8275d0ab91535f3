"""The target stage becomes an image: config, manifest, registration, tags.

The config is Docker's (``config``, ``rootfs.diff_ids``, ``history`` with
``empty_layer``, ``author`` from MAINTAINER) plus the ``--label`` pairs. Its
``created`` is the time of the newest step, and cached steps keep the time
they first ran, so a fully cached rebuild produces the very same image ID, as
BuildKit does. Blobs are written under the ingest lock and registered like an
import; the layers are already unpacked, so registering only checks them.
"""

from __future__ import annotations

import time
from typing import Any

from ..images import ingest
from ..images.model import MEDIA_OCI_CONFIG, canonical_json, descriptor, new_manifest, rfc3339
from ..images.store import ImageStore
from ..reference import Reference
from .state import StageState


def image_config(st: StageState, labels: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    cfg = {k: v for k, v in st.config.items() if v is not None}
    if labels:
        merged = dict(cfg.get("Labels") or {})
        merged.update(labels)
        cfg["Labels"] = merged
    created = st.created or time.time()
    config: dict[str, Any] = {
        "architecture": st.platform.get("architecture", "amd64"),
        "os": st.platform.get("os", "linux"),
        "created": rfc3339(created),
        "config": cfg,
        "rootfs": {"type": "layers", "diff_ids": list(st.diff_ids)},
        "history": list(st.history),
    }
    for key in ("variant", "os.version"):
        if st.platform.get(key):
            config[key] = st.platform[key]
    if st.author:
        config["author"] = st.author
    return config


def export(store: ImageStore, st: StageState, labels: tuple[tuple[str, str], ...],
           tags: list[Reference]) -> str:
    """Write the image and point ``tags`` at it; return the image ID."""
    config = image_config(st, labels)
    with store.ingest_lock():
        config_bytes = canonical_json(config)
        config_digest = store.content.write_bytes(config_bytes)
        manifest = new_manifest(descriptor(MEDIA_OCI_CONFIG, config_digest, len(config_bytes)),
                                [dict(layer) for layer in st.layers])
        manifest_digest = store.content.write_bytes(canonical_json(manifest))
        if _unchanged(store, config_digest, manifest_digest, tags):
            return config_digest  # a cached rebuild: same image, same tags, nothing to write
        image_id, _moved = ingest.register(store, manifest_digest, tags)
    return image_id


def _unchanged(store: ImageStore, image_id: str, manifest_digest: str,
               tags: list[Reference]) -> bool:
    db = store.snapshot_db()
    rec = db["images"].get(image_id)
    return (rec is not None and rec.get("manifest") == manifest_digest
            and all(db["tags"].get(str(t)) == image_id for t in tags))
