"""Pilot and snapshot tests of pydock-tui against a real engine on a temporary root."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import HelpPanel, Input

from app.tui.app import PydockApp, make_app
from app.tui.confirm_screen import ConfirmScreen
from app.tui.containers_screen import ContainersScreen
from app.tui.images_screen import ImagesScreen
from app.tui.inspect_screen import InspectScreen
from engine import Engine
from engine.types import ImageSummary, ImportOptions
from tests.ui.conftest import CREATED, FROZEN_NOW, HELLO_BYTES, PASSWD, rootfs_tar, settle
from widgets import FirstRunHint, ImageTable
from widgets.image_table import format_created, format_size

SIZE = (120, 36)
SnapCompare = Callable[..., bool]  # pytest-textual-snapshot's fixture
REPO = Path(__file__).resolve().parents[2]


def frozen_app(engine: Engine) -> PydockApp:
    return make_app(engine, clock=lambda: FROZEN_NOW)


def images_screen(app: PydockApp) -> ImagesScreen:
    screen = app.screen
    assert isinstance(screen, ImagesScreen)
    return screen


def table_rows(app: App[None], screen: ImagesScreen | None = None) -> list[list[str]]:
    table = (screen or app.screen).query_one(ImageTable)
    return [[str(c) for c in table.get_row(r.key)] for r in table.ordered_rows]


async def open_images(pilot: Pilot[None]) -> None:
    """Containers are panel 1 now; these tests are about panel 2."""
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)


def hint_shown(app: PydockApp) -> bool:
    return app.screen.query_one(FirstRunHint).display and not app.screen.query_one(
        ImageTable).display


# -- behaviour -----------------------------------------------------------------------
async def test_empty_root_shows_first_run_hint_and_q_quits(engine: Engine) -> None:
    app = frozen_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_images(pilot)
        assert hint_shown(app)
        text = str(app.screen.query_one(FirstRunHint).content)
        assert "pydock import rootfs.tar busybox:latest" in text
        assert "pydock load -i image.tar" in text
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


async def test_imported_image_is_listed(engine: Engine, hello_image: str) -> None:
    app = frozen_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_images(pilot)
        assert not hint_shown(app)
        short = hello_image.removeprefix("sha256:")[:12]
        assert len(short) == 12 and all(c in "0123456789abcdef" for c in short)
        # Size is the unpacked file content, in docker's decimal units.
        assert format_size(len(HELLO_BYTES) + len(PASSWD)) == "450B"
        assert table_rows(app) == [["hello", "1.0", short, "10 minutes ago", "450B"]]
        assert images_screen(app).sub_title == "Images (1)"


async def test_remove_asks_first_then_removes(engine: Engine, hello_image: str) -> None:
    app = frozen_app(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_images(pilot)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # cancel keeps the image
        await settle(pilot)
        assert len(engine.images_list()) == 1
        await pilot.press("d")
        await pilot.press("y")
        await settle(pilot)
        assert engine.images_list() == []
        assert hint_shown(app)
        assert table_rows(app) == []
        messages = [n.message for n in app._notifications]
        assert "Untagged: hello:1.0" in "\n".join(messages)
        assert f"Deleted: {hello_image}" in "\n".join(messages)


async def test_inspect_shows_json(engine: Engine, hello_image: str) -> None:
    app = frozen_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_images(pilot)
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, InspectScreen)
        assert f'"Id": "{hello_image}"' in app.screen.text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ImagesScreen)


async def test_filter_narrows_rows_without_the_hint(engine: Engine, hello_image: str) -> None:
    engine.images_import(rootfs_tar(), ImportOptions(reference="other:2", created=CREATED + 60),
                         source="rootfs.tar")
    app = frozen_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_images(pilot)
        # Newest first, as `pydock images` lists them.
        assert [r[:2] for r in table_rows(app)] == [["other", "2"], ["hello", "1.0"]]
        await pilot.press("slash", "h", "e", "l")
        assert isinstance(app.focused, Input)
        assert [r[:2] for r in table_rows(app)] == [["hello", "1.0"]]
        await pilot.press("z")
        assert table_rows(app) == [] and not hint_shown(app)
        await pilot.press("escape")
        assert len(table_rows(app)) == 2
        assert isinstance(app.focused, ImageTable)


@pytest.fixture
def fast_refresh(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(ImagesScreen, "REFRESH_SECONDS", 0.2)
    return 0.2


async def test_live_refresh_applies_a_keyed_diff(engine: Engine, hello_image: str,
                                                 fast_refresh: float) -> None:
    app = frozen_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_images(pilot)
        table = app.screen.query_one(ImageTable)
        first_key = table.ordered_rows[0].key
        engine.images_import(rootfs_tar(), ImportOptions(reference="later:1",
                                                         created=CREATED + 60),
                             source="rootfs.tar")
        # No key pressed: the timer picks the new image up.
        await pilot.pause(fast_refresh * 5)
        await settle(pilot)
        assert [r[:2] for r in table_rows(app)] == [["later", "1"], ["hello", "1.0"]]
        # The old row was kept, not rebuilt.
        assert first_key in table.rows


async def test_no_refresh_behind_a_modal(engine: Engine, hello_image: str,
                                         fast_refresh: float) -> None:
    app = frozen_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_images(pilot)
        panel = images_screen(app)
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, InspectScreen)
        engine.images_import(rootfs_tar(), ImportOptions(reference="later:1",
                                                         created=CREATED + 60),
                             source="rootfs.tar")
        await pilot.pause(fast_refresh * 5)
        await settle(pilot)
        assert [r[0] for r in table_rows(app, panel)] == ["hello"]
        await pilot.press("escape")
        await pilot.pause(fast_refresh * 5)
        await settle(pilot)
        assert [r[0] for r in table_rows(app)] == ["later", "hello"]


async def test_help_and_panel_keys(engine: Engine) -> None:
    app = frozen_app(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert app.screen.query(HelpPanel)
        await pilot.press("question_mark")
        assert not app.screen.query(HelpPanel)
        # Every panel answers to its digit; a sixth key does nothing.
        assert app.check_action("panel", (0,)) is True
        assert app.check_action("panel", (1,)) is True
        assert app.check_action("panel", (4,)) is True
        assert app.check_action("panel", (5,)) is False
        assert isinstance(app.screen, ContainersScreen)
        await pilot.press("2")
        assert isinstance(app.screen, ImagesScreen)
        await pilot.press("left_square_bracket")
        assert isinstance(app.screen, ContainersScreen)
        await pilot.press("right_square_bracket")
        assert isinstance(app.screen, ImagesScreen)
        await pilot.press("1")
        assert isinstance(app.screen, ContainersScreen)


def test_packages_export_what_they_list() -> None:
    import app.tui
    import widgets

    for module in (app.tui, widgets):
        assert module.__all__ == sorted(module.__all__)
        for name in module.__all__:
            assert getattr(module, name) is not None


class TableApp(App[None]):
    """The widget alone, fed by hand: no engine, no refresh loop."""

    def compose(self) -> ComposeResult:
        yield ImageTable()


async def test_image_table_diff_updates_cells_in_place() -> None:
    app = TableApp()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(ImageTable)
        a = ImageSummary("sha256:" + "a" * 64, "a", "1", "d", CREATED, 4_260_000)
        b = ImageSummary("sha256:" + "b" * 64, "b", "1", "d", CREATED - 86400, 999)
        table.update_images([a, b], FROZEN_NOW)
        await pilot.pause()
        assert table_rows(app)[0] == ["a", "1", "aaaaaaaaaaaa", "10 minutes ago", "4.26MB"]
        table.update_images([b, a], FROZEN_NOW + 3600)
        await pilot.pause()
        assert [r[0] for r in table_rows(app)] == ["b", "a"]
        assert table_rows(app)[1][3] == "an hour ago"
        table.update_images([a], FROZEN_NOW)
        await pilot.pause()
        assert [r[0] for r in table_rows(app)] == ["a"]
    assert format_created(0, FROZEN_NOW) == "N/A"
    assert [format_size(n) for n in (0, 999, 1000, 1_234_567, 10**12)] == [
        "0B", "999B", "1kB", "1.23MB", "1TB"]


# -- the entry point -----------------------------------------------------------------
def test_not_root_prints_one_line_and_exits_1(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    from app.tui.main import main

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(SystemExit) as exc:
        main(["--root", str(tmp_path / "r")])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "needs root" in err
    assert not (tmp_path / "r").exists()  # nothing was created before the check


def test_not_root_fails_before_textual_is_imported(tmp_path: Path) -> None:
    code = (
        "import os, sys\n"
        "os.geteuid = lambda: 1000\n"
        "from app.tui.main import main\n"
        "try:\n"
        f"    main(['--root', {str(tmp_path / 'r')!r}])\n"
        "except SystemExit as e:\n"
        "    print(e.code, 'textual' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, timeout=60, check=True)
    assert out.stdout.split() == ["1", "False"]


# -- snapshots -----------------------------------------------------------------------
def test_snapshot_first_run(engine: Engine, snap_compare: SnapCompare) -> None:
    assert snap_compare(frozen_app(engine), terminal_size=SIZE, run_before=open_images)


def test_snapshot_one_image(engine: Engine, hello_image: str,
                            snap_compare: SnapCompare) -> None:
    assert snap_compare(frozen_app(engine), terminal_size=SIZE, run_before=open_images)
