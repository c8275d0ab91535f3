"""The layer explorer (Images panel, ``x``) against a real engine and a hand-made
three-layer image (tests/layer_images.py): navigation, the aggregated toggle,
extraction, and a snapshot."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Label, Static

from app.tui.app import PydockApp, make_app
from app.tui.confirm_screen import ConfirmScreen
from app.tui.layer_explorer import LayerExplorer, PathPrompt
from engine import Engine
from tests.layer_images import PASSWD_0, PASSWD_1, load_sample
from tests.ui.conftest import FROZEN_NOW, settle
from widgets import LayerList, LayerTree
from widgets.layer_tree import FileNode

SIZE = (120, 36)
SnapCompare = Callable[..., bool]


def frozen_app(engine: Engine) -> PydockApp:
    return make_app(engine, clock=lambda: FROZEN_NOW, show_ids=False)


def explorer(app: PydockApp) -> LayerExplorer:
    screen = app.screen
    assert isinstance(screen, LayerExplorer), screen
    return screen


async def open_explorer(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("2")  # Images
    await settle(pilot)
    await pilot.press("x")
    await settle(pilot)


def shown(tree: LayerTree) -> list[str]:
    """The visible lines of the tree: sign and name, indented by depth."""
    out = []

    def walk(node: Any, depth: int) -> None:
        for child in node.children:
            text = str(child.label)  # "+ name  size": the sign, then the name
            out.append("  " * depth + (text[:2] + text[2:].split("  ")[0]).rstrip())
            if child.is_expanded:
                walk(child, depth + 1)

    walk(tree.root, 0)
    return out


async def move_to(pilot: Pilot[Any], tree: LayerTree, path: str) -> FileNode:
    """Put the tree's cursor on ``path`` with key presses (j), as a user would."""
    for _ in range(tree.last_line + 2):  # from no cursor (-1) to the last line
        node = tree.selected_file
        if node is not None and node.path == path:
            return node
        await pilot.press("j")
    raise AssertionError(f"{path} is not shown: {shown(tree)}")


async def test_x_opens_the_explorer_with_totals(engine: Engine) -> None:
    load_sample(engine)
    app = frozen_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_explorer(pilot)
        screen = explorer(app)
        text = str(screen.query_one("#summary", Static).content)
        assert "layers:1.0" in text and "Layers 3" in text
        assert "Wasted 620 Bytes" in text and "Efficiency 30.6 %" in text
        layers = screen.query_one(LayerList)
        assert layers.row_count == 3 and app.focused is layers
        assert str(layers.get_row_at(1)[2]).startswith("/bin/sh -c useradd app")
        assert str(layers.get_row_at(0)[2]) == "ADD file:base in /"
        wasted = screen.query_one("#wasted", DataTable)
        assert [str(wasted.get_row_at(r)[2]) for r in range(wasted.row_count)] == [
            "/var/cache/b.bin", "/var/cache/a.bin", "/etc/passwd", "/etc/motd"]
        # Layer 0 is all added, every directory open.
        assert shown(screen.files) == ["+ bin/", "  + hello", "+ etc/", "  + motd",
                                       "  + passwd", "+ var/", "  + cache/", "    + a.bin",
                                       "    + b.bin"]
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, LayerExplorer)


async def test_navigate_layers_and_toggle_aggregated(engine: Engine) -> None:
    load_sample(engine)
    app = frozen_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_explorer(pilot)
        screen = explorer(app)
        await pilot.press("j")  # layer 1
        await settle(pilot)
        assert str(screen.query_one("#tree-title", Label).content) == "Layer 1: 5 changes"
        assert shown(screen.files) == ["+ app/", "  + main.py", "~ etc/", "  - motd",
                                       "  ~ passwd"]
        await pilot.press("a")  # the filesystem up to layer 1
        await settle(pilot)
        assert str(screen.query_one("#tree-title", Label).content) == \
            "Filesystem up to layer 1"
        # Unchanged directories stay closed; the ones with changes open.
        assert shown(screen.files) == ["+ app/", "  + main.py", "  bin/", "~ etc/", "  - motd",
                                       "  ~ passwd", "  var/"]
        await pilot.press("j")  # layer 2, still aggregated
        await settle(pilot)
        assert shown(screen.files) == ["  app/", "~ bin/", "    hello", "  + link → hello",
                                       "  etc/", "~ var/", "  ~ cache/", "    - a.bin",
                                       "    - b.bin", "    + new.txt"]
        await pilot.press("ctrl+l")  # back to this layer's changes only
        await settle(pilot)
        assert screen.aggregated is False
        assert shown(screen.files) == ["~ bin/", "  + link → hello", "~ var/", "  ~ cache/",
                                       "    - a.bin", "    - b.bin", "    + new.txt"]
        await pilot.press("ctrl+a")
        await settle(pilot)
        assert screen.aggregated is True
        # A closed directory opens on demand, its children made then.
        await pilot.press("tab")
        assert app.focused is screen.files
        await move_to(pilot, screen.files, "/etc")
        await pilot.press("space")
        await settle(pilot)
        assert shown(screen.files)[4:6] == ["  etc/", "    passwd"]


async def test_extract_a_file_from_the_selected_layer(engine: Engine, tmp_path: Path) -> None:
    load_sample(engine)
    app = frozen_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_explorer(pilot)
        screen = explorer(app)
        await pilot.press("j")  # layer 1, where passwd was modified
        await settle(pilot)
        await pilot.press("tab")
        node = await move_to(pilot, screen.files, "/etc/passwd")
        assert node.entry is not None and node.entry.layer == 1
        assert "modified in layer 1" in str(screen.query_one("#details", Static).content)
        await pilot.press("e")
        await settle(pilot)
        prompt = app.screen
        assert isinstance(prompt, PathPrompt)
        box = prompt.query_one(Input)
        assert box.value == str(Path.cwd() / "passwd")  # the suggestion
        dest = tmp_path / "passwd.layer1"
        box.value = str(dest)
        await pilot.press("enter")
        await settle(pilot)
        assert dest.read_bytes() == PASSWD_1
        # Again to the same place: asked before replacing; the base layer's version then.
        await pilot.press("k")
        await settle(pilot)
        await pilot.press("shift+tab")  # back to the layers
        await pilot.press("k")
        await settle(pilot)
        await pilot.press("tab")
        await move_to(pilot, screen.files, "/etc/passwd")
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, PathPrompt)
        app.screen.query_one(Input).value = str(dest)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert dest.read_bytes() == PASSWD_1  # not yet
        await pilot.press("y")
        await settle(pilot)
        assert dest.read_bytes() == PASSWD_0


async def test_extract_refuses_directories_and_removed_files(engine: Engine) -> None:
    load_sample(engine)
    app = frozen_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_explorer(pilot)
        screen = explorer(app)
        await pilot.press("j")
        await settle(pilot)
        await pilot.press("tab")
        for path in ("/etc", "/etc/motd"):  # a directory; removed by this layer
            await move_to(pilot, screen.files, path)
            await pilot.press("e")
            await settle(pilot)
            assert app.screen is screen  # no prompt
        messages = [n.message for n in app._notifications]
        assert "Only regular files can be extracted, not that" in messages
        assert "Only regular files can be extracted, not a removed file" in messages


async def test_missing_image_shows_the_error(engine: Engine) -> None:
    app = frozen_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(LayerExplorer(engine, "gone:1", "gone:1"))
        await settle(pilot)
        text = str(app.screen.query_one("#summary", Static).content)
        assert "No such image: gone:1" in text


# -- snapshot ---------------------------------------------------------------------
def test_snapshot_layer_explorer(engine: Engine, snap_compare: SnapCompare) -> None:
    load_sample(engine)

    async def run_before(pilot: Pilot[Any]) -> None:
        await open_explorer(pilot)
        await pilot.press("j")  # layer 1: added, modified and removed marks
        await settle(pilot)
        await pilot.press("tab", "j", "j", "j", "j", "j")  # the cursor on passwd
        await settle(pilot)

    assert snap_compare(frozen_app(engine), terminal_size=SIZE, run_before=run_before)


def test_snapshot_layer_explorer_aggregated(engine: Engine, snap_compare: SnapCompare) -> None:
    load_sample(engine)

    async def run_before(pilot: Pilot[Any]) -> None:
        await open_explorer(pilot)
        await pilot.press("j", "j")  # layer 2: a symlink added, an opaque directory
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)

    assert snap_compare(frozen_app(engine), terminal_size=SIZE, run_before=run_before)
