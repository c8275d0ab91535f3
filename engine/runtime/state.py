"""Container records on disk: ``containers/<id>/state.json``, one writer at a time.

The record is the whole truth about a container (docker's Config and HostConfig,
plus State). Writers hold ``locks/container-<id>.lock``; name changes also hold
``locks/names.lock`` so two processes can never give out one name twice. Readers
fold in what the monitor left (``exit.json``) and check that the processes the
record names are still the same processes (PID plus start time against reuse).

Imported by the monitor: standard library and small engine modules only.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import AlreadyExists, Conflict, ContainerNotFound
from ..fsutil import Sync, atomic_write_json, file_lock, read_json

ACTIVE = ("running", "paused", "restarting")

_ADJ = ("brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "keen", "lucid",
        "merry", "nifty", "proud", "quirky", "swift", "tender", "vivid", "witty", "zen",
        "bold", "clever", "dazzling", "elastic", "focused", "great", "hopeful", "loving")
_NOUN = ("turing", "hopper", "lovelace", "ritchie", "thompson", "knuth", "dijkstra",
         "torvalds", "hamilton", "liskov", "lamport", "backus", "kernighan", "pike",
         "wirth", "shannon", "noether", "curie", "babbage", "boole", "euler", "gauss")


def proc_start_time(pid: int, proc: Path = Path("/proc")) -> int:
    """Start time of ``pid`` in clock ticks (0 if gone): with the PID it names one process."""
    try:
        data = (proc / str(pid) / "stat").read_bytes()
    except OSError:
        return 0
    # The command name may contain spaces and parentheses: split after the last ')'.
    fields = data[data.rfind(b")") + 2:].split()
    if not fields or fields[0] in (b"Z", b"X"):
        return 0  # a zombie has exited; whoever reaps it is not our business
    return int(fields[19]) if len(fields) > 19 else 0


def alive(pid: int, start: int, proc: Path = Path("/proc")) -> bool:
    return pid > 0 and start > 0 and proc_start_time(pid, proc) == start


class ContainerStore:
    def __init__(self, containers_dir: Path, locks_dir: Path) -> None:
        self.root = containers_dir
        self.locks = locks_dir

    def dir(self, cid: str) -> Path:
        return self.root / cid

    @contextlib.contextmanager
    def locked(self, cid: str) -> Iterator[None]:
        with file_lock(self.locks / f"container-{cid}.lock"):
            yield

    def load(self, cid: str) -> dict[str, Any]:
        rec = read_json(self.dir(cid) / "state.json", None)
        if not isinstance(rec, dict):
            raise ContainerNotFound(cid)
        return rec

    def save(self, rec: dict[str, Any], *, sync: Sync = "all") -> None:
        """Replace the record; ``sync="file"`` for runtime-only changes (see fsutil)."""
        atomic_write_json(self.dir(rec["id"]) / "state.json", rec, sync=sync)

    def ids(self) -> list[str]:
        try:
            return [e.name for e in os.scandir(self.root)
                    if e.is_dir() and (Path(e.path) / "state.json").exists()]
        except FileNotFoundError:
            return []

    def all(self) -> list[dict[str, Any]]:
        out = []
        for cid in self.ids():
            with contextlib.suppress(ContainerNotFound):
                out.append(self.load(cid))
        return out

    def resolve(self, ref: str) -> str:
        """Container ID for a name, a full ID or an unambiguous ID prefix (docker's order)."""
        ref = ref.lstrip("/")
        if not ref:
            raise ContainerNotFound(ref)
        ids = self.ids()
        if ref in ids:
            return ref
        for rec in self.all():
            if rec.get("name") == ref:
                return str(rec["id"])
        matches = [i for i in ids if i.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise Conflict(f"multiple containers found with provided prefix: {ref}")
        raise ContainerNotFound(ref)

    def create(self, rec: dict[str, Any], wanted_name: str | None) -> dict[str, Any]:
        """Give ``rec`` a fresh ID and a unique name and persist it atomically."""
        with file_lock(self.locks / "names.lock"):
            taken = {r.get("name"): r["id"] for r in self.all()}
            if wanted_name:
                if wanted_name in taken:
                    raise AlreadyExists(
                        f'Conflict. The container name "/{wanted_name}" is already in use by '
                        f'container "{taken[wanted_name]}". You have to remove (or rename) '
                        "that container to be able to reuse that name.")
                name = wanted_name
            else:
                name = _random_name({str(n) for n in taken if n})
            cid = secrets.token_hex(32)
            rec = dict(rec, id=cid, name=name)
            d = self.dir(cid)
            d.mkdir(parents=True, mode=0o700)
            self.save(rec)
        return rec

    def rename(self, cid: str, new: str) -> None:
        with file_lock(self.locks / "names.lock"), self.locked(cid):
            for r in self.all():
                if r.get("name") == new and r["id"] != cid:
                    raise AlreadyExists(f'Conflict. The container name "/{new}" is already in '
                                        f'use by container "{r["id"]}".')
            rec = self.load(cid)
            rec["name"] = new
            self.save(rec)


def _random_name(taken: set[str]) -> str:
    for _ in range(100):
        name = f"{secrets.choice(_ADJ)}_{secrets.choice(_NOUN)}"
        if name not in taken:
            return name
    return f"{secrets.choice(_ADJ)}_{secrets.choice(_NOUN)}{secrets.randbelow(10000)}"
