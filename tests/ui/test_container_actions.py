"""Run, update, commit and attach in the Containers panel, with Pilot and a real engine.

Containers made here (by the dialog or by the facade) are force-removed in each
fixture's ``finally``; the dialog's own failure paths must leave none behind, which
the tests check through ``containers_list(all=True)``.
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
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static, TextArea

from app.tui.actions_menu import ActionsMenu
from app.tui.app import PydockApp, make_app
from app.tui.container_forms import FormError, LimitsForm, RunForm, run_options, update_options
from app.tui.containers_screen import ContainersScreen
from app.tui.prompt_screen import PromptScreen
from app.tui.run_dialog import RunDialog
from app.tui.update_dialog import UpdateDialog
from engine import Engine
from engine.types import CreateOptions, ImportOptions
from tests.conftest import busybox_rootfs_tar
from tests.ui.conftest import CREATED, FROZEN_NOW, settle

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="containers need root")

SIZE = (120, 36)
IMAGE = "busybox:local"
MiB = 1 << 20


@pytest.fixture
def root(test_base: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # Under the session's test base: containers mount and spawn monitors, and the leak
    # guard must see this root. The default root too, so hints read plain `pydock ...`.
    d = test_base / f"ui-actions-{os.urandom(3).hex()}"
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
def cleanup(engine: Engine) -> Iterator[None]:
    """Whatever a test left, the dialog's containers included, goes (rm -f)."""
    try:
        yield
    finally:
        ids = [c.id for c in engine.containers_list(all=True)]
        if ids:
            engine.containers_remove(ids, force=True)


@pytest.fixture
def sleeper(engine: Engine, busybox: str, cleanup: None) -> str:
    """A running busybox ``sleep`` named web (stop_timeout=1: sleep ignores SIGTERM)."""
    cid = engine.containers_create(CreateOptions(image=IMAGE, command=("sleep", "1000"),
                                                 name="web", stop_timeout=1,
                                                 memory=64 * MiB))
    engine.containers_start(cid)
    return cid


def app_for(engine: Engine, *, show_ids: bool = True) -> PydockApp:
    app = make_app(engine, clock=lambda: FROZEN_NOW, show_ids=show_ids)
    # Every notification, kept: on a loaded machine one can expire (5 s) before the
    # test gets to look at it.
    seen: list[str] = []
    notify = app.notify

    def recording(message: str, *args: Any, **kwargs: Any) -> None:
        seen.append(f"{kwargs.get('title', '')}: {message}")
        notify(message, *args, **kwargs)

    app.notify = recording  # type: ignore[method-assign]
    app.seen_notices = seen  # type: ignore[attr-defined]
    return app


def panel(app: PydockApp) -> ContainersScreen:
    screen = app.screen
    assert isinstance(screen, ContainersScreen), screen
    return screen


async def until(pilot: Pilot[Any], check: Callable[[], bool], timeout: float = 20) -> None:
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, "timed out"
        await pilot.pause(0.1)


def notices(app: PydockApp) -> list[str]:
    return list(app.seen_notices)  # type: ignore[attr-defined]


def error_line(screen: Any, field: str) -> str:
    line = screen.query_one(f"#{field}-error", Static)
    return str(line.render()) if line.has_class("-shown") else ""


async def fill(pilot: Pilot[Any], **values: str) -> None:
    """Type into the dialog's fields (env: the TextArea; network/restart: the Selects)."""
    screen = pilot.app.screen
    for field, value in values.items():
        widget = screen.query_one(f"#{field}")
        if isinstance(widget, Input):
            widget.value = value
        elif isinstance(widget, TextArea):
            widget.text = value
        elif isinstance(widget, Select):
            widget.value = value
    await pilot.pause()


# -- the forms, without the UI ---------------------------------------------------------------
def test_run_form_reports_every_bad_field_with_the_engines_words() -> None:
    with pytest.raises(FormError) as caught:
        run_options(RunForm(image="x", memory="lots", ports="8080:80, 99999", cpus="many",
                            volumes="data:relative", env="A=1\n=oops", command="sh -c 'x"))
    errors = caught.value.errors
    assert set(errors) == {"memory", "ports", "cpus", "volumes", "env", "command"}
    assert errors["memory"] == 'invalid argument "lots" for "--memory" flag: invalid size: \'lots\''
    assert "99999" in errors["ports"]


def test_run_form_builds_the_create_options() -> None:
    opts = run_options(RunForm(image=" busybox ", name="web", command="sh -c 'sleep 9'",
                               ports="8080:80,53:53/udp", volumes="data:/data /srv:/srv:ro,rslave",
                               env="A=1\n\nB=two words", restart="on-failure:3",
                               memory="64m", cpus="0.5"))
    assert (opts.image, opts.name, opts.command) == ("busybox", "web", ("sh", "-c", "sleep 9"))
    assert opts.publish == ("8080:80", "53:53/udp")
    assert opts.volumes == ("data:/data", "/srv:/srv:ro,rslave")
    assert opts.env == ("A=1", "B=two words")
    assert (opts.restart, opts.network) == ("on-failure:3", "none")
    assert (opts.memory, opts.nano_cpus) == (64 * MiB, 500_000_000)


def test_update_form_sends_only_the_changed_fields() -> None:
    old = LimitsForm(memory="64m", memory_swap="128m", cpus="", pids_limit="")
    assert update_options(old, old) is None
    opts = update_options(LimitsForm(memory="96m", memory_swap="128m", pids_limit="50"), old)
    assert opts is not None
    assert (opts.memory, opts.memory_swap, opts.nano_cpus, opts.pids_limit) == (
        96 * MiB, None, None, 50)
    with pytest.raises(FormError) as caught:
        update_options(LimitsForm(memory="", memory_swap="128m", pids_limit="lots"), old)
    assert set(caught.value.errors) == {"memory", "pids_limit"}


# -- run -----------------------------------------------------------------------------------
async def test_run_dialog_creates_and_starts_a_container(engine: Engine, busybox: str,
                                                         cleanup: None) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("n")
        assert isinstance(app.screen, RunDialog)
        assert app.screen.query_one("#network", Select).value == "none"
        await pilot.press(*IMAGE)  # the image field has the focus
        await fill(pilot, name="web", command="sleep 1000", env="GREETING=hello\nA=1",
                   restart="unless-stopped", memory="64m", cpus="0.5")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, RunDialog), timeout=60)
        screen = panel(app)
        await until(pilot, lambda: (c := screen.table.selected_container) is not None
                    and c.name == "web")
        data = engine.containers_inspect("web")
        assert data["State"]["Running"] is True
        assert {"GREETING=hello", "A=1"} <= set(data["Config"]["Env"])
        assert data["Config"]["Cmd"] == ["sleep", "1000"]
        assert data["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
        assert data["HostConfig"]["Memory"] == 64 * MiB
        assert data["HostConfig"]["NanoCpus"] == 500_000_000
        assert data["HostConfig"]["NetworkMode"] == "none"
        assert any("Started web" in n for n in notices(app))


async def test_bad_memory_and_port_keep_the_dialog_open_and_create_nothing(
        engine: Engine, busybox: str, cleanup: None) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await fill(pilot, image=IMAGE, name="web", memory="lots", ports="99999")
        await pilot.press("ctrl+s")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, RunDialog)
        assert "invalid size: 'lots'" in error_line(dialog, "memory")
        assert "99999" in error_line(dialog, "ports")
        assert error_line(dialog, "name") == ""
        assert engine.containers_list(all=True) == []
        # Fixed, it runs; the old errors go.
        await fill(pilot, memory="32m", ports="", command="sleep 1000")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, RunDialog), timeout=60)
        assert [c.name for c in engine.containers_list(all=True)] == ["web"]


async def test_a_container_that_cannot_start_is_removed(engine: Engine, hello_image: str,
                                                        cleanup: None) -> None:
    # hello's /bin/hello is a shell script and the image has no /bin/sh: exec fails.
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await fill(pilot, image="hello:1.0", name="broken", command="/bin/hello")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: error_line(app.screen, "form") != "", timeout=60)
        assert isinstance(app.screen, RunDialog)
        assert "the container was removed" in error_line(app.screen, "form")
        assert engine.containers_list(all=True) == []
        await pilot.press("escape")
        assert isinstance(app.screen, ContainersScreen)


async def test_unknown_image_is_reported_next_to_the_image(engine: Engine,
                                                           cleanup: None) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n", *"nosuch:1", "enter")
        await until(pilot, lambda: error_line(app.screen, "image") != "")
        assert "nosuch" in error_line(app.screen, "image")
        assert engine.containers_list(all=True) == []


async def test_run_from_the_images_panel_starts_there_and_shows_the_container(
        engine: Engine, busybox: str, cleanup: None) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("n")
        dialog = app.screen
        assert isinstance(dialog, RunDialog)
        assert dialog.query_one("#image", Input).value == IMAGE
        assert dialog.focused is dialog.query_one("#name", Input)
        await pilot.press(*"db")
        await fill(pilot, command="sleep 1000")
        await pilot.press("enter")
        await until(pilot, lambda: app.current_mode == "containers", timeout=60)
        screen = panel(app)
        await until(pilot, lambda: (c := screen.table.selected_container) is not None
                    and c.name == "db")
        assert engine.containers_inspect("db")["State"]["Running"] is True


# -- update, commit, attach --------------------------------------------------------------
async def test_update_changes_the_memory_limit(engine: Engine, sleeper: str) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("u")
        dialog = app.screen
        assert isinstance(dialog, UpdateDialog)
        await settle(pilot)
        assert dialog.query_one("#memory", Input).value == "64m"
        await fill(pilot, memory="bad")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: error_line(dialog, "memory") != "")
        assert app.screen is dialog
        assert engine.containers_inspect(sleeper)["HostConfig"]["Memory"] == 64 * MiB
        await fill(pilot, memory="96m")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is not dialog)
        assert engine.containers_inspect(sleeper)["HostConfig"]["Memory"] == 96 * MiB
        assert any("Updated the limits of web" in n for n in notices(app))


async def test_update_shows_the_engines_refusal_in_the_dialog(engine: Engine,
                                                              sleeper: str) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        # More CPUs than the host has: the parser takes it, the engine refuses it.
        await fill(pilot, cpus="4096")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: error_line(app.screen, "form") != "")
        assert isinstance(app.screen, UpdateDialog)
        assert "Range of CPUs" in error_line(app.screen, "form")
        assert sleeper not in error_line(app.screen, "form")  # the name, not the ID
        assert engine.containers_inspect(sleeper)["HostConfig"]["NanoCpus"] == 0


async def test_commit_makes_an_image(engine: Engine, sleeper: str) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("C")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"snap:1", "enter")
        await until(pilot, lambda: any("Committed web" in n for n in notices(app)), timeout=60)
        image = next(i for i in engine.images_list() if (i.repository, i.tag) == ("snap", "1"))
        assert any(image.id.removeprefix("sha256:")[:12] in n for n in notices(app))
        assert engine.containers_inspect(sleeper)["State"]["Running"] is True  # unpaused


async def test_attach_hands_the_terminal_to_pydock_attach(
        engine: Engine, sleeper: str, busybox: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[list[str]] = []

    def run_interactive(self: ContainersScreen, argv: list[str], banner: str = "") -> int:
        ran.append(argv)  # App.suspend() cannot work under run_test
        assert "ctrl-p ctrl-q" in banner
        return 0

    monkeypatch.setattr(ContainersScreen, "run_interactive", run_interactive)
    stopped = engine.containers_create(CreateOptions(image=IMAGE, name="idle"))
    app = app_for(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = panel(app)
        assert screen.table.select(stopped)
        await pilot.press("A")
        assert ran == [] and any("idle is not running" in n for n in notices(app))
        assert screen.table.select(sleeper)
        await pilot.press("A")
        assert len(ran) == 1 and ran[0][-2:] == ["attach", sleeper]
        assert ran[0][ran[0].index("--root") + 1] == str(engine.config.root)


async def test_menu_and_palette_offer_the_new_actions(engine: Engine, sleeper: str) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        assert isinstance(app.screen, ActionsMenu)
        actions = [a for a, _, _ in app.screen.entries]
        assert {"attach", "update", "commit", "run"} <= set(actions)
        await pilot.press("escape", "ctrl+p", *"update limits of web")
        await until(pilot, lambda: "update limits of web" in first_hit(app))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, UpdateDialog))
        await pilot.press("escape")
        await pilot.press("ctrl+p", *"run image busybox")
        await until(pilot, lambda: "run image busybox:local" in first_hit(app))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RunDialog))
        assert app.screen.query_one("#image", Input).value == IMAGE


def first_hit(app: PydockApp) -> str:
    from textual.command import CommandList

    hits = app.screen.query(CommandList)
    if not hits or not hits.first().option_count:
        return ""
    return str(hits.first().get_option_at_index(0).prompt)


# -- snapshots -----------------------------------------------------------------------------
def snap_app(engine: Engine) -> PydockApp:
    return app_for(engine, show_ids=False)


def test_snapshot_run_dialog(engine: Engine, snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)

    assert snap_compare(snap_app(engine), terminal_size=SIZE, run_before=run_before)


def test_snapshot_run_dialog_with_errors(engine: Engine, snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("n")
        await fill(pilot, image="busybox:latest", name="web", ports="8080:80, 99999",
                   env="GREETING=hello", memory="lots")
        await pilot.press("ctrl+s")
        await settle(pilot)

    assert snap_compare(snap_app(engine), terminal_size=SIZE, run_before=run_before)


def test_snapshot_update_dialog(engine: Engine, hello_image: str, cleanup: None,
                                snap_compare: Any) -> None:
    # Created, never started: no PIDs or uptimes in the picture behind the dialog.
    engine.containers_create(CreateOptions(image="hello:1.0", name="web",
                                           command=("/bin/hello",), memory=64 * MiB,
                                           nano_cpus=500_000_000, pids_limit=100))

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)

    assert snap_compare(snap_app(engine), terminal_size=SIZE, run_before=run_before)
