"""Unpacked layers, one directory per ChainID: ``snapshots/<hex>/diff`` + ``meta.json``.

The ``diff`` directories are overlayfs lowerdirs: whiteouts are already in
overlay form. A snapshot appears only when complete (unpacked in a temp dir,
verified against the DiffID the image config promises, then renamed), and an
flock per ChainID makes two processes unpacking the same layer do it once.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from ..errors import DigestMismatch, EngineError
from ..fsutil import atomic_write_json, file_lock, read_json

if TYPE_CHECKING:
    from ..types import UnpackStats


class SnapshotStore:
    def __init__(self, root: Path, locks: Path, tmp: Path) -> None:
        self.root = root
        self.locks = locks
        self.tmp = tmp

    def dir(self, chain_id: str) -> Path:
        return self.root / chain_id.removeprefix("sha256:")

    def diff_dir(self, chain_id: str) -> Path:
        return self.dir(chain_id) / "diff"

    def exists(self, chain_id: str) -> bool:
        return (self.dir(chain_id) / "meta.json").is_file()

    def meta(self, chain_id: str) -> dict[str, object]:
        m = read_json(self.dir(chain_id) / "meta.json", {})
        return m if isinstance(m, dict) else {}

    def size(self, chain_id: str) -> int:
        v = self.meta(chain_id).get("size", 0)
        return int(v) if isinstance(v, int) else 0

    def unpack(self, parent: str | None, expected_diff_id: str | None,
               blob: BinaryIO) -> tuple[str, UnpackStats]:
        """Unpack ``blob`` (compressed or not) on top of ``parent``; return (chain_id, stats).

        With ``expected_diff_id`` known (a loaded or pulled image) a present
        snapshot is reused without reading the blob, and a mismatch is an error.
        Without it (``import``, ``commit``) the DiffID is learnt while unpacking.
        """
        if expected_diff_id is not None:
            chain_id = chain_id_of(parent, expected_diff_id)
            with file_lock(self._lock(chain_id)):
                if self.exists(chain_id):
                    from ..types import UnpackStats

                    return chain_id, UnpackStats(expected_diff_id, self.size(chain_id), 0)
                return chain_id, self._unpack_locked(chain_id, parent, expected_diff_id, blob)
        with self._staging() as stage:
            stats = self._unpack_into(stage, blob)
            chain_id = chain_id_of(parent, stats.diff_id)
            with file_lock(self._lock(chain_id)):
                if not self.exists(chain_id):
                    self._finish(stage, chain_id, parent, stats)
            return chain_id, stats

    def _lock(self, chain_id: str) -> Path:
        return self.locks / f"snapshot-{chain_id.removeprefix('sha256:')}.lock"

    def _unpack_locked(self, chain_id: str, parent: str | None, expected: str,
                       blob: BinaryIO) -> UnpackStats:
        with self._staging() as stage:
            stats = self._unpack_into(stage, blob)
            if stats.diff_id != expected:
                raise DigestMismatch(expected, stats.diff_id, what="layer diff_id")
            self._finish(stage, chain_id, parent, stats)
        return stats

    def _unpack_into(self, stage: Path, blob: BinaryIO) -> UnpackStats:
        # Deferred: listing images or starting containers never pays for tarfile.
        from ..compression import open_layer_stream
        from .unpack import unpack_layer

        diff = stage / "diff"
        diff.mkdir(mode=0o755)
        return unpack_layer(open_layer_stream(blob), diff)

    def _finish(self, stage: Path, chain_id: str, parent: str | None,
                stats: UnpackStats) -> None:
        atomic_write_json(stage / "meta.json", {
            "chain_id": chain_id, "parent": parent,
            "diff_id": stats.diff_id, "size": stats.size,
        })
        os.rename(stage, self.dir(chain_id))

    @contextlib.contextmanager
    def _staging(self) -> Iterator[Path]:
        import tempfile  # here: it pulls shutil, bz2 and lzma; run and ps never unpack

        self.root.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(dir=self.root, prefix=f".unpack-{os.getpid()}-"))
        try:
            yield stage
        finally:
            if stage.exists():
                remove_tree(stage)

    def remove(self, chain_id: str) -> int:
        """Delete one snapshot; return its recorded size."""
        d = self.dir(chain_id)
        size = self.size(chain_id)
        if not d.exists():
            return 0
        import tempfile

        # Rename first: a half-deleted snapshot must never look complete.
        trash = Path(tempfile.mkdtemp(dir=self.root, prefix=".trash-"))
        os.rename(d, trash / "s")
        remove_tree(trash)
        return size

    def chain_ids(self) -> list[str]:
        try:
            return ["sha256:" + e.name for e in os.scandir(self.root)
                    if not e.name.startswith(".")]
        except FileNotFoundError:
            return []

    def sweep_stale(self) -> None:
        """Remove staging and trash dirs whose owning process is gone."""
        with contextlib.suppress(FileNotFoundError):
            for e in os.scandir(self.root):
                if e.name.startswith(".trash-") or (
                        e.name.startswith(".unpack-") and not _alive(e.name.split("-")[1])):
                    remove_tree(Path(e.path))


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def chain_id_of(parent: str | None, diff_id: str) -> str:
    if parent is None:
        return diff_id
    from ..digest import sha256_hex  # here: ps and the like never hash

    return "sha256:" + sha256_hex(f"{parent} {diff_id}".encode())


def remove_tree(path: Path) -> None:
    """rmtree that copes with the read-only dirs and odd modes images contain."""
    import shutil  # here: it pulls bz2 and lzma (~2 ms), which run and ps never need

    def onexc(func: object, p: str, exc: BaseException) -> None:
        if isinstance(exc, FileNotFoundError):
            return
        if isinstance(exc, PermissionError):
            os.chmod(os.path.dirname(p), 0o700)
            shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.unlink(p)
            return
        raise EngineError(f"cannot remove {p}: {exc}") from exc

    shutil.rmtree(path, onexc=onexc)
