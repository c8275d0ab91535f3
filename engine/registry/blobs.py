"""Downloading one blob: resumable, verified while streaming, read as a stream.

Bytes go to ``<content>/ingest/sha256-<hex>.partial`` (keyed by digest, under a
per-digest flock so two pulls of one layer do not interleave) and are hashed as
they arrive. A dropped connection is resumed with ``Range: bytes=<have>-``; a
partial left by an earlier, killed pull is re-hashed and resumed too. Only when
size and digest match is the file renamed into ``blobs/``: nothing unverified is
ever visible in the store, and a mismatch deletes the partial.

:func:`open_blob` hands the blob out as a readable stream, so the unpacker pulls
the bytes through the download itself: each chunk is received straight into the
reader's buffer, hashed and appended to the partial, then decompressed and
unpacked by the same thread, with no queue and no second copy. End of stream
comes only *after* the digest checked out and the blob is in the store (a
mismatch raises instead), so an unpacker that reads to EOF never completes on
unverified data. Layers run in parallel threads: recv, sha256, inflate and write
all release the GIL on the large chunks used here. When no more layers than cores
are in flight, :class:`ReadAhead` gives each one a second thread, so that the
download of a layer overlaps with its unpacking.

Once the response headers are in, the body is read with ``recv_into`` on the
connection's socket rather than through httpx/h11, which would cost two copies
and a Python-level event per 64 KiB (most of a pull's CPU on loopback). That
is only done for an HTTP/1.1 body with a Content-Length; anything else goes
through httpx. The connection is then closed rather than reused.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import io
import os
import queue
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from ..content.store import ContentStore
from ..errors import DigestMismatch, EngineError, RegistryError
from ..fsutil import file_lock
from .auth import scope_for
from .client import RegistryClient

_READ = 1 << 20
_AHEAD = 8  # buffers of _READ bytes a read-ahead thread may fill before the reader
_PARTIAL = os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC

Progress = Callable[[str, int], None]

# Writeback of the partial is started every _FLUSH_EVERY bytes, so that the fsync
# before the blob is committed waits for the last few megabytes only, not all of it.
_FLUSH_EVERY = 8 << 20
_SYNC_FILE_RANGE_WRITE = 2


@functools.cache
def _sync_file_range() -> Callable[[int, int, int, int], int] | None:
    try:
        fn = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):  # not Linux: the final fsync does it all
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def _start_writeback(fd: int, offset: int, length: int) -> None:
    """Start (not wait for) writing back a range: a hint; fsync reports any error."""
    fn = _sync_file_range()
    if fn is not None:
        fn(fd, offset, length, _SYNC_FILE_RANGE_WRITE)


class Cancelled(EngineError):
    pass


def partial_path(content: ContentStore, digest: str) -> Path:
    return content.ingest / f"sha256-{digest.removeprefix('sha256:')}.partial"


@contextlib.contextmanager
def open_blob(client: RegistryClient, content: ContentStore, locks: Path, repo: str,
              digest: str, size: int, *, progress: Progress,
              cancelled: Callable[[], bool] = lambda: False,
              ahead: bool = False) -> Iterator[BlobReader | ReadAhead | _Stored]:
    """The blob's bytes as a stream, downloaded (and stored) as they are read.

    Under the per-digest lock: if another process stored the blob meanwhile, the
    stored file is read instead. Call ``finish()`` on the stream before leaving the
    ``with`` to download whatever the reader did not consume. With ``ahead``, the
    download runs in a thread of its own, a few megabytes ahead of the reader: worth
    it when no more layers than cores are in flight.
    """
    with file_lock(locks / f"ingest-{digest.removeprefix('sha256:')}.lock"):
        if content.exists(digest):
            with _Stored(content.path(digest), "rb") as f:
                yield f
            return
        reader = BlobReader(client, content, repo, digest, size, progress, cancelled)
        try:
            if ahead:
                with ReadAhead(reader) as pre:
                    yield pre
            else:
                yield reader
        finally:
            reader.close()


class _Stored(io.FileIO):
    """A blob already in the store: read as it is."""

    error: BaseException | None = None

    def finish(self) -> None:
        pass


class BlobReader(io.RawIOBase):
    """The blob as a stream: replayed from the partial, then received from the registry.

    Every byte is hashed, and appended to the partial, before the caller sees it. At
    ``size`` bytes the digest is checked and the blob committed to the store before the
    last bytes are returned; the next read returns EOF. Any failure is kept in
    ``error`` (the unpacker reading the stream only sees that its input broke).
    """

    def __init__(self, client: RegistryClient, content: ContentStore, repo: str, digest: str,
                 size: int, progress: Progress, cancelled: Callable[[], bool]) -> None:
        super().__init__()
        self.client, self.content, self.repo = client, content, repo
        self.digest, self.size = digest, size
        self.progress, self.cancelled = progress, cancelled
        self.error: BaseException | None = None
        self.part = partial_path(content, digest)
        self.hash = hashlib.sha256()
        self.have = 0  # bytes hashed (and handed out)
        self.stored = False
        self._fd = os.open(self.part, _PARTIAL, 0o644)
        self._on_disk = os.fstat(self._fd).st_size  # left by an earlier attempt: replay it
        if self._on_disk > size:
            os.ftruncate(self._fd, 0)
            self._on_disk = 0
        self._body: _Body | None = None
        self._flushed = self._on_disk
        self._attempt = 0
        self._retry_pending: httpx.TransportError | None = None
        self._aborted = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self.error is not None:
            raise self.error
        try:
            return self._read(memoryview(b).cast("B"))
        except BaseException as err:
            self.error = err
            self._drop_body()
            raise

    def finish(self) -> None:
        """Download (and verify, and store) whatever the reader left unread."""
        if self.stored:
            return
        buf = memoryview(bytearray(_READ))
        while self.readinto(buf):
            pass

    def close(self) -> None:
        if not self.closed:
            self._drop_body()
            with contextlib.suppress(OSError):
                os.close(self._fd)
        super().close()

    def abort(self) -> None:
        """From another thread: make a read blocked on the network give up soon."""
        self._aborted = True
        body = self._body
        if body is not None:
            body.abort()

    def _stopped(self) -> bool:
        return self._aborted or self.cancelled()

    # -- the work -------------------------------------------------------------------
    def _read(self, mv: memoryview) -> int:
        if self.stored:
            return 0
        if self._stopped():
            raise Cancelled("pull cancelled")
        if self.have < self._on_disk:
            n = os.preadv(self._fd, [mv[: self._on_disk - self.have]], self.have)
            if not n:
                raise EngineError(f"partial download of {self.digest[:19]} shrank")
            self.hash.update(mv[:n])
        else:
            n = self._receive(mv[: self.size - self.have])
            if n:
                self._write(mv[:n])
                self.progress("Downloading", self.have + n)
        self.have += n
        if self.have == self.size:
            self._commit()
        return n

    def _write(self, data: memoryview) -> None:
        self.hash.update(data)
        done = os.write(self._fd, data)
        while done < len(data):  # short writes happen on signals and near-full disks
            done += os.write(self._fd, data[done:])
        end = self.have + len(data)
        if _FLUSH_EVERY and end - self._flushed >= _FLUSH_EVERY:
            _start_writeback(self._fd, self._flushed, end - self._flushed)
            self._flushed = end

    def _receive(self, mv: memoryview) -> int:
        """Fill ``mv`` from the registry (fewer, bigger chunks); 0 only for an empty ``mv``."""
        filled = 0
        while filled < len(mv):
            if self._retry_pending is not None:
                err, self._retry_pending = self._retry_pending, None
                self._retry(err)
            if self._stopped():
                raise Cancelled("pull cancelled")
            try:
                if self._body is None:
                    self._body = self._open(self.have + filled)
                n = self._body.readinto(mv[filled:])
                if not n:
                    raise httpx.RemoteProtocolError("the registry closed the blob early")
            except httpx.TransportError as err:
                self._drop_body()
                if filled:  # hand out what came; the retry waits for the next read
                    self._retry_pending = err
                    return filled
                self._retry(err)
                continue
            filled += n
        return filled

    def _retry(self, err: httpx.TransportError) -> None:
        if self._stopped():
            raise Cancelled("pull cancelled") from err
        self._attempt += 1
        if self._attempt >= self.client.settings.attempts:
            raise self.client.translate(err, f"downloading {self.digest[:19]}") from err
        self.progress("Retrying", self.have)
        self.client.sleep(self._attempt - 1)

    def _open(self, offset: int) -> _Body:
        # identity: a content-encoded body would not hash to the blob digest.
        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        resp = self.client.request("GET", f"/v2/{self.repo}/blobs/{self.digest}",
                                   scopes=[scope_for(self.repo, "pull")], headers=headers,
                                   expect=(200, 206), stream=True,
                                   what=f"blob {self.digest[:19]}")
        body = _Body(resp, self.client.settings.timeout)
        try:
            if resp.status_code == 200 and offset:
                body.skip(offset)  # the server ignored Range
            if body.left is not None and body.left > self.size - offset:
                raise RegistryError(f"blob {self.digest[:19]}: registry sent more than "
                                    f"{self.size} bytes")
        except BaseException:
            body.close()
            raise
        return body

    def _drop_body(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def _commit(self) -> None:
        self._drop_body()
        actual = "sha256:" + self.hash.hexdigest()
        if actual != self.digest:
            self.part.unlink(missing_ok=True)  # useless for a resume: start clean next time
            raise DigestMismatch(self.digest, actual)
        self.progress("Verifying Checksum", self.have)
        os.fsync(self._fd)
        os.replace(self.part, self.content.path(self.digest))
        self.stored = True
        self.progress("Download complete", self.have)


class ReadAhead(io.RawIOBase):
    """A :class:`BlobReader` run by a thread of its own, up to ``_AHEAD`` megabytes
    ahead of the reader, so that receiving, hashing and storing the blob overlap with
    decompressing and unpacking it. Buffers go round a fixed pool: no allocation per
    chunk. EOF and errors reach the reader in order, after the data before them.
    """

    def __init__(self, src: BlobReader) -> None:
        super().__init__()
        self.src = src
        self._free: queue.SimpleQueue[memoryview | None] = queue.SimpleQueue()
        for _ in range(_AHEAD):
            self._free.put(memoryview(bytearray(_READ)))
        self._ready: queue.SimpleQueue[tuple[memoryview, int] | BaseException] = \
            queue.SimpleQueue()
        self._cur: memoryview | None = None
        self._off = self._end = 0
        self._done = False
        self._failed: BaseException | None = None
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"fetch-{src.digest[7:19]}")
        self._thread.start()

    @property
    def error(self) -> BaseException | None:
        return self.src.error

    def readable(self) -> bool:
        return True

    def _run(self) -> None:
        try:
            while not self._stop:
                buf = self._free.get()
                if buf is None:  # close() woke us up
                    return
                n = self.src.readinto(buf)
                self._ready.put((buf, n))
                if not n:
                    return
        except BaseException as err:  # handed to the reader, in order
            self._ready.put(err)

    def _next(self) -> bool:
        """Make the next chunk current; False at EOF."""
        if self._cur is not None:
            self._free.put(self._cur)
            self._cur = None
        if self._failed is not None:
            raise self._failed
        if self._done:
            return False
        item = self._ready.get()
        if isinstance(item, BaseException):
            self._done, self._failed = True, item
            raise item
        buf, n = item
        if not n:
            self._done = True
            self._free.put(buf)
            return False
        self._cur, self._off, self._end = buf, 0, n
        return True

    def readinto(self, b: Any) -> int:
        if self._off >= self._end and not self._next():
            return 0
        assert self._cur is not None
        mv = memoryview(b).cast("B")
        n = min(len(mv), self._end - self._off)
        mv[:n] = self._cur[self._off : self._off + n]
        self._off += n
        return n

    def finish(self) -> None:
        """Let the download run to its end (verified and stored), unread."""
        self._off = self._end
        while self._next():
            self._off = self._end

    def close(self) -> None:
        if not self.closed and self._thread.is_alive():
            self._stop = True
            self.src.abort()
            self._free.put(None)
            self._thread.join()
        super().close()


class _Body:
    """A streamed response body read into the caller's buffer.

    httpx hands over the first chunk (what h11 buffered along with the headers, or
    one read); after that, an HTTP/1.1 body of known length is read straight from the
    socket. Socket errors become httpx transport errors, so they are retried alike.
    """

    def __init__(self, resp: httpx.Response, timeout: float) -> None:
        self.resp = resp
        length = resp.headers.get("content-length", "")
        self.left: int | None = int(length) if length.isdigit() else None
        self._chunks = resp.iter_raw()
        self._pending = memoryview(b"")
        self._first = True
        self._sock = _raw_socket(resp) if self.left is not None else None
        if self._sock is not None:
            self._sock.settimeout(timeout)

    def readinto(self, mv: memoryview) -> int:
        if self.left is not None:
            if not self.left:
                return 0
            mv = mv[: self.left]
        if not self._pending and (self._first or self._sock is None):
            self._first = False
            self._pending = memoryview(next(self._chunks, b""))
        if self._pending:
            n = min(len(mv), len(self._pending))
            mv[:n] = self._pending[:n]
            self._pending = self._pending[n:]
        elif self._sock is not None:
            try:
                n = self._sock.recv_into(mv)
            except TimeoutError as err:
                raise httpx.ReadTimeout(str(err) or "timed out") from err
            except OSError as err:
                raise httpx.ReadError(str(err) or type(err).__name__) from err
        else:
            n = 0
        if self.left is not None:
            self.left -= n
        return n

    def skip(self, count: int) -> None:
        scratch = memoryview(bytearray(min(count, _READ)))
        while count:
            n = self.readinto(scratch[: min(count, len(scratch))])
            if not n:
                raise httpx.RemoteProtocolError("the registry closed the blob early")
            count -= n

    def close(self) -> None:
        self.resp.close()

    def abort(self) -> None:
        """From another thread: end a ``recv`` that is waiting for the registry."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)


def _raw_socket(resp: httpx.Response) -> socket.socket | None:
    if resp.http_version != "HTTP/1.1" or "transfer-encoding" in resp.headers:
        return None
    stream = resp.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    return sock if isinstance(sock, socket.socket) else None
