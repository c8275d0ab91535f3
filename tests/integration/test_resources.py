"""Limits, OOM, stats and update against real cgroups (root).

Cgroup files are read through the engine's own driver paths, so the tests hold
on v1, hybrid and v2 hosts. Assertions are timing-free (``eventually`` polls)
except the documented ±15 % of the ``--cpus 0.5`` reading.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.cgroups import get_driver
from engine.config import EngineConfig
from tests.integration.runtime_helpers import (
    IMAGE,
    cgroups_of,
    eventually,
    import_busybox,
    inspect,
    pydock,
    remove_all,
)

pytestmark = [pytest.mark.root,
              pytest.mark.skipif(os.geteuid() != 0, reason="needs root for cgroups")]

M = 1024 * 1024
ALLOC_64M = 'x=$(head -c 67108864 /dev/zero | busybox tr "\\0" a); echo ${#x}'


@pytest.fixture
def rt(root: Path, tmp_path: Path) -> Iterator[Path]:
    import_busybox(root, tmp_path)
    yield root
    remove_all(root)


def cg_file(root: Path, cid: str, controller: str, v1: str, v2: str) -> Path:
    driver = get_driver(EngineConfig(root=root))
    paths = driver.paths(driver.handle(cid))
    return paths[controller] / (v2 if driver.version == "v2" else v1)


def read_int(path: Path) -> int:
    text = path.read_text().strip()
    return -1 if text == "max" else int(text)


def cid_of(root: Path, name: str) -> str:
    return str(inspect(root, name)["Id"])


def stats_json(root: Path, *names: str) -> dict[str, dict[str, str]]:
    r = pydock(root, "stats", "--no-stream", "--format", "json", *names)
    assert r.returncode == 0, r.stderr
    return {row["Name"]: row for row in map(json.loads, r.stdout.splitlines())}


def test_allocation_really_takes_64m_without_a_limit(rt: Path) -> None:
    r = pydock(rt, "run", "--rm", IMAGE, "sh", "-c", ALLOC_64M)
    assert r.returncode == 0 and r.stdout.strip() == str(64 * M), r.stderr


def test_memory_limit_ends_in_oom_kill(rt: Path) -> None:
    r = pydock(rt, "run", "--name", "oom", "-m", "32m", IMAGE, "sh", "-c", ALLOC_64M)
    assert r.returncode == 137, (r.stdout, r.stderr)
    state = inspect(rt, "oom")["State"]
    assert (state["OOMKilled"], state["ExitCode"], state["Status"]) == (True, 137, "exited")
    hc = inspect(rt, "oom")["HostConfig"]
    assert (hc["Memory"], hc["MemorySwap"]) == (32 * M, 64 * M)
    ev = pydock(rt, "events", "--since", "0", "--until", str(time.time() + 1),
                "--filter", "container=oom", "--format", "json")
    actions = [json.loads(line)["Action"] for line in ev.stdout.splitlines()]
    assert actions[-2:] == ["oom", "die"]


def test_limits_reach_the_cgroup_and_the_spec(rt: Path) -> None:
    r = pydock(rt, "run", "-d", "--name", "lim", "-m", "48m", "--memory-reservation", "16m",
               "--cpus", "0.5", "--cpu-shares", "512", "--cpuset-cpus", "0",
               "--pids-limit", "30", IMAGE, "sleep", "1000")
    assert r.returncode == 0, r.stderr
    cid = cid_of(rt, "lim")
    assert read_int(cg_file(rt, cid, "memory", "memory.limit_in_bytes", "memory.max")) == 48 * M
    assert read_int(cg_file(rt, cid, "pids", "pids.max", "pids.max")) == 30
    cpu = cg_file(rt, cid, "cpu", "cpu.cfs_quota_us", "cpu.max").read_text().split()[0]
    assert cpu == "50000"
    assert cg_file(rt, cid, "cpuset", "cpuset.cpus", "cpuset.cpus").read_text().strip() == "0"
    spec = json.loads((rt / "containers" / cid / "config.json").read_text())
    res = spec["linux"]["resources"]
    assert res["memory"] == {"limit": 48 * M, "swap": 96 * M, "reservation": 16 * M}
    assert res["cpu"] == {"shares": 512, "quota": 50_000, "period": 100_000, "cpus": "0"}
    assert res["pids"] == {"limit": 30}


@pytest.mark.parametrize(("args", "needle"), [
    (["-m", "12x"], 'invalid argument "12x" for "--memory" flag'),
    (["-m", "1m"], "Minimum memory limit allowed is 6MB"),
    (["--cpus", "64"], "Range of CPUs"),
    (["--memory-swap", "1g"], "always set the Memory limit"),
    (["--device-read-bps", "/dev/nope:1mb"], "/dev/nope"),
    (["--health-interval", "soon"], "--health-interval"),
])
def test_invalid_limits_leave_nothing_behind(rt: Path, args: list[str], needle: str) -> None:
    before = set(os.listdir(rt / "containers"))
    r = pydock(rt, "run", "--name", "bad", *args, IMAGE, "true")
    assert r.returncode == 125
    assert needle in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert set(os.listdir(rt / "containers")) == before
    assert pydock(rt, "ps", "-aq").stdout == ""


def test_pids_limit_contains_a_fork_bomb(rt: Path) -> None:
    # ash has no ":(){ :|:& };:"; a function piping into itself in the background is the same.
    r = pydock(rt, "run", "-d", "--name", "bomb", "--pids-limit", "20", IMAGE,
               "sh", "-c", "b() { b | b & }; b; sleep 1000")
    assert r.returncode == 0, r.stderr
    cid = cid_of(rt, "bomb")
    events = cg_file(rt, cid, "pids", "pids.events", "pids.events")
    eventually(lambda: int(events.read_text().split()[1]) > 0, what="a refused fork")
    assert read_int(cg_file(rt, cid, "pids", "pids.current", "pids.current")) <= 20
    assert pydock(rt, "ps").stdout.count("bomb") == 1  # still running and listable
    assert int(stats_json(rt, "bomb")["bomb"]["PIDs"]) <= 20
    assert pydock(rt, "stop", "-t", "1", "bomb").returncode == 0
    assert inspect(rt, "bomb")["State"]["Status"] == "exited"
    assert pydock(rt, "rm", "bomb").returncode == 0
    assert cgroups_of(cid) == []


def test_cpus_half_reads_fifty_percent(rt: Path) -> None:
    r = pydock(rt, "run", "-d", "--name", "busy", "--cpus", "0.5", IMAGE,
               "sh", "-c", "while :; do :; done")
    assert r.returncode == 0, r.stderr
    stats_json(rt, "busy")  # leaves the reading the next call pairs with
    idle_before = _host_idle()
    time.sleep(1.0)  # a one-second window, like docker's; not an assertion
    cpu = float(stats_json(rt, "busy")["busy"]["CPUPerc"].rstrip("%"))
    idle = _host_idle() - idle_before
    assert cpu <= 65.0  # the quota caps it whatever else runs
    if cpu < 35.0 and idle < 0.1:
        # Other work kept every CPU busy: the loop got less than its quota, and stats
        # reported that truthfully. Not a verdict on the reading.
        pytest.skip(f"host saturated during the window (CPU {cpu} %, idle {idle:.2f} s)")
    assert 35.0 <= cpu <= 65.0  # 50 % ± 15, the documented tolerance


def _host_idle() -> float:
    """Seconds of idle CPU time since boot, summed over CPUs (/proc/stat)."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    return int(fields[4]) / os.sysconf("SC_CLK_TCK")


def test_update_memory_on_a_running_container(rt: Path) -> None:
    assert pydock(rt, "run", "-d", "--name", "upd", "-m", "32m", IMAGE,
                  "sleep", "1000").returncode == 0
    cid = cid_of(rt, "upd")
    mem = cg_file(rt, cid, "memory", "memory.limit_in_bytes", "memory.max")
    assert read_int(mem) == 32 * M
    r = pydock(rt, "update", "--memory", "64m", "--pids-limit", "40", "upd")
    assert r.returncode == 0 and r.stdout.strip() == "upd", r.stderr
    assert read_int(mem) == 64 * M
    assert read_int(cg_file(rt, cid, "pids", "pids.max", "pids.max")) == 40
    hc = inspect(rt, "upd")["HostConfig"]
    assert (hc["Memory"], hc["PidsLimit"]) == (64 * M, 40)
    spec = json.loads((rt / "containers" / cid / "config.json").read_text())
    assert spec["linux"]["resources"]["memory"]["limit"] == 64 * M
    refused = pydock(rt, "update", "--memory", "256m", "upd")  # above the 64m memory+swap
    assert refused.returncode == 1 and "memoryswap" in refused.stderr
    assert read_int(mem) == 64 * M
    # Kept across a restart: the session rebuilds its limits from the record.
    assert pydock(rt, "restart", "-t", "0", "upd").returncode == 0
    assert read_int(mem) == 64 * M


def test_stats_agree_with_the_cgroup_files(rt: Path) -> None:
    from engine import Engine

    assert pydock(rt, "run", "-d", "--name", "calm", "-m", "64m", IMAGE,
                  "sh", "-c", "cat /bin/busybox >/dev/null; sleep 1000").returncode == 0
    cid = cid_of(rt, "calm")
    engine = Engine(EngineConfig(root=rt))
    [s] = engine.containers_stats(["calm"])
    driver = get_driver(engine.config)
    paths = driver.paths(driver.handle(cid))
    if driver.version == "v2":
        usage = read_int(paths["memory"] / "memory.current")
        inactive = _stat(paths["memory"] / "memory.stat", "inactive_file")
        limit = read_int(paths["memory"] / "memory.max")
    else:
        usage = read_int(paths["memory"] / "memory.usage_in_bytes")
        inactive = _stat(paths["memory"] / "memory.stat", "total_inactive_file")
        limit = read_int(paths["memory"] / "memory.limit_in_bytes")
    assert s.mem_limit == limit == 64 * M
    assert s.mem_usage == usage - inactive  # an idle sleep: the files do not move
    assert s.pids == read_int(paths["pids"] / "pids.current") == 1
    assert (s.net_rx, s.net_tx) == (0, 0)  # --network none: only lo, which is not counted
    assert s.mem_percent == pytest.approx(s.mem_usage / s.mem_limit * 100)
    assert s.name == "calm" and s.id == cid
    row = stats_json(rt, "calm")["calm"]
    assert row["MemUsage"].endswith(" / 64MiB") and row["NetIO"] == "0B / 0B"


def _stat(path: Path, key: str) -> int:
    for line in path.read_text().splitlines():
        name, _, value = line.partition(" ")
        if name == key:
            return int(value)
    return 0


def test_stats_table_and_named_stopped_container(rt: Path) -> None:
    assert pydock(rt, "run", "-d", "--name", "t1", IMAGE, "sleep", "1000").returncode == 0
    assert pydock(rt, "create", "--name", "t2", IMAGE, "true").returncode == 0
    table = pydock(rt, "stats", "--no-stream").stdout.splitlines()
    assert table[0].split("   ")[:3] == ["CONTAINER ID", "NAME", "CPU %"]
    assert len(table) == 2 and "t1" in table[1]
    rows = stats_json(rt, "t2")
    assert rows["t2"]["CPUPerc"] == "0.00%" and rows["t2"]["PIDs"] == "0"
    assert "t2" in pydock(rt, "stats", "--no-stream", "-a").stdout
    missing = pydock(rt, "stats", "--no-stream", "nope")
    assert missing.returncode != 0 and "nope" in missing.stderr


def test_runc_applies_the_same_limits(rt: Path) -> None:
    import shutil

    if shutil.which("runc") is None:
        pytest.skip("runc is not installed")
    r = pydock(rt, "run", "-d", "--runtime", "runc", "--name", "rl", "-m", "40m",
               "--pids-limit", "25", IMAGE, "sleep", "1000")
    assert r.returncode == 0, r.stderr
    cid = cid_of(rt, "rl")
    assert read_int(cg_file(rt, cid, "memory", "memory.limit_in_bytes", "memory.max")) == 40 * M
    assert read_int(cg_file(rt, cid, "pids", "pids.max", "pids.max")) == 25



@pytest.mark.skipif(not Path("/sys/fs/cgroup/devices/cgroup.procs").exists(),
                    reason="needs the v1 devices controller")
def test_a_cgroup_that_cannot_be_made_fails_the_start_cleanly(
        rt: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On v1 the init is forked before its cgroup is made (they overlap); a failure
    to make it ends the start with 125 and one line, and nothing of ours runs.

    The failure: a cgroup parent whose device list is empty, where the container's
    device rules cannot be written (a child cannot allow more than its parent).
    """
    parent = f"pydock-test-nodev-{os.getpid()}"
    devices = Path("/sys/fs/cgroup/devices") / parent
    devices.mkdir()
    (devices / "devices.deny").write_text("a")
    monkeypatch.setenv("PYDOCK_CGROUP_PARENT", parent)
    try:
        r = pydock(rt, "run", "--rm", "--name", "nodev", IMAGE, "sh", "-c", "echo RAN")
        assert r.returncode == 125, (r.returncode, r.stdout, r.stderr)
        assert "RAN" not in r.stdout
        assert len(r.stderr.strip().splitlines()) == 1 and "device" in r.stderr, r.stderr
        assert pydock(rt, "ps", "-aq").stdout.strip() == ""  # --rm: nothing left behind
        def container_cgroups() -> list[Path]:
            return [d for base in Path("/sys/fs/cgroup").iterdir() if (base / parent).is_dir()
                    for d in (base / parent).iterdir() if d.is_dir()]

        eventually(lambda: not container_cgroups(), timeout=5, what="its cgroups gone")
    finally:
        get_driver(EngineConfig(root=rt, cgroup_parent=parent)).prune_parent()
        for base in Path("/sys/fs/cgroup").iterdir():
            if (base / parent).is_dir():
                (base / parent).rmdir()
