"""The pieces that keep a once-a-second stats pass cheap: kept file handles
(``cgroupfs.Handles``) and records parsed only when written (``RecordCache``)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from engine.errors import ContainerNotFound
from engine.fsutil import atomic_write_json
from engine.runtime.state import ContainerStore, RecordCache
from engine.stats.cgroupfs import Handles


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


# -- Handles ------------------------------------------------------------------------------
def test_a_kept_handle_reads_what_the_file_says_now(tmp_path: Path) -> None:
    f = tmp_path / "memory.current"
    f.write_text("100\n")
    handles = Handles(budget=8)
    assert handles.read("c1:7", str(f)) == b"100\n"
    with f.open("r+") as w:  # rewritten in place, as the kernel regenerates a cgroup file
        w.write("250\n")
    assert handles.read("c1:7", str(f)) == b"250\n"
    assert len(handles) == 1
    handles.close()


def test_handles_stay_within_the_budget(tmp_path: Path) -> None:
    files = []
    for i in range(5):
        files.append(tmp_path / f"f{i}")
        files[-1].write_text(str(i))
    before = _open_fds()
    handles = Handles(budget=2)
    assert [handles.read("c1:7", str(f)) for f in files] == [b"0", b"1", b"2", b"3", b"4"]
    assert len(handles) == 2 and _open_fds() == before + 2
    # Past the budget a file is still read, just opened and closed each time.
    assert handles.read("c1:7", str(files[4])) == b"4"
    handles.close()
    assert len(handles) == 0 and _open_fds() == before


def test_keep_closes_the_handles_of_other_runs(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("a")
    b.write_text("b")
    before = _open_fds()
    handles = Handles(budget=8)
    handles.read("c1:7", str(a))
    handles.read("c2:9", str(b))
    handles.keep({"c2:9"})  # c1 stopped (or restarted under another PID)
    assert len(handles) == 1 and _open_fds() == before + 1
    handles.keep(set())
    assert len(handles) == 0 and _open_fds() == before


def test_a_missing_file_reads_as_none_and_keeps_nothing(tmp_path: Path) -> None:
    handles = Handles(budget=8)
    assert handles.read("c1:7", str(tmp_path / "gone")) is None
    assert handles.read("c1:7", "") is None  # a controller that is not mounted
    assert len(handles) == 0


# -- RecordCache -------------------------------------------------------------------------
@pytest.fixture
def store(tmp_path: Path) -> ContainerStore:
    (tmp_path / "containers").mkdir()
    return ContainerStore(tmp_path / "containers", tmp_path / "locks")


def _write(store: ContainerStore, cid: str, status: str, *, age: float = 60.0) -> None:
    d = store.dir(cid)
    d.mkdir(exist_ok=True)
    atomic_write_json(d / "state.json", {"id": cid, "name": cid, "state": {"status": status}},
                      sync="none")
    if age:
        then = time.time() - age
        os.utime(d / "state.json", (then, then))


def _counting(store: ContainerStore, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    loads: list[str] = []
    real = store.load

    def load(cid: str) -> dict[str, Any]:
        loads.append(cid)
        return real(cid)

    monkeypatch.setattr(store, "load", load)
    return loads


def test_records_are_parsed_again_only_when_written(store: ContainerStore,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _write(store, "a", "running")
    _write(store, "b", "created")
    (store.root / "not-a-container").mkdir()
    loads = _counting(store, monkeypatch)
    cache = RecordCache(store)
    first = dict(cache.records())
    assert {k: v["state"]["status"] for k, v in first.items()} == {"a": "running",
                                                                    "b": "created"}
    assert sorted(loads) == ["a", "b"]
    loads.clear()
    assert dict(cache.records()) == first
    assert loads == []  # nothing written since: no JSON parsed
    _write(store, "a", "exited")
    assert dict(cache.records())["a"]["state"]["status"] == "exited"
    assert loads == ["a"]


def test_a_record_written_just_now_is_not_trusted_by_its_stat(
        store: ContainerStore, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(store, "a", "running", age=0)
    loads = _counting(store, monkeypatch)
    cache = RecordCache(store)
    cache.records()
    cache.records()
    # Coarse mtimes and reused inode numbers could hide a second write in the same
    # tick: until the file is RACY seconds old it is read every time.
    assert loads == ["a", "a"]


def test_removed_containers_drop_out(store: ContainerStore) -> None:
    _write(store, "a", "running")
    _write(store, "b", "running")
    cache = RecordCache(store)
    assert len(cache.records()) == 2
    (store.dir("b") / "state.json").unlink()
    assert [cid for cid, _ in cache.records()] == ["a"]


def test_a_full_id_resolves_without_listing_every_container(
        store: ContainerStore, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(store, "a" * 64, "running")
    _write(store, "b" * 64, "running")
    listed: list[int] = []
    real = store.ids

    def ids() -> list[str]:
        listed.append(1)
        return real()

    monkeypatch.setattr(store, "ids", ids)
    assert store.resolve("a" * 64) == "a" * 64
    assert listed == []  # the TUI's every call names a full ID
    assert store.resolve("bbb") == "b" * 64  # a prefix still lists
    assert listed
    with pytest.raises(ContainerNotFound):
        store.resolve(f"../{store.root.name}/{'a' * 64}")  # never a path
