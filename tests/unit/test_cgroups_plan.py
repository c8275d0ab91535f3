"""Limits → cgroup file writes, for v1 and v2, with docker's conversions (no root needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cgroups import Limits, V1Driver, V2Driver
from engine.errors import EngineError, InvalidArgument

M = 1024 * 1024
G = 1024 * M


def v1(limits: Limits) -> dict[str, str]:
    return {f: v for _c, f, v in V1Driver.plan_writes(limits)}


def v2(limits: Limits) -> dict[str, str]:
    return {f: v for _c, f, v in V2Driver.plan_writes(limits)}


# -- CPU ------------------------------------------------------------------------------


def test_cpus_half_is_50ms_of_every_100ms() -> None:
    limits = Limits.from_cpus("0.5")
    assert (limits.cpu_quota, limits.cpu_period) == (50_000, 100_000)
    assert V1Driver.plan_writes(limits) == [("cpu", "cpu.cfs_period_us", "100000"),
                                            ("cpu", "cpu.cfs_quota_us", "50000")]
    assert V2Driver.plan_writes(limits) == [("cpu", "cpu.max", "50000 100000")]


@pytest.mark.parametrize(("cpus", "quota"), [(1.5, 150_000), ("2", 200_000), (0.01, 1000),
                                             ("0.333", 33_300)])
def test_cpus_conversion_goes_through_nano_cpus(cpus: float | str, quota: int) -> None:
    assert Limits.from_cpus(cpus).cpu_quota == quota


@pytest.mark.parametrize("cpus", ["0", "-1", "abc", 0.001])
def test_bad_cpus_are_rejected(cpus: float | str) -> None:
    with pytest.raises(InvalidArgument):
        Limits.from_cpus(cpus)


def test_from_cpus_keeps_other_limits() -> None:
    limits = Limits.from_cpus(1, memory=512 * M)
    assert limits.memory == 512 * M and limits.cpu_quota == 100_000


def test_quota_without_period_and_unlimited_quota() -> None:
    assert v2(Limits(cpu_quota=50_000)) == {"cpu.max": "50000"}
    assert v2(Limits(cpu_period=200_000)) == {"cpu.max": "max 200000"}  # runc's spelling
    assert v2(Limits(cpu_quota=-1, cpu_period=100_000)) == {"cpu.max": "max 100000"}
    assert v1(Limits(cpu_quota=-1)) == {"cpu.cfs_quota_us": "-1"}


@pytest.mark.parametrize(("shares", "weight"), [(2, 1), (1024, 39), (512, 20),
                                                (262144, 10000)])
def test_cpu_shares_to_weight_as_runc(shares: int, weight: int) -> None:
    assert v1(Limits(cpu_shares=shares)) == {"cpu.shares": str(shares)}
    assert v2(Limits(cpu_shares=shares)) == {"cpu.weight": str(weight)}
    assert weight == 1 + ((shares - 2) * 9999) // 262142


def test_cpuset() -> None:
    assert v1(Limits(cpuset_cpus="0-2,4")) == {"cpuset.cpus": "0-2,4"}
    assert v2(Limits(cpuset_cpus="1")) == {"cpuset.cpus": "1"}


# -- memory ---------------------------------------------------------------------------


def test_memory_512m() -> None:
    assert v1(Limits(memory=512 * M)) == {"memory.limit_in_bytes": "536870912"}
    assert v2(Limits(memory=512 * M)) == {"memory.max": "536870912"}


def test_memory_swap_is_a_total_on_v1_and_swap_alone_on_v2() -> None:
    limits = Limits(memory=512 * M, memory_swap=1 * G)
    assert v1(limits) == {"memory.limit_in_bytes": str(512 * M),
                          "memory.memsw.limit_in_bytes": str(1 * G)}
    assert v2(limits) == {"memory.max": str(512 * M), "memory.swap.max": str(512 * M)}
    # equal values mean "no swap"
    assert v2(Limits(memory=512 * M, memory_swap=512 * M))["memory.swap.max"] == "0"


def test_v1_writes_memory_before_memsw_and_v2_swap_before_max() -> None:
    limits = Limits(memory=512 * M, memory_swap=1 * G)
    assert [f for _c, f, _v in V1Driver.plan_writes(limits)] == [
        "memory.limit_in_bytes", "memory.memsw.limit_in_bytes"]
    assert [f for _c, f, _v in V2Driver.plan_writes(limits)] == [
        "memory.swap.max", "memory.max"]


def test_unlimited_swap_and_memory() -> None:
    assert v1(Limits(memory=512 * M, memory_swap=-1))["memory.memsw.limit_in_bytes"] == "-1"
    assert v2(Limits(memory=512 * M, memory_swap=-1))["memory.swap.max"] == "max"
    # lifting memory lifts swap too, or v1 would keep memory capped by the old memsw
    assert v1(Limits(memory=-1)) == {"memory.limit_in_bytes": "-1",
                                     "memory.memsw.limit_in_bytes": "-1"}
    assert v2(Limits(memory=-1)) == {"memory.max": "max", "memory.swap.max": "max"}


def test_docker_default_swap_is_twice_memory() -> None:
    assert Limits(memory=512 * M).with_default_swap().memory_swap == 1 * G
    assert Limits(memory=512 * M, memory_swap=-1).with_default_swap().memory_swap == -1
    assert Limits().with_default_swap() == Limits()


def test_reservation() -> None:
    limits = Limits(memory=1 * G, memory_reservation=256 * M)
    assert v1(limits)["memory.soft_limit_in_bytes"] == str(256 * M)
    assert v2(limits)["memory.low"] == str(256 * M)


# -- pids and block I/O -----------------------------------------------------------------


@pytest.mark.parametrize(("pids", "value"), [(100, "100"), (0, "max"), (-1, "max")])
def test_pids_limit(pids: int, value: str) -> None:
    assert v1(Limits(pids_limit=pids)) == {"pids.max": value}
    assert v2(Limits(pids_limit=pids)) == {"pids.max": value}


def test_blkio_weight() -> None:
    assert v1(Limits(blkio_weight=500)) == {"blkio.weight": "500"}
    assert v2(Limits(blkio_weight=500)) == {"io.weight": "4950"}
    assert v2(Limits(blkio_weight=10)) == {"io.weight": "1"}
    assert v2(Limits(blkio_weight=1000)) == {"io.weight": "10000"}


def test_controllers_name_the_hierarchy() -> None:
    limits = Limits(memory=G, cpu_shares=512, pids_limit=5, blkio_weight=100,
                    cpuset_cpus="0")
    assert {c for c, _f, _v in V1Driver.plan_writes(limits)} == {
        "memory", "cpu", "pids", "blkio", "cpuset"}
    assert {c for c, _f, _v in V2Driver.plan_writes(limits)} == {
        "memory", "cpu", "pids", "io", "cpuset"}


def test_nothing_set_writes_nothing() -> None:
    for limits in (Limits(), Limits(memory=0, memory_swap=0, cpu_shares=0)):
        assert limits.is_empty()
        assert V1Driver.plan_writes(limits) == [] and V2Driver.plan_writes(limits) == []
    assert not Limits(pids_limit=0).is_empty()  # 0 means "unlimited", a real change


# -- invalid combinations -----------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [
    {"memory": 512 * M, "memory_swap": 256 * M},          # swap total below memory
    {"memory_swap": 1 * G},                               # swap without memory
    {"memory": 4 * M},                                    # below docker's 6MB minimum
    {"memory": -2},
    {"memory": 512 * M, "memory_reservation": 1 * G},     # reservation above limit
    {"memory_reservation": 1 * M},
    {"cpu_period": 999},
    {"cpu_period": 1_000_001},
    {"cpu_quota": 999},
    {"cpu_shares": 1},
    {"cpu_shares": 262145},
    {"blkio_weight": 5},
    {"blkio_weight": 1001},
    {"cpuset_cpus": "0-"},
    {"cpuset_cpus": "3-1"},
    {"cpuset_cpus": "a"},
    {"cpuset_cpus": "0,,1"},
])
def test_invalid_limits_raise_invalid_argument(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidArgument) as info:
        Limits(**kwargs)  # type: ignore[arg-type]
    assert isinstance(info.value, EngineError) and str(info.value)


def test_swap_error_uses_docker_wording() -> None:
    with pytest.raises(InvalidArgument, match="memoryswap limit should be larger"):
        Limits(memory=512 * M, memory_swap=256 * M)


def test_limits_are_frozen_and_hashable() -> None:
    limits = Limits(memory=G)
    with pytest.raises(AttributeError):
        limits.memory = 1  # type: ignore[misc]
    assert hash(limits) == hash(Limits(memory=G))


# -- the v1 plan applied to a recorded tree ------------------------------------------------


def _v1_tree(root: Path) -> Path:
    """What a v1 host shows: per-controller hierarchies (cpu,cpuacct co-mounted)."""
    for ctrl in ("cpu,cpuacct", "cpuset", "memory", "pids", "freezer", "blkio", "devices",
                 "systemd"):
        (root / ctrl).mkdir(parents=True)
        (root / ctrl / "cgroup.procs").write_text("1\n")
    (root / "cpu").symlink_to("cpu,cpuacct")
    (root / "cpuacct").symlink_to("cpu,cpuacct")
    (root / "net_cls").mkdir()  # an unmounted mount point: skipped
    (root / "cpuset" / "cpuset.cpus").write_text("0-3\n")
    (root / "cpuset" / "cpuset.mems").write_text("0\n")
    return root


def test_v1_create_copies_cpuset_and_skips_unmounted(tmp_path: Path) -> None:
    root = _v1_tree(tmp_path / "cg")
    # the kernel shows empty cpuset files in a new cpuset; simulate them being there
    for d in (root / "cpuset" / "pydock", root / "cpuset" / "pydock" / "c1"):
        d.mkdir()
        (d / "cpuset.cpus").write_text("\n")
        (d / "cpuset.mems").write_text("\n")
    driver = V1Driver(root)
    h = driver.create("c1")
    assert (root / "cpuset/pydock/cpuset.cpus").read_text() == "0-3"
    assert (root / "cpuset/pydock/c1/cpuset.mems").read_text() == "0"
    paths = driver.paths(h)
    assert "net_cls" not in paths and "systemd" not in paths and "unified" not in paths
    assert paths["cpu"] == root / "cpu/pydock/c1" and paths["cpuacct"].is_dir()
    assert not (root / "systemd" / "pydock").exists()


def test_v1_set_limits_writes_and_warns_for_missing_files(tmp_path: Path) -> None:
    root = _v1_tree(tmp_path / "cg")
    driver = V1Driver(root)
    h = driver.create("c1")
    mem = root / "memory/pydock/c1"
    (mem / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    (root / "pids/pydock/c1/pids.max").write_text("max\n")
    # no memory.memsw.* (swapaccount=0): a swap limit is a warning, "-1" is silent
    warnings = driver.set_limits(h, Limits(memory=512 * M, memory_swap=G, pids_limit=9))
    assert (mem / "memory.limit_in_bytes").read_text() == str(512 * M)
    assert (root / "pids/pydock/c1/pids.max").read_text() == "9"
    assert len(warnings) == 1 and "memory.memsw.limit_in_bytes" in warnings[0]
    assert driver.set_limits(h, Limits(memory=-1)) == []
    (root / "blkio/pydock/c1/blkio.bfq.weight").write_text("100\n")
    assert driver.set_limits(h, Limits(blkio_weight=300)) == []
    assert (root / "blkio/pydock/c1/blkio.bfq.weight").read_text() == "300"
