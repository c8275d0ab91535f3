"""Resolve docker's ``-u``/``--group-add`` against the image's /etc/passwd and /etc/group.

The files are parsed as text and never through ``pwd``/``grp``: those go
through NSS, which may dlopen libraries from the container's root
(CVE-2019-14271). They are opened with ``openat2(RESOLVE_IN_ROOT)`` relative to
the rootfs directory fd, so an image whose /etc/passwd is a symlink to
``/etc/real`` (or ``../../../etc/shadow``) reads the rootfs file, never the host's.

Rules are runc's ``user.GetExecUser`` as moby calls it: ``""`` is uid 0;
``name``, ``uid``, ``name:group``, ``uid:gid`` and ``:gid`` are accepted; a
numeric uid need not exist (gid 0, home "/"); a name must. Supplementary groups
are the groups that list the user, only when no group was given (the implicit
form); moby then puts the primary gid first and appends ``--group-add``.

Imported by the per-container monitor: standard library and
``engine.sys.libc`` / ``engine.errors`` only.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Sequence
from typing import Any

from engine.errors import InvalidArgument, Unavailable
from engine.record import dataclass
from engine.sys import libc

MAX_ID = 2**31 - 1  # runc's maxID: ids are signed 32-bit in its user package
MAX_FILE = 16 << 20  # an /etc/group this big is an attack, not a system


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the container process runs as."""

    uid: int
    gid: int
    additional_gids: tuple[int, ...]
    """For setgroups(2): the primary gid first, as moby does, then the rest."""
    home: str
    """HOME to set when the image and ``-e`` do not set it."""


@dataclass(frozen=True, slots=True)
class PasswdEntry:
    name: str
    uid: int
    gid: int
    home: str


@dataclass(frozen=True, slots=True)
class GroupEntry:
    name: str
    gid: int
    members: tuple[str, ...]


def _number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() else None


def _lines(text: str) -> Iterable[list[str]]:
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            yield line.split(":")


def parse_passwd(text: str) -> list[PasswdEntry]:
    """``name:password:uid:gid:gecos:home:shell`` lines; malformed ids skip the line.

    (runc reads a malformed id as 0, i.e. root; skipping is the safer reading.)
    """
    out = []
    for f in _lines(text):
        f += [""] * (7 - len(f))
        uid, gid = _number(f[2]), _number(f[3])
        if uid is not None and gid is not None:
            out.append(PasswdEntry(f[0], uid, gid, f[5]))
    return out


def parse_group(text: str) -> list[GroupEntry]:
    """``name:password:gid:member,member`` lines; a malformed gid skips the line."""
    out = []
    for f in _lines(text):
        f += [""] * (4 - len(f))
        gid = _number(f[2])
        if gid is not None:
            members = tuple(m.strip() for m in f[3].split(",") if m.strip())
            out.append(GroupEntry(f[0], gid, members))
    return out


def read_etc_file(rootfs_fd: int, path: str) -> str | None:
    """Text of ``path`` inside the rootfs, or ``None`` if it does not exist.

    Symlinks resolve inside the rootfs (RESOLVE_IN_ROOT); /proc magic links are
    refused; a FIFO or device is an error rather than a hang (O_NONBLOCK + fstat).
    """
    flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK
    resolve = libc.RESOLVE_IN_ROOT | libc.RESOLVE_NO_MAGICLINKS
    for attempt in range(4):
        try:
            fd = libc.openat2(rootfs_fd, path, flags, resolve=resolve)
            break
        except OSError as err:
            if err.errno in (errno.ENOENT, errno.ENOTDIR):
                return None
            if err.errno == errno.EAGAIN and attempt < 3:
                continue  # a rename raced the RESOLVE_IN_ROOT walk; the kernel asks to retry
            if err.errno == errno.ENOSYS:
                raise Unavailable("reading the image's users needs openat2 (Linux 5.6)") from err
            raise InvalidArgument(f"reading {path} in the image: {err.strerror}") from err
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InvalidArgument(f"{path} in the image is not a regular file")
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_FILE:
                raise InvalidArgument(f"{path} in the image is larger than {MAX_FILE} bytes")
    except OSError as err:
        raise InvalidArgument(f"reading {path} in the image: {err.strerror}") from err
    finally:
        os.close(fd)
    return b"".join(chunks).decode("utf-8", "surrogateescape")


def _in_range(value: int) -> int:
    if value > MAX_ID:
        raise InvalidArgument(f"uids and gids must be in range 0-{MAX_ID}")
    return value


def _group_add(extra: Sequence[str], groups: list[GroupEntry]) -> list[int]:
    # runc GetAdditionalGroups: a name or a number that matches a group entry
    # (by name or by gid text), else a plain number, else an error.
    out = []
    for want in extra:
        match = next((g for g in groups if g.name == want or str(g.gid) == want), None)
        if match is not None:
            out.append(match.gid)
        elif (number := _number(want)) is not None:
            out.append(_in_range(number))
        else:
            raise InvalidArgument(
                f"unable to find group {want}: no matching entries in group file")
    return out


def resolve_user(rootfs_fd: int, spec: str = "", group_add: Sequence[str] = ()) -> Identity:
    """Turn ``-u spec`` and ``--group-add`` into ids, reading the image's files.

    ``rootfs_fd`` is an ``O_DIRECTORY`` fd of the container's root filesystem.
    Raises :class:`InvalidArgument` with docker's wording for unknown names.
    """
    fields = spec.split(":")
    user_arg, group_arg = fields[0], fields[1] if len(fields) > 1 else ""
    uid_arg, gid_arg = _number(user_arg), _number(group_arg)

    passwd = read_etc_file(rootfs_fd, "/etc/passwd")
    users = parse_passwd(passwd) if passwd is not None else []
    if user_arg == "":
        matched = next((u for u in users if u.uid == 0), None)
    elif uid_arg is not None:  # numeric is always a uid, even if a user has that name
        matched = next((u for u in users if u.uid == uid_arg), None)
    else:
        matched = next((u for u in users if u.name == user_arg), None)

    uid, gid, home, name = 0, 0, "/", ""
    if matched is not None:
        uid, gid, home, name = matched.uid, matched.gid, matched.home or "/", matched.name
    elif user_arg != "":
        if uid_arg is None:
            raise InvalidArgument(
                f"unable to find user {user_arg}: no matching entries in passwd file")
        uid = _in_range(uid_arg)

    groups: list[GroupEntry] = []
    if group_arg or name or group_add:
        text = read_etc_file(rootfs_fd, "/etc/group")
        groups = parse_group(text) if text is not None else []
    supplementary: list[int] = []
    if group_arg:
        found = next((g for g in groups
                      if (g.gid == gid_arg if gid_arg is not None else g.name == group_arg)),
                     None)
        if found is not None:
            gid = found.gid
        elif gid_arg is None:
            raise InvalidArgument(
                f"unable to find group {group_arg}: no matching entries in group file")
        else:
            gid = _in_range(gid_arg)
    elif name:
        supplementary = [g.gid for g in groups if name in g.members]

    extra = _group_add(group_add, groups)
    additional = tuple(dict.fromkeys([gid, *supplementary, *extra]))
    return Identity(uid, gid, additional, home)


def identity_for(spec: dict[str, Any], root: str) -> Identity:
    """The container's user as its OCI spec asks (pydock's annotations), resolved
    against the files under ``root`` ("/" inside the init, the rootfs path outside)."""
    ann = spec.get("annotations", {})
    extra = ann.get("io.pydock.group_add", "")
    fd = os.open(root, os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        return resolve_user(fd, ann.get("io.pydock.user", ""),
                            tuple(extra.split(",")) if extra else ())
    finally:
        os.close(fd)
