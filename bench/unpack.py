"""Layer unpack speed: pydock's ``unpack_layer`` against ``umoci unpack``.

The layer (~200 MB uncompressed, ~2000 files of mixed sizes, a few big files,
directories, symlinks, hard links; gzip level 1) is generated once into an OCI
image layout under /var/tmp/pydock-bench and reused by later runs. Both sides
start from the compressed blob: decompression is part of the measured work.
``umoci unpack`` also writes its mtree manifest (a hash of every file), which is
part of that command's normal job and so is counted too.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import tarfile
import time
import zlib
from pathlib import Path
from typing import BinaryIO

from engine.compression import open_layer_stream
from engine.snapshots.unpack import unpack_layer

CACHE = Path(os.environ.get("PYDOCK_BENCH_CACHE", "/var/tmp/pydock-bench"))
LAYOUT = CACHE / "unpack-v1" / "layout"  # bump the version when the layer recipe changes
REF = "bench"
RUNS = 3
_MiB = 1 << 20


def run(report: list[dict]) -> None:
    layout, diff_id = build_layout()
    blob = _layer_blob(layout)
    blob.read_bytes()  # warm the page cache so neither side pays the first read
    work = CACHE / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    umoci = shutil.which("umoci")
    mine: list[float] = []
    peer: list[float] = []
    try:
        # Interleaved: ext4 slows inode allocation for a while after many
        # deletions (recently_deleted()), and each run deletes the previous
        # output, so back-to-back batches would penalise whichever goes second.
        for _ in range(RUNS):
            mine.append(_time_pydock(blob, work / "diff", diff_id))
            if umoci:
                peer.append(_time_umoci(layout, work / "bundle"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    pydock = statistics.median(mine)
    row: dict = {"name": "unpack 200MB gzip layer", "pydock_s": round(pydock, 3), "peer": "umoci"}
    if peer:
        peer_s = statistics.median(peer)
        row |= {"peer_s": round(peer_s, 3), "ratio": round(pydock / peer_s, 3)}
    else:
        row |= {"peer_s": None, "ratio": None, "note": "umoci not installed"}
    report.append(row)


def _time_pydock(blob: Path, dest: Path, diff_id: str) -> float:
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir()
    start = time.perf_counter()
    with open(blob, "rb") as f:
        stats = unpack_layer(open_layer_stream(f), dest)
    elapsed = time.perf_counter() - start
    if stats.diff_id != diff_id:
        raise RuntimeError(f"pydock diff_id {stats.diff_id} != {diff_id}")
    shutil.rmtree(dest)
    return elapsed


def _time_umoci(layout: Path, bundle: Path) -> float:
    shutil.rmtree(bundle, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run(
        ["umoci", "unpack", "--image", f"{layout}:{REF}", str(bundle)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - start
    shutil.rmtree(bundle)
    return elapsed


def build_layout() -> tuple[Path, str]:
    """Return the cached layout and its layer diff_id, building them if missing."""
    stamp = LAYOUT / "diff_id"  # written last: its presence means the layout is whole
    if stamp.exists():
        return LAYOUT, stamp.read_text().strip()
    shutil.rmtree(LAYOUT, ignore_errors=True)
    (LAYOUT / "blobs" / "sha256").mkdir(parents=True)
    tmp = LAYOUT / "layer.tmp"
    with open(tmp, "wb") as out:
        sink = _GzipSink(out)
        with tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
            _fill_layer(tar, random.Random(20240601))
        sink.close()
    layer: dict[str, object] = {
        "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
        "digest": "sha256:" + sink.compressed.hexdigest(),
        "size": sink.size,
    }
    tmp.rename(_blob_path(LAYOUT, str(layer["digest"])))
    diff_id = "sha256:" + sink.raw.hexdigest()
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "pydock bench"}],
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": _put_json(LAYOUT, config, "application/vnd.oci.image.config.v1+json"),
        "layers": [layer],
    }
    desc = _put_json(LAYOUT, manifest, str(manifest["mediaType"]))
    desc["annotations"] = {"org.opencontainers.image.ref.name": REF}
    (LAYOUT / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    idx = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json"}
    (LAYOUT / "index.json").write_text(json.dumps(idx | {"manifests": [desc]}))
    stamp.write_text(diff_id + "\n")
    return LAYOUT, diff_id


def _fill_layer(tar: tarfile.TarFile, rng: random.Random) -> None:
    """~2000 files: mostly random (incompressible) data, some text-like, plus 4 big files."""
    words = [rng.randbytes(rng.randint(2, 9)).hex().encode() for _ in range(512)]

    def add(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", **attrs: object) -> None:
        info = tarfile.TarInfo(name)
        info.type, info.size, info.mtime, info.mode = kind, len(data), 1_700_000_000, 0o644
        for key, value in attrs.items():
            setattr(info, key, value)
        tar.addfile(info, io.BytesIO(data) if data else None)

    def content(size: int) -> bytes:
        if rng.random() < 0.3:
            text = b" ".join(rng.choices(words, k=size // 8 + 1))
            return text[:size]
        return rng.randbytes(size)

    dirs = [f"usr/share/pkg{i // 10}/sub{i % 10}" for i in range(100)]
    for top in ("usr", "usr/share", *sorted({d.rsplit("/", 1)[0] for d in dirs}), *dirs):
        add(top + "/", tarfile.DIRTYPE, mode=0o755)
    for i in range(2000):
        size = rng.choice((rng.randint(0, 16 << 10),) * 3 + (rng.randint(16 << 10, 256 << 10),))
        if i % 20 == 0:
            size = rng.randint(256 << 10, 1 << 20)
        add(f"{dirs[i % 100]}/file{i:04d}.dat", data=content(size), uid=i % 3 * 1000)
    for i in range(4):
        add(f"usr/lib/big{i}.bin", data=rng.randbytes(18 * _MiB), mode=0o755)
    for i in range(100):
        add(f"{dirs[i]}/link{i}", tarfile.SYMTYPE, linkname=f"file{i:04d}.dat", mode=0o777)
    for i in range(20):
        add(f"usr/lib/hard{i}", tarfile.LNKTYPE, linkname=f"{dirs[i]}/file{i:04d}.dat")


class _GzipSink:
    """tar → gzip (level 1) file writer that hashes both sides on the way."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._z = zlib.compressobj(1, zlib.DEFLATED, 31)
        self.raw = hashlib.sha256()
        self.compressed = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.raw.update(data)
        self._emit(self._z.compress(data))
        return len(data)

    def close(self) -> None:
        self._emit(self._z.flush())

    def _emit(self, data: bytes) -> None:
        self.compressed.update(data)
        self.size += len(data)
        self._out.write(data)


def _put_json(layout: Path, obj: dict, media_type: str) -> dict:
    data = json.dumps(obj, sort_keys=True).encode()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    _blob_path(layout, digest).write_bytes(data)
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def _blob_path(layout: Path, digest: str) -> Path:
    return layout / "blobs" / "sha256" / digest.removeprefix("sha256:")


def _manifest(layout: Path) -> dict:
    index = json.loads((layout / "index.json").read_text())
    return json.loads(_blob_path(layout, index["manifests"][0]["digest"]).read_bytes())


def _layer_blob(layout: Path) -> Path:
    return _blob_path(layout, _manifest(layout)["layers"][0]["digest"])
