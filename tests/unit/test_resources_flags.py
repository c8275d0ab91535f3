"""Resource flags: docker's units and checks, HostConfig, OCI resources, update rules,
and the health check configuration (pure; no root)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cgroups import Limits, V2Driver
from engine.errors import Conflict, InvalidArgument
from engine.record import replace
from engine.runtime import healthcfg, resources
from engine.types import CreateOptions, UpdateOptions

M = 1024 * 1024
BASE = CreateOptions(image="busybox")


@pytest.mark.parametrize(("text", "value"), [
    ("512m", 512 * M), ("1g", 1024 * M), ("1.5GB", 1536 * M), ("100", 100), ("64k", 65536),
    ("2MiB", 2 * M), ("7 m", 7 * M),
])
def test_sizes_use_docker_binary_units(text: str, value: int) -> None:
    assert resources.parse_bytes(text) == value


def test_bad_size_is_one_clear_line() -> None:
    with pytest.raises(InvalidArgument) as err:
        resources.parse_bytes("12x", "--memory")
    assert str(err.value) == 'invalid argument "12x" for "--memory" flag: invalid size: \'12x\''
    assert resources.parse_swap("-1") == -1
    with pytest.raises(InvalidArgument):
        resources.parse_bytes("-1")


def test_cpus_and_device_rates() -> None:
    assert resources.parse_cpus("0.5") == 500_000_000
    with pytest.raises(InvalidArgument, match="rational number"):
        resources.parse_cpus("half")
    assert resources.parse_device_rate("/dev/sda:1mb") == ("/dev/sda", M)
    for bad in ("/dev/sda", "sda:1mb", "/dev/sda:fast"):
        with pytest.raises(InvalidArgument, match="--device-read-bps"):
            resources.parse_device_rate(bad)


def test_host_config_has_docker_names_and_default_swap() -> None:
    hc = resources.host_config(replace(BASE, memory=32 * M, nano_cpus=500_000_000,
                                       pids_limit=20, cpu_shares=512), online_cpus=2)
    assert hc["Memory"] == 32 * M and hc["MemorySwap"] == 64 * M  # the daemon's 2x default
    assert (hc["NanoCpus"], hc["PidsLimit"], hc["CpuShares"]) == (500_000_000, 20, 512)
    limits = resources.limits_from_host_config(hc)
    assert (limits.cpu_quota, limits.cpu_period) == (50_000, 100_000)
    assert resources.host_config(BASE)["PidsLimit"] is None


@pytest.mark.parametrize(("opts", "message"), [
    ({"memory": 4 * M}, "Minimum memory limit allowed is 6MB"),
    ({"memory": 64 * M, "memory_swap": 32 * M}, "memoryswap limit should be larger"),
    ({"memory_swap": 64 * M}, "always set the Memory limit"),
    ({"nano_cpus": 500_000_000, "cpu_period": 50_000}, "Nano CPUs and CPU Period"),
    ({"nano_cpus": 4_000_000_000}, "Range of CPUs is from 0.01 to 2.00"),
    ({"nano_cpus": 1_000_000}, "Range of CPUs"),
    ({"cpuset_cpus": "0-7"}, "Requested CPUs are not available - requested 0-7, available: 0-1"),
    ({"cpuset_cpus": "1-0"}, "invalid value"),
    ({"cpu_shares": 1}, "cpu shares must be between"),
    ({"blkio_weight": 5}, "Range of blkio weight is from 10 to 1000"),
    ({"memory": 32 * M, "memory_reservation": 64 * M}, "memory reservation"),
])
def test_host_config_refuses_like_the_daemon(opts: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        resources.host_config(replace(BASE, **opts), online_cpus=2)  # type: ignore[arg-type]


def test_missing_device_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="/dev/nope"):
        resources.host_config(replace(BASE, device_read_bps=(("/dev/nope", M),)))
    with pytest.raises(InvalidArgument, match="not a block device"):
        resources.host_config(replace(BASE, device_read_bps=(("/dev/null", M),)))


def test_spec_resources_in_runtime_spec_terms() -> None:
    limits = Limits(memory=32 * M, memory_swap=64 * M, cpu_quota=50_000, cpu_period=100_000,
                    pids_limit=-1, blkio_weight=300, device_read_bps=(("8:0", M),))
    assert resources.spec_resources(limits) == {
        "memory": {"limit": 32 * M, "swap": 64 * M},
        "cpu": {"quota": 50_000, "period": 100_000},
        "pids": {"limit": -1},
        "blockIO": {"weight": 300, "throttleReadBpsDevice": [{"major": 8, "minor": 0,
                                                              "rate": M}]},
    }
    assert resources.spec_resources(Limits()) == {}


def test_update_rules() -> None:
    hc = resources.host_config(replace(BASE, memory=32 * M), online_cpus=2)
    new = resources.updated_host_config(hc, UpdateOptions(memory=64 * M, pids_limit=30))
    assert (new["Memory"], new["MemorySwap"], new["PidsLimit"]) == (64 * M, 64 * M, 30)
    with pytest.raises(Conflict, match="update the memoryswap at the same time"):
        resources.updated_host_config(hc, UpdateOptions(memory=128 * M))
    both = resources.updated_host_config(hc, UpdateOptions(memory=128 * M,
                                                           memory_swap=256 * M))
    assert both["MemorySwap"] == 256 * M
    nano = resources.host_config(replace(BASE, nano_cpus=10**9), online_cpus=2)
    with pytest.raises(Conflict, match="CPU Quota cannot be updated"):
        resources.updated_host_config(nano, UpdateOptions(cpu_quota=50_000))
    assert not resources.changed_limits(UpdateOptions(restart="always"))


def test_unsupported_limits_get_docker_warnings(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "cgroup.controllers").write_text("")  # a v2 host that delegates nothing
    (root / "cgroup.subtree_control").write_text("")
    warnings = resources.unsupported(V2Driver(root, "pydock"), Limits(
        memory=32 * M, memory_swap=64 * M, pids_limit=10, blkio_weight=300))
    assert warnings == [
        "Your kernel does not support swap limit capabilities or the cgroup is not mounted. "
        "Memory limited without swap.",
        "Your kernel does not support memory limit capabilities or the cgroup is not "
        "mounted. Limitation discarded.",
        "Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. "
        "PIDs limit discarded.",
        "Your kernel does not support Block I/O weight or the cgroup is not mounted. "
        "Weight discarded.",
    ]
    assert not (root / "pydock").exists() or not any((root / "pydock").iterdir())
    assert resources.unsupported(V2Driver(root, "pydock"), Limits()) == []


# -- health check configuration --------------------------------------------------------
IMAGE_HC = {"Test": ["CMD-SHELL", "curl -f localhost"], "Interval": 10 * 10**9, "Retries": 5}


def test_flags_override_the_image_field_by_field() -> None:
    opts = replace(BASE, health_cmd="true", health_timeout=2 * 10**9)
    assert healthcfg.merge(opts, IMAGE_HC) == {"Test": ["CMD-SHELL", "true"],
                                               "Interval": 10 * 10**9, "Retries": 5,
                                               "Timeout": 2 * 10**9}
    assert healthcfg.merge(BASE, IMAGE_HC) == IMAGE_HC
    assert healthcfg.merge(BASE, None) is None
    assert healthcfg.merge(replace(BASE, no_healthcheck=True), IMAGE_HC) == {"Test": ["NONE"]}


@pytest.mark.parametrize(("opts", "message"), [
    ({"no_healthcheck": True, "health_cmd": "true"}, "--no-healthcheck conflicts"),
    ({"health_interval": -1}, "--health-interval cannot be negative"),
    ({"health_retries": -1}, "--health-retries cannot be negative"),
    ({"health_timeout": 1000}, "Timeout in Healthcheck cannot be less than 1ms"),
])
def test_health_flags_are_checked(opts: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        healthcfg.merge(replace(BASE, **opts), None)  # type: ignore[arg-type]


def test_probe_has_docker_defaults() -> None:
    p = healthcfg.probe({"Test": ["CMD-SHELL", "test -e /ok"]})
    assert p == healthcfg.Probe(args=("/bin/sh", "-c", "test -e /ok"), interval=30 * 10**9,
                                timeout=30 * 10**9, start_period=0,
                                start_interval=5 * 10**9, retries=3)
    assert healthcfg.probe({"Test": ["CMD", "true"], "Retries": 1}).args == ("true",)  # type: ignore[union-attr]
    assert healthcfg.probe({"Test": ["NONE"]}) is None
    assert healthcfg.probe(None) is None


@pytest.mark.parametrize(("ns", "text"), [(30 * 10**9, "30s"), (1_500_000_000, "1.5s"),
                                           (200_000_000, "200ms"), (90 * 10**9, "1m30s"),
                                           (3600 * 10**9, "1h0m0s")])
def test_go_duration(ns: int, text: str) -> None:
    assert healthcfg.go_duration(ns) == text


def test_monitor_side_modules_stay_stdlib() -> None:
    """The monitor imports health and resources: no psutil, pyroute2 or UI toolkit."""
    import subprocess
    import sys

    code = ("import sys, engine.runtime.monitor, engine.runtime.health, "
            "engine.runtime.resources\n"
            "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('psutil', 'pyroute2', 'textual', 'rich', 'httpx') "
            "or m.startswith('engine.stats'))))")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == ""
