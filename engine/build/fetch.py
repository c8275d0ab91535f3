"""``ADD <url>``: download to a temp file, check ``--checksum``, keep Last-Modified.

URLs are never unpacked (Docker's rule); the file gets mode 0600 and the mtime
of the ``Last-Modified`` header. httpx errors are translated here, at the
builder's boundary.
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from ..errors import DigestMismatch, EngineError, InvalidArgument
from ..record import dataclass

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Download:
    path: Path
    digest: str  # sha256:<hex> of the body
    name: str  # the last path component of the URL (the file name in a directory dest)
    mtime: float


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def check_checksum(checksum: str) -> str:
    algo, _, hexpart = checksum.partition(":")
    if algo != "sha256" or len(hexpart) != 64 or not all(
            c in "0123456789abcdef" for c in hexpart):
        raise InvalidArgument(f"invalid --checksum {checksum!r} (want sha256:<64 hex digits>)")
    return checksum


def url_name(url: str) -> str:
    import urllib.parse

    path = urllib.parse.urlsplit(url).path
    name = posixpath.basename(path.rstrip("/"))
    return name or "__unnamed__"


def download(url: str, tmp_dir: Path, checksum: str | None = None,
             timeout: float = 60.0) -> Download:
    # Here, like httpx: a build without ADD <url> never pays for them (OpenSSL's start).
    import email.utils
    import hashlib
    import tempfile

    import httpx

    h = hashlib.sha256()
    f = tempfile.NamedTemporaryFile(dir=tmp_dir, prefix="build-add-", delete=False)
    path = Path(f.name)
    try:
        with f, httpx.stream("GET", url, follow_redirects=True, timeout=timeout,
                             trust_env=False) as resp:
            if resp.status_code >= 400:
                raise EngineError(f"ADD {url}: the server answered {resp.status_code} "
                                  f"{resp.reason_phrase}", title="Download failed")
            for chunk in resp.iter_bytes(_CHUNK):
                h.update(chunk)
                f.write(chunk)
            modified = resp.headers.get("last-modified")
        digest = "sha256:" + h.hexdigest()
        if checksum is not None and digest != checksum:
            raise DigestMismatch(checksum, digest, what=f"ADD {url}: content")
        mtime = 0.0
        if modified:
            try:
                mtime = email.utils.parsedate_to_datetime(modified).timestamp()
            except (TypeError, ValueError):
                mtime = 0.0
        return Download(path, digest, url_name(url), mtime)
    except httpx.HTTPError as err:
        path.unlink(missing_ok=True)
        raise EngineError(f"ADD {url}: {err}", title="Download failed") from err
    except BaseException:
        path.unlink(missing_ok=True)
        raise
