"""Volume records on disk: ``volumes/<name>/meta.json`` next to the data in ``_data``.

Create and remove run under ``locks/volumes.lock``; so does every container
create that takes a reference to a volume, which makes "is it in use?" and
"remove it" one atomic step against a concurrent ``run -v``. A volume appears by
renaming a finished directory into place, and disappears by renaming it to a
trash name first, so a reader never sees half a volume.

Imported by the monitor (populate, ``--rm`` clean-up): standard library only.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import Conflict, InvalidArgument, NotFound
from ..fsutil import atomic_write_json, file_lock, read_json

# docker's rule for names: they become directory names and DNS-ish identifiers.
NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
# Docker 23+ marks anonymous volumes with this label; `volume prune` keys on it.
ANON_LABEL = "com.docker.volume.anonymous"


class VolumeNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f"no such volume: {name}", title="Volume not found")
        self.name = name


class VolumeInUse(Conflict):
    def __init__(self, name: str, users: list[str]) -> None:
        super().__init__(f"remove {name}: volume is in use - [{', '.join(users)}]",
                         title="Volume in use")
        self.name = name
        self.users = users


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise InvalidArgument(f'"{name}" includes invalid characters for a local volume name, '
                              'only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended '
                              "to pass a host directory, use absolute path")
    return name


def _created_at(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class VolumeStore:
    def __init__(self, root: Path, locks: Path) -> None:
        self.root = root
        self.locks = locks

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """The store-wide lock; not re-entrant (flock per open file), so never nest it."""
        self.root.mkdir(parents=True, exist_ok=True)
        with file_lock(self.locks / "volumes.lock"):
            yield

    def data(self, name: str) -> Path:
        return self.root / name / "_data"

    def exists(self, name: str) -> bool:
        return (self.root / name / "meta.json").is_file()

    def names(self) -> list[str]:
        try:
            return sorted(e.name for e in os.scandir(self.root)
                          if not e.name.startswith(".") and self.exists(e.name))
        except FileNotFoundError:
            return []

    def get(self, name: str) -> dict[str, Any]:
        meta = read_json(self.root / name / "meta.json", None) if NAME_RE.match(name) else None
        if not isinstance(meta, dict):
            raise VolumeNotFound(name)
        meta["Mountpoint"] = str(self.data(name))
        return meta

    def create(self, name: str | None = None, *, labels: dict[str, str] | None = None,
               options: dict[str, str] | None = None) -> tuple[dict[str, Any], bool]:
        """``volume create``: idempotent for an existing name, as docker is."""
        with self.lock():
            return self.ensure(name, labels=labels, options=options)

    def ensure(self, name: str | None, *, labels: dict[str, str] | None = None,
               options: dict[str, str] | None = None, anonymous: bool = False
               ) -> tuple[dict[str, Any], bool]:
        """Create unless it exists; the caller holds :meth:`lock`. Returns (meta, created)."""
        if options:
            raise InvalidArgument("volume driver options are not supported "
                                  f"(got {', '.join(sorted(options))}); the local driver "
                                  "keeps plain directories")
        # os.urandom, as secrets.token_hex: secrets would import hmac and hashlib (~4 ms).
        name = check_name(name) if name else os.urandom(32).hex()
        if self.exists(name):
            return self.get(name), False
        labels = dict(labels or {})
        if anonymous:
            labels[ANON_LABEL] = ""
        meta = {"Name": name, "Driver": "local", "CreatedAt": _created_at(time.time()),
                "Labels": labels, "Scope": "local", "Options": dict(options or {})}
        self.root.mkdir(parents=True, exist_ok=True)
        stage = self.root / f".new-{name}-{os.getpid()}"
        import shutil  # here, not at the top: it pulls bz2 and lzma (~2 ms) into run and ps

        shutil.rmtree(stage, ignore_errors=True)
        (stage / "_data").mkdir(parents=True, mode=0o755)
        os.chmod(stage, 0o701)  # like docker: others may traverse to _data, not list
        atomic_write_json(stage / "meta.json", meta)
        os.rename(stage, self.root / name)
        return self.get(name), True

    def remove(self, name: str, users: Callable[[str], list[str]], *, force: bool = False
               ) -> None:
        """Delete the volume unless a container references it (``force`` skips a missing one)."""
        with self.lock():
            self.remove_locked(name, users, force=force)

    def remove_locked(self, name: str, users: Callable[[str], list[str]], *,
                      force: bool = False) -> None:
        if not self.exists(name):
            if force:
                return
            raise VolumeNotFound(name)
        holders = users(name)
        if holders:
            raise VolumeInUse(name, holders)
        trash = self.root / f".trash-{name}-{os.getpid()}"
        os.rename(self.root / name, trash)
        _remove_tree(trash)

    def size(self, name: str) -> int:
        return dir_size(self.data(name))

    def sweep(self) -> None:
        """Remove leftovers of a create or remove that died half way."""
        with contextlib.suppress(FileNotFoundError):
            for e in os.scandir(self.root):
                if e.name.startswith((".trash-", ".new-")):
                    pid = e.name.rsplit("-", 1)[-1]
                    if not (pid.isdigit() and Path(f"/proc/{pid}").exists()):
                        _remove_tree(Path(e.path))


def is_anonymous(meta: dict[str, Any]) -> bool:
    return ANON_LABEL in (meta.get("Labels") or {})


def dir_size(path: Path) -> int:
    """Bytes of file content under ``path``, each inode once, symlinks not followed."""
    seen: set[tuple[int, int]] = set()
    total = 0
    stack = [str(path)]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        for e in entries:
            try:
                st = e.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if e.is_dir(follow_symlinks=False):
                stack.append(e.path)
            elif (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_size
    return total


def _remove_tree(path: Path) -> None:
    import shutil

    def onexc(func: object, p: str, exc: BaseException) -> None:
        if isinstance(exc, FileNotFoundError):
            return
        if isinstance(exc, PermissionError):
            # Containers leave read-only directories behind; make them writable.
            os.chmod(os.path.dirname(p), 0o700)
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p, onexc=onexc)
            else:
                os.unlink(p)
            return
        raise exc

    shutil.rmtree(path, onexc=onexc)
