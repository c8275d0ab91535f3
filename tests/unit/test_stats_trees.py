"""The stats readers and sampler against recorded cgroup v1 and v2 file trees (no root).

The file contents are what a 6.x kernel shows for a small container (v2 from a
cgroup2 host, v1 from this project's hybrid host); /proc is a fixture tree too,
so every number below is exact.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from engine.cgroups import V1Driver, V2Driver
from engine.stats import cgroupfs
from engine.stats.sampler import Point, Sampler, Target

CID = "c" * 64
M = 1024 * 1024
GIB = 1024 * M
PID = 4_000_123

V2_FILES = {
    "cgroup.controllers": "cpuset cpu io memory pids\n",
    "cgroup.procs": f"{PID}\n",
    "cpu.stat": ("usage_usec 250000\nuser_usec 200000\nsystem_usec 50000\n"
                 "core_sched.force_idle_usec 0\nnr_periods 10\nnr_throttled 2\n"
                 "throttled_usec 3000\nnr_bursts 0\nburst_usec 0\n"),
    "memory.current": f"{10 * M}\n",
    "memory.max": "max\n",
    "memory.stat": ("anon 4194304\nfile 6291456\nkernel 360448\nkernel_stack 16384\n"
                    f"active_anon 4096\ninactive_anon 4190208\nactive_file 1048576\n"
                    f"inactive_file {2 * M}\nunevictable 0\n"),
    "io.stat": ("254:0 rbytes=1048576 wbytes=4096 rios=10 wios=1 dbytes=0 dios=0\n"
                "8:0 rbytes=512 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n"),
    "pids.current": "3\n",
    "pids.max": "20\n",
}

V1_FILES = {
    "cpuacct": {"cpuacct.usage": "250000000\n"},
    "memory": {
        "memory.usage_in_bytes": f"{10 * M}\n",
        "memory.limit_in_bytes": f"{32 * M}\n",
        # inactive_file (this cgroup only) must not be mistaken for total_inactive_file
        "memory.stat": (f"cache 6291456\nrss 4194304\ninactive_file 1\n"
                        f"total_cache 6291456\ntotal_inactive_file {3 * M}\n"),
    },
    "blkio": {"blkio.throttle.io_service_bytes_recursive": (
        "254:0 Read 1048576\n254:0 Write 4096\n254:0 Sync 0\n254:0 Async 1052672\n"
        "254:0 Discard 0\n254:0 Total 1052672\nTotal 1052672\n")},
    "pids": {"pids.current": "3\n", "pids.max": "max\n"},
}

NET_DEV = (
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets "
    "errs drop fifo colls carrier compressed\n"
    "    lo:  999999      10    0    0    0     0          0         0   999999      10    "
    "0    0    0     0       0          0\n"
    "  eth0:    1500       3    0    0    0     0          0         0      700       2    "
    "0    0    0     0       0          0\n")


def _proc(tmp: Path, ticks: int) -> Path:
    proc = tmp / "proc"
    (proc / str(PID) / "net").mkdir(parents=True, exist_ok=True)
    (proc / str(PID) / "net" / "dev").write_text(NET_DEV)
    # user nice system idle iowait irq softirq steal guest guest_nice; two CPUs
    (proc / "stat").write_text(f"cpu  {ticks} 0 0 0 0 0 0 7 0 0\ncpu0 1 0 0 0 0 0 0 0 0 0\n"
                               "cpu1 1 0 0 0 0 0 0 0 0 0\nintr 1 2 3\nctxt 5\n")
    return proc


@pytest.fixture
def v2(tmp_path: Path) -> tuple[V2Driver, Path]:
    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    leaf = root / "pydock" / CID
    leaf.mkdir(parents=True)
    for name, text in V2_FILES.items():
        (leaf / name).write_text(text)
    return V2Driver(root, "pydock"), leaf


@pytest.fixture
def v1(tmp_path: Path) -> tuple[V1Driver, Path]:
    root = tmp_path / "cgroup"
    for ctrl, files in V1_FILES.items():
        (root / ctrl).mkdir(parents=True)
        (root / ctrl / "cgroup.procs").write_text("")
        leaf = root / ctrl / "pydock" / CID
        leaf.mkdir(parents=True)
        for name, text in files.items():
            (leaf / name).write_text(text)
    return V1Driver(root, "pydock"), root


def test_v2_reader_takes_docker_fields(v2: tuple[V2Driver, Path]) -> None:
    _driver, leaf = v2
    raw = cgroupfs.read_v2(leaf)
    assert raw == cgroupfs.Raw(cpu_ns=250_000_000, mem_usage=10 * M, mem_limit=0,
                               inactive_file=2 * M, blk_read=1048576 + 512,
                               blk_write=4096 + 8192, pids=3, pids_limit=20)


def test_v1_reader_takes_docker_fields(v1: tuple[V1Driver, Path]) -> None:
    driver, _root = v1
    raw = cgroupfs.read_v1(dict(driver.handle(CID).dirs))
    assert raw == cgroupfs.Raw(cpu_ns=250_000_000, mem_usage=10 * M, mem_limit=32 * M,
                               inactive_file=3 * M, blk_read=1048576, blk_write=4096,
                               pids=3, pids_limit=0)


def test_missing_files_read_as_zero(tmp_path: Path) -> None:
    assert cgroupfs.read_v2(tmp_path / "gone") == cgroupfs.Raw()
    assert cgroupfs.read_v1({}) == cgroupfs.Raw()
    assert cgroupfs.net_dev(tmp_path, 1) == (0, 0)


def test_net_dev_skips_loopback(tmp_path: Path) -> None:
    assert cgroupfs.net_dev(_proc(tmp_path, 0), PID) == (1500, 700)


def test_system_cpu_sums_seven_fields_and_counts_cpus(tmp_path: Path) -> None:
    ns, ncpu = cgroupfs.system_cpu(_proc(tmp_path, 300))  # steal (7) is not counted
    assert (ns, ncpu) == (300 * 10_000_000, 2)


@pytest.mark.parametrize("layout", ["v1", "v2"])
def test_sampler_applies_docker_formulas(layout: str, tmp_path: Path,
                                         request: pytest.FixtureRequest) -> None:
    driver, _ = request.getfixturevalue(layout)
    proc = _proc(tmp_path, 1000)
    sampler = Sampler(driver, proc, host_memory=16 * GIB)
    system_before = 1000 * 10_000_000 - 2 * 1_000_000_000  # one second on two CPUs earlier
    sampler.prev = {CID: Point(0, system_before, PID, time.time() - 1)}
    [s] = sampler.sample([Target(CID, "web", PID)])
    # 0.25 s of CPU over 1 s of a two-CPU host: 25 % of one CPU, docker's scale
    assert s.cpu_percent == pytest.approx(25.0)
    inactive, limit = (3 * M, 32 * M) if layout == "v1" else (2 * M, 16 * GIB)
    assert (s.mem_usage, s.mem_limit) == (10 * M - inactive, limit)
    assert s.mem_percent == pytest.approx((10 * M - inactive) / limit * 100)
    assert (s.net_rx, s.net_tx, s.pids, s.online_cpus) == (1500, 700, 3, 2)


def test_limit_is_capped_at_host_memory(v1: tuple[V1Driver, Path], tmp_path: Path) -> None:
    driver, _ = v1
    sampler = Sampler(driver, _proc(tmp_path, 10), host_memory=16 * M)
    sampler.prev = {CID: Point(0, 0, PID, time.time() - 1)}
    [s] = sampler.sample([Target(CID, "web", PID)])
    assert s.mem_limit == 16 * M


def test_host_network_reports_no_traffic(v2: tuple[V2Driver, Path], tmp_path: Path) -> None:
    driver, _ = v2
    sampler = Sampler(driver, _proc(tmp_path, 10), host_memory=GIB)
    sampler.prev = {CID: Point(0, 0, PID, time.time() - 1)}
    [s] = sampler.sample([Target(CID, "web", PID, network="host")])
    assert (s.net_rx, s.net_tx) == (0, 0)


def test_cpu_is_zero_when_a_delta_is_not_positive(v2: tuple[V2Driver, Path],
                                                  tmp_path: Path) -> None:
    driver, _ = v2
    sampler = Sampler(driver, _proc(tmp_path, 10), host_memory=GIB)
    # A restarted container (another PID) never pairs with the old run's counters.
    sampler.prev = {CID: Point(0, 0, PID + 1, time.time() - 1)}
    assert sampler.sample([Target(CID, "web", PID)])[0].cpu_percent == 0.0
    sampler.prev = {CID: Point(10**12, 0, PID, time.time() - 1)}  # counter went backwards
    assert sampler.sample([Target(CID, "web", PID)])[0].cpu_percent == 0.0


def test_persisted_reading_pairs_with_a_new_process(v2: tuple[V2Driver, Path],
                                                    tmp_path: Path) -> None:
    driver, _ = v2
    proc = _proc(tmp_path, 1000)
    cache = tmp_path / "stats-cache.json"
    system_before = 1000 * 10_000_000 - 2 * 1_000_000_000
    cache.write_text(json.dumps({CID: [0, system_before, PID, time.time() - 1]}))
    [s] = Sampler(driver, proc, cache=cache, host_memory=GIB).sample([Target(CID, "w", PID)])
    assert s.cpu_percent == pytest.approx(25.0)
    saved = json.loads(cache.read_text())
    assert saved[CID][:3] == [250_000_000, 1000 * 10_000_000, PID]


def test_cold_pass_reads_twice_instead_of_failing(v2: tuple[V2Driver, Path],
                                                  tmp_path: Path) -> None:
    driver, _ = v2
    sampler = Sampler(driver, _proc(tmp_path, 10), cache=tmp_path / "none.json",
                      host_memory=GIB)
    [s] = sampler.sample([Target(CID, "web", PID)])
    assert s.cpu_percent == 0.0  # the fixture's counters do not move between the reads
    assert sampler.prev[CID].pid == PID
