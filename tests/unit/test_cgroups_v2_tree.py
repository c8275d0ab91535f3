"""The v2 driver against a recorded cgroup2 file tree in tmp_path (no root, no kernel).

The tree holds the files a 6.x kernel shows; a small "fake kernel" thread plays
the asynchronous freezer by copying cgroup.freeze into cgroup.events. PIDs in
the tree are above any pid_max, so nothing real can ever be signalled.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from engine.cgroups import Limits, V1Driver, V2Driver, detect, get_driver
from engine.config import EngineConfig
from engine.errors import InvalidArgument, NotFound, Unavailable

M = 1024 * 1024
FAKE_PIDS = (5_000_001, 5_000_002, 5_000_003)  # > PID_MAX_LIMIT (4194304)

ROOT_FILES = {
    "cgroup.controllers": "cpuset cpu io memory hugetlb pids rdma misc\n",
    "cgroup.subtree_control": "cpu memory pids\n",  # what systemd enabled already
    "cgroup.procs": "1\n",
}
LEAF_FILES = {
    "cgroup.controllers": "cpuset cpu io memory pids\n",
    "cgroup.subtree_control": "",
    "cgroup.procs": "",
    "cgroup.events": "populated 0\nfrozen 0\n",
    "cgroup.freeze": "0\n",
    "cgroup.kill": "",
    "memory.max": "max\n",
    "memory.swap.max": "max\n",
    "memory.low": "0\n",
    "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n",
    "cpu.max": "max 100000\n",
    "cpu.weight": "100\n",
    "pids.max": "max\n",
    "io.weight": "default 100\n",
    "cpuset.cpus": "\n",
}


def _fill(d: Path, files: dict[str, str]) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (d / name).write_text(text)
    return d


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = _fill(tmp_path / "cgroup", ROOT_FILES)
    parent = {**LEAF_FILES, "cgroup.controllers": "cpuset cpu io memory hugetlb pids rdma misc\n"}
    _fill(root / "pydock", parent)
    _fill(root / "pydock" / "c1", LEAF_FILES)
    return root


@pytest.fixture
def driver(tree: Path) -> V2Driver:
    return V2Driver(tree, "pydock", timeout=1.0)


def _replace_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


@contextmanager
def fake_kernel(cg: Path) -> Iterator[None]:
    """Report in cgroup.events, a little later, the state cgroup.freeze asks for."""
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            want = (cg / "cgroup.freeze").read_text().strip()
            if want and f"frozen {want}" not in (cg / "cgroup.events").read_text():
                time.sleep(0.01)  # freezing takes a moment
                _replace_atomically(cg / "cgroup.events", f"populated 1\nfrozen {want}\n")
            time.sleep(0.002)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join()


# -- detection ---------------------------------------------------------------------------


def test_detect_v2_and_get_driver(tree: Path, tmp_path: Path) -> None:
    assert detect(tree) == "v2"
    drv = get_driver(EngineConfig(root=tmp_path / "root", cgroup_root=tree), "pydock")
    assert isinstance(drv, V2Driver) and drv.cgroup_root == tree and drv.version == "v2"


def test_detect_v1_hybrid_and_nothing(tmp_path: Path) -> None:
    root = tmp_path / "v1"
    _fill(root / "memory", {"cgroup.procs": ""})
    _fill(root / "freezer", {"cgroup.procs": ""})
    assert detect(root) == "v1"
    _fill(root / "unified", {"cgroup.controllers": "", "cgroup.procs": ""})
    assert detect(root) == "hybrid"
    drv = get_driver(EngineConfig(root=tmp_path / "r", cgroup_root=root), "pydock-x")
    assert isinstance(drv, V1Driver)
    assert drv.handle("c").dir("unified") == root / "unified/pydock-x/c"
    (tmp_path / "empty").mkdir()
    with pytest.raises(Unavailable):
        detect(tmp_path / "empty")


# -- create ------------------------------------------------------------------------------


def test_create_enables_available_controllers_down_the_path(driver: V2Driver,
                                                            tree: Path) -> None:
    h = driver.create("c1")
    # one write per level with only what is missing, in cgroup.controllers order
    assert (tree / "cgroup.subtree_control").read_text() == "+cpuset +io +hugetlb +rdma +misc"
    assert (tree / "pydock/cgroup.subtree_control").read_text() == (
        "+cpuset +cpu +io +memory +hugetlb +pids +rdma +misc")
    assert (tree / "pydock/c1/cgroup.subtree_control").read_text() == ""  # a leaf
    assert h.dir("unified") == tree / "pydock/c1" and h.relpath == "/pydock/c1"
    assert h.warnings == ()
    assert driver.create("c1") == h  # idempotent


def test_create_makes_missing_parent(tmp_path: Path) -> None:
    root = _fill(tmp_path / "cg", ROOT_FILES)
    drv = V2Driver(root, "pydock-test-x/nested")
    h = drv.create("abc")
    assert (root / "pydock-test-x/nested/abc").is_dir() and drv.exists(h)


@pytest.mark.parametrize("name", ["../escape", "a/b", "", ".hidden", "x" * 300])
def test_bad_names_are_rejected(driver: V2Driver, name: str) -> None:
    with pytest.raises(InvalidArgument):
        driver.create(name)


def test_create_applies_limits(driver: V2Driver, tree: Path) -> None:
    h = driver.create("c1", Limits.from_cpus(0.5, memory=512 * M, memory_swap=1024 * M,
                                             pids_limit=100, cpu_shares=1024))
    leaf = tree / "pydock/c1"
    assert (leaf / "cpu.max").read_text() == "50000 100000"
    assert (leaf / "memory.max").read_text() == str(512 * M)
    assert (leaf / "memory.swap.max").read_text() == str(512 * M)
    assert (leaf / "pids.max").read_text() == "100"
    assert (leaf / "cpu.weight").read_text() == "39"
    assert (leaf / "memory.low").read_text() == "0\n"  # untouched
    assert h.warnings == ()


def test_set_limits_warns_for_missing_files_and_uses_bfq(driver: V2Driver, tree: Path) -> None:
    h = driver.create("c1")
    leaf = tree / "pydock/c1"
    (leaf / "memory.swap.max").unlink()  # no swap on this host
    (leaf / "cpuset.cpus").unlink()  # cpuset not enabled
    warnings = driver.set_limits(h, Limits(memory=-1, cpuset_cpus="0"))
    assert (leaf / "memory.max").read_text() == "max"
    assert len(warnings) == 1 and "cpuset.cpus" in warnings[0]  # swap "max": silent
    assert driver.set_limits(h, Limits(blkio_weight=500)) == []
    assert (leaf / "io.weight").read_text() == "4950"
    (leaf / "io.bfq.weight").write_text("100\n")
    driver.set_limits(h, Limits(blkio_weight=500))
    assert (leaf / "io.bfq.weight").read_text() == "500"


# -- processes -----------------------------------------------------------------------------


def test_add_pid_and_pids_include_nested_cgroups(driver: V2Driver, tree: Path) -> None:
    h = driver.create("c1")
    driver.add_pid(h, FAKE_PIDS[0])
    assert (tree / "pydock/c1/cgroup.procs").read_text() == str(FAKE_PIDS[0])
    (tree / "pydock/c1/cgroup.procs").write_text(f"{FAKE_PIDS[1]}\n{FAKE_PIDS[0]}\n")
    _fill(tree / "pydock/c1/inner", {"cgroup.procs": f"{FAKE_PIDS[2]}\n"})
    assert driver.pids(h) == list(FAKE_PIDS)
    with pytest.raises(NotFound):
        driver.add_pid(driver.handle("never-made"), FAKE_PIDS[0])


def test_kill_all_writes_cgroup_kill(driver: V2Driver, tree: Path) -> None:
    h = driver.create("c1")
    driver.kill_all(h)
    assert (tree / "pydock/c1/cgroup.kill").read_text() == "1"


def test_oom_killed_count(driver: V2Driver, tree: Path) -> None:
    h = driver.create("c1")
    assert driver.oom_killed_count(h) == 0
    (tree / "pydock/c1/memory.events").write_text("low 0\nhigh 0\nmax 7\noom 2\noom_kill 2\n")
    assert driver.oom_killed_count(h) == 2
    (tree / "pydock/c1/memory.events").unlink()  # memory controller not enabled
    assert driver.oom_killed_count(h) == 0


def test_paths_name_every_enabled_controller(driver: V2Driver, tree: Path) -> None:
    h = driver.create("c1")
    leaf = tree / "pydock/c1"
    assert driver.paths(h) == {"unified": leaf, "cpuset": leaf, "cpu": leaf, "io": leaf,
                               "memory": leaf, "pids": leaf}


# -- freezer ------------------------------------------------------------------------------


def test_freeze_waits_for_the_kernel_and_thaw(driver: V2Driver, tree: Path) -> None:
    h = driver.create("c1")
    leaf = tree / "pydock/c1"
    with fake_kernel(leaf):
        driver.freeze(h)
        assert (leaf / "cgroup.freeze").read_text() == "1"
        assert "frozen 1" in (leaf / "cgroup.events").read_text()
        assert driver.is_frozen(h)
        driver.thaw(h)
        assert (leaf / "cgroup.freeze").read_text() == "0"
        assert not driver.is_frozen(h)


def test_freeze_times_out_and_rolls_back(tree: Path) -> None:
    drv = V2Driver(tree, "pydock", timeout=0.2)
    h = drv.create("c1")
    start = time.monotonic()
    with pytest.raises(Unavailable, match="did not freeze"):
        drv.freeze(h)  # nobody flips cgroup.events
    assert time.monotonic() - start < 2
    assert (tree / "pydock/c1/cgroup.freeze").read_text() == "0"
    assert not drv.is_frozen(h)


def test_freeze_of_a_missing_cgroup_is_not_found(driver: V2Driver) -> None:
    with pytest.raises(NotFound):
        driver.freeze(driver.handle("gone"))
    assert not driver.is_frozen(driver.handle("gone"))


# -- remove --------------------------------------------------------------------------------


def test_remove_is_idempotent_and_prune_parent(tmp_path: Path) -> None:
    root = _fill(tmp_path / "cg", ROOT_FILES)
    drv = V2Driver(root, "pydock-test-p")
    a, b = drv.create("a"), drv.create("b")
    drv.remove(a)
    assert not drv.exists(a) and not (root / "pydock-test-p/a").exists()
    drv.remove(a)  # already gone: no error
    drv.remove(drv.handle("never-made"))
    drv.prune_parent()  # b still lives there
    assert (root / "pydock-test-p").is_dir()
    drv.remove(b)
    drv.prune_parent()
    assert not (root / "pydock-test-p").exists()
    drv.prune_parent()
