"""Compiled seccomp programs, kept on disk so the container init skips libseccomp.

Compiling Docker's default profile costs tens of milliseconds per start
(importing pyseccomp, adding ~400 rules, libseccomp generating the BPF when it
loads). The program depends only on inputs we can name, so it is compiled once
and stored as ``<root>/cache/seccomp/<key>.bpf``; every later start reads it and
loads it with one ``seccomp(2)`` call (:func:`engine.sys.libc.seccomp_set_mode_filter`).

The key hashes everything the program is a function of: the profile's bytes,
the capabilities (rules are selected by them), the machine, the kernel release,
the libseccomp version and the source of :mod:`.seccomp` (the planning code).
A file is ``MAGIC | sha256(flags | program) | flags (u32 LE) | program``; a file
that is short, torn or altered fails the check and is compiled again, so cache
writes need no fsync. A miss, an unreadable cache or no cache directory falls
back to compiling, exactly as before; the result is the same program.

Runs in the container init (before pivot_root, while the host is visible);
standard library, :mod:`.seccomp` and :mod:`engine.sys.libc` only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import InvalidArgument
from ..sys import libc
from . import seccomp

FORMAT = b"pydock-seccomp-bpf/1\n"
_HEAD = struct.Struct("<32sI")
# pyseccomp attribute names in a plan -> seccomp(2) flags given at load time
_LOAD_FLAGS = {"CTL_LOG": libc.SECCOMP_FILTER_FLAG_LOG,
               "CTL_SSB": libc.SECCOMP_FILTER_FLAG_SPEC_ALLOW}
_static: bytes | None = None
# Where this process keeps programs: the monitor sets it for its engine root once
# (the init it forks reads it); None means compile every time.
cache_dir: Path | None = None


class CachedFilter:
    """A compiled program; ``load()`` makes it usable where a pyseccomp filter was."""

    def __init__(self, program: bytes, flags: int) -> None:
        self.program = program
        self.flags = flags

    def load(self) -> None:
        libc.seccomp_set_mode_filter(self.program, self.flags)


def static_key() -> bytes:
    """The per-host part of the key; computed once per process (the zygote warms it)."""
    global _static
    if _static is None:
        with open(seccomp.__file__, "rb") as f:
            code = f.read()
        uname = os.uname()
        parts = [FORMAT, code, uname.machine.encode(), uname.release.encode(),
                 libc.libseccomp_version().encode()]
        _static = hashlib.sha256(b"\0".join(parts)).digest()
    return _static


def key(profile: bytes, caps: Iterable[str]) -> str:
    held = sorted({c.upper() if c.upper().startswith("CAP_") else "CAP_" + c.upper()
                   for c in caps})
    h = hashlib.sha256(static_key())
    h.update(hashlib.sha256(profile).digest())
    h.update(",".join(held).encode())
    return h.hexdigest()


def compiled(path: str | None, caps: Iterable[str], cache_dir: Path | None) -> Any:
    """The filter for profile ``path`` (``None``: Docker's default) and ``caps``.

    Returns a :class:`CachedFilter`, or a pyseccomp filter when the program could
    not be exported (then it loads through libseccomp as it always did).
    """
    caps = list(caps)
    where = path if path is not None else seccomp.DEFAULT_PROFILE
    try:
        with open(where, "rb") as f:
            data = f.read()
    except OSError:
        seccomp.load_profile(where)  # raises the usual "opening seccomp profile" error
        raise
    name = None
    if cache_dir is not None:
        try:
            name = key(data, caps) + ".bpf"
        except OSError:
            name = None  # no libseccomp to name: compiling reports the real problem
    if name is not None and cache_dir is not None:
        hit = read(cache_dir / name)
        if hit is not None:
            return hit
    profile = _parse(data, where)
    filt = seccomp.compile_filter(profile, caps)
    try:
        program = _export(filt)
    except OSError:
        return filt
    attrs = seccomp.plan(profile, caps).attrs
    result = CachedFilter(program, sum(_LOAD_FLAGS.get(a, 0) for a in set(attrs)))
    if name is not None and cache_dir is not None:
        with contextlib.suppress(OSError):
            write(cache_dir / name, result)
    return result


def read(path: Path) -> CachedFilter | None:
    """The cached program at ``path``, or None when missing or failing its check."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError:
        return None
    body = raw[len(FORMAT) + _HEAD.size:]
    if not raw.startswith(FORMAT) or len(body) % 8 or not body:
        return None
    digest, flags = _HEAD.unpack_from(raw, len(FORMAT))
    if hashlib.sha256(struct.pack("<I", flags) + body).digest() != digest:
        return None
    return CachedFilter(body, flags)


def write(path: Path, filt: CachedFilter) -> None:
    """Store ``filt`` atomically (temp file, rename); no fsync: a torn file fails read()."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    digest = hashlib.sha256(struct.pack("<I", filt.flags) + filt.program).digest()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        with open(fd, "wb") as f:
            f.write(FORMAT + _HEAD.pack(digest, filt.flags) + filt.program)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _parse(data: bytes, where: str) -> dict[str, Any]:
    # The bytes that were hashed are the bytes compiled: no second read of the file.
    try:
        profile = json.loads(data)
    except ValueError as err:
        raise InvalidArgument(f"invalid seccomp profile {where}: not valid JSON ({err})",
                              title="Invalid seccomp profile") from err
    return seccomp.validate(profile, where)


def _export(filt: Any) -> bytes:
    # A classic BPF program is at most 4096 × 8 bytes, well inside a pipe's buffer.
    r, w = os.pipe()
    try:
        with os.fdopen(w, "wb", closefd=True) as out:
            filt.export_bpf(out)
        chunks = []
        while chunk := os.read(r, 65536):
            chunks.append(chunk)
    finally:
        os.close(r)
    program = b"".join(chunks)
    if not program or len(program) % 8:
        raise OSError("libseccomp exported no program")
    return program
