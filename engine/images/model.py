"""OCI image objects as plain dicts, plus the identities derived from them.

Image ID = digest of the config blob (docker's ``Id``). A layer's DiffID is the
sha256 of its uncompressed tar; the ChainID of layers 0..n keys the unpacked
snapshot, so images sharing a base share its directories.
"""

from __future__ import annotations

import json
import time
from typing import Any

MEDIA_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MEDIA_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MEDIA_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MEDIA_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
MEDIA_DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar"
MANIFEST_TYPES = {MEDIA_OCI_MANIFEST, MEDIA_DOCKER_MANIFEST}
INDEX_TYPES = {MEDIA_OCI_INDEX, MEDIA_DOCKER_LIST}
REF_NAME = "org.opencontainers.image.ref.name"
FULL_REF_NAME = "io.pydock.image.name"


def chain_ids(diff_ids: list[str]) -> list[str]:
    out: list[str] = []
    for d in diff_ids:
        if not out:
            out.append(d)
        else:
            from ..digest import sha256_hex  # here: ps and the like never hash

            out.append("sha256:" + sha256_hex(f"{out[-1]} {d}".encode()))
    return out


def canonical_json(obj: Any) -> bytes:
    """Stable bytes for objects we create, so equal content gives equal digests."""
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


def rfc3339(ts: float) -> str:
    frac = f"{ts % 1:.9f}"[1:].rstrip("0").rstrip(".")
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + frac + "Z"


def parse_rfc3339(s: str) -> float:
    """Seconds since the epoch from an RFC 3339 time; 0.0 if absent or unreadable."""
    from datetime import datetime

    if not s:
        return 0.0
    s = s.strip()
    # Python's fromisoformat takes at most 6 fractional digits; Go writes 9.
    if "." in s:
        head, _, tail = s.partition(".")
        digits = "".join(c for c in tail if c.isdigit())
        zone = tail[len(digits):]
        s = f"{head}.{digits[:6]}{zone}"
    try:
        return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def descriptor(media_type: str, digest: str, size: int, **extra: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"mediaType": media_type, "digest": digest, "size": size}
    d.update({k: v for k, v in extra.items() if v})
    return d


def new_manifest(config_desc: dict[str, Any], layers: list[dict[str, Any]],
                 annotations: dict[str, str] | None = None) -> dict[str, Any]:
    m: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": MEDIA_OCI_MANIFEST,
        "config": config_desc,
        "layers": layers,
    }
    if annotations:
        m["annotations"] = annotations
    return m


def split_platform(platform: str) -> tuple[str, str, str]:
    parts = (platform or "linux/amd64").split("/")
    os_, arch = parts[0], parts[1] if len(parts) > 1 else "amd64"
    variant = parts[2] if len(parts) > 2 else ""
    return os_, arch, variant
