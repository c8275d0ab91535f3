"""``docker save``: one tarball that is both a docker archive and an OCI layout."""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any, BinaryIO

from ..reference import looks_like_id, parse
from .model import REF_NAME, descriptor
from .store import ImageRecord, ImageStore

CONTAINERD_NAME = "io.containerd.image.name"


def save(store: ImageStore, names: list[str], dst: BinaryIO) -> list[str]:
    """Write the images named (tags or IDs) to ``dst``; return their image IDs."""
    db = store.snapshot_db()
    chosen: dict[str, list[str]] = {}  # image ID -> full tags to record
    for name in names:
        image_id = store.resolve(name, db)
        tags = chosen.setdefault(image_id, [])
        if not looks_like_id(name) and "@" not in name:
            full = str(parse(name, default_registry=store.cfg.default_registry))
            if full not in tags:
                tags.append(full)
    records = [store.record(i, db) for i in chosen]
    # Stream mode: the archive can go straight to a pipe.
    with tarfile.open(fileobj=dst, mode="w|", format=tarfile.PAX_FORMAT) as tf:
        _add_bytes(tf, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        _add_dir(tf, "blobs")
        _add_dir(tf, "blobs/sha256")
        written: set[str] = set()
        index: list[dict[str, Any]] = []
        docker_manifest: list[dict[str, Any]] = []
        repositories: dict[str, dict[str, str]] = {}
        for rec in records:
            for digest in _blobs(rec):
                if digest not in written:
                    written.add(digest)
                    _add_blob(tf, store, digest)
            tags = chosen[rec.id]
            size = store.content.size(rec.manifest_digest)
            media = rec.manifest.get("mediaType") or "application/vnd.oci.image.manifest.v1+json"
            for t in tags or [""]:
                ann = {CONTAINERD_NAME: t, REF_NAME: parse(t).tag} if t else {}
                index.append(descriptor(media, rec.manifest_digest, size, annotations=ann))
            familiar = [parse(t).familiar for t in tags]
            docker_manifest.append({
                "Config": _blob_path(rec.manifest["config"]["digest"]),
                "RepoTags": familiar or None,
                "Layers": [_blob_path(layer["digest"]) for layer in rec.manifest["layers"]],
            })
            top = rec.manifest["layers"][-1]["digest"] if rec.manifest["layers"] else rec.id
            for t in tags:
                ref = parse(t)
                repositories.setdefault(ref.familiar_name, {})[ref.tag or "latest"] = \
                    top.removeprefix("sha256:")
        _add_bytes(tf, "index.json", _json({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": index}))
        _add_bytes(tf, "manifest.json", _json(docker_manifest))
        if repositories:
            _add_bytes(tf, "repositories", _json(repositories))
    return [r.id for r in records]


def _blobs(rec: ImageRecord) -> list[str]:
    return [rec.manifest_digest, rec.manifest["config"]["digest"],
            *(layer["digest"] for layer in rec.manifest["layers"])]


def _blob_path(digest: str) -> str:
    return "blobs/" + digest.replace(":", "/", 1)


def _json(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _info(name: str, size: int) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.size = size
    ti.mode = 0o644
    ti.mtime = 0  # reproducible archives: same images, same bytes
    return ti


def _add_bytes(tf: tarfile.TarFile, name: str, data: bytes) -> None:
    tf.addfile(_info(name, len(data)), io.BytesIO(data))


def _add_blob(tf: tarfile.TarFile, store: ImageStore, digest: str) -> None:
    with store.content.open(digest) as f:
        tf.addfile(_info(_blob_path(digest), store.content.size(digest)), f)


def _add_dir(tf: tarfile.TarFile, name: str) -> None:
    ti = tarfile.TarInfo(name)
    ti.type = tarfile.DIRTYPE
    ti.mode = 0o755
    ti.mtime = 0
    tf.addfile(ti)
