"""Downloading one blob: resumable, verified while streaming, optionally teed.

Bytes go to ``<content>/ingest/sha256-<hex>.partial`` (keyed by digest, under a
per-digest flock so two pulls of one layer do not interleave) and are hashed as
they arrive. A dropped connection is resumed with ``Range: bytes=<have>-``; a
partial left by an earlier, killed pull is re-hashed and resumed too. Only when
size and digest match is the file renamed into ``blobs/``: nothing unverified is
ever visible in the store, and a mismatch deletes the partial.

The ``tee`` lets unpacking run while the layer downloads: it receives the same
bytes, and its end of stream is signalled only *after* the digest checked out,
so an unpacker that reads to EOF never completes on unverified data.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import httpx

from ..content.store import ContentStore
from ..errors import DigestMismatch, EngineError, RegistryError
from ..fsutil import file_lock
from .auth import scope_for
from .client import RegistryClient

_READ = 1 << 20
_PIPE_CHUNKS = 512  # ~32 MiB of 64 KiB network reads in flight to the unpacker


class Cancelled(EngineError):
    pass


class Pipe(io.RawIOBase):
    """A bounded, thread-safe byte stream: one writer (download), one reader (unpack)."""

    def __init__(self) -> None:
        super().__init__()
        self._q: queue.Queue[bytes | BaseException | None] = queue.Queue(_PIPE_CHUNKS)
        self._buf = b""
        self._eof = False
        self.reader_gone = threading.Event()

    # writer side
    def write(self, data: bytes) -> int:  # type: ignore[override]
        self._put(data)
        return len(data)

    def feed(self, data: bytes) -> None:
        self._put(data)

    def finish(self, error: BaseException | None = None) -> None:
        """End of stream, or an error the reader raises instead of reading on."""
        self._put(error)

    def _put(self, item: bytes | BaseException | None) -> None:
        while not self.reader_gone.is_set():
            try:
                self._q.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    # reader side
    def readable(self) -> bool:
        return True

    def readinto(self, b: memoryview) -> int:  # type: ignore[override]
        while not self._buf and not self._eof:
            item = self._q.get()
            if item is None:
                self._eof = True
            elif isinstance(item, BaseException):
                self._eof = True
                raise item
            else:
                self._buf = item
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def drain(self) -> None:
        """The reader is done (or failed): let the writer go on without it."""
        self.reader_gone.set()
        with contextlib.suppress(queue.Empty):
            while True:
                self._q.get_nowait()


def partial_path(content: ContentStore, digest: str) -> Path:
    return content.ingest / f"sha256-{digest.removeprefix('sha256:')}.partial"


def fetch_blob(client: RegistryClient, content: ContentStore, locks: Path, repo: str,
               digest: str, size: int, *, progress: Callable[[str, int], None],
               tee: Pipe | None = None, cancelled: Callable[[], bool] = lambda: False) -> None:
    """Download ``digest`` into ``content``; ``progress(status, bytes_done)`` as it goes."""
    tee_write = tee.feed if tee else None
    try:
        with file_lock(locks / f"ingest-{digest.removeprefix('sha256:')}.lock"):
            if content.exists(digest):
                if tee:  # another process finished it meanwhile: feed the stored bytes
                    with content.open(digest) as f:
                        while chunk := f.read(_READ):
                            tee.write(chunk)
            else:
                _download(client, content, repo, digest, size, progress, tee_write, cancelled,
                          verified=tee.finish if tee else None)
                return
    except BaseException as err:
        if tee:
            tee.finish(err)
        raise
    if tee:
        tee.finish()


def _download(client: RegistryClient, content: ContentStore, repo: str, digest: str, size: int,
              progress: Callable[[str, int], None], tee: Callable[[bytes], None] | None,
              cancelled: Callable[[], bool], verified: Callable[[], None] | None) -> None:
    part = partial_path(content, digest)
    with open(part, "ab+") as f:
        dl = _Download(f, tee)
        dl.rehash(size)
        attempt = 0
        while True:
            try:
                dl.get(client, repo, digest, size, progress, cancelled)
                if dl.have >= size:
                    break
                raise httpx.RemoteProtocolError("the registry closed the blob early")
            except httpx.TransportError as err:
                attempt += 1
                if attempt >= client.settings.attempts:
                    raise client.translate(err, f"downloading {digest[:19]}") from err
                progress("Retrying", dl.have)
                client.sleep(attempt - 1)
        actual = "sha256:" + dl.hash.hexdigest()
        if dl.have != size or actual != digest:
            part.unlink(missing_ok=True)  # useless for a resume: start clean next time
            if dl.have != size:
                raise RegistryError(f"blob {digest[:19]}: got {dl.have} bytes, "
                                    f"descriptor says {size}")
            raise DigestMismatch(digest, actual)
        progress("Verifying Checksum", dl.have)
        if verified:  # the bytes are proven: let the unpacker finish while we fsync
            verified()
        f.flush()
        os.fsync(f.fileno())
    os.replace(part, content.path(digest))


class _Download:
    """The state that survives a dropped connection: file, running hash, byte count."""

    def __init__(self, f: BinaryIO, tee: Callable[[bytes], None] | None) -> None:
        self.f = f
        self.tee = tee
        self.hash = hashlib.sha256()
        self.have = 0

    def rehash(self, size: int) -> None:
        """Hash (and replay into the tee) what an earlier attempt left behind."""
        self.f.seek(0, os.SEEK_END)
        if self.f.tell() > size:
            self.f.truncate(0)
            return
        self.f.seek(0)
        while chunk := self.f.read(_READ):
            self._take(chunk, write=False)

    def _take(self, chunk: bytes, *, write: bool = True) -> None:
        if write:
            self.f.write(chunk)
        self.hash.update(chunk)
        if self.tee:
            self.tee(chunk)
        self.have += len(chunk)

    def get(self, client: RegistryClient, repo: str, digest: str, size: int,
            progress: Callable[[str, int], None], cancelled: Callable[[], bool]) -> None:
        # identity: a content-encoded body would not hash to the blob digest.
        headers = {"Accept-Encoding": "identity"}
        if self.have:
            headers["Range"] = f"bytes={self.have}-"
        resp = client.request("GET", f"/v2/{repo}/blobs/{digest}",
                              scopes=[scope_for(repo, "pull")], headers=headers,
                              expect=(200, 206), stream=True, what=f"blob {digest[:19]}")
        skip = self.have if resp.status_code == 200 else 0  # the server ignored Range
        try:
            for chunk in resp.iter_raw():
                if cancelled():
                    raise Cancelled("pull cancelled")
                if skip:
                    cut = min(skip, len(chunk))
                    chunk, skip = chunk[cut:], skip - cut
                    if not chunk:
                        continue
                if self.have + len(chunk) > size:
                    raise RegistryError(f"blob {digest[:19]}: registry sent more than "
                                        f"{size} bytes")
                self._take(chunk)
                progress("Downloading", self.have)
        finally:
            resp.close()
