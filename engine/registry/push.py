"""``push``: every blob the registry lacks, then the manifest, then the tag.

Per blob: ``HEAD`` first (already there → skip); else a cross-repository mount
when the blob is known to live in another repository of the same registry (the
local store records where each image was pulled from or pushed to as
``RepoDigests``); else an upload: one ``PUT`` for blobs up to
``upload_chunk_size``, ``PATCH`` chunks with ``Content-Range`` above it. The
manifest goes last, byte for byte as stored, so its digest is kept.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urljoin

from ..content.store import sha256_bytes
from ..errors import DigestMismatch, EngineError, RegistryError
from ..images.model import MEDIA_OCI_MANIFEST
from ..images.store import ImageStore
from ..reference import Reference, parse
from .auth import scope_for
from .client import RegistryClient
from .pull import short
from .types import PushOptions, PushProgress

_READ = 1 << 20


def mount_sources(store: ImageStore, ref: Reference) -> dict[str, list[str]]:
    """digest → other repositories of ``ref``'s registry known to hold that blob."""
    out: dict[str, list[str]] = {}
    for rec in store.records():
        repos = []
        for rd in rec.repo_digests:
            try:
                r = parse(rd)
            except EngineError:
                continue
            if r.registry == ref.registry and r.repository != ref.repository:
                repos.append(r.repository)
        blobs = [rec.manifest["config"]["digest"]] + [x["digest"] for x in rec.manifest["layers"]]
        for d in blobs:
            have = out.setdefault(d, [])
            have += [r for r in repos if r not in have]
    return out


def push(client: RegistryClient, store: ImageStore, ref: Reference, opts: PushOptions, *,
         parallel: int) -> Iterator[PushProgress]:
    image_id = store.resolve(str(ref))
    rec = store.record(image_id)
    manifest_body = store.content.read(rec.manifest_digest)
    manifest = rec.manifest
    tag = ref.tag or "latest"
    repo = ref.repository
    yield PushProgress("", f"The push refers to repository [{ref.name}]")
    sources = mount_sources(store, ref)
    blobs: list[dict[str, Any]] = [*reversed(manifest["layers"]), manifest["config"]]
    events: queue.Queue[PushProgress | None] = queue.Queue()
    stop = threading.Event()
    for b in manifest["layers"][::-1]:
        yield PushProgress(short(b["digest"]), "Preparing")

    def one(desc: dict[str, Any]) -> None:
        digest, size, sid = desc["digest"], int(desc["size"]), short(desc["digest"])
        quiet = desc is manifest["config"]  # docker does not show the config blob

        def emit(status: str, done: int = 0) -> None:
            if not quiet:
                events.put(PushProgress(sid, status, done, size))

        froms = [*sources.get(digest, []), *opts.mount_from]
        upload_blob(client, store, repo, digest, size, froms, emit, stop.is_set)

    pool = ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="push")
    try:
        futures = [pool.submit(one, b) for b in blobs]
        for f in futures:
            f.add_done_callback(lambda _f: events.put(None))
        pending = len(futures)
        while pending:
            item = events.get()
            if item is None:
                pending -= 1
                continue
            yield item
        for f in futures:
            if f.exception() is not None:
                raise f.exception()  # type: ignore[misc]
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
    media_type = manifest.get("mediaType") or MEDIA_OCI_MANIFEST
    resp = client.request("PUT", f"/v2/{repo}/manifests/{tag}", scopes=[scope_for(repo, "pull",
                          "push")], headers={"Content-Type": media_type}, content=manifest_body,
                          expect=(201, 200), what=f"manifest for {ref.name}:{tag}")
    digest = sha256_bytes(manifest_body)
    announced = resp.headers.get("docker-content-digest", "")
    if announced and announced != digest:
        raise DigestMismatch(digest, announced, what="pushed manifest")
    store.add(rec.manifest_digest, [], repo_digests=(f"{ref.name}@{digest}",))
    yield PushProgress("", "Pushed", digest=digest, size=len(manifest_body), tag=tag, done=True)


def upload_blob(client: RegistryClient, store: ImageStore, repo: str, digest: str, size: int,
                froms: list[str], emit: Callable[..., None],
                cancelled: Callable[[], bool]) -> None:
    rw = scope_for(repo, "pull", "push")
    what = f"blob {digest[:19]}"
    head = client.request("HEAD", f"/v2/{repo}/blobs/{digest}", scopes=[rw], expect=(200, 404),
                          what=what)
    if head.status_code == 200:
        emit("Layer already exists")
        return
    location = ""
    for src in dict.fromkeys(froms):
        if src == repo:
            continue
        resp = client.request(
            "POST", f"/v2/{repo}/blobs/uploads/", params={"mount": digest, "from": src},
            scopes=[rw, scope_for(src, "pull")], expect=(201, 202), what=what)
        if resp.status_code == 201:
            emit(f"Mounted from {src}")
            return
        # 202: the registry opened an upload instead (no access to src, or no blob).
        location = resp.headers.get("location", "")
        break
    if not location:
        resp = client.request("POST", f"/v2/{repo}/blobs/uploads/", scopes=[rw], expect=(202,),
                              what=what)
        location = resp.headers.get("location", "")
    if not location:
        raise RegistryError(f"{what}: the registry gave no upload location")
    location = urljoin(client.base + "/", location)
    emit("Pushing", 0)
    path = store.content.path(digest)
    chunk = client.settings.upload_chunk_size
    if size <= chunk or chunk <= 0:
        def body() -> Iterator[bytes]:
            done = 0
            with open(path, "rb") as f:
                while data := f.read(_READ):
                    done += len(data)
                    emit("Pushing", done)
                    yield data
        client.request("PUT", location, scopes=[rw], params={"digest": digest}, content=body,
                       headers={"Content-Type": "application/octet-stream",
                                "Content-Length": str(size)}, expect=(201,), what=what)
    else:
        with open(path, "rb") as f:
            start = 0
            while data := f.read(chunk):
                if cancelled():
                    raise RegistryError("push cancelled")
                end = start + len(data) - 1
                resp = client.request(
                    "PATCH", location, scopes=[rw], content=data, expect=(202,), what=what,
                    headers={"Content-Type": "application/octet-stream",
                             "Content-Range": f"{start}-{end}", "Content-Length": str(len(data))})
                location = urljoin(client.base + "/", resp.headers.get("location", location))
                start = end + 1
                emit("Pushing", start)
        client.request("PUT", location, scopes=[rw], params={"digest": digest}, content=b"",
                       expect=(201,), what=what)
    emit("Pushed", size)
