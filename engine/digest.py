"""SHA-256 of small data without OpenSSL's start-up.

hashlib's first import loads and initialises OpenSSL (~2.5 ms on this machine
kind), which pays for itself on layers (OpenSSL's SHA-NI code hashes ~5× faster
than CPython's built-in HACL* code) but not on cache keys, chain IDs, configs
and manifests of a few KB, which a fully cached build or a `run` compute.
Both give the same digests; this module picks by size.
"""

from __future__ import annotations

from typing import Any

try:  # CPython >= 3.12 ships its own SHA-2 (what hashlib falls back to without OpenSSL)
    from _sha2 import sha256 as _builtin_sha256
except ImportError:  # pragma: no cover - other interpreters: hashlib's is the only one
    from hashlib import sha256 as _builtin_sha256

# Above this, OpenSSL's start-up is repaid by its speed.
LARGE = 1 << 20


def small_sha256(data: bytes = b"") -> Any:
    """A hashlib-style sha256 object for data that stays small (keys, tree listings)."""
    return _builtin_sha256(data)


def sha256_hex(data: bytes) -> str:
    """The hex SHA-256 of ``data``, through whichever implementation is faster for its size."""
    if len(data) >= LARGE:
        import hashlib

        return hashlib.sha256(data).hexdigest()
    return _builtin_sha256(data).hexdigest()


def file_sha256_hex(path: Any, chunk: int = 1 << 20) -> str:
    """The hex SHA-256 of a file's bytes, read in ``chunk``-sized pieces."""
    with open(path, "rb") as f:
        size = _size(f.fileno())
        if size >= LARGE:
            import hashlib

            h = hashlib.sha256()
        else:
            h = _builtin_sha256()
        while data := f.read(chunk):
            h.update(data)
    return str(h.hexdigest())


def _size(fd: int) -> int:
    import os

    return os.fstat(fd).st_size
