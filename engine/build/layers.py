"""A step's upper dir becomes a layer blob, a snapshot and a cache entry.

The tar is written by :class:`engine.runtime.rwlayer.Scan`, the code ``commit``
uses: overlay whiteouts become ``.wh.`` entries, opaque directories get
``.wh..wh..opq``, entries come sorted with their mtimes, and the empty files and
directories created only as mount points are left out. The layer is stored
uncompressed, like docker's own commits, and unpacked into its ChainID
snapshot so the next step can stack on it. A step that changed nothing makes
no layer (``empty_layer`` in the history), as BuildKit does.

The blob, the snapshot and the cache entry are written while the ingest lock is
held shared: the image GC (which takes it exclusively) then always sees the
entry that keeps them alive.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from ..images.store import ImageStore
from ..runtime import rwlayer
from .cache import BuildCache, CacheResult

MEDIA_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"


def stubs_of(destinations: Iterable[str]) -> set[tuple[str, ...]]:
    """Mount destinations as path components: empty stubs there are not changes."""
    return {tuple(p for p in d.split("/") if p) for d in destinations}


def commit_upper(store: ImageStore, cache: BuildCache, key: str | None, created_by: str,
                 parent_chain: list[str], upper: Path,
                 stubs: set[tuple[str, ...]]) -> CacheResult:
    """Store what ``upper`` changed on top of ``parent_chain``; record it under ``key``."""
    parent = parent_chain[-1] if parent_chain else ""
    lowers = rwlayer.Lowers(store.snapshots.diff_dir(c) for c in reversed(parent_chain))
    try:
        scan = rwlayer.Scan(upper, lowers, stubs)
        if not scan.changes():
            result = CacheResult(chain_id=parent, created=time.time())
            if key is not None:
                cache.record(key, result, created_by)
            return result
        with store.ingest_lock():
            with tempfile.TemporaryFile(dir=store.cfg.tmp_dir) as tmp:
                scan.write_layer(tmp)
                tmp.seek(0)
                digest, size = store.content.write_stream(tmp)
                tmp.seek(0)
                chain_id, _ = store.snapshots.unpack(parent or None, digest, tmp)
            result = CacheResult(chain_id=chain_id, diff_id=digest, layer_digest=digest,
                                 layer_size=size, media_type=MEDIA_LAYER_TAR,
                                 created=time.time())
            if key is not None:
                cache.record(key, result, created_by)
    finally:
        lowers.close()
    return result
