"""``docker load`` / ``docker save``: docker-archive and OCI-layout tarballs.

``save`` writes the format current docker writes, which is both at once: an OCI
image layout (``oci-layout``, ``index.json``, ``blobs/sha256``) plus docker's
``manifest.json`` and ``repositories`` pointing at the same blobs, so ``docker
load``, ``skopeo ... docker-archive:`` and ``oci-archive:`` all read it. ``load``
accepts either form (and legacy docker archives with ``<id>/layer.tar``). The
archive is only ever read as data: members are streamed into the verified
content store, never extracted to disk.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from typing import IO, Any, BinaryIO

from ..compression import detect, layer_media_type
from ..errors import EngineError, InvalidArchive
from ..reference import Reference, parse
from . import ingest, remove
from .model import (
    INDEX_TYPES,
    MEDIA_OCI_CONFIG,
    REF_NAME,
    canonical_json,
    descriptor,
    new_manifest,
    split_platform,
)
from .store import ImageStore

CONTAINERD_NAME = "io.containerd.image.name"


class _Archive:
    """Random access to an archive's members by normalized name, symlinks resolved."""

    def __init__(self, tf: tarfile.TarFile) -> None:
        self.tf = tf
        self.members = {_norm(m.name): m for m in tf.getmembers()}

    def has(self, name: str) -> bool:
        return name in self.members

    def open(self, name: str) -> IO[bytes]:
        m = self.members.get(name)
        for _ in range(8):  # legacy archives link duplicate layers to one another
            if m is None or not (m.issym() or m.islnk()):
                break
            base = name.rsplit("/", 1)[0] + "/" if m.issym() and "/" in name else ""
            name = _norm(base + m.linkname) if m.issym() else _norm(m.linkname)
            m = self.members.get(name)
        if m is None or not m.isfile():
            raise InvalidArchive(f"archive member {name!r} is missing or not a file")
        f = self.tf.extractfile(m)
        assert f is not None
        return f

    def json(self, name: str) -> Any:
        try:
            return json.load(self.open(name))
        except ValueError as err:
            raise InvalidArchive(f"{name} in the archive is not valid JSON: {err}") from err


def _norm(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name.lstrip("/")


@contextlib.contextmanager
def _open_archive(store: ImageStore, src: BinaryIO) -> Iterator[_Archive]:
    spool = None
    try:
        if not _seekable(src):
            # tar needs random access to find manifest.json; stdin is spooled to disk.
            spool = tempfile.TemporaryFile(dir=store.cfg.tmp_dir)
            shutil.copyfileobj(src, spool, 1 << 20)
            spool.seek(0)
            src = spool
        try:
            tf = tarfile.open(fileobj=src, mode="r:*")
        except tarfile.TarError as err:
            raise InvalidArchive(f"not a tar archive: {err}") from err
        with tf:
            yield _Archive(tf)
    finally:
        if spool is not None:
            spool.close()


def _seekable(f: BinaryIO) -> bool:
    try:
        return f.seekable()
    except (AttributeError, OSError, ValueError):
        return False


def load(store: ImageStore, src: BinaryIO, platform: str) -> list[tuple[str, list[str]]]:
    """Load every image in the archive; return [(image ID, full tags)]."""
    store.cfg.tmp_dir.mkdir(parents=True, exist_ok=True)
    try:
        with _open_archive(store, src) as ar, store.ingest_lock():
            if ar.has("index.json") and ar.has("oci-layout"):
                return _load_oci(store, ar, platform)
            if ar.has("manifest.json"):
                return _load_docker(store, ar)
    except tarfile.TarError as err:
        remove.collect(store)
        raise InvalidArchive(f"corrupt archive: {err}") from err
    except BaseException:
        # Blobs of a half-read archive are referenced by nothing: drop them.
        remove.collect(store)
        raise
    raise InvalidArchive("neither a docker archive (manifest.json) nor an OCI layout "
                         "(oci-layout, index.json)")


def _copy_blob(store: ImageStore, ar: _Archive, desc: dict[str, Any]) -> None:
    digest = desc["digest"]
    if store.content.exists(digest):
        return
    with ar.open("blobs/" + digest.replace(":", "/", 1)) as f:
        store.content.write_stream(f, expected=digest, expected_size=desc.get("size"))


def _load_oci(store: ImageStore, ar: _Archive, platform: str) -> list[tuple[str, list[str]]]:
    out = []
    for desc in ar.json("index.json").get("manifests") or []:
        ann = desc.get("annotations") or {}
        manifest_desc = _pick_platform(store, ar, desc, platform)
        _copy_blob(store, ar, manifest_desc)
        manifest = ingest.check_manifest(store.content.read_json(manifest_desc["digest"]),
                                         manifest_desc["digest"])
        for blob in [manifest["config"], *manifest["layers"]]:
            _copy_blob(store, ar, blob)
        tags = _oci_tags(store, ann)
        image_id, _ = ingest.register(store, manifest_desc["digest"], tags)
        out.append((image_id, [str(t) for t in tags]))
    return out


def _pick_platform(store: ImageStore, ar: _Archive, desc: dict[str, Any],
                   platform: str) -> dict[str, Any]:
    for _ in range(4):
        if desc.get("mediaType") not in INDEX_TYPES:
            return desc
        _copy_blob(store, ar, desc)
        want_os, want_arch, want_var = split_platform(platform)
        choices = store.content.read_json(desc["digest"]).get("manifests") or []
        for m in choices:
            p = m.get("platform") or {}
            if p.get("os") == want_os and p.get("architecture") == want_arch and (
                    not want_var or p.get("variant") == want_var):
                desc = m
                break
        else:
            raise InvalidArchive(f"no image for platform {platform} in the archive's index")
    raise InvalidArchive("image index nested too deeply")


def _oci_tags(store: ImageStore, ann: dict[str, str]) -> list[Reference]:
    name = ann.get(CONTAINERD_NAME) or ann.get(REF_NAME) or ""
    # A bare ref.name such as "latest" names a tag in a layout, not an image.
    if not name or (":" not in name and "/" not in name):
        return []
    try:
        return [parse(name, default_registry=store.cfg.default_registry)]
    except EngineError:
        return []


def _load_docker(store: ImageStore, ar: _Archive) -> list[tuple[str, list[str]]]:
    entries = ar.json("manifest.json")
    if not isinstance(entries, list):
        raise InvalidArchive("manifest.json is not a list")
    out = []
    for entry in entries:
        with ar.open(entry["Config"]) as f:
            config_bytes = f.read()
        config_digest = store.content.write_bytes(config_bytes)
        layers = []
        for path in entry.get("Layers") or []:
            with ar.open(path) as f:
                head = f.read(4)
                digest, size = store.content.write_stream(_Prefixed(head, f))
            layers.append(descriptor(layer_media_type(detect(head)), digest, size))
        manifest = new_manifest(descriptor(MEDIA_OCI_CONFIG, config_digest, len(config_bytes)),
                                layers)
        manifest_digest = store.content.write_bytes(canonical_json(manifest))
        tags = [parse(t, default_registry=store.cfg.default_registry)
                for t in entry.get("RepoTags") or []]
        image_id, _ = ingest.register(store, manifest_digest, tags)
        out.append((image_id, [str(t) for t in tags]))
    return out


class _Prefixed(io.RawIOBase):
    """Put back the bytes read to sniff compression."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self.head = head
        self.rest = rest

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self.head:
            out, self.head = self.head, b""
            return out
        return self.rest.read(n)
