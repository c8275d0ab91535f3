"""``docker commit``: a container's upper dir becomes one more layer on its image.

The layer is the upper dir in OCI form (:mod:`engine.runtime.rwlayer`), stored
uncompressed like docker's own commits. The config starts from the image's,
takes the container's Config (Cmd, Entrypoint, Env, WorkingDir, User, Labels,
ExposedPorts, Volumes...), then the ``--change`` instructions, and appends a
history entry. Blobs are written under the ingest lock and registered like an
import, so the new snapshot is unpacked and verified against its DiffID.
"""

from __future__ import annotations

import copy
import tempfile
import time
from pathlib import Path
from typing import Any

from ..reference import Reference, parse
from ..runtime import rwlayer
from ..types_tools import CommitOptions
from . import ingest, remove
from .changes import apply_changes
from .model import MEDIA_OCI_CONFIG, canonical_json, descriptor, new_manifest, rfc3339
from .store import ImageRecord, ImageStore

MEDIA_OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
# Container Config keys that carry over into an image config (docker's merge).
_KEYS = ("User", "ExposedPorts", "Env", "Cmd", "Healthcheck", "Volumes", "WorkingDir",
         "Entrypoint", "Labels", "StopSignal", "OnBuild", "Shell")


def image_config(base: dict[str, Any], container: dict[str, Any],
                 changes: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """The new image's ``config`` object: image ← container ← ``--change``."""
    out = copy.deepcopy(base)
    for key in _KEYS:
        value = container.get(key)
        if value not in (None, "", [], {}):
            out[key] = copy.deepcopy(value)
        elif key in ("Cmd", "Entrypoint") and key in container and value is None:
            out.pop(key, None)  # cleared on purpose (--entrypoint "")
    # Runtime additions are not the user's configuration (docker adds them at start).
    hostname = container.get("Hostname", "")
    env = [e for e in out.get("Env") or [] if e != f"HOSTNAME={hostname}"]
    if container.get("Tty") and "TERM=xterm" not in (base.get("Env") or []):
        env = [e for e in env if e != "TERM=xterm"]
    out["Env"] = env
    if out.get("StopSignal") == "SIGTERM" and not base.get("StopSignal"):
        out.pop("StopSignal")  # the default, recorded at create
    apply_changes(out, changes)
    return {k: v for k, v in out.items() if v is not None}


def validate(store: ImageStore, opts: CommitOptions) -> list[Reference]:
    """Check what the user typed before anything is written."""
    apply_changes({}, opts.changes)
    if not opts.reference:
        return []
    return [parse(opts.reference, default_registry=store.cfg.default_registry)]


def commit(store: ImageStore, image: ImageRecord, rec: dict[str, Any], scan: rwlayer.Scan,
           opts: CommitOptions, tags: list[Reference]) -> str:
    """Store the layer, config and manifest; register the image; return its ID."""
    cfg_obj = image_config(image.config.get("config") or {}, rec["config"], opts.changes)
    now = rfc3339(time.time())
    try:
        with store.ingest_lock():
            with tempfile.TemporaryFile(dir=Path(store.cfg.tmp_dir)) as tmp:
                scan.write_layer(tmp)
                tmp.seek(0)
                layer_digest, size = store.content.write_stream(tmp)
            base = image.config
            history = list(base.get("history") or [])
            entry = {"created": now, "created_by": " ".join(rec["config"].get("Cmd") or [])}
            if opts.author:
                entry["author"] = opts.author
            if opts.message:
                entry["comment"] = opts.message
            config: dict[str, Any] = {
                "created": now,
                "architecture": base.get("architecture", "amd64"),
                "os": base.get("os", "linux"),
                "config": cfg_obj,
                "container": rec["id"],
                "rootfs": {"type": "layers", "diff_ids": [*image.diff_ids, layer_digest]},
                "history": [*history, entry],
            }
            for key in ("variant", "os.version"):
                if base.get(key):
                    config[key] = base[key]
            if opts.author:
                config["author"] = opts.author
            config_bytes = canonical_json(config)
            config_digest = store.content.write_bytes(config_bytes)
            layers = [dict(layer) for layer in image.manifest.get("layers") or []]
            manifest = new_manifest(descriptor(MEDIA_OCI_CONFIG, config_digest, len(config_bytes)),
                                    [*layers, descriptor(MEDIA_OCI_LAYER_TAR, layer_digest, size)])
            manifest_digest = store.content.write_bytes(canonical_json(manifest))
            image_id, _moved = ingest.register(store, manifest_digest, tags)
    except BaseException:
        remove.collect(store)  # nothing half-made stays behind
        raise
    return image_id
