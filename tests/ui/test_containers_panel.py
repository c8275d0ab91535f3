"""The Containers panel with Pilot against the real engine on a temporary root.

Containers are made through the facade (``containers_create`` + ``containers_start``)
and always force-removed in the fixture's ``finally``. Waits poll the engine and the
table, since state changes land only after a thread worker and a refresh.
"""

from __future__ import annotations

import io
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, TabbedContent

from app.tui.actions_menu import ActionsMenu
from app.tui.app import PydockApp, make_app
from app.tui.confirm_screen import ConfirmScreen
from app.tui.containers_screen import ContainersScreen
from app.tui.prompt_screen import PromptScreen
from engine import Engine
from engine.types import CreateOptions, ImportOptions
from tests.conftest import busybox_rootfs_tar
from tests.ui.conftest import CREATED, FROZEN_NOW, settle
from widgets import ContainerTable, JsonTree, LogView, ProcessTable

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="containers need root")

SIZE = (120, 36)
IMAGE = "busybox:local"
Make = Callable[..., str]


@pytest.fixture
def root(test_base: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # Under the session's test base (tests/conftest.py), not tmp_path as the image tests:
    # containers mount and spawn monitors, and the leak guard must see this root.
    # Made the default root too, so any hint shows plain `pydock ...` commands.
    d = test_base / f"ui-{os.urandom(3).hex()}"
    d.mkdir()
    monkeypatch.setenv("PYDOCK_ROOT", str(d))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def busybox(engine: Engine) -> str:
    return engine.images_import(io.BytesIO(busybox_rootfs_tar()),
                                ImportOptions(reference=IMAGE, changes=('CMD ["sh"]',),
                                              created=CREATED), source="busybox.tar")


@pytest.fixture
def make(engine: Engine, busybox: str) -> Iterator[Make]:
    """``make(name, start=..., command=..., labels=...)``; everything made is removed."""
    made: list[str] = []

    def create(name: str, *, start: bool = False, command: tuple[str, ...] = ("sleep", "1000"),
               labels: tuple[tuple[str, str], ...] = ()) -> str:
        # stop_timeout=1: sleep as PID 1 ignores SIGTERM, so stop ends with the SIGKILL.
        cid = engine.containers_create(CreateOptions(image=IMAGE, command=command, name=name,
                                                     labels=labels, stop_timeout=1))
        made.append(cid)
        if start:
            engine.containers_start(cid)
        return cid

    try:
        yield create
    finally:
        if made:
            engine.containers_remove(made, force=True)


def app_for(engine: Engine, *, show_ids: bool = True) -> PydockApp:
    return make_app(engine, clock=lambda: FROZEN_NOW, show_ids=show_ids)


def panel(app: PydockApp) -> ContainersScreen:
    screen = app.screen
    assert isinstance(screen, ContainersScreen), screen
    return screen


def rows(app: PydockApp) -> list[tuple[str, str]]:
    """(name, state) per shown row, top to bottom."""
    table = panel(app).table
    return [(c.name, c.status) for c in table.containers]


def state_of(engine: Engine, cid: str) -> str:
    return next((c.status for c in engine.containers_list(all=True) if c.id == cid), "gone")


async def until(pilot: Pilot[Any], check: Callable[[], bool], timeout: float = 20) -> None:
    """Poll ``check`` while the app runs (workers, refresh timer) until it holds."""
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, "timed out"
        await pilot.pause(0.1)


def cells(table: DataTable[Any]) -> list[list[str]]:
    return [[str(c) for c in table.get_row(r.key)] for r in table.ordered_rows]


def first_hit(app: PydockApp) -> str:
    """The palette's top hit so far ("" while it is still searching)."""
    hits = app.screen.query(CommandList)
    if not hits or not hits.first().option_count:
        return ""
    return str(hits.first().get_option_at_index(0).prompt)


def notices(app: PydockApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


# -- list ------------------------------------------------------------------------------
async def test_table_lists_containers_with_their_state(engine: Engine, make: Make) -> None:
    web = make("web", start=True)
    db = make("db")
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert rows(app) == [("db", "created"), ("web", "running")]
        table = panel(app).table
        cells = [str(c) for c in table.get_row(web)]
        assert web[:12] in cells and "busybox:local" in cells and "running" in cells
        assert any(c.startswith("Up ") for c in cells)
        # Measured by the app's stats hub (its first pass may land after the list): a CPU
        # and a MEM bar for the running one...
        await until(pilot, lambda: all(not str(c).startswith("–") for c in table.get_row(web)))
        cells = [str(c) for c in table.get_row(web)]
        assert [c for c in cells if c.endswith("%")]
        # ...and a dash, not a zero, for the one that is not running.
        assert [str(c) for c in table.get_row(db)][-2:] == ["–", "–"]
        assert str(panel(app).sub_title).startswith("Containers (2)")


async def test_empty_root_explains_how_to_start(engine: Engine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = panel(app)
        assert screen.has_class("-empty")
        assert "pydock run -d --name web" in str(screen.query_one("#empty").render())


async def test_filter_sort_and_hide_stopped(engine: Engine, make: Make) -> None:
    make("web", start=True)
    make("db")
    make("cache")
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", "w", "e")
        assert isinstance(app.focused, Input)
        assert [n for n, _ in rows(app)] == ["web"]
        await pilot.press("escape")
        assert isinstance(app.focused, ContainerTable)
        assert len(rows(app)) == 3
        await pilot.press("a")  # running only
        assert rows(app) == [("web", "running")]
        await pilot.press("a", "o")  # all again; sort by status: running first
        assert [n for n, _ in rows(app)] == ["web", "cache", "db"]
        await pilot.press("o")  # created: newest first
        assert [n for n, _ in rows(app)] == ["cache", "db", "web"]


async def test_refresh_keeps_rows_and_cursor(engine: Engine, make: Make,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ContainersScreen, "REFRESH_SECONDS", 0.2)
    make("b")
    make("c")
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j")
        table = panel(app).table
        assert table.selected_container and table.selected_container.name == "c"
        make("a")  # sorts above the cursor row
        await until(pilot, lambda: len(rows(app)) == 3)
        assert [n for n, _ in rows(app)] == ["a", "b", "c"]
        # The cursor followed its container, not its row index.
        assert table.selected_container and table.selected_container.name == "c"


# -- actions -----------------------------------------------------------------------------
async def test_s_stops_a_running_container(engine: Engine, make: Make) -> None:
    web = make("web", start=True)
    app = app_for(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await until(pilot, lambda: rows(app) == [("web", "exited")])
        assert state_of(engine, web) == "exited"
        assert any("Stopped web" in n for n in notices(app))
        await pilot.press("s")  # and s starts it again
        await until(pilot, lambda: rows(app) == [("web", "running")])


async def test_marked_rows_act_together_and_report_each(
        engine: Engine, make: Make, monkeypatch: pytest.MonkeyPatch) -> None:
    # No timed refresh: the list must still show "c" after it is removed behind our back.
    monkeypatch.setattr(ContainersScreen, "REFRESH_SECONDS", 600)
    a = make("a", start=True)
    make("b", start=True)
    gone = make("c", start=True)
    app = app_for(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("space", "space", "space")
        table = panel(app).table
        assert len(table.marked) == 3
        # One of them disappears behind the panel's back: its report carries the error.
        engine.containers_remove([gone], force=True)
        await pilot.press("p")
        await until(pilot, lambda: state_of(engine, a) == "paused")
        await until(pilot, lambda: len(app._notifications) >= 3)
        text = "\n".join(notices(app))
        assert "Paused a" in text and "Paused b" in text
        assert "Cannot pause c" in text
        assert not table.marked  # the marks were used up
        await until(pilot, lambda: rows(app) == [("a", "paused"), ("b", "paused")])


async def test_d_asks_then_removes(engine: Engine, make: Make) -> None:
    web = make("web", start=True)
    app = app_for(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        assert "running and will be killed first" in app.screen.question
        await pilot.press("n")
        await settle(pilot)
        assert state_of(engine, web) == "running"
        await pilot.press("d", "y")
        await until(pilot, lambda: state_of(engine, web) == "gone" and not rows(app))
        assert any("Removed web" in n for n in notices(app))


async def test_enter_opens_the_actions_menu(engine: Engine, make: Make) -> None:
    web = make("web", start=True)
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        assert isinstance(app.screen, ActionsMenu)
        assert [a for a, _, _ in app.screen.entries][:3] == ["toggle_run", "restart",
                                                             "toggle_pause"]
        await pilot.press("down", "down", "enter")  # Pause
        await until(pilot, lambda: state_of(engine, web) == "paused")


async def test_rename_asks_for_the_new_name(engine: Engine, make: Make) -> None:
    make("web")
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("R")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press("end", "minus", "2", "enter")
        await until(pilot, lambda: [n for n, _ in rows(app)] == ["web-2"])


async def test_e_finds_a_shell_and_hands_over_the_terminal(
        engine: Engine, make: Make, monkeypatch: pytest.MonkeyPatch) -> None:
    web = make("web", start=True)
    ran: list[list[str]] = []

    def run_interactive(self: ContainersScreen, argv: list[str]) -> int:
        ran.append(argv)  # App.suspend() cannot work under run_test
        return 0

    monkeypatch.setattr(ContainersScreen, "run_interactive", run_interactive)
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await until(pilot, lambda: bool(ran), timeout=60)
        # busybox has no bash: the probe falls back to sh.
        assert ran[0][-4:] == ["exec", "-it", web, "sh"]
        assert ran[0][ran[0].index("--root") + 1] == str(engine.config.root)


# -- detail pane ---------------------------------------------------------------------------
async def test_logs_tab_follows_searches_and_saves(engine: Engine, make: Make, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    make("web", start=True, command=("sh", "-c", "echo hello-from-web; echo oops >&2; "
                                     "sleep 1000"))
    monkeypatch.chdir(tmp_path)
    app = app_for(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        log = app.screen.query_one(LogView)
        await until(pilot, lambda: log.line_count == 2)
        assert log.export() == "hello-from-web\noops\n"
        header = str(app.screen.query_one("#log-header").render())
        assert "web · tail 1000 · since start · following · 2 lines" in header
        await pilot.press("l")
        assert app.focused is log
        await pilot.press("slash", *"hello", "enter")
        assert log.search == "hello" and log.match_count == 1 and log.current == 0
        await pilot.press("n")
        assert log.current == 0  # one match: n wraps onto it
        await pilot.press("t")
        assert log.export().startswith("20") and log.export().split()[1] == "hello-from-web"
        await pilot.press("t", "ctrl+s")
        await settle(pilot)
        assert (tmp_path / "web.log").read_text() == "hello-from-web\noops\n"
        assert any("Saved 2 lines" in n for n in notices(app))
        await pilot.press("escape")  # closes the search
        assert log.search == ""


async def test_inspect_env_mounts_top_and_stats_tabs(engine: Engine, make: Make) -> None:
    web = make("web", start=True)
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        screen = panel(app)
        assert screen.query_one(TabbedContent).active == "inspect"
        tree = screen.query_one(JsonTree)
        assert tree.find(f'Id: "{web}"')
        keys = [row[0] for row in cells(screen.query_one("#env-table", DataTable))]
        assert "PATH" in keys and "HOSTNAME" in keys
        assert "No published ports" in str(screen.query_one("#ports-note").render())
        screen.query_one(TabbedContent).active = "top"
        top = screen.query_one(ProcessTable)
        await until(pilot, lambda: any("sleep 1000" in " ".join(r) for r in cells(top)))
        screen.query_one(TabbedContent).active = "stats"
        note = screen.query_one("#stats-note")
        await until(pilot, lambda: "samples every" in str(note.render()))
        assert str(screen.query_one("#cpu-value").render()).endswith("%")
        assert "(" in str(screen.query_one("#mem-value").render())  # usage / limit (pct)


async def test_palette_finds_containers_and_images(engine: Engine, make: Make) -> None:
    db = make("db", start=True)
    web = make("web", start=True)
    app = app_for(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("space")  # marks db
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"web")
        commands = app.screen.query_one(CommandList)
        await until(pilot, lambda: commands.option_count >= 5)
        texts = [str(commands.get_option_at_index(i).prompt)
                 for i in range(commands.option_count)]
        assert any("stop web" in t for t in texts) and any("logs web" in t for t in texts)
        await pilot.press("escape")
        await pilot.press("ctrl+p", *"remove image busybox")
        commands = app.screen.query_one(CommandList)
        await until(pilot, lambda: commands.option_count >= 1)
        assert "remove image busybox:local" in str(commands.get_option_at_index(0).prompt)
        await pilot.press("escape")
        # The palette acts on that one container even while another is marked.
        await pilot.press("ctrl+p", *"stop web")
        await until(pilot, lambda: "stop web" in first_hit(app))
        await pilot.press("enter")
        await until(pilot, lambda: state_of(engine, web) == "exited")
        assert state_of(engine, db) == "running" and panel(app).table.marked == {db}
        await pilot.press("ctrl+p", *"logs db")
        await until(pilot, lambda: "logs db" in first_hit(app))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.focused, LogView))
        detail = panel(app).detail
        assert detail is not None and detail.name == "db"


# -- snapshots -----------------------------------------------------------------------------
# Created, never started containers with fixed names: no PIDs, no uptimes, no log times.
# IDs are random, so the ID column is off (show_ids=False); the clock is frozen.
@pytest.fixture
def trio(make: Make) -> None:
    make("web", labels=(("com.docker.compose.project", "shop"),))
    make("db", labels=(("com.docker.compose.project", "shop"),))
    make("tools")


def snap_app(engine: Engine) -> PydockApp:
    return app_for(engine, show_ids=False)


def test_snapshot_containers(engine: Engine, trio: None, snap_compare: Any) -> None:
    assert snap_compare(snap_app(engine), terminal_size=SIZE, run_before=settle)


def test_snapshot_containers_grouped_and_marked(engine: Engine, trio: None,
                                                snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("L", "space")
        await settle(pilot)

    assert snap_compare(snap_app(engine), terminal_size=SIZE, run_before=run_before)


def test_snapshot_actions_menu(engine: Engine, trio: None, snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(snap_app(engine), terminal_size=SIZE, run_before=run_before)


def test_snapshot_remove_two(engine: Engine, trio: None, snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("space", "space", "d")
        await settle(pilot)

    assert snap_compare(snap_app(engine), terminal_size=SIZE, run_before=run_before)


def test_snapshot_stats_tab(engine: Engine, trio: None, snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        pilot.app.screen.query_one(TabbedContent).active = "stats"
        await settle(pilot)

    assert snap_compare(snap_app(engine), terminal_size=SIZE, run_before=run_before)


def test_snapshot_no_containers(engine: Engine, snap_compare: Any) -> None:
    assert snap_compare(snap_app(engine), terminal_size=SIZE, run_before=settle)
