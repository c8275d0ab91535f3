"""The Monitor panel (panel 5): live table of running containers, host totals, snapshot.

Behaviour runs against real containers started by the CLI in another process; the
snapshot feeds the app's stats hub fixed samples (a fake ``containers_stats`` whose
counters grow by the same amount each pass, so every rate is constant) and fixed host
totals, so nothing in it varies between runs.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import TabbedContent

import app.tui.stats_hub as stats_hub
from app.tui.app import PydockApp, make_app
from app.tui.containers_screen import ContainersScreen
from app.tui.monitor_screen import MonitorScreen, host_line
from app.tui.stats_hub import HostTotals
from engine import Engine
from engine.types import StatsSample
from tests.integration.runtime_helpers import IMAGE, import_busybox, pydock, remove_all
from tests.ui.conftest import FROZEN_NOW, settle
from widgets import LogView
from widgets.monitor_table import MonitorTable, cpu_bar, monitor_row, rate, sort_key

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="containers need root")

SIZE = (120, 36)
MiB = 1 << 20
GiB = 1 << 30


@pytest.fixture
def root(test_base: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # Under the session's test base so the leak guard sees the containers' mounts.
    d = test_base / f"monitor-{os.urandom(3).hex()}"
    d.mkdir()
    monkeypatch.setenv("PYDOCK_ROOT", str(d))
    yield d
    shutil.rmtree(d, ignore_errors=True)


async def until(pilot: Pilot[Any], check: Callable[[], bool], timeout: float = 20) -> None:
    end = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < end, "timed out"
        await pilot.pause(0.05)


def monitor(app: PydockApp) -> MonitorScreen:
    screen = app.screen
    assert isinstance(screen, MonitorScreen), screen
    return screen


def names(app: PydockApp) -> list[str]:
    return [r.name for r in monitor(app).table.shown]


# -- pure parts ------------------------------------------------------------------------
def sample(name: str, n: int, **kw: Any) -> StatsSample:
    """Pass ``n`` of a container whose counters grow by a fixed step each second."""
    base: dict[str, Any] = dict(
        id=name * 8, name=name, read=1000.0 + n, cpu_percent=12.5, mem_usage=64 * MiB,
        mem_limit=GiB, mem_percent=6.25, net_rx=1000 + 2000 * n, net_tx=500 + 500 * n,
        block_read=4096 * n, block_write=8192 * n, pids=2)
    base.update(kw)
    return StatsSample(**base)


def test_rates_come_from_consecutive_samples() -> None:
    first = monitor_row(sample("web", 0), None)
    assert (first.rx, first.tx, first.read, first.write) == (None, None, None, None)
    row = monitor_row(sample("web", 2), sample("web", 0))  # two seconds apart
    assert (row.rx, row.tx, row.read, row.write) == (2000.0, 500.0, 4096.0, 8192.0)
    stale = monitor_row(sample("web", 60), sample("web", 0), max_gap=3.0)  # a minute away
    assert (stale.rx, stale.read) == (None, None) and stale.cpu_percent == 12.5
    # A counter that went back (the container restarted) is no negative rate.
    assert rate(5000, 100, 1.0) == 0.0
    assert rate(0, 100, 0.0) is None


def test_sort_keys_put_the_biggest_first_and_names_a_to_z() -> None:
    rows = [monitor_row(sample(n, 1, cpu_percent=c, pids=p), None)
            for n, c, p in (("b", 5.0, 9), ("a", 50.0, 1), ("c", 5.0, 3))]
    assert [r.name for r in sorted(rows, key=lambda r: sort_key(r, "cpu"))] == ["a", "b", "c"]
    assert [r.name for r in sorted(rows, key=lambda r: sort_key(r, "pids"))] == ["b", "c", "a"]
    assert [r.name for r in sorted(rows, key=lambda r: sort_key(r, "name"))] == ["a", "b", "c"]
    assert cpu_bar(50.0) == "▆▆▆▆▁▁▁▁  50.0%" and cpu_bar(250.0).startswith("▆" * 8)


def test_host_line_sums_the_running_containers() -> None:
    host = HostTotals(cpu_percent=23.4, cpus=2, mem_used=3 * GiB, mem_total=8 * GiB,
                      load=(0.5, 0.25, 0.125))
    line = host_line(host, [sample("a", 1, cpu_percent=10.0), sample("b", 1, cpu_percent=5.5)])
    assert line.splitlines() == [
        "Host        CPU 23.4% of 2 cores · MEM 3GiB / 8GiB (37.5%) · load 0.50 0.25 0.12",
        "Containers  2 running · CPU 15.5% · MEM 128MiB"]
    assert host_line(None, []).splitlines()[1] == "Containers  0 running · CPU 0.0% · MEM 0B"


# -- against real containers -------------------------------------------------------------
@needs_root
async def test_monitor_lists_running_containers_sorts_filters_and_jumps_to_logs(
        engine: Engine, root: Path, tmp_path: Path) -> None:
    import_busybox(root, tmp_path)
    try:
        for name, cmd in (("one", ["sleep", "1000"]),
                          ("three", ["sh", "-c", "sleep 1000 & sleep 1000 & wait"])):
            r = pydock(root, "run", "-d", "--network", "none", "--name", name, IMAGE, *cmd)
            assert r.returncode == 0, r.stderr
        pydock(root, "create", "--network", "none", "--name", "idle", IMAGE, "true")
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("5")
            screen = monitor(app)
            table = screen.query_one(MonitorTable)
            # Rates need two passes; a created container is not running: no row.
            await until(pilot, lambda: sorted(r.name for r in table.rows_by_id.values()
                                              if r.rx is not None) == ["one", "three"])
            by_name = {r.name: r for r in table.rows_by_id.values()}
            for row in by_name.values():
                assert row.cpu_percent >= 0 and row.mem_usage > 0
                assert min(row.rx or 0, row.tx or 0, row.read or 0, row.write or 0) >= 0
            assert (by_name["one"].pids, by_name["three"].pids) == (1, 3)
            host = str(screen.query_one("#host").render())
            assert host.startswith("Host        CPU ") and " load " in host
            assert "Containers  2 running" in host

            await pilot.press("o", "o", "o", "o")  # cpu → mem → net → block → pids
            assert table.sort_by == "pids" and names(app) == ["three", "one"]
            assert "sort: pids" in str(screen.sub_title)
            await pilot.press("O")
            assert names(app) == ["one", "three"] and "reversed" in str(screen.sub_title)
            await pilot.press("o")  # by name, A to Z
            assert names(app) == ["one", "three"]

            await pilot.press("slash", *"thr", "enter")
            assert names(app) == ["three"]
            await pilot.press("escape")
            assert names(app) == ["one", "three"]
            selected = table.selected
            assert selected is not None and selected.name == "three"  # kept its container

            await pilot.press("k", "enter")  # on "one": its logs in the Containers panel
            await until(pilot, lambda: isinstance(app.screen, ContainersScreen)
                        and isinstance(app.focused, LogView))
            containers = app.screen
            assert isinstance(containers, ContainersScreen)
            assert containers.detail is not None and containers.detail.name == "one"
            assert containers.query_one(TabbedContent).active == "logs"
    finally:
        remove_all(root)


@needs_root
async def test_monitor_drops_a_container_that_stops(engine: Engine, root: Path,
                                                    tmp_path: Path) -> None:
    import_busybox(root, tmp_path)
    try:
        r = pydock(root, "run", "-d", "--network", "none", "--name", "brief", IMAGE,
                   "sleep", "1000")
        assert r.returncode == 0, r.stderr
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("5")
            await until(pilot, lambda: names(app) == ["brief"])
            assert not monitor(app).has_class("-none")
            await asyncio.to_thread(pydock, root, "kill", "brief")
            await until(pilot, lambda: names(app) == [])
            assert monitor(app).has_class("-none")
            assert "Containers  0 running" in str(monitor(app).query_one("#host").render())
    finally:
        remove_all(root)


# -- snapshot ------------------------------------------------------------------------------
@pytest.fixture
def fixed_stats(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    passes = itertools.count()

    def containers_stats(refs: list[str] | None = None) -> list[StatsSample]:
        n = next(passes)
        return [
            sample("web", n, cpu_percent=37.5, mem_usage=120 * MiB, mem_percent=11.72, pids=7),
            sample("db", n, cpu_percent=4.25, mem_usage=310 * MiB, mem_percent=30.27,
                   net_rx=3_000_000 * n, block_write=1_500_000 * n, pids=23),
            sample("worker", n, cpu_percent=88.0, mem_usage=48 * MiB, mem_limit=256 * MiB,
                   mem_percent=18.75, net_tx=0, pids=4),
        ]

    monkeypatch.setattr(engine, "containers_stats", containers_stats)
    monkeypatch.setattr(stats_hub, "host_totals", lambda: HostTotals(
        cpu_percent=23.4, cpus=2, mem_used=3 * GiB, mem_total=8 * GiB, load=(0.52, 0.41, 0.3)))


def test_snapshot_monitor(engine: Engine, fixed_stats: None, snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("5")
        app = pilot.app
        assert isinstance(app, PydockApp)
        table = monitor(app).query_one(MonitorTable)
        await until(pilot, lambda: len(table.rows_by_id) == 3 and all(
            r.rx is not None for r in table.rows_by_id.values()))
        await settle(pilot)

    app = make_app(engine, clock=lambda: FROZEN_NOW, show_ids=False)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
