"""The settings file: keymap by binding id, theme remembered, shells, refresh, bad files.

Every test points ``$PYDOCK_TUI_CONFIG`` at a file under ``tmp_path``: the user's
real ``~/.config`` is never read or written.
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
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import HelpPanel
from textual.widgets._key_panel import BindingsTable

from app.tui.app import PydockApp, make_app
from app.tui.containers_screen import ContainersScreen
from app.tui.main import build_parser
from app.tui.settings import (
    DEFAULT_SHELLS,
    ENV_VAR,
    Settings,
    SettingsError,
    config_path,
    declared_bindings,
    key_conflicts,
    keys_table,
    known_binding_ids,
    load_settings,
    save_theme,
    with_theme,
)
from app.tui.stats_hub import LIVE_SECONDS
from engine import Engine
from engine.types import CreateOptions, ImportOptions
from tests.conftest import busybox_rootfs_tar
from tests.ui.conftest import CREATED, FROZEN_NOW, settle

SIZE = (120, 36)


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "conf" / "tui.toml"
    monkeypatch.setenv(ENV_VAR, str(path))
    return path


def app_with(engine: Engine, settings: Settings) -> PydockApp:
    return make_app(engine, clock=lambda: FROZEN_NOW, settings=settings)


def notices(app: PydockApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def until(pilot: Pilot[Any], check: Callable[[], bool], timeout: float = 20) -> None:
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, "timed out"
        await pilot.pause(0.05)


def help_text(app: PydockApp) -> str:
    """What the HelpPanel's key table shows, as plain text."""
    table = app.screen.query_one(BindingsTable).render_bindings_table()
    console = Console(width=80, record=True, file=io.StringIO())
    console.print(table)
    return console.export_text()


def help_line(app: PydockApp, description: str) -> str:
    return next((line.strip() for line in help_text(app).splitlines()
                 if line.strip().endswith(description)), "")


# -- the file ------------------------------------------------------------------------------
def test_config_path_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_path() == tmp_path / "xdg" / "pydock" / "tui.toml"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert config_path() == Path.home() / ".config" / "pydock" / "tui.toml"
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "env.toml"))
    assert config_path() == tmp_path / "env.toml"
    assert config_path(tmp_path / "flag.toml") == tmp_path / "flag.toml"
    assert build_parser().parse_args(["--config", "x.toml"]).config == Path("x.toml")


def test_missing_file_means_defaults(config: Path) -> None:
    s = load_settings()
    assert s == Settings(path=config)
    assert s.shells == DEFAULT_SHELLS and s.refresh_seconds is None and not s.problems


def test_a_full_file_is_read(config: Path) -> None:
    config.parent.mkdir()
    config.write_text('theme = "nord"\nshells = ["zsh", "sh"]\nrefresh_seconds = 1\n\n'
                      '[keymap]\n"containers.stop_start" = "S"\n'
                      '"containers.kill" = ["ctrl+k", "K"]\n')
    s = load_settings()
    assert s.theme == "nord" and s.shells == ("zsh", "sh") and s.refresh_seconds == 1.0
    assert dict(s.keymap) == {"containers.stop_start": "S", "containers.kill": "ctrl+k,K"}
    assert not s.problems


def test_malformed_toml_is_one_line_and_defaults(config: Path) -> None:
    config.parent.mkdir()
    config.write_text('theme = "nord"\n[keymap\n')
    s = load_settings()
    assert s.theme is None and not s.keymap
    assert len(s.problems) == 1 and "\n" not in s.problems[0]
    assert str(config) in s.problems[0] and "line 2" in s.problems[0]


def test_wrong_types_fall_back_one_key_at_a_time(config: Path) -> None:
    config.parent.mkdir()
    config.write_text('theme = 3\nshells = "bash"\nrefresh_seconds = 0.01\ncolour = "red"\n'
                      '[keymap]\n"containers.kill" = 5\n"containers.exec" = "x"\n')
    s = load_settings()
    assert s.theme is None and s.shells == DEFAULT_SHELLS and s.refresh_seconds is None
    assert dict(s.keymap) == {"containers.exec": "x"}
    joined = "\n".join(s.problems)
    for word in ("theme", "shells", "refresh_seconds", "keymap.containers.kill", "colour"):
        assert word in joined


def test_known_ids_cover_the_panels_and_widgets() -> None:
    ids = known_binding_ids()
    assert {"quit", "help", "theme", "containers.stop_start", "images.remove",
            "logs.search", "confirm.yes"} <= ids
    assert "containers.stop_start" in keys_table()


def test_key_conflicts_name_the_binding_that_lost_its_key() -> None:
    declared = declared_bindings()
    assert key_conflicts({"containers.stop_start": "d"}, declared) == [
        "containers.stop_start = d takes d from containers.remove"]
    # App-wide keys count in every view.
    assert key_conflicts({"containers.kill": "q"}, declared) == [
        "containers.kill = q takes q from quit"]
    # Moving the other binding away, or another view's key, is no conflict.
    assert key_conflicts({"containers.stop_start": "d", "containers.remove": "f12"},
                         declared) == []
    assert key_conflicts({"images.remove": "K"}, declared) == []


def test_with_theme_keeps_everything_else() -> None:
    text = '# mine\nshells = ["sh"]\ntheme = "nord"\n\n[keymap]\n"containers.kill" = "X"\n'
    assert with_theme(text, "dracula") == text.replace('"nord"', '"dracula"')
    # No theme yet: a top-level key must precede the first table.
    new = with_theme('[keymap]\ntheme = "x"\n', "monokai")
    assert new.splitlines()[0] == 'theme = "monokai"' and 'theme = "x"' in new


def test_save_theme_refuses_to_clobber_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "tui.toml"
    path.write_text("[keymap\n")
    with pytest.raises(SettingsError, match="does not parse"):
        save_theme(path, "nord")
    assert path.read_text() == "[keymap\n"
    fresh = tmp_path / "new" / "dir" / "tui.toml"
    save_theme(fresh, "nord")
    assert fresh.read_text() == 'theme = "nord"\n'
    assert [p.name for p in fresh.parent.iterdir()] == ["tui.toml"]  # no temp file left


# -- in the app ------------------------------------------------------------------------------
async def test_remapped_key_runs_the_action_and_the_old_key_does_not(
        engine: Engine, config: Path) -> None:
    config.parent.mkdir()
    config.write_text('[keymap]\n"containers.stop_start" = "S"\n')
    app = app_with(engine, load_settings())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ContainersScreen)
        # An empty root: the action runs and says there is nothing to act on.
        await pilot.press("s")
        await pilot.pause()
        assert not [n for n in notices(app) if "No container selected" in n]
        await pilot.press("S")
        await pilot.pause()
        assert [n for n in notices(app) if "No container selected" in n]
        # The footer shows the new key.
        footer_keys = {b.binding.id: k for k, b in app.screen.active_bindings.items()}
        assert footer_keys["containers.stop_start"] == "S"


async def test_unknown_ids_and_a_bad_file_are_notifications(engine: Engine,
                                                            config: Path) -> None:
    config.parent.mkdir()
    config.write_text('[keymap]\n"containers.stopp" = "S"\n"nope" = "x"\n'
                      '"containers.kill" = "X"\n"containers.exec" = "d"\n')
    app = app_with(engine, load_settings())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await until(pilot, lambda: any("No such binding id" in n for n in notices(app)))
        line = next(n for n in notices(app) if "No such binding id" in n)
        assert "containers.stopp, nope" in line and str(config) in line
        assert "containers.kill" not in line
        await until(pilot, lambda: any(
            "containers.exec = d takes d from containers.remove" in n for n in notices(app)))
        assert app.is_running

    config.write_text('theme = "nord\n')
    app = app_with(engine, load_settings())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        bad = [n for n in notices(app) if str(config) in n]
        assert len(bad) == 1 and "Cannot parse" in bad[0]
        assert app.theme == "textual-dark"
        await pilot.press("s")  # default keys still work
        await pilot.pause()
        assert any("No container selected" in n for n in notices(app))


async def test_theme_is_remembered_across_two_runs(engine: Engine, config: Path) -> None:
    config.parent.mkdir()
    config.write_text('# my settings\nshells = ["sh"]\n\n[keymap]\n"containers.kill" = "X"\n')
    app = app_with(engine, load_settings())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.theme == "textual-dark"
        await pilot.press("ctrl+t")  # Textual's theme picker
        await pilot.pause(0.3)
        await pilot.press(*"gruvbox")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await until(pilot, lambda: app.theme == "gruvbox")
        await until(pilot, lambda: 'theme = "gruvbox"' in config.read_text())
    text = config.read_text()
    assert text.startswith('theme = "gruvbox"\n# my settings\n')
    assert '"containers.kill" = "X"' in text and 'shells = ["sh"]' in text

    again = app_with(engine, load_settings())
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert again.theme == "gruvbox"
        again.theme = "nord"
        await until(pilot, lambda: 'theme = "nord"' in config.read_text())
    assert load_settings().theme == "nord"
    assert dict(load_settings().keymap) == {"containers.kill": "X"}


async def test_unknown_theme_is_a_warning(engine: Engine, config: Path) -> None:
    config.parent.mkdir()
    config.write_text('theme = "no-such-theme"\n')
    app = app_with(engine, load_settings())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert app.theme == "textual-dark"
        assert any("Unknown theme 'no-such-theme'" in n for n in notices(app))
    assert config.read_text() == 'theme = "no-such-theme"\n'  # nothing was rewritten


async def test_without_settings_nothing_is_saved(engine: Engine, config: Path) -> None:
    app = make_app(engine, clock=lambda: FROZEN_NOW)  # no settings: defaults, no file
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.theme = "nord"
        await pilot.pause(0.2)
        await settle(pilot)
    assert not config.exists()


async def test_refresh_seconds_setting_drives_the_live_numbers(engine: Engine) -> None:
    # Lists follow engine events; refresh_seconds paces the stats hub (bars, Monitor).
    app = app_with(engine, Settings(refresh_seconds=7.5))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ContainersScreen)
        assert screen.refresh_seconds == 7.5
        assert app.stats_hub.interval == 7.5
    app = app_with(engine, Settings())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.stats_hub.interval == LIVE_SECONDS


# -- ? help ----------------------------------------------------------------------------------
async def test_help_shows_remapped_keys_of_the_focused_view(engine: Engine,
                                                            config: Path) -> None:
    config.parent.mkdir()
    config.write_text('[keymap]\n"containers.stop_start" = "S"\n"logs.timestamps" = "T"\n')
    engine.images_import(io.BytesIO(busybox_rootfs_tar()),
                         ImportOptions(reference="busybox:local", created=CREATED),
                         source="busybox.tar")
    cid = engine.containers_create(CreateOptions(image="busybox:local", name="web",
                                                 command=("true",)))
    try:
        app = app_with(engine, load_settings())
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("question_mark")
            await pilot.pause()
            assert app.screen.query(HelpPanel)
            assert help_line(app, "Stop/Start").startswith("S ")
            assert "Timestamps" not in help_text(app)  # the log view is not focused
            await pilot.press("l")  # focus the Logs tab's view
            await until(pilot, lambda: "Timestamps" in help_text(app))
            assert help_line(app, "Timestamps").startswith("T ")
            await pilot.press("question_mark")
            await pilot.pause()
            assert not app.screen.query(HelpPanel)
    finally:
        engine.containers_remove([cid], force=True)


# -- shells ------------------------------------------------------------------------------------
@pytest.fixture
def container_root(test_base: Path) -> Iterator[Path]:
    # Under the session's test base: a running container must be seen by the leak guard.
    d = test_base / f"settings-{os.urandom(3).hex()}"
    d.mkdir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="containers need root")
async def test_e_tries_the_configured_shells(container_root: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from engine import EngineConfig

    engine = Engine(EngineConfig(root=container_root))
    engine.images_import(io.BytesIO(busybox_rootfs_tar()),
                         ImportOptions(reference="busybox:local", created=CREATED),
                         source="busybox.tar")
    cid = engine.containers_create(CreateOptions(image="busybox:local", name="web",
                                                 command=("sleep", "1000"), stop_timeout=1))
    ran: list[list[str]] = []

    def run_interactive(self: ContainersScreen, argv: list[str]) -> int:
        ran.append(argv)  # App.suspend() cannot work under run_test
        return 0

    monkeypatch.setattr(ContainersScreen, "run_interactive", run_interactive)
    try:
        engine.containers_start(cid)
        app = app_with(engine, Settings(shells=("zsh", "fish")))
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await settle(pilot)
            await pilot.press("e")
            await until(pilot, lambda: any("No shell in web" in n for n in notices(app)),
                        timeout=60)
            assert any("Tried zsh, fish" in n for n in notices(app))
            assert not ran  # busybox has sh, but sh was not in the list
    finally:
        engine.containers_remove([cid], force=True)
