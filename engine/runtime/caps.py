"""Linux capabilities: Docker's default set, ``--cap-add/--cap-drop``, and applying them.

Planning (:func:`resolve_caps`) is pure and runs in the front end or the monitor;
applying (:func:`apply_caps`, :func:`apply_identity_and_caps`) runs in the
container init just before ``execve``, while it is still uid 0.

The init calls :func:`apply_identity_and_caps` once. It follows runc's
``finalizeNamespace``: shrink the bounding set, set KEEPCAPS, change
groups/gid/uid, clear KEEPCAPS, then capset. Identity changes come before the
capset because ``setuid``/``setgid`` need CAP_SETUID/CAP_SETGID, which the user
may have dropped. Like moby's ``oci.SetCapabilities``, a non-root user gets
only the bounding set: effective and permitted end up empty, which is what
``execve`` would do to a non-root process anyway.

This module is imported by the per-container monitor: standard library and
``engine.sys.libc`` / ``engine.errors`` only.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable, Sequence

from engine.errors import InvalidArgument

# engine.sys.libc (ctypes, platform: ~2 ms) is imported where the kernel is called, so
# a front end that only plans (resolve_caps) never loads it. Those callers run in the
# init and exec children, whose modules (child, exec_child) import libc at the top
# before they enter the container, so the imports below find it already loaded.

# <linux/capability.h>, in kernel order: the index is the capability number.
_NAMES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
    "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
)
CAPABILITIES: dict[str, int] = {name: number for number, name in enumerate(_NAMES)}
"""Every capability name this module knows, mapped to its number (0..40)."""

DOCKER_DEFAULT: tuple[str, ...] = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
)
"""Docker's 14 default capabilities (moby ``daemon/pkg/oci/caps/defaults.go``).

As a mask this is ``0xa80425fb``, the CapEff/CapBnd a Docker container shows.
"""

ALL = "ALL"


def last_cap(proc: str = "/proc") -> int:
    """The highest capability number the running kernel knows.

    Read from ``/proc/sys/kernel/cap_last_cap``; when that is not readable (an
    init whose /proc is not mounted yet) probe the bounding set, which answers
    EINVAL past the last capability.
    """
    try:
        with open(os.path.join(proc, "sys/kernel/cap_last_cap"), "rb") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        pass
    from engine.sys import libc

    cap = 0
    while cap < 63:
        try:
            libc.capbset_read(cap + 1)
        except OSError:
            break
        cap += 1
    return cap


def known_to_kernel(last: int | None = None) -> list[str]:
    """Capability names the running kernel supports, in number order."""
    top = last_cap() if last is None else last
    return [name for name in _NAMES if CAPABILITIES[name] <= top]


def normalize(name: str) -> str:
    """``net_admin`` / ``NET_ADMIN`` / ``cap_net_admin`` → ``CAP_NET_ADMIN``; ``all`` → ``ALL``."""
    upper = name.strip().upper()
    if upper == ALL:
        return ALL
    return upper if upper.startswith("CAP_") else "CAP_" + upper


def _normalize_all(names: Iterable[str], valid: Sequence[str]) -> list[str]:
    out = []
    for raw in names:
        name = normalize(raw)
        if name != ALL and name not in valid:
            # docker's wording: moby daemon/pkg/oci/caps NormalizeLegacyCapabilities
            raise InvalidArgument(f'unknown capability: "{name}"')
        out.append(name)
    return out


def _dedupe(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))


def resolve_caps(add: Sequence[str], drop: Sequence[str], privileged: bool,
                 *, last: int | None = None) -> list[str]:
    """The container's capability list, with docker's ``TweakCapabilities`` rules.

    - privileged: every capability the kernel knows (add/drop are ignored);
    - ``ALL`` in ``add``: everything the kernel knows, minus ``drop``;
    - ``ALL`` in ``drop``: only ``add``;
    - otherwise Docker's 14 minus ``drop``, plus ``add``.

    Names are case-insensitive with or without ``CAP_``; a name the kernel does
    not know raises :class:`InvalidArgument` naming it. ``last`` overrides the
    kernel's ``cap_last_cap`` (tests).
    """
    valid = known_to_kernel(last)
    if privileged:
        return valid
    adds = _normalize_all(add, valid)
    drops = _normalize_all(drop, valid)
    if ALL in adds:
        return [c for c in valid if c not in drops]
    if ALL in drops:
        return _dedupe(c for c in adds if c != ALL)
    kept = [c for c in DOCKER_DEFAULT if c not in drops]
    return _dedupe(kept + adds)


def to_mask(names: Iterable[str]) -> int:
    """Bitmask of capability names, as /proc/<pid>/status prints it."""
    mask = 0
    for name in names:
        number = CAPABILITIES.get(normalize(name))
        if number is None:
            raise InvalidArgument(f'unknown capability: "{name}"')
        mask |= 1 << number
    return mask


def from_mask(mask: int) -> list[str]:
    """Names of the bits set in ``mask`` (bits past CAP_CHECKPOINT_RESTORE are skipped)."""
    return [name for name in _NAMES if mask >> CAPABILITIES[name] & 1]


def _drop_bounding(keep: int) -> None:
    # PR_CAPBSET_DROP needs CAP_SETPCAP in the effective set, so this must run
    # before the capset that may remove it.
    from engine.sys import libc

    for cap in range(last_cap() + 1):
        if not keep >> cap & 1:
            libc.capbset_drop(cap)


def _set_sets(mask: int) -> None:
    # The kernel refuses to grow permitted: ask only for what we still hold, so
    # --privileged works under an engine that itself lacks a capability.
    from engine.sys import libc

    _, permitted, _ = libc.capget()
    wanted = mask & permitted
    try:
        libc.ambient_clear_all()
    except OSError as err:
        if err.errno != errno.EINVAL:  # EINVAL: kernel < 4.3 has no ambient set
            raise
    libc.capset(wanted, wanted, 0)


def apply_caps(names: Iterable[str]) -> None:
    """Reduce this process to ``names``: bounding = effective = permitted, no inheritable/ambient.

    Call in the container init while still uid 0 with the engine's full set.
    Raises ``OSError`` from the kernel (the init reports it to the monitor).
    """
    mask = to_mask(names)
    _drop_bounding(mask)
    _set_sets(mask)


def apply_identity_and_caps(uid: int, gid: int, groups: Sequence[int],
                            names: Iterable[str]) -> None:
    """Switch to ``uid``/``gid``/``groups`` and leave exactly the container's capabilities.

    Order (runc ``finalizeNamespace``): bounding set → KEEPCAPS on →
    setgroups/setgid/setuid → KEEPCAPS off → capset. Root gets
    effective = permitted = ``names``; any other uid gets empty effective and
    permitted sets and keeps ``names`` only in the bounding set (moby gives a
    non-root user Bounding only). Inheritable and ambient are always empty.
    """
    from engine.sys import libc

    mask = to_mask(names)
    _drop_bounding(mask)
    # Without KEEPCAPS, setuid(0 -> non-zero) wipes permitted before we can
    # shape it; keeping it lets the final capset decide.
    libc.set_keepcaps(True)
    try:
        os.setgroups(list(groups))
        os.setgid(gid)
        os.setuid(uid)
    finally:
        libc.set_keepcaps(False)
    _set_sets(mask if uid == 0 else 0)
