"""Live updates: engine events drive the lists, one stats hub samples once a second.

Containers come from ANOTHER process (the CLI, as a user in a second terminal would
start them), so the only way the app can learn about them is the shared event log.
Engine calls are counted by wrapping the engine's methods on the instance. Every
container is force-removed after each test (the ``cli_cleanup`` fixture).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.worker import WorkerState

from app.tui.app import PydockApp, make_app
from app.tui.containers_screen import ContainersScreen
from app.tui.images_screen import ImagesScreen
from app.tui.live import Batcher
from engine import Engine
from tests.integration.runtime_helpers import IMAGE, import_busybox, pydock, remove_all
from tests.ui.conftest import settle
from widgets import ImageTable

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="containers need root")

SIZE = (120, 36)
# The lists follow events; only the 30 s safety poll could also explain a change, so
# anything well under it proves the event path. Generous: 8 agents share 2 cores here.
LIVE_WITHIN = 5.0
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def root(test_base: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # Under the session's test base so the leak guard sees the containers' mounts.
    d = test_base / f"live-{os.urandom(3).hex()}"
    d.mkdir()
    monkeypatch.setenv("PYDOCK_ROOT", str(d))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def busybox(root: Path, tmp_path: Path) -> None:
    import_busybox(root, tmp_path)


@pytest.fixture
def cli_cleanup(root: Path) -> Iterator[None]:
    yield
    remove_all(root)


class Counted:
    """Wraps an engine method and counts its calls (from any thread)."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.fn(*args, **kwargs)


def count(monkeypatch: pytest.MonkeyPatch, engine: Engine, name: str) -> Counted:
    counted = Counted(getattr(engine, name))
    monkeypatch.setattr(engine, name, counted)
    return counted


async def cli(root: Path, *args: str) -> None:
    """The CLI in another process, off the event loop so the app keeps running."""
    r = await asyncio.to_thread(pydock, root, *args)
    assert r.returncode == 0, r.stderr


async def until(pilot: Pilot[Any], check: Callable[[], bool], timeout: float = 20) -> float:
    """Wait (the app running) until ``check`` holds; returns how long it took."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < timeout, "timed out"
        await pilot.pause(0.05)
    return time.monotonic() - start


def containers(app: PydockApp) -> ContainersScreen:
    screen = app.panel_screens["containers"]
    assert isinstance(screen, ContainersScreen)
    return screen


def rows(app: PydockApp) -> list[tuple[str, str]]:
    return [(c.name, c.status) for c in containers(app).table.containers]


# -- lists follow the events of other processes ---------------------------------------
async def test_container_run_by_the_cli_appears_then_goes(
        engine: Engine, root: Path, busybox: None, cli_cleanup: None) -> None:
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert rows(app) == []
        await cli(root, "run", "-d", "--network", "none", "--name", "ext", IMAGE, "sleep",
                  "1000")
        # No key pressed: the event log tells the app.
        took = await until(pilot, lambda: rows(app) == [("ext", "running")])
        assert took < LIVE_WITHIN
        await cli(root, "rm", "-f", "ext")
        took = await until(pilot, lambda: rows(app) == [])
        assert took < LIVE_WITHIN


async def test_container_that_exits_by_itself_shows_exited(
        engine: Engine, root: Path, busybox: None, cli_cleanup: None) -> None:
    # Nobody acts on it: its monitor writes the `die` event when the process ends.
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await cli(root, "run", "-d", "--network", "none", "--name", "brief", IMAGE, "sleep",
                  "2")
        await until(pilot, lambda: rows(app) == [("brief", "running")])
        took = await until(pilot, lambda: rows(app) == [("brief", "exited")])
        assert took < 2 + LIVE_WITHIN


async def test_hidden_panel_does_not_fetch_and_refreshes_on_return(
        engine: Engine, root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    images_list = count(monkeypatch, engine, "images_list")
    containers_list = count(monkeypatch, engine, "containers_list")
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        images = app.screen
        assert isinstance(images, ImagesScreen) and images_list.calls == 1
        await pilot.press("1")
        await settle(pilot)
        listed = containers_list.calls
        await asyncio.to_thread(import_busybox, root, tmp_path)  # the CLI, another process
        await until(pilot, lambda: images.stale)
        await pilot.pause(0.5)
        await settle(pilot)
        assert images_list.calls == 1  # hidden: marked stale, nothing fetched
        assert containers_list.calls == listed  # an image event is not this panel's business
        await pilot.press("2")
        table = images.query_one(ImageTable)
        await until(pilot, lambda: [r.repository for r in table.images] == ["busybox"])
        assert images_list.calls == 2 and not images.stale


async def test_panel_under_a_modal_waits_for_it_to_close(
        engine: Engine, root: Path, busybox: None, cli_cleanup: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # The panel's fetches, not the engine's list calls: the palette lists too.
        fetches = Counted(containers(app).fetch)
        monkeypatch.setattr(containers(app), "fetch", fetches)
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await cli(root, "run", "-d", "--network", "none", "--name", "ext", IMAGE, "sleep",
                  "1000")
        await until(pilot, lambda: containers(app).stale)
        await pilot.pause(1.0)  # the run's later events (start) arrive meanwhile too
        assert fetches.calls == 0 and rows(app) == []
        await pilot.press("escape")
        await until(pilot, lambda: rows(app) == [("ext", "running")], timeout=LIVE_WITHIN)
        assert fetches.calls == 1


async def test_a_burst_of_events_refreshes_each_panel_once(
        engine: Engine, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    containers_list = count(monkeypatch, engine, "containers_list")
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        listed = containers_list.calls
        # 50 events from another process, one emit (one flock, one write) each, as 50
        # CLI calls in a row would write them.
        code = (f"import sys; sys.path.insert(0, {str(REPO)!r})\n"
                "from engine import Engine, EngineConfig\n"
                f"e = Engine(EngineConfig(root={str(root)!r}))\n"
                "for i in range(50): e.events.emit('container', 'create', f'c{i}')\n")
        await asyncio.to_thread(subprocess.run, [sys.executable, "-c", code], check=True)
        await until(pilot, lambda: containers_list.calls > listed)
        await pilot.pause(1.0)  # a second batch would have come by now
        await settle(pilot)
        assert containers_list.calls == listed + 1


def test_batcher_lets_a_burst_go_once_the_log_is_quiet() -> None:
    now = [0.0]
    batch = Batcher(quiet=0.25, clock=lambda: now[0])
    assert batch.due() == frozenset()
    for i in range(50):
        batch.add("container" if i % 2 else "image")
        now[0] += 0.001
        assert batch.due() == frozenset()  # still coming
    now[0] += 0.2  # one poll interval later: a straggler of the same burst
    batch.add("volume")
    now[0] += 0.2
    assert batch.due() == frozenset()
    now[0] += 0.1
    assert batch.due() == {"container", "image", "volume"}
    assert batch.due() == frozenset()  # handed over once


async def test_quit_ends_the_follower_and_the_hub_promptly(engine: Engine) -> None:
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        follower, hub = app.events_follower, app.stats_hub
        assert follower.worker is not None and follower.worker.state == WorkerState.RUNNING
        assert not follower.stopped.is_set() and not hub.stopped.is_set()
        started = time.monotonic()
        await pilot.press("q")
    # Both threads block (a follow that polls the log, a hub that sleeps): quitting
    # must end them, not wait on them.
    assert follower.stopped.wait(2.0) and hub.stopped.wait(2.0)
    assert time.monotonic() - started < 2.0


# -- one stats hub ------------------------------------------------------------------------
async def test_stats_are_sampled_once_a_second_only_when_wanted(
        engine: Engine, root: Path, busybox: None, cli_cleanup: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    stats = count(monkeypatch, engine, "containers_stats")
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.pause(2.5)
        assert stats.calls <= 1  # nothing runs: one look at start, then quiet
        await cli(root, "run", "-d", "--network", "none", "--name", "ext", IMAGE, "sleep",
                  "1000")
        table = containers(app).table
        await until(pilot, lambda: rows(app) == [("ext", "running")])
        await until(pilot, lambda: str(table.get_row_at(0)[-1]).endswith("%"))
        before = stats.calls
        await pilot.pause(3.0)
        assert 2 <= stats.calls - before <= 5  # about once a second

        # Suspended (a shell has the terminal): no sampling.
        app.app_suspend_signal.publish(app)
        await pilot.pause(0.3)
        before = stats.calls
        await pilot.pause(2.0)
        assert stats.calls == before
        app.app_resume_signal.publish(app)
        await until(pilot, lambda: stats.calls > before)

        # No panel with live numbers in front: no sampling, and the list's own refresh
        # does not sample either (it used to).
        await pilot.press("2")
        await settle(pilot)
        await pilot.pause(0.3)
        before = stats.calls
        containers(app).refresh_now()
        await settle(pilot)
        await pilot.pause(2.0)
        assert stats.calls == before
        await pilot.press("1")
        await until(pilot, lambda: stats.calls > before)

        # The last container goes: one pass finds nothing, then the hub is quiet.
        await cli(root, "rm", "-f", "ext")
        await until(pilot, lambda: rows(app) == [])
        await pilot.pause(1.5)
        before = stats.calls
        await pilot.pause(2.0)
        assert stats.calls == before
