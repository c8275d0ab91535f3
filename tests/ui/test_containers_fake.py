"""The Containers panel driven by the fake engine (tests/fakes, checked by tests/conformance).

What a real engine cannot make deterministic lives here: six containers in six states
at fixed ages, CPU/MEM bars with known numbers, health that changes on cue, a start
that fails, a log that grows while followed, another process acting behind the
panel's back. The real-engine tests in test_containers_panel.py stay: they prove the
same screens work against the real thing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, cast

import pytest
from textual.pilot import Pilot
from textual.widgets import TabbedContent

from app.tui.app import PydockApp, make_app
from app.tui.confirm_screen import ConfirmScreen
from app.tui.containers_screen import ContainersScreen
from engine import Engine
from engine.types import CreateOptions, ImportOptions
from tests.fakes import FakeEngine, Program
from tests.ui.conftest import CREATED, FROZEN_NOW, rootfs_tar, settle
from widgets import LogView, ProcessTable

SIZE = (120, 36)
IMAGE = "hello:1.0"
MiB = 1 << 20
SHOP = (("com.docker.compose.project", "shop"),)
BROKEN = ("/app/missing",)


def seed_six(fake: FakeEngine) -> dict[str, str]:
    """Six containers, one per state, with ages counted back from FROZEN_NOW:
    web (running 9 min, busy), db (healthy), api (unhealthy), cache (paused),
    job (exited (1) 5 min ago), new (created). The fake's clock is left at the job's
    exit, five minutes before the app's, so later stops read "5 minutes ago" too."""
    fake.images_import(rootfs_tar(), ImportOptions(reference=IMAGE, created=CREATED),
                       source="rootfs.tar")

    def make(name: str, **kw: Any) -> str:
        return fake.containers_create(CreateOptions(image=IMAGE, name=name,
                                                    command=kw.pop("command", ("serve",)),
                                                    **kw))

    ids = {"web": make("web", labels=SHOP), "db": make("db", labels=SHOP, health_cmd="true"),
           "api": make("api", health_cmd="false", health_retries=1),
           "cache": make("cache"), "job": make("job", command=("batch",)), "new": make("new")}
    fake.advance(60)
    for name in ("web", "db", "api", "cache", "job"):
        fake.containers_start(name)
    fake.containers_pause(["cache"])
    fake.set_stats("web", cpu_percent=42.0, mem_usage=256 * MiB, mem_limit=1024 * MiB)
    fake.set_stats("db", cpu_percent=3.5, mem_usage=600 * MiB, mem_limit=1024 * MiB)
    fake.set_stats("api", cpu_percent=97.0, mem_usage=900 * MiB, mem_limit=1024 * MiB)
    fake.set_stats("cache", mem_usage=100 * MiB, mem_limit=1024 * MiB)
    fake.advance(240)
    fake.print("job", "processed 10 items", "error: out of items")
    fake.exit("job", 1)
    return ids


def app_for(engine: FakeEngine, *, show_ids: bool = True) -> PydockApp:
    return make_app(cast(Engine, engine), clock=lambda: FROZEN_NOW, show_ids=show_ids)


def panel(app: PydockApp) -> ContainersScreen:
    screen = app.screen
    assert isinstance(screen, ContainersScreen), screen
    return screen


def rows(app: PydockApp) -> dict[str, dict[str, str]]:
    """Each shown row's cells by column key (name, image, state, status, cpu, mem...)."""
    table = panel(app).table
    keys = [str(k.value) for k in table.columns]
    return {c.name: dict(zip(keys, (str(x) for x in table.get_row(c.id)), strict=True))
            for c in table.containers}


def cells(row: dict[str, str], *keys: str) -> list[str]:
    return [row[k] for k in keys]


def state(fake: FakeEngine, name: str) -> str:
    return next((c.status for c in fake.containers_list(all=True) if c.name == name), "gone")


def notices(app: PydockApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def until(pilot: Pilot[Any], check: Callable[[], bool], timeout: float = 20) -> None:
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, "timed out"
        await pilot.pause(0.05)


def bars_in(app: PydockApp) -> bool:
    """The stats hub's first pass has reached the table (the running rows have numbers)."""
    return all(r["mem"].endswith("%") for name, r in rows(app).items()
               if name in ("web", "db", "api", "cache"))


# -- the list ----------------------------------------------------------------------------------
async def test_six_states_with_ages_health_and_bars(fake_engine: FakeEngine) -> None:
    seed_six(fake_engine)
    app = app_for(fake_engine, show_ids=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await until(pilot, lambda: bars_in(app))
        got = rows(app)
        assert list(got) == ["api", "cache", "db", "job", "new", "web"]
        assert "id" not in got["web"]
        assert cells(got["web"], "image", "state", "status", "cpu", "mem") == [
            IMAGE, "running", "Up 9 minutes", "▆▆▁▁▁  42%", "▆▁▁▁▁  25%"]
        assert cells(got["db"], "state", "status", "cpu", "mem") == [
            "running (healthy)", "Up 9 minutes", "▁▁▁▁▁   4%", "▆▆▆▁▁  59%"]
        assert cells(got["api"], "state", "cpu", "mem") == [
            "running (unhealthy)", "▆▆▆▆▆  97%", "▆▆▆▆▁  88%"]
        # Paused: still "Up", no CPU while frozen, memory still held.
        assert cells(got["cache"], "state", "status", "cpu", "mem") == [
            "paused", "Up 9 minutes (Paused)", "▁▁▁▁▁   0%", "▁▁▁▁▁  10%"]
        # Not running: a dash, never a made-up zero.
        assert cells(got["job"], "state", "status", "cpu", "mem") == [
            "exited", "Exited (1) 5 minutes ago", "–", "–"]
        assert cells(got["new"], "state", "status", "cpu", "mem") == [
            "created", "Created", "–", "–"]
        assert str(panel(app).sub_title).startswith("Containers (6) · sort: name")


async def test_running_only_and_status_sort(fake_engine: FakeEngine) -> None:
    seed_six(fake_engine)
    app = app_for(fake_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a")
        assert list(rows(app)) == ["api", "cache", "db", "web"]
        await pilot.press("a", "o")  # by status: running, paused, created, exited
        assert list(rows(app)) == ["api", "db", "web", "cache", "new", "job"]


# -- live: events from elsewhere ------------------------------------------------------------------
async def test_changes_made_elsewhere_show_without_a_refresh(
        fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ContainersScreen, "REFRESH_SECONDS", 600)  # events only
    seed_six(fake_engine)
    app = app_for(fake_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # Another process starts one, a health check turns, a container dies.
        fake_engine.containers_start("new")
        await until(pilot, lambda: rows(app)["new"]["state"] == "running")
        fake_engine.set_health("api", "healthy")
        await until(pilot, lambda: rows(app)["api"]["state"] == "running (healthy)")
        fake_engine.exit("web", 137)
        await until(pilot, lambda: rows(app)["web"]["state"] == "exited")
        assert cells(rows(app)["web"], "cpu", "mem") == ["–", "–"]  # no stale numbers
        fake_engine.containers_remove(["job"])
        await until(pilot, lambda: "job" not in rows(app))


# -- actions -----------------------------------------------------------------------------------
async def test_marked_rows_each_get_their_own_report(fake_engine: FakeEngine) -> None:
    seed_six(fake_engine)
    app = app_for(fake_engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("space", "space", "space", "space")  # api, cache, db, job
        assert len(panel(app).table.marked) == 4
        await pilot.press("p")  # pause the running, unpause the paused, job cannot
        wanted = ("Paused api", "Paused db", "Unpaused cache", "Cannot pause job")
        await until(pilot, lambda: all(w in "\n".join(notices(app)) for w in wanted))
        await settle(pilot)
        text = "\n".join(notices(app))
        assert "Paused api" in text and "Paused db" in text and "Unpaused cache" in text
        assert "Cannot pause job: cannot pause container job: container is not running" in text
        assert [state(fake_engine, n) for n in ("api", "cache", "db", "job")] == [
            "paused", "running", "paused", "exited"]
        assert not panel(app).table.marked
        await until(pilot, lambda: rows(app)["cache"]["state"] == "running")


async def test_stop_then_start_with_the_events_they_cause(fake_engine: FakeEngine) -> None:
    seed_six(fake_engine)
    app = app_for(fake_engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert panel(app).table.select(fake_engine.containers_resolve("web"))
        mark = len(fake_engine.events_list())
        await pilot.press("s")
        await until(pilot, lambda: rows(app)["web"]["state"] == "exited")
        assert rows(app)["web"]["status"] == "Exited (137) 5 minutes ago"
        await pilot.press("s")
        await until(pilot, lambda: rows(app)["web"]["state"] == "running")
        assert [e.action for e in fake_engine.events_list()[mark:]] == [
            "kill", "kill", "die", "stop", "start"]
        assert any("Stopped web" in n for n in notices(app))
        assert any("Started web" in n for n in notices(app))


async def test_a_start_that_fails_says_why_and_changes_nothing(
        fake_engine: FakeEngine) -> None:
    fake_engine.images_import(rootfs_tar(), ImportOptions(reference=IMAGE, created=CREATED))
    fake_engine.script(BROKEN, Program(start_error='exec: "/app/missing": no such file'))
    fake_engine.containers_create(CreateOptions(image=IMAGE, name="broken", command=BROKEN))
    app = app_for(fake_engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await until(pilot, lambda: any("Cannot start broken" in n for n in notices(app)))
        assert 'exec: "/app/missing": no such file' in "\n".join(notices(app))
        await settle(pilot)
        assert rows(app)["broken"]["state"] == "created"


async def test_remove_a_running_one_asks_then_kills_and_removes(
        fake_engine: FakeEngine) -> None:
    seed_six(fake_engine)
    app = app_for(fake_engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)  # cursor on api (running)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        assert "api is running and will be killed first" in app.screen.question
        await pilot.press("y")
        await until(pilot, lambda: "api" not in rows(app))
        assert state(fake_engine, "api") == "gone"
        actions = [e.action for e in fake_engine.events_list()
                   if e.attributes.get("name") == "api"]
        assert actions[-3:] == ["kill", "die", "destroy"]


# -- detail pane -------------------------------------------------------------------------------
async def test_logs_follow_new_lines_and_end_with_the_container(
        fake_engine: FakeEngine) -> None:
    seed_six(fake_engine)
    fake_engine.print("web", "GET / 200", "GET /health 200")
    app = app_for(fake_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        panel(app).table.select(fake_engine.containers_resolve("web"))
        log = app.screen.query_one(LogView)
        await until(pilot, lambda: log.line_count == 2)
        fake_engine.print("web", "POST /login 302", stream="stderr")
        await until(pilot, lambda: log.line_count == 3)
        assert log.export() == "GET / 200\nGET /health 200\nPOST /login 302\n"
        header = str(app.screen.query_one("#log-header").render())
        assert "web · tail 1000 · since start · following · 3 lines" in header
        fake_engine.exit("web", 0)
        await until(pilot, lambda: "ended (exited)" in str(
            app.screen.query_one("#log-header").render()))
        # An exited container's log is read once, whole.
        panel(app).table.select(fake_engine.containers_resolve("job"))
        await until(pilot, lambda: log.export() == "processed 10 items\nerror: out of items\n")


async def test_stats_tab_shows_the_sampled_numbers(fake_engine: FakeEngine) -> None:
    seed_six(fake_engine)
    fake_engine.set_stats("web", net_rx=2_000_000, net_tx=500_000, pids=7)
    app = app_for(fake_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        panel(app).table.select(fake_engine.containers_resolve("web"))
        app.screen.query_one(TabbedContent).active = "stats"
        screen = app.screen

        def value(key: str) -> str:
            return str(screen.query_one(f"#{key}-value").render())

        await until(pilot, lambda: value("cpu") == "42.00%")
        assert value("mem") == "256MiB / 1GiB (25.00%)"
        assert value("net").startswith("2MB / 500kB") and value("pids") == "7"
        panel(app).table.select(fake_engine.containers_resolve("new"))
        await until(pilot, lambda: "new is created: no stats." in str(
            screen.query_one("#stats-note").render()))


async def test_top_tab_lists_the_scripted_processes(fake_engine: FakeEngine) -> None:
    fake_engine.images_import(rootfs_tar(), ImportOptions(reference=IMAGE, created=CREATED))
    fake_engine.script(("nginx",), Program(processes=("nginx: master", "nginx: worker")))
    fake_engine.containers_create(CreateOptions(image=IMAGE, name="proxy", command=("nginx",)))
    fake_engine.containers_start("proxy")
    app = app_for(fake_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one(TabbedContent).active = "top"
        top = app.screen.query_one(ProcessTable)
        await until(pilot, lambda: top.row_count == 2)
        cmds = [str(top.get_row_at(i)[-1]) for i in range(2)]
        assert cmds == ["nginx: master", "nginx: worker"]


# -- snapshot ----------------------------------------------------------------------------------
def test_snapshot_six_states(fake_engine: FakeEngine, snap_compare: Any) -> None:
    seed_six(fake_engine)

    async def run_before(pilot: Pilot[Any]) -> None:
        app = cast(PydockApp, pilot.app)
        await settle(pilot)
        await until(pilot, lambda: bars_in(app))
        await pilot.press("j", "j", "j")  # job: its log, read whole, under the list
        log = app.screen.query_one(LogView)
        await until(pilot, lambda: log.line_count == 2 and "ended" in str(
            app.screen.query_one("#log-header").render()))
        await settle(pilot)

    assert snap_compare(app_for(fake_engine, show_ids=False), terminal_size=SIZE,
                        run_before=run_before)
