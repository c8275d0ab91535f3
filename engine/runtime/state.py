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
import time
from collections.abc import Iterator, Sequence
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
    # os.open rather than Path.read_bytes: the stats pass checks a hundred monitors a
    # second and the Path joins and file object cost more than the read itself.
    try:
        fd = os.open(f"{proc}/{pid}/stat", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return 0
    try:
        data = os.read(fd, 4096)
    except OSError:
        return 0
    finally:
        os.close(fd)
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
        # A string path: ps loads every record, and Path joins cost more than the read.
        rec = read_json(f"{self.root}/{cid}/state.json", None)
        if not isinstance(rec, dict):
            raise ContainerNotFound(cid)
        return rec

    def save(self, rec: dict[str, Any], *, sync: Sync = "all") -> None:
        """Replace the record; ``sync="file"`` for runtime-only changes (see fsutil).

        ContainerNotFound when the container's directory is gone (a ``--rm`` one that
        its monitor removed as it exited).
        """
        try:
            atomic_write_json(self.dir(rec["id"]) / "state.json", rec, sync=sync)
        except FileNotFoundError as err:
            raise ContainerNotFound(rec["id"]) from err

    def ids(self) -> list[str]:
        try:
            return [e.name for e in os.scandir(self.root)
                    if e.is_dir() and os.path.exists(f"{e.path}/state.json")]
        except FileNotFoundError:
            return []

    def leftovers(self, older_than: float) -> list[str]:
        """Entries that are not containers: a create that died before its record, or a
        removal that died after its rename (``.trash-*``); untouched for ``older_than`` s."""
        cutoff = time.time() - older_than
        try:
            return [e.name for e in os.scandir(self.root)
                    if e.is_dir(follow_symlinks=False)
                    and not os.path.exists(f"{e.path}/state.json")
                    and e.stat(follow_symlinks=False).st_mtime < cutoff]
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
        if "/" not in ref and ref not in (".", "..") and \
                (self.root / ref / "state.json").exists():
            return ref  # a full ID (the TUI's every call): no need to list every container
        ids = self.ids()
        for rec in self.all():
            if rec.get("name") == ref:
                return str(rec["id"])
        matches = [i for i in ids if i.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise Conflict(f"multiple containers found with provided prefix: {ref}")
        raise ContainerNotFound(ref)

    def new_dir(self) -> str:
        """A fresh container ID and its directory, invisible until :meth:`create` commits."""
        # os.urandom, as secrets.token_hex: secrets would import hmac and hashlib (~4 ms).
        cid = os.urandom(32).hex()
        self.dir(cid).mkdir(parents=True, mode=0o700)
        return cid

    def create(self, rec: dict[str, Any], wanted_name: str | None) -> dict[str, Any]:
        """Give ``rec`` a unique name and persist it atomically: the container exists.

        ``rec["id"]`` comes from :meth:`new_dir`, where the caller has written the
        container's other files: a directory without ``state.json`` is not a
        container to any reader, so the record is the commit point.
        """
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
            rec = dict(rec, name=name)
            self.save(rec)  # sync="all": the directory's other entries become durable too
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


class RecordCache:
    """Every container's record, re-parsed only when its file changed since the last call.

    For a caller that walks all containers once a second (the stats pass): a record is
    written by rename (:func:`fsutil.atomic_write_json`), so a new write shows as a new
    inode, mtime or size. The timestamps are coarse and an inode number can be reused,
    so a file written in the last ``RACY`` seconds is parsed again next time (git's
    "racily clean" rule) rather than trusted by its stat alone.

    The dicts handed out are shared with the cache: callers must not change them.
    """

    RACY = 2.0

    def __init__(self, store: ContainerStore) -> None:
        self.store = store
        self._seen: dict[str, tuple[tuple[int, int, int] | None, dict[str, Any]]] = {}

    def records(self) -> list[tuple[str, dict[str, Any]]]:
        out: list[tuple[str, dict[str, Any]]] = []
        seen: dict[str, tuple[tuple[int, int, int] | None, dict[str, Any]]] = {}
        try:
            entries = list(os.scandir(self.store.root))
        except FileNotFoundError:
            return out
        settled = time.time_ns() - int(self.RACY * 1e9)
        for entry in entries:
            try:
                st = os.stat(f"{entry.path}/state.json")
            except OSError:
                continue  # not a container directory, or removed meanwhile
            key = (st.st_ino, st.st_mtime_ns, st.st_size)
            old = self._seen.get(entry.name)
            if old is not None and old[0] == key:
                rec = old[1]
            else:
                try:
                    rec = self.store.load(entry.name)
                except (ContainerNotFound, OSError, ValueError):
                    continue  # removed (or half-made) between the stat and the read
            seen[entry.name] = (key if st.st_mtime_ns < settled else None, rec)
            out.append((entry.name, rec))
        self._seen = seen
        return out


def _random_name(taken: set[str]) -> str:
    for _ in range(100):
        name = f"{_pick(_ADJ)}_{_pick(_NOUN)}"
        if name not in taken:
            return name
    return f"{_pick(_ADJ)}_{_pick(_NOUN)}{int.from_bytes(os.urandom(4)) % 10000}"


def _pick(words: Sequence[str]) -> str:
    # os.urandom, as random.SystemRandom would, without importing random (~1 ms of
    # every unnamed create); the modulo bias over 2**32 does not matter for a name.
    return words[int.from_bytes(os.urandom(4)) % len(words)]
