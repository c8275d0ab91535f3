"""Layer compression, detected by magic bytes rather than trusted media types."""

from __future__ import annotations

import io
import zlib
from typing import Any, BinaryIO

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

MEDIA_TAR = "application/vnd.oci.image.layer.v1.tar"
MEDIA_TAR_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MEDIA_TAR_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"


def detect(head: bytes) -> str:
    """``gzip``, ``zstd`` or ``none`` for the first bytes of a blob."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return "none"


def layer_media_type(kind: str) -> str:
    return {"gzip": MEDIA_TAR_GZIP, "zstd": MEDIA_TAR_ZSTD}.get(kind, MEDIA_TAR)


class _GzipReader(io.RawIOBase):
    """Streaming gunzip that also handles concatenated members (pigz, some registries)."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._d = zlib.decompressobj(wbits=31)
        self._buf = b""
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: memoryview) -> int:  # type: ignore[override]
        while not self._buf and not self._eof:
            chunk = self._raw.read(1 << 20)
            if not chunk:
                self._buf = self._d.flush()
                self._eof = True
                break
            out = self._d.decompress(chunk)
            while self._d.eof and self._d.unused_data:
                rest = self._d.unused_data
                self._d = zlib.decompressobj(wbits=31)
                out += self._d.decompress(rest)
            self._buf = out
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def open_layer_stream(fileobj: BinaryIO) -> BinaryIO:
    """A readable stream of the uncompressed tar inside ``fileobj``."""
    raw: io.BufferedReader = fileobj if isinstance(fileobj, io.BufferedReader) \
        else io.BufferedReader(fileobj)  # type: ignore[arg-type]
    head = raw.peek(4)[:4]
    kind = detect(head)
    if kind == "gzip":
        return io.BufferedReader(_GzipReader(raw), buffer_size=1 << 20)
    if kind == "zstd":
        return _zstd_reader(raw)
    return raw


def _zstd_reader(raw: BinaryIO) -> Any:
    try:
        from compression import zstd  # Python >= 3.14

        return zstd.ZstdFile(raw, "rb")
    except ImportError:
        import zstandard  # deferred: only zstd layers pay for the import

        return zstandard.ZstdDecompressor().stream_reader(raw, read_size=1 << 20)
