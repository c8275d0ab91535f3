from __future__ import annotations

import gzip
import io

import pytest

from engine.compression import detect, layer_media_type, open_layer_stream

zstandard = pytest.importorskip("zstandard")

DATA = b"layer bytes " * 50_000


@pytest.mark.parametrize(("blob", "kind"), [
    (DATA, "none"),
    (gzip.compress(DATA, compresslevel=1), "gzip"),
    (gzip.compress(DATA[:1000]) + gzip.compress(DATA[1000:]), "gzip"),  # pigz-style members
    (zstandard.ZstdCompressor().compress(DATA), "zstd"),
])
def test_detect_by_magic_and_stream(blob: bytes, kind: str) -> None:
    assert detect(blob[:4]) == kind
    assert layer_media_type(kind).startswith("application/vnd.oci.image.layer.v1.tar")
    out = open_layer_stream(io.BytesIO(blob))
    got = b""
    while chunk := out.read(65536):
        got += chunk
    assert got == DATA
