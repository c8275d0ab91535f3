"""cgroup v1 on disk: which hierarchies are mounted, and making a container's directories.

Kept apart from the driver (:mod:`engine.cgroups.v1`), which decides what goes in them.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from ._fs import read_text, write_text

CONTROLLERS = ("cpu", "cpuacct", "cpuset", "memory", "pids", "freezer", "blkio", "devices")


def mounted_controllers(cgroup_root: Path) -> dict[str, Path]:
    """Controller → hierarchy root, from the directories under ``cgroup_root``.

    A directory counts when it has ``cgroup.procs`` (an unmounted mount point does
    not); ``cpu,cpuacct`` maps both names. Reading mountinfo instead would tie
    the driver to the real host and break fixture trees.
    """
    out: dict[str, Path] = {}
    try:
        entries = sorted(os.scandir(cgroup_root), key=lambda e: e.name)
    except FileNotFoundError:
        return out
    for entry in entries:
        names = [n for n in entry.name.split(",") if n in CONTROLLERS]
        if not names or not os.path.exists(os.path.join(entry.path, "cgroup.procs")):
            continue
        for n in names:
            out.setdefault(n, Path(entry.path))
    return out


def device_rule_line(rule: dict[str, Any]) -> str:
    """``c 1:3 rwm`` from an OCI device rule; ``a`` alone means every device."""
    kind = rule.get("type", "a")
    access = rule.get("access", "rwm")
    if kind == "a" and rule.get("major") is None and rule.get("minor") is None:
        return "a"
    major = "*" if rule.get("major") is None else str(rule["major"])
    minor = "*" if rule.get("minor") is None else str(rule["minor"])
    return f"{kind} {major}:{minor} {access}"


def make_dirs(base: Path, target: str, *, cpuset: bool) -> None:
    """mkdir ``target`` (and the missing levels down from ``base``), cpusets made usable."""
    # The leaf first: its parents exist on every start but the first, and each
    # mkdir on cgroupfs costs ~30 µs.
    try:
        os.mkdir(target)
    except FileNotFoundError:
        above = os.path.dirname(target)
        if above == str(base):
            raise
        make_dirs(base, above, cpuset=cpuset)
        os.mkdir(target)
    except FileExistsError:
        pass  # co-mounted controllers share it, or a second start
    if cpuset:
        _inherit_cpuset(target, str(base))


def _inherit_cpuset(level: str, root: str) -> None:
    # A new cpuset starts with no CPUs and no memory nodes, and the kernel
    # refuses tasks (ENOSPC) until both are set: inherit the parent's. Then
    # clone_children on that parent (ours, never the hierarchy's root) makes the
    # kernel copy them at mkdir, so the next container's cgroup needs two reads.
    above = os.path.dirname(level)
    copied = False
    for f in ("cpuset.cpus", "cpuset.mems"):
        mine = read_text(Path(level, f))
        if mine is not None and not mine.strip():
            theirs = (read_text(Path(above, f)) or "").strip()
            if not theirs and above != root:  # a level left half made: mend it first
                _inherit_cpuset(above, root)
                theirs = (read_text(Path(above, f)) or "").strip()
            write_text(Path(level, f), theirs)
            copied = True
    if copied and above != root:
        with contextlib.suppress(OSError):
            write_text(Path(above, "cgroup.clone_children"), "1")
