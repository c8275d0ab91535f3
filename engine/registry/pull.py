"""``pull``: manifest → config → layers in parallel, each unpacked while it downloads.

Order of trust: the manifest is verified against its digest, the config against
the manifest, every layer against the manifest while streaming, and every
unpacked snapshot against the config's DiffIDs. Manifest and config bytes stay
in memory until every layer is stored, so a failed pull leaves only verified
layer blobs behind (which the next attempt reuses) and partial downloads in the
ingest directory (which it resumes).

Work runs in threads; this generator yields their progress events from a queue,
throttled per layer, and cancels them if the consumer stops listening.
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from ..content.store import sha256_bytes
from ..errors import DigestMismatch, EngineError, ImageNotFound, RegistryError
from ..images import ingest
from ..images.model import INDEX_TYPES, chain_ids
from ..images.store import ImageStore
from ..reference import Reference
from . import manifests
from .auth import scope_for
from .blobs import Cancelled, open_blob
from .client import RegistryClient
from .types import PullProgress

_TICK = 0.1  # seconds between two "Downloading" events of one layer


def short(digest: str) -> str:
    return digest.removeprefix("sha256:")[:12]


def pull(client: RegistryClient, store: ImageStore, ref: Reference, *, platform: str,
         parallel: int) -> Iterator[PullProgress]:
    shown = ref.familiar
    yield PullProgress(ref.tag or ref.digest or "", f"Pulling from {ref.familiar_name}")
    top = manifests.fetch(client, ref, ref.digest or ref.tag or "latest")
    found = top
    if top.media_type in INDEX_TYPES:
        desc = manifests.select_platform(top.doc, platform, shown)
        found = manifests.fetch(client, ref, desc["digest"])
        if found.media_type in INDEX_TYPES:
            raise RegistryError(f"{shown}: nested image indexes are not supported")
    manifest = ingest.check_manifest(found.doc, shown)
    manifests.check_layers(manifest, shown)
    config_body = _small_blob(client, ref.repository, manifest["config"])
    config = json.loads(config_body)
    diff_ids = list((config.get("rootfs") or {}).get("diff_ids") or [])
    layers = manifest["layers"]
    if len(diff_ids) != len(layers):
        raise RegistryError(f"{shown}: config lists {len(diff_ids)} diff_ids for "
                            f"{len(layers)} layers")
    try:
        before = store.resolve(str(ref))
    except ImageNotFound:
        before = ""
    with store.ingest_lock():
        yield from _layers(client, store, ref.repository, layers, diff_ids, parallel)
        store.content.write_bytes(config_body, expected=manifest["config"]["digest"])
        store.content.write_bytes(found.body, expected=found.digest)
        tags = [ref] if ref.tag else []
        image_id, _ = ingest.register(store, found.digest, tags,
                                      repo_digests=(f"{ref.name}@{top.digest}",))
    yield PullProgress("", "Digest", digest=top.digest, image_id=image_id, done=True,
                       fresh=before != image_id)


def _small_blob(client: RegistryClient, repo: str, desc: dict[str, Any]) -> bytes:
    digest, size = desc["digest"], int(desc.get("size", 0))
    if size > 32 << 20:
        raise RegistryError(f"config blob {digest[:19]} is implausibly large ({size} bytes)")
    resp = client.request("GET", f"/v2/{repo}/blobs/{digest}", scopes=[scope_for(repo, "pull")],
                          what=f"config blob {digest[:19]}")
    if sha256_bytes(resp.content) != digest:
        raise DigestMismatch(digest, sha256_bytes(resp.content), what="config")
    return resp.content


def _layers(client: RegistryClient, store: ImageStore, repo: str, layers: list[dict[str, Any]],
            diff_ids: list[str], parallel: int) -> Iterator[PullProgress]:
    events: queue.Queue[PullProgress | None] = queue.Queue()
    stop = threading.Event()
    chains = chain_ids(diff_ids)
    todo: list[int] = []
    seen: set[str] = set()
    for i, layer in enumerate(layers):
        digest = layer["digest"]
        if store.content.exists(digest) or digest in seen:
            yield PullProgress(short(digest), "Already exists")
        else:
            seen.add(digest)
            todo.append(i)
            yield PullProgress(short(digest), "Pulling fs layer")
    if not todo:
        return

    def one(i: int) -> None:
        layer, digest = layers[i], layers[i]["digest"]
        sid, size = short(digest), int(layer.get("size", 0))
        last = [0.0]

        def progress(status: str, done: int) -> None:
            now = time.monotonic()
            if status == "Downloading" and now - last[0] < _TICK and done < size:
                return
            last[0] = now
            events.put(PullProgress(sid, status, done, size))

        parent = chains[i - 1] if i else None
        try:
            with open_blob(client, store.content, store.cfg.locks_dir, repo, digest, size,
                           progress=progress, cancelled=stop.is_set, ahead=ahead) as blob:
                try:
                    # The unpacker pulls the download through: EOF comes only after
                    # the blob's digest checked out, so no snapshot lands unverified.
                    store.snapshots.unpack(parent, diff_ids[i], blob)  # type: ignore[arg-type]
                except BaseException:
                    failed = blob.error
                    if failed is not None:  # the download broke: that is the story
                        raise failed from None
                    # A bad layer or a full disk: finish the download all the same, so
                    # that a blob that does not match its digest is called out as such.
                    blob.finish()
                    raise
                blob.finish()  # what the unpacker left unread (or all: snapshot existed)
        except OSError as err:
            raise EngineError(f"storing layer {sid}: {err.strerror or err}") from err
        events.put(PullProgress(sid, "Pull complete"))

    # One thread per layer downloads and unpacks it. With no more layers in flight
    # than cores, each layer gets a second thread that downloads ahead of its unpacker.
    ahead = min(parallel, len(todo)) <= _cores()
    for i in todo[parallel:]:
        yield PullProgress(short(layers[i]["digest"]), "Waiting")
    pool = ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="pull")
    try:
        futures = [pool.submit(one, i) for i in todo]
        remaining = set(futures)
        for f in futures:
            f.add_done_callback(lambda _f: events.put(None))
        while remaining:
            item = events.get()
            if item is not None:
                yield item
                continue
            for f in [f for f in remaining if f.done()]:
                remaining.discard(f)
                if f.exception() is not None:
                    stop.set()
                    raise _first_error(futures) from None
        while not events.empty():
            item = events.get_nowait()
            if item is not None:
                yield item
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)


def _cores() -> int:
    count = getattr(os, "process_cpu_count", os.cpu_count)()
    return count or 1


def _first_error(futures: list[Future[None]]) -> BaseException:
    """The most telling error: a digest or registry error rather than a cancellation."""
    errors = [e for f in futures if f.done() and not f.cancelled()
              if (e := f.exception()) is not None]
    real = [e for e in errors if not isinstance(e, Cancelled)]
    return (real or errors or [EngineError("pull failed")])[0]
