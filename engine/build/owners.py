"""``--chown`` and ``--chmod`` of COPY and ADD, resolved against the image's own files.

Names are looked up in the step's root file system (``/etc/passwd`` and
``/etc/group`` read as text inside the root, never through NSS; parsing is
shared with the runtime in :mod:`engine.runtime.users`). BuildKit's rules: a
user name gives its uid *and* primary gid, a bare number is used for both, and
an explicit ``:group`` overrides the gid.
"""

from __future__ import annotations

import re

from ..errors import InvalidArgument

_OCTAL = re.compile(r"[0-7]{1,4}\Z")
_SYMBOLIC = re.compile(r"([ugoa]*)([-+=])([rwxXst]*)\Z")


def parse_chown(rootfd: int, spec: str) -> tuple[int, int]:
    """``user[:group]`` (names or numbers) → (uid, gid) for the files written."""
    from ..runtime.users import parse_group, parse_passwd, read_etc_file

    user, sep, group = spec.partition(":")
    if not user or (sep and not group):
        raise InvalidArgument(f"invalid --chown value {spec!r} (want user[:group])")
    if user.isdigit():
        uid = gid = int(user)
    else:
        text = read_etc_file(rootfd, "/etc/passwd")
        entry = next((u for u in parse_passwd(text or "") if u.name == user), None)
        if entry is None:
            raise InvalidArgument(f"unable to find user {user}: no matching entries in "
                                  "passwd file")
        uid, gid = entry.uid, entry.gid
    if group:
        if group.isdigit():
            gid = int(group)
        else:
            text = read_etc_file(rootfd, "/etc/group")
            found = next((g for g in parse_group(text or "") if g.name == group), None)
            if found is None:
                raise InvalidArgument(f"unable to find group {group}: no matching entries "
                                      "in group file")
            gid = found.gid
    return uid, gid


def check_chmod(spec: str) -> None:
    """Refuse a ``--chmod`` value before any file is touched."""
    if _OCTAL.match(spec):
        return
    for clause in spec.split(","):
        if not _SYMBOLIC.match(clause):
            raise InvalidArgument(f"invalid --chmod value {spec!r} (octal such as 755, or "
                                  "symbolic such as u+x,go-w)")


def apply_chmod(spec: str, mode: int, is_dir: bool) -> int:
    """The new permission bits of one entry: octal replaces them, symbolic edits them."""
    if _OCTAL.match(spec):
        return int(spec, 8)
    perm = mode & 0o7777
    for clause in spec.split(","):
        m = _SYMBOLIC.match(clause)
        if m is None:
            raise InvalidArgument(f"invalid --chmod value {spec!r}")
        who, op, what = m.groups()
        mask = 0
        for w in who or "a":
            mask |= {"u": 0o4700, "g": 0o2070, "o": 0o1007, "a": 0o7777}[w]
        bits = 0
        for c in what:
            if c == "r":
                bits |= 0o444
            elif c == "w":
                bits |= 0o222
            elif c == "x" or (c == "X" and (is_dir or mode & 0o111)):
                bits |= 0o111
            elif c == "s":
                bits |= 0o6000
            elif c == "t":
                bits |= 0o1000
        bits &= mask
        if op == "+":
            perm |= bits
        elif op == "-":
            perm &= ~bits
        else:
            perm = (perm & ~mask) | bits
    return perm
