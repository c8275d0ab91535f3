"""Fetching manifests by tag or digest, and picking one platform out of an index.

A manifest's digest is computed over the exact bytes the registry sent, checked
against the digest asked for (a pull by digest) and against the registry's
``Docker-Content-Digest`` header (a pull by tag), so a manifest is never taken on
trust. Docker schema 1 is refused: it has no content-addressed config.
"""

from __future__ import annotations

import json
from typing import Any

from ..content.store import sha256_bytes
from ..errors import DigestMismatch, InvalidArgument, RegistryError, RemoteNotFound
from ..images.model import INDEX_TYPES, MANIFEST_TYPES, split_platform
from ..record import dataclass
from ..reference import Reference
from .auth import scope_for
from .client import RegistryClient

MEDIA_SCHEMA1 = ("application/vnd.docker.distribution.manifest.v1+json",
                 "application/vnd.docker.distribution.manifest.v1+prettyjws")
ACCEPT = ", ".join(sorted(MANIFEST_TYPES | INDEX_TYPES))
MAX_MANIFEST = 4 << 20  # containerd's limit: a bigger "manifest" is an attack or a mistake


@dataclass(frozen=True)
class Fetched:
    digest: str
    media_type: str
    body: bytes
    doc: dict[str, Any]


def fetch(client: RegistryClient, ref: Reference, reference: str) -> Fetched:
    """GET one manifest or index (``reference`` is a tag or a digest) and verify it."""
    repo = ref.repository
    shown = f"{ref.name}:{reference}" if ":" not in reference else f"{ref.name}@{reference}"
    resp = client.request(
        "GET", f"/v2/{repo}/manifests/{reference}", scopes=[scope_for(repo, "pull")],
        headers={"Accept": ACCEPT}, what=f"manifest for {shown}")
    body = resp.content
    if len(body) > MAX_MANIFEST:
        raise RegistryError(f"manifest for {shown} is larger than {MAX_MANIFEST} bytes",
                            registry=ref.registry)
    digest = sha256_bytes(body)
    if reference.startswith("sha256:") and digest != reference:
        raise DigestMismatch(reference, digest, what="manifest")
    announced = resp.headers.get("docker-content-digest", "")
    if announced.startswith("sha256:") and announced != digest:
        raise DigestMismatch(announced, digest, what="manifest")
    try:
        doc = json.loads(body)
    except ValueError as err:
        raise RegistryError(f"manifest for {shown} is not JSON: {err}",
                            registry=ref.registry) from err
    if not isinstance(doc, dict):
        raise RegistryError(f"manifest for {shown} is not a JSON object", registry=ref.registry)
    media_type = str(doc.get("mediaType") or "")
    content_type = resp.headers.get("content-type", "").split(";")[0].strip()
    if doc.get("schemaVersion") == 1 or content_type in MEDIA_SCHEMA1:
        raise InvalidArgument(f"{shown} uses Docker image manifest schema 1, which is deprecated "
                              "and not supported; push it again with a current client")
    if not media_type:  # OCI allows omitting it: tell an index from a manifest by shape
        media_type = "application/vnd.oci.image.index.v1+json" if "manifests" in doc else \
            "application/vnd.oci.image.manifest.v1+json"
    if media_type not in MANIFEST_TYPES | INDEX_TYPES:
        raise InvalidArgument(f"{shown}: unsupported manifest type {media_type!r} "
                              "(not a container image)")
    return Fetched(digest, media_type, body, doc)


def select_platform(index: dict[str, Any], platform: str, shown: str) -> dict[str, Any]:
    """The index entry for ``os/arch[/variant]``; docker's error when there is none."""
    want_os, want_arch, want_variant = split_platform(platform)
    best: dict[str, Any] | None = None
    for desc in index.get("manifests") or []:
        plat = desc.get("platform") or {}
        if plat.get("os") != want_os or plat.get("architecture") != want_arch:
            continue
        if desc.get("mediaType") and desc["mediaType"] not in MANIFEST_TYPES:
            continue
        variant = plat.get("variant", "")
        if want_variant:
            if variant == want_variant:
                return dict(desc)
            continue
        # Without a variant asked for, prefer an entry without one (or the first).
        if best is None or (best.get("platform", {}).get("variant") and not variant):
            best = desc
    if best is None:
        raise RemoteNotFound(f"no matching manifest for {platform} in the manifest list "
                             f"entries of {shown}")
    return dict(best)


def check_layers(manifest: dict[str, Any], shown: str) -> None:
    """Refuse digests the content store cannot hold (it is sha256 only)."""
    for layer in [manifest.get("config") or {}, *(manifest.get("layers") or [])]:
        if not str(layer.get("digest", "")).startswith("sha256:"):
            raise InvalidArgument(f"{shown}: layer digest {layer.get('digest')!r} is not sha256")
