"""SVG snapshots of the screens and dialogs no other file pictures (issue #8).

Every picture is 120x36 with the cursor blink off (tests/ui/conftest.py), the app's
clock frozen at FROZEN_NOW and container IDs hidden. The fake engine (tests/fakes)
drives them: its IDs are hashed counters and its clock stands still, so digests,
ages, PIDs and build times come out the same on every run. Its root is a fixed path
per test (not pytest's numbered tmp dir), because inspect output and the extract
prompt print paths under it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import DataTable, HelpPanel, Input, TabbedContent, TextArea

import app.tui.stats_hub as stats_hub
from app.tui.app import PydockApp, make_app
from app.tui.build_dialog import BuildDialog
from app.tui.build_progress import BuildProgress
from app.tui.create_forms import VolumeCreateForm
from app.tui.inspect_screen import InspectScreen
from app.tui.layer_explorer import LayerExplorer, PathPrompt
from app.tui.monitor_screen import MonitorScreen
from app.tui.networks_screen import NetworksScreen
from app.tui.prompt_screen import PromptScreen
from app.tui.prune_dialog import PruneDialog
from app.tui.pull_dialog import PullDialog
from app.tui.push_dialog import PushDialog
from app.tui.stats_hub import HostTotals
from engine import Engine
from engine.types import CreateOptions, ImportOptions
from tests.fakes import FakeEngine, Program
from tests.ui.conftest import CREATED, FROZEN_NOW, rootfs_tar, settle
from tests.ui.test_containers_fake import bars_in, seed_six, until
from widgets import JsonTree, LayerList, LayerTree, NetworkTable, ProcessTable

SIZE = (120, 36)
IMAGE = "hello:1.0"
GiB = 1 << 30
SnapCompare = Callable[..., bool]
# Not pytest's tmp_path, whose number changes every run: these paths are on screen.
SNAP_BASE = Path("/tmp/pydock-ui-snapshots")


@pytest.fixture
def root(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fixed root per test, made the default (hints say plain ``pydock``)."""
    d = SNAP_BASE / "".join(c if c.isalnum() else "-" for c in request.node.name)
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    monkeypatch.setenv("PYDOCK_ROOT", str(d))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def fixed_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """The host line's totals (psutil's live numbers otherwise)."""
    monkeypatch.setattr(stats_hub, "host_totals", lambda: HostTotals(
        cpu_percent=23.4, cpus=2, mem_used=3 * GiB, mem_total=8 * GiB, load=(0.52, 0.41, 0.3)))


def snap_app(fake: FakeEngine) -> PydockApp:
    return make_app(cast(Engine, fake), clock=lambda: FROZEN_NOW, show_ids=False)


def with_image(fake: FakeEngine) -> FakeEngine:
    fake.images_import(rootfs_tar(), ImportOptions(reference=IMAGE, created=CREATED),
                       source="rootfs.tar")
    return fake


async def open_panel(pilot: Pilot[Any], key: str) -> None:
    await settle(pilot)
    await pilot.press(key)
    await settle(pilot)


async def containers_ready(pilot: Pilot[Any]) -> None:
    """The Containers panel of seed_six with every bar and the cursor row's log in."""
    app = cast(PydockApp, pilot.app)
    await settle(pilot)
    await until(pilot, lambda: bars_in(app))
    await settle(pilot)


async def modal(pilot: Pilot[Any], kind: type[Any]) -> Any:
    """Wait for a modal of ``kind`` to be in front and settled."""
    await until(pilot, lambda: isinstance(pilot.app.screen, kind))
    await settle(pilot)
    return pilot.app.screen


def snap(snap_compare: SnapCompare, fake: FakeEngine,
         run_before: Callable[[Pilot[Any]], Awaitable[None]]) -> bool:
    return snap_compare(snap_app(fake), terminal_size=SIZE, run_before=run_before)


# -- Containers panel ---------------------------------------------------------------------
def test_snapshot_rename_prompt(fake_engine: FakeEngine, snap_compare: SnapCompare) -> None:
    seed_six(fake_engine)

    async def run_before(pilot: Pilot[Any]) -> None:
        await containers_ready(pilot)
        await pilot.press("R")  # on api, the first row: its name prefilled and selected
        prompt = await modal(pilot, PromptScreen)
        assert prompt.question == "Rename container api to:"
        assert prompt.query_one(Input).value == "api"

    assert snap(snap_compare, fake_engine, run_before)


def test_snapshot_commit_prompt(fake_engine: FakeEngine, snap_compare: SnapCompare) -> None:
    seed_six(fake_engine)

    async def run_before(pilot: Pilot[Any]) -> None:
        await containers_ready(pilot)
        await pilot.press("C")
        prompt = await modal(pilot, PromptScreen)
        assert prompt.question.startswith("Commit api as a new image")
        await pilot.press(*"api-snapshot:1")
        await settle(pilot)

    assert snap(snap_compare, fake_engine, run_before)


def test_snapshot_help_panel(fake_engine: FakeEngine, snap_compare: SnapCompare) -> None:
    seed_six(fake_engine)

    async def run_before(pilot: Pilot[Any]) -> None:
        await containers_ready(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: bool(pilot.app.screen.query(HelpPanel)))
        await settle(pilot)

    assert snap(snap_compare, fake_engine, run_before)


def test_snapshot_command_palette_stop(fake_engine: FakeEngine,
                                       snap_compare: SnapCompare) -> None:
    seed_six(fake_engine)

    async def run_before(pilot: Pilot[Any]) -> None:
        await containers_ready(pilot)
        await pilot.press("ctrl+p")
        palette = await modal(pilot, CommandPalette)
        await pilot.press(*"stop")
        # The palette searches after a debounce and shows a busy bar meanwhile.
        await pilot.pause(0.5)
        commands = palette.query_one(CommandList)
        await until(pilot, lambda: commands.option_count >= 3 and not palette._show_busy)
        await settle(pilot)

    assert snap(snap_compare, fake_engine, run_before)


def test_snapshot_inspect_tab(fake_engine: FakeEngine, snap_compare: SnapCompare) -> None:
    seed_six(fake_engine)

    async def run_before(pilot: Pilot[Any]) -> None:
        await containers_ready(pilot)
        await pilot.press("i")  # api's inspect output as a JSON tree
        tree = pilot.app.screen.query_one(JsonTree)
        await until(pilot, lambda: tree.data_value is not None and bool(tree.data_value))
        await settle(pilot)

    assert snap(snap_compare, fake_engine, run_before)


def test_snapshot_top_tab(fake_engine: FakeEngine, snap_compare: SnapCompare) -> None:
    with_image(fake_engine)
    fake_engine.script(("nginx",), Program(processes=("nginx: master process nginx",
                                                      "nginx: worker process",
                                                      "nginx: worker process")))
    fake_engine.containers_create(CreateOptions(image=IMAGE, name="proxy", command=("nginx",)))
    fake_engine.containers_start("proxy")

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        pilot.app.screen.query_one(TabbedContent).active = "top"
        top = pilot.app.screen.query_one(ProcessTable)
        await until(pilot, lambda: top.row_count == 3)
        await settle(pilot)

    assert snap(snap_compare, fake_engine, run_before)


def configured_web(fake: FakeEngine) -> None:
    """``web``, created (never started: no uptime, no PIDs), with env, mounts and ports."""
    with_image(fake)
    fake.containers_create(CreateOptions(
        image=IMAGE, name="web", command=("serve",), network="pydock0",
        env=("APP_MODE=production", "WORKERS=4", "EMPTY="),
        volumes=("web-data:/var/lib/web", "/srv/static:/static:ro"), tmpfs=("/run",),
        publish=("8080:80", "127.0.0.1:8443:443/tcp")))


# The engine adds PATH and HOSTNAME to the three variables given.
@pytest.mark.parametrize(("tab", "rows"), [("env", 5), ("mounts", 3)])
def test_snapshot_config_tabs(fake_engine: FakeEngine, tab: str, rows: int,
                              snap_compare: SnapCompare) -> None:
    configured_web(fake_engine)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        screen = pilot.app.screen
        table = screen.query_one(f"#{tab}-table", DataTable)
        await until(pilot, lambda: table.row_count == rows)
        screen.query_one(TabbedContent).active = tab
        await settle(pilot)

    assert snap(snap_compare, fake_engine, run_before)


# -- Images panel -------------------------------------------------------------------------
def test_snapshot_inspect_image(fake_engine: FakeEngine, snap_compare: SnapCompare) -> None:
    with_image(fake_engine)

    async def run_before(pilot: Pilot[Any]) -> None:
        await open_panel(pilot, "2")
        await pilot.press("i")
        screen = await modal(pilot, InspectScreen)
        assert screen.inspect_title == f"Inspect {IMAGE}"
        assert '"RepoTags": [' in screen.query_one(TextArea).text

    assert snap(snap_compare, fake_engine, run_before)


def test_snapshot_tag_prompt(fake_engine: FakeEngine, snap_compare: SnapCompare) -> None:
    with_image(fake_engine)

    async def run_before(pilot: Pilot[Any]) -> None:
        await open_panel(pilot, "2")
        await pilot.press("t")
        prompt = await modal(pilot, PromptScreen)
        assert prompt.query_one(Input).value == IMAGE

    assert snap(snap_compare, fake_engine, run_before)


def test_snapshot_push_finished(fake_engine: FakeEngine, snap_compare: SnapCompare) -> None:
    with_image(fake_engine)

    async def run_before(pilot: Pilot[Any]) -> None:
        await open_panel(pilot, "2")
        await pilot.press("u")
        dialog = await modal(pilot, PushDialog)
        dialog.query_one("#reference", Input).value = "registry.example:5000/team/hello:1.0"
        await pilot.press("enter")
        await until(pilot, lambda: dialog.outcome != "")
        assert dialog.outcome == "done", dialog.error_text
        await settle(pilot)

    assert snap(snap_compare, fake_engine, run_before)


def test_snapshot_pull_failed(fake_engine: FakeEngine, snap_compare: SnapCompare) -> None:
    with_image(fake_engine)

    async def run_before(pilot: Pilot[Any]) -> None:
        await open_panel(pilot, "2")
        await pilot.press("p")
        dialog = await modal(pilot, PullDialog)
        await pilot.press(*"registry.example:5000/team/nothere:1", "enter")
        await until(pilot, lambda: dialog.outcome != "")
        assert dialog.outcome == "failed"
        await settle(pilot)

    assert snap(snap_compare, fake_engine, run_before)


def test_snapshot_prune_dialog(fake_engine: FakeEngine, snap_compare: SnapCompare) -> None:
    with_image(fake_engine)

    async def run_before(pilot: Pilot[Any]) -> None:
        await open_panel(pilot, "2")
        await pilot.press("D")
        dialog = await modal(pilot, PruneDialog)
        # The whole question wraps onto two lines, none of it cut off.
        assert dialog.query_one("#question").size.height == 2

    assert snap(snap_compare, fake_engine, run_before)


def test_snapshot_build_failed(fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch,
                               snap_compare: SnapCompare) -> None:
    with_image(fake_engine)
    ctx = fake_engine.config.root / "ctx"
    ctx.mkdir()
    (ctx / "app.sh").write_text("echo app\n")
    (ctx / "Dockerfile").write_text(f"FROM {IMAGE}\nCOPY app.sh /app.sh\nRUN make\n"
                                    'CMD ["/app.sh"]\n')
    fake_engine.script_run("make", output=("cc -o app main.c",
                                           "main.c:3:1: error: expected ';' before '}'",
                                           "make: *** [app] Error 1"), exit_code=2)
    monkeypatch.chdir(fake_engine.config.root)  # the title shows the context as typed

    async def run_before(pilot: Pilot[Any]) -> None:
        await open_panel(pilot, "2")
        await pilot.press("b")
        form = await modal(pilot, BuildDialog)
        form.query_one("#context", Input).value = "ctx"
        form.query_one("#tags", Input).value = "app:1"
        form.query_one("#context", Input).focus()
        await pilot.press("enter")
        progress = await modal(pilot, BuildProgress)
        await until(pilot, lambda: not progress.running)
        assert progress.outcome == "failed"
        await settle(pilot)

    assert snap(snap_compare, fake_engine, run_before)


def test_snapshot_extract_prompt(fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch,
                                 snap_compare: SnapCompare) -> None:
    with_image(fake_engine)
    monkeypatch.chdir(fake_engine.config.root)  # the suggested destination is under cwd

    async def run_before(pilot: Pilot[Any]) -> None:
        await open_panel(pilot, "2")
        await pilot.press("x")
        explorer = await modal(pilot, LayerExplorer)
        await until(pilot, lambda: explorer.query_one(LayerList).row_count > 0)
        await settle(pilot)
        tree = explorer.query_one(LayerTree)
        await pilot.press("tab")
        for _ in range(tree.last_line + 2):
            node = tree.selected_file
            if node is not None and node.path == "etc/passwd":
                break
            await pilot.press("j")
        await pilot.press("e")
        prompt = await modal(pilot, PathPrompt)
        assert prompt.query_one(Input).value == str(fake_engine.config.root / "passwd")

    assert snap(snap_compare, fake_engine, run_before)


# -- Volumes, Networks, Monitor ----------------------------------------------------------
def test_snapshot_volume_create_form(fake_engine: FakeEngine,
                                     snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_panel(pilot, "3")
        await pilot.press("c")
        form = await modal(pilot, VolumeCreateForm)
        await pilot.press(*"app-data", "tab", *"tier=fast,=oops", "ctrl+s")
        await settle(pilot)
        assert "want KEY=VALUE" in str(form.query_one("#error").render())
        # The focused one-line field keeps a line for its text (no focus border over it).
        labels = form.query_one("#labels", Input)
        assert labels.has_focus and labels.content_size.height == 1

    assert snap(snap_compare, fake_engine, run_before)


def test_snapshot_networks_default_only(fake_engine: FakeEngine,
                                        snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_panel(pilot, "4")
        screen = pilot.app.screen
        assert isinstance(screen, NetworksScreen)
        table = screen.query_one(NetworkTable)
        await until(pilot, lambda: table.row_count == 1)
        await settle(pilot)

    assert snap(snap_compare, fake_engine, run_before)


def test_snapshot_monitor_empty(fake_engine: FakeEngine, fixed_host: None,
                                snap_compare: SnapCompare) -> None:
    with_image(fake_engine)
    fake_engine.containers_create(CreateOptions(image=IMAGE, name="idle", command=("serve",)))

    async def run_before(pilot: Pilot[Any]) -> None:
        await open_panel(pilot, "5")
        screen = pilot.app.screen
        assert isinstance(screen, MonitorScreen)
        await until(pilot, lambda: screen.has_class("-none") and "CPU 23.4%" in str(
            screen.query_one("#host").render()))
        await settle(pilot)

    assert snap(snap_compare, fake_engine, run_before)


def test_fixed_root_is_per_test(root: Path) -> None:
    # The snapshots print paths under it: it must not depend on pytest's run number.
    assert root == SNAP_BASE / "test-fixed-root-is-per-test"
    assert os.environ["PYDOCK_ROOT"] == str(root)
