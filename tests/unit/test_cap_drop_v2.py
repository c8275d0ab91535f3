from __future__ import annotations

from pathlib import Path

from engine.config import EngineConfig
from engine.runtime.create import _cap_drop
from engine.types import CreateOptions


def _cfg(tmp_path: Path, v2: bool) -> EngineConfig:
    cg = tmp_path / ("cgroup2" if v2 else "cgroup1")
    cg.mkdir(exist_ok=True)
    if v2:
        (cg / "cgroup.controllers").write_text("cpu memory pids\n")
    else:
        (cg / "memory").mkdir(exist_ok=True)
        (cg / "memory" / "cgroup.procs").write_text("")
    return EngineConfig(root=tmp_path / "root", cgroup_root=cg)


def test_mknod_dropped_only_where_no_device_rules_are_written(tmp_path: Path) -> None:
    assert _cap_drop(_cfg(tmp_path, v2=True), CreateOptions(image="x")) == ("MKNOD",)
    assert _cap_drop(_cfg(tmp_path, v2=True),
                     CreateOptions(image="x", cap_add=("mknod",))) == ()
    assert _cap_drop(_cfg(tmp_path, v2=True), CreateOptions(image="x", privileged=True)) == ()


def test_v1_keeps_docker_defaults(tmp_path: Path) -> None:
    assert _cap_drop(_cfg(tmp_path, v2=False), CreateOptions(image="x", cap_drop=("NET_RAW",))
                     ) == ("NET_RAW",)
