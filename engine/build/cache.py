"""The build cache: step key → the layer (or no layer) that step produced.

BuildKit style: a key is a hash of the parent ChainID, the canonical
instruction, the variables it depends on and the content of exactly the files
it reads (:func:`step_key`). ``<root>/build-cache/index.json`` maps keys to
results and is changed only under ``locks/build-cache.lock`` with atomic
writes, so concurrent builds share it. The layers themselves live in the
content store and the snapshot store like any image's; :func:`live_refs` tells
the image garbage collector to keep them until ``builder prune`` drops the
entries. ``RUN --mount=type=cache`` directories live in ``build-cache/mounts``.

Standard library only: the image GC imports this module.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..digest import sha256_hex
from ..fsutil import file_lock, mkstemp, read_json
from ..record import asdict, dataclass, fields

VERSION = 1
MAX_ENTRIES = 10_000
BUILD_LABEL = "io.pydock.build"  # on step containers: the build that owns them
_SAFE_ID = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class CacheResult:
    """What one step left: ``chain_id`` after it, and its layer (``None``: no layer)."""

    chain_id: str  # "" for an empty root filesystem (scratch, no layer yet)
    diff_id: str = ""
    layer_digest: str = ""
    layer_size: int = 0
    media_type: str = ""
    created: float = 0.0  # when the step ran: history times stay put on a cached rebuild

    @property
    def empty(self) -> bool:
        return not self.layer_digest


def step_key(parent: str, op: dict[str, Any]) -> str:
    """The cache key of a step on top of ``parent`` (a ChainID, "" for none)."""
    blob = json.dumps({"v": VERSION, "parent": parent, "op": op}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + sha256_hex(blob.encode("utf-8", "surrogateescape"))


class BuildCache:
    def __init__(self, root: Path, locks: Path) -> None:
        self.dir = root / "build-cache"
        self.index = self.dir / "index.json"
        self.mounts = self.dir / "mounts"
        self._lock = locks / "build-cache.lock"
        self._seen: tuple[tuple[int, int, int], dict[str, Any]] | None = None

    def _read(self) -> dict[str, Any]:
        """The index as on disk; parsed again only when the file was replaced."""
        try:
            st = os.stat(self.index)
        except FileNotFoundError:
            return self._load()
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if self._seen is None or self._seen[0] != stamp:
            self._seen = (stamp, self._load())
        return self._seen[1]

    def _load(self) -> dict[str, Any]:
        try:
            db = read_json(self.index, None)
        except ValueError:
            db = None  # a damaged index is a cold cache, not a failed build
        if not isinstance(db, dict) or db.get("version") != VERSION:
            db = {"version": VERSION, "entries": {}}
        db.setdefault("entries", {})
        return db

    @contextlib.contextmanager
    def transaction(self) -> Iterator[dict[str, Any]]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with file_lock(self._lock):
            db = self._load()
            yield db
            entries = db["entries"]
            if len(entries) > MAX_ENTRIES:
                # Oldest first out; their layers then go with the next image GC.
                for key in sorted(entries, key=lambda k: entries[k].get("used", 0))[
                        :len(entries) - MAX_ENTRIES]:
                    del entries[key]
            _replace_json(self.index, db)

    def lookup(self, key: str) -> CacheResult | None:
        # Lock-free: the index is replaced atomically, never written in place.
        entry = self._read()["entries"].get(key)
        if not isinstance(entry, dict):
            return None
        try:
            return CacheResult(**{f.name: entry[f.name] for f in fields(CacheResult)
                                  if f.name in entry})
        except (KeyError, TypeError):
            return None

    def record(self, key: str, result: CacheResult, created_by: str) -> None:
        with self.transaction() as db:
            db["entries"][key] = {**asdict(result), "created_by": created_by,
                                  "used": time.time()}

    def forget(self, key: str) -> None:
        """Drop an entry whose layer or snapshot went missing."""
        with self.transaction() as db:
            db["entries"].pop(key, None)

    def mount_dir(self, mount_id: str) -> Path:
        """The directory behind ``--mount=type=cache,id=…`` (the id defaults to the target)."""
        digest = sha256_hex(mount_id.encode())[:12]
        name = _SAFE_ID.sub("_", mount_id.strip("/"))[:40] or "root"
        return self.mounts / f"{name}-{digest}"

    def entries(self) -> dict[str, Any]:
        return dict(self._load()["entries"])

    def clear(self) -> tuple[int, list[Path]]:
        """Forget every entry and detach the cache mounts; (entries, mount dirs to delete).

        The mount dirs are renamed away under the lock, so a build starting
        right after gets fresh ones; the caller deletes them outside the lock.
        """
        gone: list[Path] = []
        with self.transaction() as db:
            count = len(db["entries"])
            db["entries"] = {}
            with contextlib.suppress(FileNotFoundError):
                for entry in os.scandir(self.mounts):
                    if entry.name.startswith("."):
                        continue
                    trash = self.mounts / f".trash-{entry.name}-{os.getpid()}"
                    os.rename(entry.path, trash)
                    gone.append(trash)
        return count, gone


def _replace_json(path: Path, obj: Any) -> None:
    """Atomic (readers see the old or the new index) but not fsynced: it is a cache.

    After a crash the worst case is a lost entry, whose layer the image GC then
    collects; skipping the fsyncs keeps them off every build step's path.
    """
    fd, tmp = mkstemp(path.parent, f".{path.name}.", ".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f, separators=(",", ":"), sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def live_refs(root: Path) -> tuple[set[str], set[str]]:
    """(blob digests, ChainIDs) the cache still needs: the image GC keeps them."""
    cache = BuildCache(root, root / "locks")
    blobs: set[str] = set()
    chains: set[str] = set()
    for entry in cache.entries().values():
        if not isinstance(entry, dict):
            continue
        if entry.get("layer_digest"):
            blobs.add(str(entry["layer_digest"]))
        if entry.get("chain_id"):
            chains.add(str(entry["chain_id"]))
    return blobs, chains


def dir_size(path: Path) -> int:
    total = 0
    for top, dirs, files in os.walk(path):
        for name in files + dirs:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(top, name)).st_blocks * 512
    return total
