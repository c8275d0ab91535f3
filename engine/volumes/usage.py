"""Which containers reference which volumes.

The contract with the runtime: every ``containers/<id>/state.json`` lists its
mounts under ``mounts`` (docker's inspect shape; volumes have ``Type`` "volume"
and a ``Name``). Any container, running or not, that names a volume keeps it
from being removed, as docker does. Standard library only.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..fsutil import read_json


def scan(containers_dir: Path, *, exclude: str = "") -> dict[str, list[str]]:
    """Volume name → names of the containers that reference it."""
    users: dict[str, list[str]] = {}
    try:
        entries = list(os.scandir(containers_dir))
    except FileNotFoundError:
        return users
    for e in entries:
        if e.name == exclude or e.name.startswith("."):
            continue
        rec = read_json(Path(e.path) / "state.json", None)
        if not isinstance(rec, dict):
            continue
        who = str(rec.get("name") or e.name[:12])
        for m in rec.get("mounts") or []:
            if m.get("Type") == "volume" and m.get("Name"):
                users.setdefault(str(m["Name"]), []).append(who)
    return users


def users_of(containers_dir: Path, name: str, *, exclude: str = "") -> list[str]:
    return scan(containers_dir, exclude=exclude).get(name, [])


def running_users(containers_dir: Path) -> set[str]:
    """Volumes mounted by a container whose record says it is active (for ``system df``)."""
    active: set[str] = set()
    try:
        entries = list(os.scandir(containers_dir))
    except FileNotFoundError:
        return active
    for e in entries:
        rec = read_json(Path(e.path) / "state.json", None)
        if isinstance(rec, dict) and (rec.get("state") or {}).get("status") in (
                "running", "paused", "restarting"):
            active.update(str(m["Name"]) for m in rec.get("mounts") or []
                          if m.get("Type") == "volume" and m.get("Name"))
    return active
