"""Docker-shaped views of an image: ``inspect`` JSON, ``history`` rows, list rows."""

from __future__ import annotations

from typing import Any

from ..reference import parse
from ..types import HistoryEntry, ImageSummary
from .model import parse_rfc3339, rfc3339
from .store import ImageRecord, ImageStore


def image_size(store: ImageStore, rec: ImageRecord) -> int:
    return sum(store.snapshots.size(c) for c in rec.chain_ids)


def summaries(store: ImageStore, users: dict[str, list[str]]) -> list[ImageSummary]:
    rows: list[ImageSummary] = []
    for rec in store.records():
        size = image_size(store, rec)
        n = len(users.get(rec.id, ()))
        if not rec.tags:
            rows.append(ImageSummary(rec.id, "<none>", "<none>", rec.manifest_digest,
                                     rec.created, size, n))
        for t in rec.tags:
            ref = parse(t)
            rows.append(ImageSummary(rec.id, ref.familiar_name, ref.tag or "<none>",
                                     rec.manifest_digest, rec.created, size, n))
    rows.sort(key=lambda r: (-r.created, r.repository, r.tag))
    return rows


def inspect(store: ImageStore, rec: ImageRecord) -> dict[str, Any]:
    cfg = rec.config
    c = cfg.get("config") or {}
    repo_digests = list(rec.repo_digests) or sorted(
        {f"{parse(t).familiar_name}@{rec.manifest_digest}" for t in rec.tags})
    return {
        "Id": rec.id,
        "RepoTags": [parse(t).familiar for t in rec.tags],
        "RepoDigests": repo_digests,
        "Parent": "",
        "Comment": _comment(cfg),
        "Created": cfg.get("created", ""),
        "DockerVersion": cfg.get("docker_version", ""),
        "Author": cfg.get("author", ""),
        "Config": {
            "Hostname": "", "Domainname": "", "User": c.get("User", ""),
            "AttachStdin": False, "AttachStdout": False, "AttachStderr": False,
            "ExposedPorts": c.get("ExposedPorts"),
            "Tty": False, "OpenStdin": False, "StdinOnce": False,
            "Env": c.get("Env"), "Cmd": c.get("Cmd"), "Healthcheck": c.get("Healthcheck"),
            "Image": "", "Volumes": c.get("Volumes"), "WorkingDir": c.get("WorkingDir", ""),
            "Entrypoint": c.get("Entrypoint"), "OnBuild": c.get("OnBuild"),
            "Labels": c.get("Labels"), "StopSignal": c.get("StopSignal"),
            "Shell": c.get("Shell"),
        },
        "Architecture": cfg.get("architecture", ""),
        "Variant": cfg.get("variant"),
        "Os": cfg.get("os", ""),
        "Size": image_size(store, rec),
        "GraphDriver": {
            "Name": "overlay2",
            "Data": {"LowerDir": ":".join(str(store.snapshots.diff_dir(ch))
                                          for ch in reversed(rec.chain_ids))},
        },
        "RootFS": {"Type": "layers", "Layers": rec.diff_ids},
        "Metadata": {"LastTagTime": rfc3339(rec.last_tag_time) if rec.last_tag_time
                     else "0001-01-01T00:00:00Z"},
        "Descriptor": {"mediaType": rec.manifest.get("mediaType"),
                       "digest": rec.manifest_digest,
                       "size": store.content.size(rec.manifest_digest)},
    }


def _comment(cfg: dict[str, Any]) -> str:
    hist = cfg.get("history") or []
    return str(hist[-1].get("comment", "")) if hist else str(cfg.get("comment", ""))


def history(store: ImageStore, rec: ImageRecord) -> list[HistoryEntry]:
    """Newest first; sizes come from the snapshot each non-empty step made."""
    hist = rec.config.get("history") or []
    chains = rec.chain_ids
    sizes = [store.snapshots.size(c) for c in chains]
    if not hist:  # images without history: one row per layer
        hist = [{"created": rec.config.get("created", "")} for _ in chains]
    rows = []
    layer_i = 0
    for h in hist:
        empty = bool(h.get("empty_layer"))
        size = 0
        if not empty and layer_i < len(sizes):
            size = sizes[layer_i]
            layer_i += 1
        rows.append((h, empty, size))
    out = []
    for n, (h, empty, size) in enumerate(reversed(rows)):
        out.append(HistoryEntry(
            id=rec.id if n == 0 else "<missing>",
            created=parse_rfc3339(str(h.get("created", ""))),
            created_by=str(h.get("created_by", "")),
            size=size, comment=str(h.get("comment", "")), empty_layer=empty))
    return out
