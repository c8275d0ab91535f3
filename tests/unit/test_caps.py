"""Capability names, Docker's default set and --cap-add/--cap-drop resolution (no root)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import InvalidArgument
from engine.runtime import caps
from engine.runtime.caps import DOCKER_DEFAULT, resolve_caps


def test_table_matches_linux_numbers() -> None:
    assert len(caps.CAPABILITIES) == 41
    assert caps.CAPABILITIES["CAP_CHOWN"] == 0
    assert caps.CAPABILITIES["CAP_NET_ADMIN"] == 12
    assert caps.CAPABILITIES["CAP_SYS_ADMIN"] == 21
    assert caps.CAPABILITIES["CAP_SYS_RESOURCE"] == 24
    assert caps.CAPABILITIES["CAP_AUDIT_WRITE"] == 29
    assert caps.CAPABILITIES["CAP_SETFCAP"] == 31
    assert caps.CAPABILITIES["CAP_AUDIT_READ"] == 37
    assert caps.CAPABILITIES["CAP_PERFMON"] == 38
    assert caps.CAPABILITIES["CAP_BPF"] == 39
    assert caps.CAPABILITIES["CAP_CHECKPOINT_RESTORE"] == 40
    assert sorted(caps.CAPABILITIES.values()) == list(range(41))


def test_docker_default_is_the_14_with_dockers_mask() -> None:
    assert len(DOCKER_DEFAULT) == 14 == len(set(DOCKER_DEFAULT))
    assert caps.to_mask(DOCKER_DEFAULT) == 0xA80425FB
    assert f"{caps.to_mask(DOCKER_DEFAULT):016x}" == "00000000a80425fb"
    assert set(caps.from_mask(0xA80425FB)) == set(DOCKER_DEFAULT)


@pytest.mark.parametrize("raw, name", [
    ("net_admin", "CAP_NET_ADMIN"), ("NET_ADMIN", "CAP_NET_ADMIN"),
    ("cap_net_admin", "CAP_NET_ADMIN"), ("Cap_Sys_Time", "CAP_SYS_TIME"),
    ("all", "ALL"), ("ALL", "ALL"),
])
def test_normalize(raw: str, name: str) -> None:
    assert caps.normalize(raw) == name


def test_no_flags_gives_docker_default() -> None:
    assert resolve_caps([], [], False, last=40) == list(DOCKER_DEFAULT)


def test_add_and_drop_any_spelling() -> None:
    got = resolve_caps(["net_admin", "CAP_SYS_PTRACE", "Sys_Time"], ["mknod", "CAP_NET_RAW"],
                       False, last=40)
    assert "CAP_MKNOD" not in got and "CAP_NET_RAW" not in got
    assert got[-3:] == ["CAP_NET_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_TIME"]
    assert len(got) == 15


def test_adding_a_default_does_not_duplicate() -> None:
    assert resolve_caps(["chown"], [], False, last=40) == list(DOCKER_DEFAULT)


def test_drop_all_then_add_some() -> None:
    assert resolve_caps(["chown", "NET_BIND_SERVICE"], ["ALL"], False, last=40) == [
        "CAP_CHOWN", "CAP_NET_BIND_SERVICE"]
    assert resolve_caps([], ["all"], False, last=40) == []


def test_add_all_minus_drops() -> None:
    everything = resolve_caps(["ALL"], [], False, last=40)
    assert everything == list(caps.CAPABILITIES)
    assert resolve_caps(["all"], ["net_raw"], False, last=40) == [
        c for c in caps.CAPABILITIES if c != "CAP_NET_RAW"]


def test_unknown_name_is_named_in_the_error() -> None:
    with pytest.raises(InvalidArgument, match='unknown capability: "CAP_FOO"'):
        resolve_caps(["foo"], [], False, last=40)
    with pytest.raises(InvalidArgument, match='unknown capability: "CAP_BAR"'):
        resolve_caps([], ["CAP_BAR"], False, last=40)


def test_kernel_limit_applies_to_names_and_privileged() -> None:
    with pytest.raises(InvalidArgument, match="CAP_BPF"):
        resolve_caps(["bpf"], [], False, last=37)
    privileged = resolve_caps([], [], True, last=37)
    assert len(privileged) == 38 and privileged[-1] == "CAP_AUDIT_READ"


def test_privileged_ignores_add_and_drop() -> None:
    assert resolve_caps(["nonsense"], ["ALL"], True, last=40) == list(caps.CAPABILITIES)


def test_last_cap_reads_proc(tmp_path: Path) -> None:
    (tmp_path / "sys/kernel").mkdir(parents=True)
    (tmp_path / "sys/kernel/cap_last_cap").write_text("37\n")
    assert caps.last_cap(str(tmp_path)) == 37


def test_last_cap_probes_without_proc(tmp_path: Path) -> None:
    expected = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    assert caps.last_cap(str(tmp_path / "missing")) == expected


def test_to_mask_rejects_unknown() -> None:
    with pytest.raises(InvalidArgument):
        caps.to_mask(["CAP_NOPE"])
