"""The Images panel's actions: build, pull, push, tag and prune, against a real engine
(and, for pull/push, Debian's docker-registry on loopback)."""

from __future__ import annotations

import os
import threading
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Label, Static, TextArea

from app.tui.app import PydockApp, make_app
from app.tui.build_dialog import BuildDialog, BuildForm, make_request, parse_build_args
from app.tui.build_progress import CANCELLED, BuildProgress
from app.tui.images_screen import ImagesScreen
from app.tui.prompt_screen import PromptScreen
from app.tui.prune_dialog import PruneDialog
from app.tui.pull_dialog import PullDialog, TransferDialog
from app.tui.push_dialog import PushDialog
from engine import Engine, EngineConfig
from engine.registry.types import PullProgress, RegistrySettings
from engine.types import ImportOptions
from tests.integration.registry_helpers import Registry, layer_tar, make_image, start_registry
from tests.ui.conftest import CREATED, FROZEN_NOW, rootfs_tar, settle
from widgets import ImageTable
from widgets.build_log import BuildLog, step_title
from widgets.layer_progress import LayerProgress

SIZE = (120, 36)
# Files only at the top: a directory COPY creates would carry the time of the build.
DOCKERFILE = 'FROM scratch\nCOPY a.txt /a.txt\nCOPY b.txt /b.txt\nLABEL org.example.kind=demo\n' \
             'CMD ["/a.txt"]\n'


# -- helpers ----------------------------------------------------------------------------
def frozen_app(engine: Engine) -> PydockApp:
    return make_app(engine, clock=lambda: FROZEN_NOW)


async def open_images(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)


async def until(pilot: Pilot[Any], check: Callable[[], bool], timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, "timed out"
        await pilot.pause(0.05)


def table_rows(app: PydockApp) -> list[list[str]]:
    table = app.screen.query_one(ImageTable)
    return [[str(c) for c in table.get_row(r.key)] for r in table.ordered_rows]


def write_context(ctx: Path, dockerfile: str = DOCKERFILE) -> Path:
    """A context whose files have fixed times, so the layers (and IDs) never change."""
    ctx.mkdir(parents=True, exist_ok=True)
    (ctx / "a.txt").write_text("hello from the context\n")
    (ctx / "b.txt").write_text("built by pydock\n")
    (ctx / "Dockerfile").write_text(dockerfile)
    for p in (ctx / "a.txt", ctx / "b.txt", ctx / "Dockerfile"):
        os.utime(p, (CREATED, CREATED))
    return ctx


async def build(pilot: Pilot[Any], context: str, **fields: str | bool) -> BuildProgress:
    """Open the form with ``b``, fill it (fields left out keep their value), build, wait."""
    app = pilot.app
    await pilot.press("b")
    await pilot.pause()
    form = app.screen
    assert isinstance(form, BuildDialog)
    form.query_one("#context", Input).value = context
    for name, value in fields.items():
        if name == "build_args":
            form.query_one(TextArea).text = str(value)
        elif isinstance(value, bool):
            form.query_one(f"#{name.replace('_', '-')}", Checkbox).value = value
        else:
            form.query_one(f"#{name}", Input).value = value
    form.query_one("#context", Input).focus()
    await pilot.press("enter")
    await pilot.pause()
    progress = app.screen
    assert isinstance(progress, BuildProgress)
    await until(pilot, lambda: not progress.running)
    await settle(pilot)
    return progress


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    """Debian's docker-registry on a free loopback port (tests/integration's helper)."""
    reg = start_registry(tmp_path / "registry")
    yield reg
    reg.stop()


def offline_settings(tmp_path: Path) -> RegistrySettings:
    # No credentials or certificates of the host's user leak into the test.
    return RegistrySettings(certs_dir=tmp_path / "certs.d", docker_config_dir=tmp_path / "docker",
                            backoff=0.05)


@pytest.fixture
def reg_engine(engine: Engine, tmp_path: Path) -> Engine:
    engine.registry_settings = offline_settings(tmp_path)
    return engine


@pytest.fixture
def frozen_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """The builder's clocks stand still: image IDs (``created``) and step durations
    come out the same on every run, as a snapshot needs."""
    import engine.build.export
    import engine.build.layers
    import engine.build.progress

    still = types.SimpleNamespace(time=lambda: CREATED, monotonic=lambda: 1000.0)
    for module in (engine.build.export, engine.build.layers, engine.build.progress):
        monkeypatch.setattr(module, "time", still)


# -- build ------------------------------------------------------------------------------
async def test_build_shows_steps_lists_the_image_and_caches(engine: Engine,
                                                            tmp_path: Path) -> None:
    ctx = write_context(tmp_path / "ctx")
    app = frozen_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_images(pilot)
        progress = await build(pilot, str(ctx), tags="built:1, built:latest")
        assert progress.outcome == "done", progress.outcome_text
        steps = progress.build_log.steps
        assert [title for title, _ in steps] == ["Step 1/2 : COPY a.txt /a.txt",
                                                 "Step 2/2 : COPY b.txt /b.txt"]
        assert all(mark.endswith("s") and mark != "CACHED" for _, mark in steps)
        image_id = engine.images_resolve("built:1")
        assert progress.image_id == image_id
        assert progress.outcome_text.splitlines() == [
            f"Successfully built {image_id}", "Successfully tagged built:1",
            "Successfully tagged built:latest"]
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ImagesScreen)
        assert sorted(r[:3] for r in table_rows(app)) == [
            ["built", "1", image_id[7:19]], ["built", "latest", image_id[7:19]]]

        # `b` reopens the form as it was left: enter rebuilds, from the cache this time.
        await pilot.press("b")
        await pilot.pause()
        assert app.screen.query_one("#tags", Input).value == "built:1, built:latest"
        await pilot.press("escape")
        second = await build(pilot, str(ctx))
        assert second.outcome == "done"
        assert [mark for _, mark in second.build_log.steps] == ["CACHED", "CACHED"]
        assert second.image_id == image_id  # a cached rebuild is the same image
        await pilot.press("escape")
        await settle(pilot)

        # No cache: every step runs again.
        third = await build(pilot, str(ctx), no_cache=True)
        assert "CACHED" not in [mark for _, mark in third.build_log.steps]
        assert "no cache" in str(third.query_one("#title", Label).content)


async def test_malformed_dockerfile_names_file_and_line(engine: Engine, tmp_path: Path) -> None:
    ctx = write_context(tmp_path / "ctx", "FROM scratch\nCOPY a.txt /a.txt\nBOGUS x\n")
    app = frozen_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_images(pilot)
        progress = await build(pilot, str(ctx), tags="broken:1")
        assert progress.outcome == "failed"
        text = progress.outcome_text
        assert "\n" not in text
        assert text.startswith(f"Build failed: {ctx / 'Dockerfile'}:3:") and "BOGUS" in text
        assert progress.image_id is None
        await pilot.press("escape")
        await settle(pilot)
        assert engine.images_list() == []


async def test_failing_step_is_marked_with_the_engine_error(engine: Engine,
                                                            tmp_path: Path) -> None:
    ctx = write_context(tmp_path / "ctx", "FROM scratch\nCOPY a.txt /a.txt\nCOPY nothere /x\n")
    app = frozen_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_images(pilot)
        progress = await build(pilot, str(ctx))
        assert progress.outcome == "failed"
        assert progress.build_log.steps[-1] == ("Step 2/2 : COPY nothere /x", "ERROR")
        # A step error names the file as the engine does (its base name), and the line.
        assert "Dockerfile:3: COPY nothere /x:" in progress.outcome_text
        assert "not found" in progress.outcome_text


async def test_build_args_and_target_reach_the_engine(engine: Engine, tmp_path: Path) -> None:
    ctx = write_context(tmp_path / "ctx", "FROM scratch AS one\nARG FLAVOUR\n"
                                          "LABEL flavour=$FLAVOUR\nCOPY a.txt /a.txt\n"
                                          "FROM one AS two\nCOPY b.txt /b.txt\n")
    app = frozen_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_images(pilot)
        progress = await build(pilot, str(ctx), tags="flavoured:1",
                               build_args="# a comment\nFLAVOUR=vanilla\n\n", target="one")
        assert progress.outcome == "done", progress.outcome_text
        labels = engine.images_inspect("flavoured:1")["Config"]["Labels"]
        assert labels == {"flavour": "vanilla"}
        # The target stopped the build at stage one: its second COPY never ran.
        assert [t for t, _ in progress.build_log.steps] == ["Step 1/1 (one) : COPY a.txt /a.txt"]


async def test_build_form_refuses_bad_args_and_cancels(engine: Engine) -> None:
    app = frozen_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_images(pilot)
        await pilot.press("b")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, BuildDialog)
        form.query_one(TextArea).text = "GOOD=1\n=oops\n"
        await pilot.press("enter")  # in the context field
        await pilot.pause()
        assert app.screen is form
        assert "line 2" in str(form.query_one("#error", Static).content)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ImagesScreen)


def test_form_parsing() -> None:
    assert parse_build_args("A=1\nB\n C = x y\n# no\n", {"B": "from-env"}) == (
        ("A", "1"), ("B", "from-env"), ("C", " x y"))
    assert parse_build_args("MISSING", {}) == (("MISSING", None),)
    with pytest.raises(ValueError, match="line 1"):
        parse_build_args("A B=1")
    req = make_request(BuildForm(context="ctx", dockerfile="sub/Dockerfile.dev",
                                 tags=" a:1 ,, b ", no_network=True), cwd="/src")
    assert req.context == "/src/ctx"
    assert req.options.dockerfile == "sub/Dockerfile.dev"
    assert req.options.tags == ("a:1", "b") and req.options.network == "none"
    assert make_request(BuildForm(context="/abs/ctx"), cwd="/src").context == "/abs/ctx"
    with pytest.raises(ValueError, match="context"):
        make_request(BuildForm(context="  "))
    assert step_title("[2/5] RUN make") == "Step 2/5 : RUN make"
    assert step_title("[build 1/3] FROM busybox") == "Step 1/3 (build) : FROM busybox"
    assert step_title("exporting to image") == "exporting to image"


@pytest.mark.skipif(os.geteuid() != 0, reason="RUN needs root (namespaces, mounts)")
async def test_run_output_streams_and_esc_cancels(engine: Engine, tmp_path: Path) -> None:
    from tests.integration.build_helpers import BASE, import_busybox

    import_busybox(engine)
    ctx = write_context(tmp_path / "ctx", f"FROM {BASE}\nRUN echo started-step && sleep 60\n")
    app = frozen_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_images(pilot)
        await pilot.press("b")
        await pilot.pause()
        form = app.screen
        form.query_one("#context", Input).value = str(ctx)
        form.query_one("#tags", Input).value = "sleepy:1"
        form.query_one("#no-network", Checkbox).value = True
        form.query_one("#context", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        progress = app.screen
        assert isinstance(progress, BuildProgress)
        log = progress.query_one(BuildLog)
        await until(pilot, lambda: any("started-step" in line for b in log.blocks
                                       for line in b.lines))
        started = time.monotonic()
        await pilot.press("escape")  # cancel: the sleep is killed, not waited for
        await until(pilot, lambda: not progress.running)
        assert time.monotonic() - started < 30
        assert progress.outcome == "cancelled"
        assert progress.outcome_text == CANCELLED
        await pilot.press("escape")  # now it closes
        await settle(pilot)
        assert isinstance(app.screen, ImagesScreen)
    assert engine.containers_list(all=True) == []  # the step's container is gone
    assert [i.repository for i in engine.images_list()] == ["busybox"]  # nothing tagged


# -- push and pull ----------------------------------------------------------------------
async def test_push_then_pull_back_through_the_dialogs(reg_engine: Engine, hello_image: str,
                                                       registry: Registry) -> None:
    engine = reg_engine
    target = f"{registry.host}/team/hello:1.0"
    app = frozen_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_images(pilot)
        await pilot.press("u")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, PushDialog)
        box = dialog.query_one("#reference", Input)
        assert box.value == "hello:1.0"  # prefilled with the selected image
        box.value = target
        await pilot.press("enter")
        await until(pilot, lambda: dialog.outcome != "")
        assert dialog.outcome == "done", dialog.error_text
        states = dialog.layer_progress.states
        assert states and all(s.percentage == 1.0 for s in states.values())
        assert all(s.status == "Pushed" for s in states.values())
        pushed = dialog.result
        assert pushed is not None and pushed.startswith("sha256:")
        assert dialog.result_text.startswith(f"1.0: digest: {pushed} size: ")
        assert "Tagged hello:1.0 as " + target in str(dialog.query_one("#status", Static).content)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ImagesScreen)
        assert ["127.0.0.1:" + str(registry.port) + "/team/hello", "1.0"] in [
            r[:2] for r in table_rows(app)]

        # Drop every local copy, then pull it back.
        engine.images_remove([target, "hello:1.0"])
        assert engine.images_list() == []
        await pilot.press("p")
        await pilot.pause()
        pull = app.screen
        assert isinstance(pull, PullDialog)
        pull.query_one("#reference", Input).value = target
        await pilot.press("enter")
        await until(pilot, lambda: pull.outcome != "")
        assert pull.outcome == "done", pull.error_text
        states = pull.layer_progress.states
        assert states and all(s.percentage == 1.0 for s in states.values())
        assert all(s.status == "Pull complete" for s in states.values())
        assert pull.result == hello_image  # the same image came back
        assert pull.result_text.splitlines() == [
            f"Digest: {pushed}", f"Status: Downloaded newer image for {target}"]
        await pilot.press("escape")
        await settle(pilot)
        assert [r[:3] for r in table_rows(app)] == [
            [f"{registry.host}/team/hello", "1.0", hello_image[7:19]]]

        # Pulling again: every layer is already there.
        await pilot.press("p")
        await pilot.pause()
        again = app.screen
        assert isinstance(again, PullDialog)
        again.query_one("#reference", Input).value = target
        await pilot.press("enter")
        await until(pilot, lambda: again.outcome != "")
        assert [s.status for s in again.layer_progress.states.values()] == ["Already exists"]
        assert again.result_text.endswith(f"Image is up to date for {target}")


async def test_pull_unknown_reference_is_one_error_line(reg_engine: Engine,
                                                        registry: Registry) -> None:
    app = frozen_app(reg_engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_images(pilot)
        await pilot.press("p")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, PullDialog)
        await pilot.press("enter")  # nothing typed yet
        assert dialog.error_text == "Enter an image reference" and not dialog.running
        dialog.query_one("#reference", Input).value = f"{registry.host}/no/such:1"
        await pilot.press("enter")
        await until(pilot, lambda: dialog.outcome != "")
        assert dialog.outcome == "failed"
        error = dialog.error_text
        assert error and "\n" not in error
        assert "no/such" in error
        assert not dialog.query_one(LayerProgress).states
        # The box is back for another try, and esc closes with no result.
        box = dialog.query_one("#reference", Input)
        assert not box.disabled and app.focused is box
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ImagesScreen)
    assert reg_engine.images_list() == []


async def test_pull_esc_stops_the_transfer(engine: Engine,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Cancel is cooperative: the worker stops iterating and closes the engine's
    generator (which is where the engine stops its layer threads)."""
    release = threading.Event()
    closed = threading.Event()

    def slow_pull(ref: str, opts: object = None) -> Iterator[PullProgress]:
        try:
            yield PullProgress("1.0", "Pulling from team/slow")
            yield PullProgress("aaaaaaaaaaaa", "Downloading", 10, 100)
            release.wait(30)
            yield PullProgress("aaaaaaaaaaaa", "Downloading", 20, 100)
            yield PullProgress("aaaaaaaaaaaa", "Downloading", 30, 100)
        except GeneratorExit:
            closed.set()
            raise

    monkeypatch.setattr(engine, "images_pull", slow_pull)
    app = frozen_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_images(pilot)
        await pilot.press("p")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, TransferDialog)
        dialog.query_one("#reference", Input).value = "registry.test/team/slow:1.0"
        await pilot.press("enter")
        await until(pilot, lambda: bool(dialog.layer_progress.states))
        await pilot.press("escape")
        assert dialog.running and isinstance(app.screen, PullDialog)  # first esc: cancel
        release.set()
        await until(pilot, lambda: not dialog.running)
        assert closed.is_set()
        assert dialog.outcome == "cancelled"
        assert dialog.error_text == PullDialog.CANCELLED
        state = dialog.layer_progress.states["aaaaaaaaaaaa"]
        assert state.current == 20 and state.status == "Downloading 20 Bytes / 100 Bytes"
        await pilot.press("escape")  # second esc: close
        await pilot.pause()
        assert isinstance(app.screen, ImagesScreen)


# -- tag and prune ----------------------------------------------------------------------
async def test_tag_adds_a_name(engine: Engine, hello_image: str) -> None:
    app = frozen_app(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_images(pilot)
        await pilot.press("t")
        await pilot.pause()
        prompt = app.screen
        assert isinstance(prompt, PromptScreen)
        box = prompt.query_one(Input)
        assert box.value == "hello:1.0"
        box.value = "hello:2.0"
        await pilot.press("enter")
        await settle(pilot)
        assert engine.images_resolve("hello:2.0") == hello_image
        assert sorted(r[:2] for r in table_rows(app)) == [["hello", "1.0"], ["hello", "2.0"]]
        assert "Tagged hello:1.0 as hello:2.0" in [n.message for n in app._notifications]

        await pilot.press("t")
        await pilot.pause()
        app.screen.query_one(Input).value = "Not A Valid Name!"
        await pilot.press("enter")
        await settle(pilot)
        errors = [n for n in app._notifications if n.severity == "error"]
        assert len(errors) == 1 and "\n" not in errors[0].message
        assert len(table_rows(app)) == 2


async def test_prune_dangling_then_all_unused(engine: Engine, hello_image: str) -> None:
    # A dangling image: imported with no name, different content from hello.
    dangling = engine.images_import(rootfs_tar(), ImportOptions(created=CREATED + 1),
                                    source="rootfs.tar")
    assert dangling != hello_image
    app = frozen_app(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_images(pilot)
        assert len(table_rows(app)) == 2
        await pilot.press("D")
        await pilot.pause()
        assert isinstance(app.screen, PruneDialog)
        await pilot.press("n")  # cancel: nothing happens
        await settle(pilot)
        assert len(engine.images_list()) == 2

        await pilot.press("D", "y")  # dangling only (the default)
        await settle(pilot)
        assert [i.id for i in engine.images_list()] == [hello_image]
        assert [r[:2] for r in table_rows(app)] == [["hello", "1.0"]]
        note = app._notifications
        last = list(note)[-1]
        assert last.title == "Pruned dangling images"
        assert "Deleted images: 1" in last.message and "Total reclaimed space:" in last.message

        await pilot.press("D", "a", "y")  # all unused: hello goes too (no container uses it)
        await settle(pilot)
        assert engine.images_list() == []
        last = list(app._notifications)[-1]
        assert last.title == "Pruned unused images" and "Deleted images: 1" in last.message
        assert "0 Bytes" not in last.message


async def test_palette_reaches_the_image_actions(engine: Engine, hello_image: str) -> None:
    from app.tui.commands import PydockCommands

    app = frozen_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)  # from the Containers panel, as the palette would be used
        provider = PydockCommands(app.screen)
        await provider.startup()
        texts = [text for text, _, _ in provider._commands()]
        for text in ("push image hello:1.0", "tag image hello:1.0", "pull image…",
                     "build image…", "prune images"):
            assert text in texts
        await app.image_command("", "pull")
        await settle(pilot)
        assert isinstance(app.screen, PullDialog)
        await pilot.press("escape")
        await app.image_command("hello:1.0", "tag")
        await settle(pilot)
        assert isinstance(app.screen, PromptScreen)
        assert app.screen.query_one(Input).value == "hello:1.0"
        await pilot.press("escape")
        await app.image_command("hello:1.0", "push")
        await settle(pilot)
        assert isinstance(app.screen, PushDialog)
        assert app.screen.query_one("#reference", Input).value == "hello:1.0"


async def test_push_needs_a_named_image(engine: Engine) -> None:
    engine.images_import(rootfs_tar(), ImportOptions(created=CREATED), source="rootfs.tar")
    app = frozen_app(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_images(pilot)
        await pilot.press("u")
        await pilot.pause()
        assert isinstance(app.screen, ImagesScreen)
        assert "tag it first" in list(app._notifications)[-1].message


# -- snapshots ----------------------------------------------------------------------------
def snap_app(engine: Engine) -> PydockApp:
    return make_app(engine, clock=lambda: FROZEN_NOW, show_ids=False)


def test_snapshot_build_form(engine: Engine, hello_image: str, snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_images(pilot)
        await pilot.press("b")
        await settle(pilot)

    assert snap_compare(snap_app(engine), terminal_size=SIZE, run_before=run_before)


def test_snapshot_cached_build(engine: Engine, tmp_path: Path, frozen_build: None,
                               monkeypatch: pytest.MonkeyPatch, snap_compare: Any) -> None:
    from engine.types_build import BuildOptions

    write_context(tmp_path / "ctx")
    monkeypatch.chdir(tmp_path)  # the title shows the context as typed: "ctx"
    for _ in engine.images_build(str(tmp_path / "ctx"), BuildOptions(tags=("demo:1",))):
        pass

    async def run_before(pilot: Pilot[Any]) -> None:
        await open_images(pilot)
        progress = await build(pilot, "ctx", tags="demo:1")
        assert [m for _, m in progress.build_log.steps] == ["CACHED", "CACHED"]

    assert snap_compare(snap_app(engine), terminal_size=SIZE, run_before=run_before)


def test_snapshot_pull_finished(engine: Engine, tmp_path: Path, registry: Registry,
                                snap_compare: Any) -> None:
    # Another root pushes hello; the app's (empty) root pulls it.
    source = Engine(EngineConfig(root=tmp_path / "source-root"))
    source.registry_settings = engine.registry_settings = offline_settings(tmp_path)
    ref = f"{registry.host}/hello:1.0"
    # Three layers of fixed bytes: the same digests on every run.
    make_image(source, ref, [layer_tar({"etc/motd": b"hello\n"}),
                             layer_tar({"usr/share/data": bytes(range(256)) * 1200}),
                             layer_tar({"usr/bin/app": b"#!/bin/sh\necho app\n" * 50})])
    for _ in source.images_push(ref):
        pass
    shown = "127.0.0.1:5000/hello:1.0"  # the port is random: the snapshot shows a fixed one

    async def run_before(pilot: Pilot[Any]) -> None:
        await open_images(pilot)
        await pilot.press("p")
        await pilot.pause()
        dialog = pilot.app.screen
        assert isinstance(dialog, PullDialog)
        dialog.query_one("#reference", Input).value = ref
        await pilot.press("enter")
        await until(pilot, lambda: dialog.outcome != "")
        assert dialog.outcome == "done", dialog.error_text
        await settle(pilot)
        dialog.query_one("#reference", Input).value = shown
        for static in dialog.query(Static):
            text = str(static.content)
            if registry.host in text:
                static.update(text.replace(f"{registry.host}/", "127.0.0.1:5000/"))
        await pilot.pause()

    assert snap_compare(snap_app(engine), terminal_size=SIZE, run_before=run_before)
