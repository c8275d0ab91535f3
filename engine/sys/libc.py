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


# -- mounts -------------------------------------------------------------------
# mount(2) flags, <sys/mount.h>
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_NOATIME = 0x400
MS_BIND = 0x1000
MS_MOVE = 0x2000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MS_SLAVE = 0x80000
MS_STRICTATIME = 0x1000000
MNT_DETACH = 0x2

_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                        ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                        ctypes.c_ulong]


def _b(s: str | bytes | os.PathLike[str] | None) -> bytes | None:
    return None if s is None else os.fsencode(s)


def mount(source: str | None, target: str | os.PathLike[str], fstype: str | None,
          flags: int = 0, data: str | None = None) -> None:
    if _libc.mount(_b(source), _b(target), _b(fstype), flags, _b(data)) != 0:
        raise _fail(os.fsdecode(target))


def umount2(target: str | os.PathLike[str], flags: int = 0) -> None:
    if _libc.umount2(_b(target), flags) != 0:
        raise _fail(os.fsdecode(target))


def pivot_root(new_root: str, put_old: str) -> None:
    # glibc has no wrapper; 155 on x86_64, 41 on aarch64
    nr = {"x86_64": 155, "aarch64": 41}.get(platform.machine())
    if nr is None:
        raise OSError(errno.ENOSYS, "pivot_root is not wired for this machine")
    if _syscall(ctypes.c_long(nr), _b(new_root), _b(put_old)) != 0:
        raise _fail(new_root)


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    rc = _libc.prctl(option, arg2, arg3, arg4, arg5)
    if rc < 0:
        raise _fail(f"prctl({option})")
    return int(rc)


PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38


# -- capabilities -------------------------------------------------------------
# capget(2)/capset(2) are libcap's job in C; we call the raw syscalls with the
# v3 ABI (two 32-bit words per set, so caps 0..63). Numbers: x86_64, aarch64.
_CAP_NR = {"x86_64": (125, 126), "aarch64": (90, 91)}.get(platform.machine())
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

PR_GET_KEEPCAPS = 7
PR_SET_KEEPCAPS = 8
PR_CAPBSET_READ = 23
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_IS_SET = 1
PR_CAP_AMBIENT_RAISE = 2
PR_CAP_AMBIENT_LOWER = 3
PR_CAP_AMBIENT_CLEAR_ALL = 4


class _CapHeader(ctypes.Structure):  # struct __user_cap_header_struct
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):  # struct __user_cap_data_struct
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def _cap_nr(index: int) -> int:
    if _CAP_NR is None:
        raise OSError(errno.ENOSYS, f"capget/capset are not wired for {platform.machine()}")
    return _CAP_NR[index]


def capget(pid: int = 0) -> tuple[int, int, int]:
    """Return (effective, permitted, inheritable) of ``pid`` (0 = this thread) as bitmasks."""
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, pid)
    data = (_CapData * 2)()
    if _syscall(ctypes.c_long(_cap_nr(0)), ctypes.byref(header), ctypes.byref(data)) != 0:
        raise _fail("capget")
    eff, prm, inh = (data[0].effective | data[1].effective << 32,
                     data[0].permitted | data[1].permitted << 32,
                     data[0].inheritable | data[1].inheritable << 32)
    return eff, prm, inh


def capset(effective: int, permitted: int, inheritable: int) -> None:
    """Set this thread's three sets; the kernel only lets permitted shrink."""
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    for word in (0, 1):
        shift = 32 * word
        data[word].effective = (effective >> shift) & 0xFFFFFFFF
        data[word].permitted = (permitted >> shift) & 0xFFFFFFFF
        data[word].inheritable = (inheritable >> shift) & 0xFFFFFFFF
    if _syscall(ctypes.c_long(_cap_nr(1)), ctypes.byref(header), ctypes.byref(data)) != 0:
        raise _fail("capset")


def capbset_read(cap: int) -> bool:
    """Whether ``cap`` is in the bounding set; EINVAL if the kernel does not know it."""
    return prctl(PR_CAPBSET_READ, cap) == 1


def capbset_drop(cap: int) -> None:
    """Remove ``cap`` from the bounding set for good (needs CAP_SETPCAP)."""
    prctl(PR_CAPBSET_DROP, cap)


def set_keepcaps(keep: bool) -> None:
    """Keep the permitted set across a uid change from 0 (cleared again on execve)."""
    prctl(PR_SET_KEEPCAPS, int(keep))


def ambient_clear_all() -> None:
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)


# -- seccomp ------------------------------------------------------------------
# Loading a compiled classic-BPF program is one syscall: the container init uses
# this with a cached program (engine/runtime/seccomp_cache.py) so the hot path
# never needs libseccomp. Numbers: x86_64, aarch64.
_SECCOMP_NR = {"x86_64": 317, "aarch64": 277}.get(platform.machine())
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_MODE_FILTER = 2
PR_SET_SECCOMP = 22
SECCOMP_FILTER_FLAG_LOG = 2
SECCOMP_FILTER_FLAG_SPEC_ALLOW = 4
BPF_MAXINSNS = 4096


class _SockFprog(ctypes.Structure):  # struct sock_fprog
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def seccomp_set_mode_filter(program: bytes, flags: int = 0) -> None:
    """Load ``program`` (packed ``struct sock_filter``, 8 bytes each) into this thread.

    Needs no_new_privs or CAP_SYS_ADMIN (EACCES otherwise), like libseccomp's load.
    Kernels without seccomp(2) get prctl(PR_SET_SECCOMP), which takes no flags.
    """
    count = len(program) // 8
    if len(program) % 8 or not 0 < count <= BPF_MAXINSNS:
        raise OSError(errno.EINVAL, "not a classic BPF program")
    buf = ctypes.create_string_buffer(program, len(program))
    prog = _SockFprog(count, ctypes.addressof(buf))
    if _SECCOMP_NR is not None:
        rc = _syscall(ctypes.c_long(_SECCOMP_NR), ctypes.c_long(SECCOMP_SET_MODE_FILTER),
                      ctypes.c_long(flags), ctypes.byref(prog))
        if rc == 0:
            return
        if ctypes.get_errno() != errno.ENOSYS:
            raise _fail("seccomp")
    if flags:
        raise OSError(errno.ENOSYS, "seccomp(2) with flags is not available")
    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(prog))


class _ScmpVersion(ctypes.Structure):  # struct scmp_version
    _fields_ = [("major", ctypes.c_uint), ("minor", ctypes.c_uint), ("micro", ctypes.c_uint)]


def libseccomp_version() -> str:
    """The installed libseccomp's version ("2.5.4"): dlopen by soname, no ldconfig scan."""
    try:
        lib = ctypes.CDLL("libseccomp.so.2")
    except OSError as err:
        raise OSError(errno.ENOENT, f"libseccomp is not installed: {err}") from None
    fn = lib.seccomp_version
    fn.restype = ctypes.POINTER(_ScmpVersion)
    v = fn().contents
    return f"{v.major}.{v.minor}.{v.micro}"


# -- process title ------------------------------------------------------------
def set_cmdline(title: str) -> None:
    """Rewrite this process's ``/proc/self/cmdline`` within the space argv had.

    Monitors forked by the zygote would otherwise all show the zygote's command
    line; ``ps`` and leak checks look for the container's root and ID there.
    Words are NUL-separated like argv; the rest of the area is zeroed.
    """
    with open("/proc/self/stat", "rb") as f:
        stat = f.read()
    fields = stat[stat.rfind(b")") + 2:].split()
    start, end = int(fields[45]), int(fields[46])  # arg_start, arg_end (fields 48, 49)
    room = end - start
    data = title.replace(" ", "\0").encode()[:room - 1]
    ctypes.memmove(start, data.ljust(room, b"\0"), room)


# -- inotify ------------------------------------------------------------------
# The zygote watches its engine root so it exits the moment the root is removed.
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC
IN_MODIFY = 0x2
IN_ATTRIB = 0x4
IN_MOVED_FROM = 0x40
IN_MOVED_TO = 0x80
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800


def inotify_init1(flags: int = IN_NONBLOCK | IN_CLOEXEC) -> int:
    fd = _libc.inotify_init1(flags)
    if fd < 0:
        raise _fail("inotify_init1")
    return int(fd)


def inotify_add_watch(fd: int, path: str | os.PathLike[str], mask: int) -> int:
    wd = _libc.inotify_add_watch(fd, _b(path), ctypes.c_uint32(mask))
    if wd < 0:
        raise _fail(os.fsdecode(path))
    return int(wd)


def malloc_trim() -> None:
    """Give free heap pages back (glibc); the zygote does it before forking monitors."""
    trim = getattr(_libc, "malloc_trim", None)
    if trim is not None:
        trim(0)
