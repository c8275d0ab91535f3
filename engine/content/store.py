"""Blobs by digest, in OCI image-layout form (``oci-layout``, ``index.json``, ``blobs/``).

Every write is verified: bytes land in a temp file, are hashed while written, and
are renamed to ``blobs/sha256/<hex>`` only if the digest (and size, when known)
match. A reader therefore never sees an unverified blob, and two processes
writing the same blob race harmlessly (both renames carry identical bytes).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO

from ..errors import BlobNotFound, DigestMismatch, EngineError, InvalidArgument
from ..fsutil import atomic_write_json, mkstemp

_DIGEST = re.compile(r"sha256:[a-f0-9]{64}\Z")
CHUNK = 1 << 20


def check_digest(digest: str) -> str:
    if not _DIGEST.match(digest):
        raise InvalidArgument(f"unsupported or malformed digest {digest!r} (want sha256:<64 hex>)")
    return digest


def sha256_bytes(data: bytes) -> str:
    from ..digest import sha256_hex  # small data (configs, manifests) skip OpenSSL's start

    return "sha256:" + sha256_hex(data)


class ContentStore:
    """The blob half of the image store, laid out as an OCI image layout.

    ``index.json`` is maintained by the image store (one manifest descriptor per
    image, named with ``org.opencontainers.image.ref.name``) so tools such as
    skopeo and umoci can read ``<root>/content`` directly.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs = root / "blobs" / "sha256"
        self.ingest = root / "ingest"

    def ensure(self) -> None:
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.ingest.mkdir(parents=True, exist_ok=True)
        layout = self.root / "oci-layout"
        if not layout.exists():
            atomic_write_json(layout, {"imageLayoutVersion": "1.0.0"})
        if not (self.root / "index.json").exists():
            self.write_index([])

    def path(self, digest: str) -> Path:
        return self.blobs / check_digest(digest).split(":", 1)[1]

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def size(self, digest: str) -> int:
        try:
            return self.path(digest).stat().st_size
        except FileNotFoundError:
            raise BlobNotFound(digest) from None

    def open(self, digest: str) -> BinaryIO:
        try:
            return open(self.path(digest), "rb")
        except FileNotFoundError:
            raise BlobNotFound(digest) from None

    def read(self, digest: str) -> bytes:
        with self.open(digest) as f:
            return f.read()

    def read_json(self, digest: str) -> Any:
        try:
            return json.loads(self.read(digest))
        except ValueError as err:
            raise EngineError(f"blob {digest} is not valid JSON: {err}") from err

    def write_bytes(self, data: bytes, expected: str | None = None) -> str:
        digest = sha256_bytes(data)
        if expected is not None and check_digest(expected) != digest:
            raise DigestMismatch(expected, digest)
        if not self.exists(digest):
            with self._ingest_file() as (f, tmp):
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
                os.replace(tmp, self.path(digest))
        return digest

    def write_stream(self, src: IO[bytes] | io.RawIOBase, expected: str | None = None,
                     expected_size: int | None = None) -> tuple[str, int]:
        """Copy ``src`` into the store, hashing as it goes; return (digest, size)."""
        if expected is not None:
            check_digest(expected)
        import hashlib

        h = hashlib.sha256()
        n = 0
        with self._ingest_file() as (f, tmp):
            while chunk := src.read(CHUNK):
                h.update(chunk)
                f.write(chunk)
                n += len(chunk)
            digest = "sha256:" + h.hexdigest()
            if expected is not None and digest != expected:
                raise DigestMismatch(expected, digest)
            if expected_size is not None and n != expected_size:
                raise EngineError(f"blob {digest}: size {n} does not match descriptor size "
                                  f"{expected_size}", title="Size mismatch")
            f.flush()
            os.fsync(f.fileno())
            os.replace(tmp, self.path(digest))
        return digest, n

    @contextlib.contextmanager
    def _ingest_file(self) -> Iterator[tuple[BinaryIO, str]]:
        fd, tmp = mkstemp(self.ingest, "blob-")
        try:
            with os.fdopen(fd, "wb") as f:
                yield f, tmp
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def delete(self, digest: str) -> int:
        """Remove a blob; return the bytes freed (0 if it was already gone)."""
        p = self.path(digest)
        try:
            size = p.stat().st_size
            p.unlink()
        except FileNotFoundError:
            return 0
        return size

    def digests(self) -> Iterator[str]:
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(self.blobs):
                yield "sha256:" + entry.name

    def write_index(self, manifests: list[dict[str, Any]]) -> None:
        atomic_write_json(self.root / "index.json", {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": manifests,
        })
