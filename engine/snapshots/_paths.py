"""Layer entry names: validation, whiteout rules, and resolution inside the snapshot root.

A layer is untrusted input. Names are checked as text first (no absolute names,
no ``..``, no NUL, kernel length limits), then every parent directory is opened
with the snapshot directory acting as ``/``: symlinks in the layer are followed
the way they will be inside the container, and can never lead out of it.
``RootDir`` is the only place that creates or removes a name under the root.
"""

from __future__ import annotations

import enum
import errno
import os
import stat
from collections.abc import Callable

from engine.errors import InvalidLayer
from engine.sys import libc

MAX_NAME = 4096  # PATH_MAX
MAX_COMPONENT = 255  # NAME_MAX
_MAX_SYMLINKS = 40  # the kernel's own limit, so both resolvers agree

_O_DIR = os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC
_RESOLVE = libc.RESOLVE_IN_ROOT | libc.RESOLVE_NO_MAGICLINKS

_WH = ".wh."
_WH_META = ".wh..wh."  # AUFS bookkeeping (.wh..wh.plnk, .wh..wh.aufs): never content
_WH_OPAQUE = ".wh..wh..opq"

# None: not tried yet. openat2 is missing before Linux 5.6 and is often blocked
# by seccomp profiles (ENOSYS or EPERM) when we run inside a container.
_have_openat2: bool | None = None


def split_name(name: str) -> tuple[str, ...]:
    """Check a tar member name; return its components, ``()`` for the root itself.

    ``./`` prefixes, ``.`` components and repeated slashes are dropped, as tar
    writers differ there. Anything that could point outside the root is refused
    rather than cleaned, so a hostile name never means something else silently.
    """
    if "\0" in name:
        raise InvalidLayer(name, "NUL byte in name")
    # A character is at most 4 bytes in UTF-8: short names skip the encoding.
    if len(name) > MAX_NAME // 4 and len(os.fsencode(name)) > MAX_NAME:
        raise InvalidLayer(name, f"name longer than {MAX_NAME} bytes")
    if name.startswith("/"):
        raise InvalidLayer(name, "absolute name")
    if not name:
        raise InvalidLayer(name, "empty name")
    parts = tuple(p for p in name.split("/") if p and p != ".")
    for part in parts:
        if part == "..":
            raise InvalidLayer(name, "'..' in name")
        if len(part) > MAX_COMPONENT // 4 and len(os.fsencode(part)) > MAX_COMPONENT:
            raise InvalidLayer(name, f"name component longer than {MAX_COMPONENT} bytes")
    return parts


def split_linkname(entry: str, linkname: str) -> tuple[str, ...]:
    """Components of a hard link target, which tar records relative to the root.

    A leading ``/`` is accepted (some writers emit it) and means the layer root.
    """
    try:
        parts = split_name(linkname.lstrip("/"))
    except InvalidLayer as err:
        raise InvalidLayer(entry, f"hard link target {linkname!r}: {err.reason}") from None
    if not parts:
        raise InvalidLayer(entry, "hard link to the layer root")
    return parts


class Kind(enum.Enum):
    ENTRY = "entry"
    SKIP = "skip"  # AUFS metadata
    OPAQUE = "opaque"  # hide the lower layers' content of the parent directory
    WHITEOUT = "whiteout"  # hide one name of the lower layers


def whiteout_kind(name: str, parts: tuple[str, ...]) -> tuple[Kind, str]:
    """Classify a split name by the image-spec whiteout rules (WHITEOUT: with the hidden name)."""
    if _WH not in name:  # nearly every entry: skip the per-component checks
        return Kind.ENTRY, ""
    for part in parts[:-1]:
        if part.startswith(_WH_META):
            return Kind.SKIP, ""  # inside .wh..wh.plnk: AUFS hard-link storage
        if part.startswith(_WH):
            raise InvalidLayer(name, "whiteout name used as a directory")
    base = parts[-1] if parts else ""
    if base == _WH_OPAQUE:
        return Kind.OPAQUE, ""
    if base.startswith(_WH_META):
        return Kind.SKIP, ""
    if not base.startswith(_WH):
        return Kind.ENTRY, ""
    hidden = base[len(_WH) :]
    if hidden in ("", ".", ".."):
        raise InvalidLayer(name, f"whiteout of {hidden or 'nothing'!r}")
    return Kind.WHITEOUT, hidden


class RootDir:
    """The snapshot root as an fd, with the most recent parent directory cached.

    Layer members come grouped by directory, so most share the previous parent
    and skip the lookup. Anything removed may have been on the cached path, so a
    removal forces the next lookup to resolve afresh.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._key: tuple[str, ...] | None = None
        self._pfd = -1

    def parent(self, parts: tuple[str, ...], *, create: bool = True) -> int:
        """Open (or reuse) directory ``parts``; the fd stays valid until the next call."""
        if parts != self._key:
            fd = open_dir(self.fd, parts, create=create)
            if self._pfd >= 0:
                os.close(self._pfd)
            self._pfd, self._key = fd, parts
        return self._pfd

    def make[T](self, parts: tuple[str, ...], create: Callable[[int, str], T]) -> tuple[int, T]:
        """``create(parent_fd, name)``; if the name is taken, replace what is there.

        Returns the parent fd and what ``create`` returned.
        """
        parent, base = self.parent(parts[:-1]), parts[-1]
        try:
            return parent, create(parent, base)
        except FileExistsError:
            self.remove(parent, base)
            return parent, create(parent, base)

    def remove(self, parent: int, base: str) -> None:
        """Delete ``base`` in ``parent`` without following symlinks, directories recursively."""
        self._key = None  # the fd stays open: callers may still hold it
        try:
            os.unlink(base, dir_fd=parent)
        except IsADirectoryError:
            import shutil  # here: it pulls bz2 and lzma (~2 ms), which run and ps never need

            shutil.rmtree(base, dir_fd=parent)

    def close(self) -> None:
        if self._pfd >= 0:
            os.close(self._pfd)
            self._pfd, self._key = -1, None


def open_dir(rootfd: int, parts: tuple[str, ...], *, create: bool) -> int:
    """Open ``parts`` as an ``O_PATH`` directory fd, resolved with ``rootfd`` as ``/``.

    With ``create``, missing directories are made (0755), including the ones a
    dangling symlink points at, as ``mkdir -p`` inside a chroot would.
    """
    global _have_openat2
    if _have_openat2 is not False:
        try:
            return _openat2_retry(rootfd, "/".join(parts) or ".")
        except OSError as err:
            if err.errno in (errno.ENOSYS, errno.EPERM) and _have_openat2 is None:
                _have_openat2 = False
            elif err.errno != errno.ENOENT or not create:
                raise
        else:
            _have_openat2 = True
    return walk_in_root(rootfd, parts, create=create)


def _openat2_retry(rootfd: int, path: str) -> int:
    # EAGAIN means a concurrent rename somewhere under the root; a few retries
    # are what the kernel documentation suggests.
    for _ in range(8):
        try:
            return libc.openat2(rootfd, path, _O_DIR, resolve=_RESOLVE)
        except BlockingIOError:
            continue
    return libc.openat2(rootfd, path, _O_DIR, resolve=_RESOLVE)


def walk_in_root(rootfd: int, parts: tuple[str, ...], *, create: bool) -> int:
    """``RESOLVE_IN_ROOT`` done in user space, one ``O_NOFOLLOW`` step at a time.

    Used when a directory must be created (openat2 cannot) and where openat2 is
    unavailable. Symlink targets are spliced into the remaining path: absolute
    ones restart at the root, and ``..`` never climbs above it.
    """
    stack: list[int] = []  # fds of the directories walked, root excluded
    todo = list(reversed(parts))
    links = 0
    try:
        while todo:
            name = todo.pop()
            if name in ("", "."):
                continue
            if name == "..":
                if stack:
                    os.close(stack.pop())
                continue
            cur = stack[-1] if stack else rootfd
            try:
                fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=cur)
            except FileNotFoundError:
                if not create:
                    raise
                os.mkdir(name, 0o755, dir_fd=cur)
                fd = os.open(name, _O_DIR | os.O_NOFOLLOW, dir_fd=cur)
            mode = os.fstat(fd).st_mode
            if stat.S_ISDIR(mode):
                stack.append(fd)
                continue
            os.close(fd)
            if not stat.S_ISLNK(mode):
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), name)
            links += 1
            if links > _MAX_SYMLINKS:
                raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), name)
            target = os.readlink(name, dir_fd=cur)
            if target.startswith("/"):
                while stack:
                    os.close(stack.pop())
            todo.extend(reversed(target.split("/")))
        return stack.pop() if stack else os.open(".", _O_DIR, dir_fd=rootfd)
    finally:
        for fd in stack:
            os.close(fd)
