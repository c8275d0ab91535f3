"""The cgroup drivers against the real kernel (root).

Every cgroup lives under a ``pydock-test-<random>`` parent, never the production
``pydock``, so the session leak checker catches leftovers; every process a test
starts is killed and reaped by its own PID in a finally block.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.cgroups import (
    CgroupDriver,
    CgroupHandle,
    Limits,
    V1Driver,
    V2Driver,
    detect,
    get_driver,
)
from engine.config import EngineConfig

CGROUP = Path("/sys/fs/cgroup")
UNIFIED = CGROUP / "unified"
M = 1024 * 1024

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create cgroups"),
]


def _mount_layout() -> str:
    """The layout from /proc/self/mountinfo, independent of detect()'s file checks."""
    v1 = v2_root = v2_unified = False
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            target, fstype = fields[4], fields[fields.index("-") + 1]
            if fstype == "cgroup2" and target == str(CGROUP):
                v2_root = True
            elif fstype == "cgroup2" and target == str(UNIFIED):
                v2_unified = True
            elif fstype == "cgroup" and target.startswith(str(CGROUP) + "/"):
                v1 = True
    return "v2" if v2_root else "hybrid" if v1 and v2_unified else "v1" if v1 else "none"


LAYOUT = _mount_layout()
needs_v1 = pytest.mark.skipif(LAYOUT not in ("v1", "hybrid"), reason="no cgroup v1 here")


def _state(pid: int) -> str:
    # The field after "(comm)"; comm may hold spaces, so split at the last ')'.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


@pytest.fixture
def parent() -> str:
    return f"pydock-test-{os.urandom(4).hex()}"


@pytest.fixture
def config(tmp_path: Path) -> EngineConfig:
    return EngineConfig(root=tmp_path / "root")


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts; each is killed and reaped by PID afterwards."""
    started: list[subprocess.Popen[bytes]] = []
    try:
        yield started
    finally:
        for p in started:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGKILL)
            p.wait(timeout=10)


def _sleeper(procs: list[subprocess.Popen[bytes]], *argv: str) -> subprocess.Popen[bytes]:
    cmd = list(argv) or [shutil.which("sleep") or "/bin/sleep", "300"]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    procs.append(p)
    return p


@pytest.fixture
def cleanup(parent: str) -> Iterator[list[tuple[CgroupDriver, CgroupHandle]]]:
    """Handles to remove, whatever the test did; then the parent goes."""
    made: list[tuple[CgroupDriver, CgroupHandle]] = []
    try:
        yield made
    finally:
        for drv, h in made:
            drv.remove(h)
            drv.prune_parent()
        leftovers = list(CGROUP.glob(f"*/{parent}")) + list(CGROUP.glob(parent))
        assert leftovers == [], f"cgroups left behind: {leftovers}"


def test_detect_matches_the_mounts() -> None:
    if LAYOUT == "none":
        pytest.skip("no cgroup filesystem is mounted")
    assert detect(CGROUP) == LAYOUT


@needs_v1
def test_v1_lifecycle(config: EngineConfig, parent: str, procs: list[subprocess.Popen[bytes]],
                      cleanup: list[tuple[CgroupDriver, CgroupHandle]]) -> None:
    drv = get_driver(config, parent)
    assert isinstance(drv, V1Driver)
    h = drv.create("c1", Limits(pids_limit=64))
    cleanup.append((drv, h))
    assert drv.exists(h) and h.warnings == ()
    dirs = drv.paths(h)
    for ctrl in ("memory", "freezer", "pids", "cpu", "cpuset", "devices"):
        assert dirs[ctrl].is_dir(), ctrl
    assert (dirs["cpuset"] / "cpuset.cpus").read_text().strip()  # copied from the parent
    assert (dirs["pids"] / "pids.max").read_text().strip() == "64"
    assert ("unified" in dirs) == (LAYOUT == "hybrid")

    child = _sleeper(procs)
    drv.add_pid(h, child.pid)
    assert drv.pids(h) == [child.pid]
    assert f"memory:/{parent}/c1" in Path(f"/proc/{child.pid}/cgroup").read_text()

    drv.freeze(h)
    assert drv.is_frozen(h)
    freezer_state = (dirs["freezer"] / "freezer.state").read_text().strip()
    assert freezer_state == "FROZEN"
    assert _state(child.pid) == "D" or freezer_state == "FROZEN"  # D on recent kernels
    drv.thaw(h)
    assert not drv.is_frozen(h) and _state(child.pid) == "S"

    mem = dirs["memory"]
    swap_file = mem / "memory.memsw.limit_in_bytes"
    limits = Limits(memory=64 * M, memory_swap=128 * M if swap_file.exists() else None)
    assert drv.set_limits(h, limits) == []
    assert int((mem / "memory.limit_in_bytes").read_text()) == 64 * M
    # raising both above the current memsw needs memsw first: the driver retries
    if swap_file.exists():
        assert int(swap_file.read_text()) == 128 * M
        drv.set_limits(h, Limits(memory=512 * M, memory_swap=1024 * M))
        assert int((mem / "memory.limit_in_bytes").read_text()) == 512 * M
        assert int(swap_file.read_text()) == 1024 * M
    drv.set_limits(h, Limits(memory=-1))
    assert int((mem / "memory.limit_in_bytes").read_text()) > 1 << 60
    assert drv.oom_killed_count(h) == 0

    drv.kill_all(h)
    assert drv.pids(h) == []
    assert child.wait(timeout=10) == -signal.SIGKILL
    drv.remove(h)
    assert not drv.exists(h)
    assert [d for d in dirs.values() if d.exists()] == []
    drv.remove(h)  # already gone


@needs_v1
def test_v1_cpuset_parent_clones_into_the_next_cgroup(
        config: EngineConfig, parent: str, procs: list[subprocess.Popen[bytes]],
        cleanup: list[tuple[CgroupDriver, CgroupHandle]]) -> None:
    # The first cgroup copies the parent's CPUs and nodes itself and sets
    # clone_children on our parent (never on the hierarchy's root); the kernel fills
    # the next one at mkdir. Both must accept a task (ENOSPC when a cpuset is empty).
    drv = get_driver(config, parent)
    root_flag = (CGROUP / "cpuset" / "cgroup.clone_children").read_text()
    handles = [drv.create(n) for n in ("c1", "c2")]
    cleanup.extend((drv, h) for h in handles)
    assert (CGROUP / "cpuset" / parent / "cgroup.clone_children").read_text().strip() == "1"
    assert (CGROUP / "cpuset" / "cgroup.clone_children").read_text() == root_flag
    want = (CGROUP / "cpuset" / "cpuset.cpus").read_text().strip()
    for h in handles:
        assert (drv.paths(h)["cpuset"] / "cpuset.cpus").read_text().strip() == want
        child = _sleeper(procs)
        drv.add_pid(h, child.pid)
        assert drv.pids(h) == [child.pid]
        drv.kill_all(h)


@needs_v1
def test_v1_kill_without_cgroup_kill_freezes_and_signals(
        parent: str, procs: list[subprocess.Popen[bytes]],
        cleanup: list[tuple[CgroupDriver, CgroupHandle]]) -> None:
    drv = V1Driver(CGROUP, parent)  # no unified: the signal-every-pid path
    h = drv.create("c2")
    cleanup.append((drv, h))
    # sh waits for a line so it is in the cgroup before it forks its children
    sh = _sleeper(procs, "/bin/sh", "-c", "read x; sleep 300 & sleep 300 & wait")
    drv.add_pid(h, sh.pid)
    assert sh.stdin is not None
    sh.stdin.write(b"go\n")
    sh.stdin.flush()
    for _ in range(500):
        if len(drv.pids(h)) == 3:
            break
        time.sleep(0.01)
    assert len(drv.pids(h)) == 3
    drv.freeze(h)  # a paused container can be killed too
    drv.kill_all(h)
    assert drv.pids(h) == [] and not drv.is_frozen(h)
    assert sh.wait(timeout=10) == -signal.SIGKILL
    drv.remove(h)
    assert not drv.exists(h)


@needs_v1
def test_v1_remove_kills_leftovers(config: EngineConfig, parent: str,
                                   procs: list[subprocess.Popen[bytes]],
                                   cleanup: list[tuple[CgroupDriver, CgroupHandle]]) -> None:
    drv = get_driver(config, parent)
    h = drv.create("c3")
    cleanup.append((drv, h))
    child = _sleeper(procs)
    drv.add_pid(h, child.pid)
    drv.kill_all(h, signal.SIGTERM)  # other signals: sent once, no waiting
    assert child.wait(timeout=10) == -signal.SIGTERM
    child2 = _sleeper(procs)
    drv.add_pid(h, child2.pid)
    drv.remove(h)
    assert child2.wait(timeout=10) == -signal.SIGKILL
    assert not drv.exists(h)


@pytest.mark.skipif(LAYOUT != "hybrid" or not (UNIFIED / "cgroup.controllers").exists(),
                    reason="no v2 mount at /sys/fs/cgroup/unified")
def test_unified_freezer_without_controllers(
        tmp_path: Path, parent: str, procs: list[subprocess.Popen[bytes]],
        cleanup: list[tuple[CgroupDriver, CgroupHandle]]) -> None:
    # A v1 driver that sees only the unified mount: create makes just that
    # directory (no subtree_control writes on the host), freezing uses cgroup.freeze.
    (tmp_path / "no-v1").mkdir()
    drv = V1Driver(tmp_path / "no-v1", parent, unified=UNIFIED)
    h = drv.create("c4")
    cleanup.append((drv, h))
    d = UNIFIED / parent / "c4"
    assert d.is_dir() and drv.paths(h) == {"unified": d}
    child = _sleeper(procs)
    drv.add_pid(h, child.pid)
    assert drv.pids(h) == [child.pid]

    drv.freeze(h)
    assert "frozen 1" in (d / "cgroup.events").read_text() and drv.is_frozen(h)
    drv.thaw(h)
    assert not drv.is_frozen(h)

    # the v2 driver drives the same directory through a handle alone
    v2 = V2Driver(UNIFIED, parent)
    h2 = v2.handle("c4")
    v2.freeze(h2)
    assert v2.is_frozen(h2) and drv.is_frozen(h)
    v2.thaw(h2)
    assert v2.pids(h2) == [child.pid]
    v2.kill_all(h2)  # cgroup.kill when the kernel has it
    assert child.wait(timeout=10) == -signal.SIGKILL
    v2.remove(h2)
    assert not d.exists()


@pytest.mark.skipif(LAYOUT != "v2", reason="not a v2-only host")
def test_v2_lifecycle(config: EngineConfig, parent: str, procs: list[subprocess.Popen[bytes]],
                      cleanup: list[tuple[CgroupDriver, CgroupHandle]]) -> None:
    drv = get_driver(config, parent)
    assert isinstance(drv, V2Driver)
    h = drv.create("c5")
    cleanup.append((drv, h))
    d = CGROUP / parent / "c5"
    enabled = (CGROUP / parent / "cgroup.subtree_control").read_text().split()
    assert set(enabled) == set((CGROUP / parent / "cgroup.controllers").read_text().split())
    child = _sleeper(procs)
    drv.add_pid(h, child.pid)
    assert drv.pids(h) == [child.pid]
    drv.freeze(h)
    assert drv.is_frozen(h)
    drv.thaw(h)
    assert not drv.is_frozen(h)
    if "memory" in enabled:
        drv.set_limits(h, Limits(memory=64 * M))
        assert (d / "memory.max").read_text().strip() == str(64 * M)
    if "pids" in enabled:
        drv.set_limits(h, Limits(pids_limit=32))
        assert (d / "pids.max").read_text().strip() == "32"
    assert drv.oom_killed_count(h) == 0
    drv.kill_all(h)
    assert child.wait(timeout=10) == -signal.SIGKILL
    drv.remove(h)
    assert not d.exists()
