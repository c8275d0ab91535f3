"""Syscalls the ``os`` module does not wrap, called through ``libc.syscall``.

This is the only ctypes module of the engine: every raw syscall lives here, one
small function each, raising ``OSError`` with the kernel's errno like ``os`` does.
Numbers are per architecture; an architecture we have no number for gets
``ENOSYS`` so callers take the same fallback path as on an old kernel.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform

# Syscall numbers by machine. openat2 came after the unified syscall table,
# so it is 437 everywhere, but other calls added here later will differ.
_NR: dict[str, dict[str, int]] = {
    "x86_64": {"openat2": 437},
    "aarch64": {"openat2": 437},
}
_nr = _NR.get(platform.machine(), {})

_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long

AT_FDCWD = -100

# openat2(2) resolve flags, <linux/openat2.h>
RESOLVE_NO_XDEV = 0x01
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08
RESOLVE_IN_ROOT = 0x10
RESOLVE_CACHED = 0x20


class _OpenHow(ctypes.Structure):
    _fields_ = [
        ("flags", ctypes.c_uint64),
        ("mode", ctypes.c_uint64),
        ("resolve", ctypes.c_uint64),
    ]


def _number(name: str) -> int:
    nr = _nr.get(name)
    if nr is None:
        raise OSError(errno.ENOSYS, f"{name} is not wired for {platform.machine()}")
    return nr


def _fail(what: str | bytes | None = None) -> OSError:
    err = ctypes.get_errno()
    return OSError(err, os.strerror(err), what)


def openat2(
    dirfd: int, path: str | bytes | os.PathLike[str], flags: int, mode: int = 0, resolve: int = 0
) -> int:
    """openat(2) with ``RESOLVE_*`` path-resolution restrictions; returns a new fd.

    The kernel rejects a non-zero ``mode`` without ``O_CREAT``/``O_TMPFILE`` and
    may fail with ``EAGAIN`` under ``RESOLVE_IN_ROOT``/``BENEATH`` when a rename
    races the lookup; retrying is the caller's choice.
    """
    raw = os.fsencode(path)
    how = _OpenHow(flags, mode, resolve)
    fd = _syscall(
        ctypes.c_long(_number("openat2")),
        ctypes.c_long(dirfd),  # syscall(2) reads every argument as a long
        ctypes.c_char_p(raw),
        ctypes.byref(how),
        ctypes.c_size_t(ctypes.sizeof(how)),
    )
    if fd < 0:
        raise _fail(os.fsdecode(raw))
    return int(fd)
