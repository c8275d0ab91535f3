"""A sampler that runs every second (the TUI's, ``stats`` streaming) against real
containers: cached records and kept cgroup handles must follow every change."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import Engine
from engine.config import EngineConfig
from tests.integration.runtime_helpers import (
    IMAGE,
    import_busybox,
    inspect,
    pydock,
    remove_all,
)

pytestmark = [pytest.mark.root,
              pytest.mark.skipif(os.geteuid() != 0, reason="needs root for cgroups")]


@pytest.fixture
def rt(root: Path, tmp_path: Path) -> Iterator[Path]:
    import_busybox(root, tmp_path)
    yield root
    remove_all(root)


def _names(engine: Engine) -> list[str]:
    return sorted(s.name for s in engine.containers_stats())


def test_repeated_passes_follow_starts_stops_and_restarts(rt: Path) -> None:
    engine = Engine(EngineConfig(root=rt))
    assert pydock(rt, "run", "-d", "--name", "a", IMAGE, "sleep", "1000").returncode == 0
    assert pydock(rt, "create", "--name", "b", IMAGE, "sleep", "1000").returncode == 0
    assert _names(engine) == ["a"]
    first = engine.containers_stats()[0]
    assert first.pids == 1 and first.mem_usage > 0
    assert pydock(rt, "start", "b").returncode == 0  # written by another process
    assert _names(engine) == ["a", "b"]
    assert pydock(rt, "stop", "-t", "1", "a").returncode == 0
    assert _names(engine) == ["b"]
    assert len(engine._sampler._handles) > 0
    # A restart is a new run (new PID, new cgroup): its handles are fresh, not stale.
    assert pydock(rt, "restart", "-t", "1", "b").returncode == 0
    [b] = engine.containers_stats()
    assert b.name == "b" and b.pids == 1 and b.mem_usage > 0


def test_a_monitor_killed_between_passes_is_reconciled(rt: Path) -> None:
    engine = Engine(EngineConfig(root=rt))
    assert pydock(rt, "run", "-d", "--name", "orphan", IMAGE, "sleep", "1000").returncode == 0
    assert _names(engine) == ["orphan"]  # the record is cached from here on
    cid = inspect(rt, "orphan")["Id"]
    state = json.loads((rt / "containers" / cid / "state.json").read_text())["state"]
    os.kill(state["monitor_pid"], signal.SIGKILL)
    time.sleep(0.2)
    # The record still says "running" (nobody wrote it): the pass must notice the dead
    # monitor, as a full refresh would, rather than trust the cached record.
    assert _names(engine) == []
    assert inspect(rt, "orphan")["State"]["Status"] == "exited"
