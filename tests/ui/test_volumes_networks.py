"""The Volumes and Networks panels with Pilot against a real engine on a temporary root.

Volumes, networks and containers are made through the facade; a container that
uses a volume is only created, never started. Containers attached to a network
run inside a private network namespace (``netns_helpers``), started by the CLI
under ``nsenter``, so no bridge or veth ever appears in the host's namespace.
Record times are frozen at CREATED and the app's clock ten minutes later.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from textual.app import App, ComposeResult
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Label, Static

from app.tui.actions_menu import ActionsMenu
from app.tui.app import PydockApp, make_app
from app.tui.confirm_screen import ConfirmScreen
from app.tui.create_forms import NetworkCreateForm, VolumeCreateForm, parse_labels
from app.tui.inspect_screen import InspectScreen
from app.tui.networks_screen import NetworksScreen
from app.tui.volumes_screen import VolumesScreen
from engine import Engine
from engine.network import model as network_model
from engine.types import (
    CreateOptions,
    ImportOptions,
    NetworkCreateOptions,
    NetworkSummary,
    VolumeCreateOptions,
)
from engine.volumes import store as volume_store
from tests.fakes import FakeEngine
from tests.integration.netns_helpers import NetNS, engine_in, host_links, private_netns
from tests.integration.runtime_helpers import IMAGE
from tests.ui.conftest import CREATED, FROZEN_NOW, rootfs_tar, settle
from widgets import NetworkDetail, NetworkEndpoint, NetworkTable, VolumeTable
from widgets.volume_table import short_path

SIZE = (120, 36)
SnapCompare = Callable[..., bool]


@pytest.fixture
def root(test_base: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
         ) -> Iterator[Path]:
    # Under the session's test base, where the leak guard looks (a created container and
    # the netns tests' monitors live here). The name is the test's, not random: the
    # mountpoint column shows the end of the path. Made the default root too, so the
    # hints show plain `pydock ...` commands.
    d = test_base / ("tui-volnet-" + "".join(c if c.isalnum() else "-"
                                             for c in request.node.name))
    d.mkdir()
    monkeypatch.setenv("PYDOCK_ROOT", str(d))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(autouse=True)
def frozen_records(monkeypatch: pytest.MonkeyPatch) -> None:
    """Volumes and networks made in this process are "created" at CREATED."""
    fake = SimpleNamespace(time=lambda: CREATED, strftime=time.strftime, gmtime=time.gmtime)
    monkeypatch.setattr(volume_store, "time", fake)
    monkeypatch.setattr(network_model, "time", fake)


def frozen_app(engine: Engine) -> PydockApp:
    return make_app(engine, clock=lambda: FROZEN_NOW, show_ids=False)


async def open_panel(pilot: Pilot[None], key: str) -> None:
    await settle(pilot)
    await pilot.press(key)
    await settle(pilot)


def rows(app: App[None], table_type: type[VolumeTable] | type[NetworkTable]) -> list[list[str]]:
    table = app.screen.query_one(table_type)
    return [[str(c) for c in table.get_row(r.key)] for r in table.ordered_rows]


def names(app: App[None], table_type: type[VolumeTable] | type[NetworkTable]) -> list[str]:
    return [i.name for i in app.screen.query_one(table_type).items]


def screen_text(widget: Any) -> str:
    """What a widget shows, line by line, as plain text."""
    return "\n".join(str(widget.render_line(y).text).rstrip()
                     for y in range(widget.size.height))


def notices(app: App[None]) -> list[tuple[str, str]]:
    return [(n.title, n.message) for n in app._notifications]


def volume_names(engine: Engine) -> list[str]:
    return sorted(v.name for v in engine.volumes_list())


def network_names(engine: Engine) -> list[str]:
    return sorted(n.name for n in engine.networks_list())


def mkvol(engine: Engine, name: str | None, *labels: tuple[str, str], data: int = 0) -> str:
    meta = engine.volumes_create(VolumeCreateOptions(name=name, labels=labels))
    if data:
        (Path(meta["Mountpoint"]) / "file").write_bytes(b"x" * data)
    return str(meta["Name"])


@pytest.fixture
def web(engine: Engine, hello_image: str) -> Iterator[str]:
    """Volumes ``web-data`` (1000 bytes, used by the created container ``web``) and
    ``cache`` (labelled, unused)."""
    mkvol(engine, "web-data", data=1000)
    mkvol(engine, "cache", ("tier", "fast"))
    cid = engine.containers_create(CreateOptions(image="hello:1.0", command=("/bin/hello",),
                                                 name="web", volumes=("web-data:/data",)))
    try:
        yield cid
    finally:
        engine.containers_remove([cid], force=True)


# -- volumes: list, empty root, create ------------------------------------------------------------
async def test_volumes_list_sizes_users_and_mountpoints(engine: Engine, web: str) -> None:
    app = frozen_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_panel(pilot, "3")
        assert isinstance(app.screen, VolumesScreen)
        mount = short_path(str(engine.config.root / "volumes" / "web-data" / "_data"))
        assert mount.startswith("…") and mount.endswith("/volumes/web-data/_data")
        assert rows(app, VolumeTable) == [
            [" ", "cache", "local", "0 Bytes",
             short_path(str(engine.config.root / "volumes/cache/_data")), "–",
             "10 minutes ago"],
            [" ", "web-data", "local", "1.0 kB", mount, "web", "10 minutes ago"]]
        assert app.screen.sub_title == "Volumes (2)"


async def test_empty_root_explains_and_c_creates_a_volume(engine: Engine) -> None:
    app = frozen_app(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_panel(pilot, "3")
        empty = app.screen.query_one("#empty", Static)
        assert empty.display and not app.screen.query_one(VolumeTable).display
        assert "pydock volume create app-data" in str(empty.content)
        assert "with c" in str(empty.content)
        await pilot.press("c")
        assert isinstance(app.screen, VolumeCreateForm)
        await pilot.press(*"app-data")
        await pilot.press("tab", *"tier=db,backup", "enter")
        await settle(pilot)
        assert isinstance(app.screen, VolumesScreen)
        assert volume_names(engine) == ["app-data"]
        assert engine.volumes_inspect("app-data")["Labels"] == {"tier": "db", "backup": ""}
        assert not empty.display and names(app, VolumeTable) == ["app-data"]
        assert ("", "Created volume app-data") in notices(app)


async def test_create_form_rejects_bad_labels_and_escape_cancels(engine: Engine) -> None:
    app = frozen_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_panel(pilot, "3")
        await pilot.press("c", *"x", "tab", *"=oops", "enter")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, VolumeCreateForm)  # still open, with the reason
        assert "invalid label '=oops'" in str(form.query_one("#error", Label).content)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, VolumesScreen)
        assert volume_names(engine) == []


async def test_create_with_an_engine_error_is_a_notification(engine: Engine) -> None:
    app = frozen_app(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_panel(pilot, "3")
        await pilot.press("c", *"bad/name", "enter")
        await settle(pilot)
        assert isinstance(app.screen, VolumesScreen)
        assert any("invalid characters" in msg for _, msg in notices(app))
        assert volume_names(engine) == []


# -- volumes: remove, marks, prune, filter, inspect -----------------------------------------------
async def test_remove_asks_and_an_in_use_volume_shows_the_engine_error(engine: Engine,
                                                                        web: str) -> None:
    app = frozen_app(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_panel(pilot, "3")
        await pilot.press("j", "d")  # web-data
        assert isinstance(app.screen, ConfirmScreen)
        assert "In use, so the engine will refuse: web-data (used by web)" in \
            app.screen.question
        await pilot.press("y")
        await settle(pilot)
        assert ("Cannot remove volume web-data",
                "remove web-data: volume is in use - [web]") in notices(app)
        assert volume_names(engine) == ["cache", "web-data"]
        await pilot.press("k", "d", "n")  # cache, cancelled
        await settle(pilot)
        assert volume_names(engine) == ["cache", "web-data"]
        await pilot.press("d", "y")
        await settle(pilot)
        assert volume_names(engine) == ["web-data"]
        assert names(app, VolumeTable) == ["web-data"]
        assert ("", "Removed volume cache") in notices(app)


async def test_marked_rows_are_removed_together_each_with_its_report(engine: Engine,
                                                                     web: str) -> None:
    mkvol(engine, "logs")
    app = frozen_app(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_panel(pilot, "3")
        assert names(app, VolumeTable) == ["cache", "logs", "web-data"]
        await pilot.press("space", "j", "space")  # cache, then web-data (logs skipped)
        table = app.screen.query_one(VolumeTable)
        assert table.marked == {"cache", "web-data"}
        assert "2 marked" in str(app.screen.sub_title)
        assert [r[0] for r in rows(app, VolumeTable)] == ["●", " ", "●"]
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.question.startswith("Remove volumes cache, web-data?")
        await pilot.press("y")
        await settle(pilot)
        assert volume_names(engine) == ["logs", "web-data"]
        assert ("", "Removed volume cache") in notices(app)
        assert ("Cannot remove volume web-data",
                "remove web-data: volume is in use - [web]") in notices(app)
        assert table.marked == set()


async def test_prune_removes_unused_anonymous_volumes_and_reports_space(engine: Engine,
                                                                        web: str) -> None:
    anon = mkvol(engine, None, (volume_store.ANON_LABEL, ""), data=2000)
    app = frozen_app(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_panel(pilot, "3")
        await pilot.press("P")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Remove 1 anonymous volume that no container uses?" in app.screen.question
        assert "Named volumes stay (remove them with d): cache." in app.screen.question
        await pilot.press("n")
        await settle(pilot)
        assert anon in volume_names(engine)
        await pilot.press("P", "y")
        await settle(pilot)
        assert volume_names(engine) == ["cache", "web-data"]
        assert ("Pruned volumes", f"Deleted 1 volume: {anon}\nReclaimed 2.0 kB") in \
            notices(app)
        assert names(app, VolumeTable) == ["cache", "web-data"]


async def test_filter_by_name_user_or_label(engine: Engine, web: str) -> None:
    app = frozen_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_panel(pilot, "3")
        await pilot.press("slash", *"web")
        await settle(pilot)
        assert names(app, VolumeTable) == ["web-data"]
        assert "filter 'web'" in str(app.screen.sub_title)
        await pilot.press("ctrl+a", "ctrl+k", *"tier=fast", "enter")
        await settle(pilot)
        assert names(app, VolumeTable) == ["cache"]
        assert app.screen.focused is app.screen.query_one(VolumeTable)
        await pilot.press("escape")  # from the table: clears the kept filter
        await settle(pilot)
        assert names(app, VolumeTable) == ["cache", "web-data"]
        box = app.screen.query_one("#filter", Input)
        assert box.value == "" and not box.has_class("-active")


async def test_inspect_and_enter_menu(engine: Engine, web: str) -> None:
    app = frozen_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_panel(pilot, "3")
        await pilot.press("j", "i")
        await settle(pilot)
        assert isinstance(app.screen, InspectScreen)
        assert app.screen.inspect_title == "Inspect volume web-data"
        assert '"Name": "web-data"' in app.screen.text
        await pilot.press("escape")
        await pilot.press("enter")
        assert isinstance(app.screen, ActionsMenu)
        await pilot.press("enter")  # the first entry: Inspect
        await settle(pilot)
        assert isinstance(app.screen, InspectScreen)
        assert '"Name": "web-data"' in app.screen.text


# -- networks -------------------------------------------------------------------------------------
def mknet(engine: Engine, name: str, subnet: str, **kw: Any) -> None:
    engine.networks_create(NetworkCreateOptions(name=name, subnet=subnet, **kw))


async def test_networks_list_with_default_and_an_empty_detail(engine: Engine) -> None:
    mknet(engine, "backend", "10.89.42.0/24", internal=True, labels=(("tier", "db"),))
    app = frozen_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_panel(pilot, "4")
        assert isinstance(app.screen, NetworksScreen)
        assert rows(app, NetworkTable) == [
            [" ", "backend", "bridge", "10.89.42.0/24", "10.89.42.1", "yes", "–",
             "10 minutes ago"],
            [" ", "pydock0 (default)", "bridge", "10.88.0.0/16", "10.88.0.1", "no", "–",
             "10 minutes ago"]]
        detail = screen_text(app.screen.query_one(NetworkDetail))
        assert "No container is attached" in detail
        assert "pydock run --network backend" in detail
        assert "labels: tier=db" in detail


async def test_create_network_form(engine: Engine) -> None:
    app = frozen_app(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_panel(pilot, "4")
        await pilot.press("c")
        form = app.screen
        assert isinstance(form, NetworkCreateForm)
        await pilot.press("enter")  # no name yet
        assert "A network needs a name" in str(form.query_one("#error", Label).content)
        await pilot.press(*"front", "tab", *"10.89.300.0/24", "enter")
        assert "Subnet:" in str(form.query_one("#error", Label).content)
        form.query_one("#subnet", Input).value = "10.89.77.0/24"
        form.query_one("#gateway", Input).value = "10.89.77.254"
        form.query_one("#internal", Checkbox).value = True
        form.query_one("#labels", Input).value = "app=shop"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, NetworksScreen)
        net = engine.networks_inspect("front")
        assert net["IPAM"]["Config"] == [{"Subnet": "10.89.77.0/24", "Gateway": "10.89.77.254"}]
        assert net["Internal"] is True and net["Labels"] == {"app": "shop"}
        assert ("", "Created network front") in notices(app)
        table = app.screen.query_one(NetworkTable)
        assert table.selected is not None and table.selected.name == "front"


async def test_default_network_is_refused_with_the_reason(engine: Engine) -> None:
    mknet(engine, "backend", "10.89.42.0/24")
    app = frozen_app(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_panel(pilot, "4")
        await pilot.press("j", "d")  # pydock0
        await settle(pilot)
        assert isinstance(app.screen, NetworksScreen)  # no confirmation for the impossible
        title, msg = notices(app)[-1]
        assert title == "Cannot remove network pydock0"
        assert "default network" in msg and "cannot be removed" in msg
        await pilot.press("k", "d")
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.question == "Remove network backend?"
        await pilot.press("y")
        await settle(pilot)
        assert network_names(engine) == ["pydock0"]
        assert names(app, NetworkTable) == ["pydock0"]
        assert ("", "Removed network backend") in notices(app)


async def test_marked_networks_prune_filter_and_inspect(engine: Engine) -> None:
    for i, name in enumerate(("alpha", "beta", "gamma")):
        mknet(engine, name, f"10.89.{50 + i}.0/24")
    app = frozen_app(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_panel(pilot, "4")
        await pilot.press("slash", *"bet", "enter")
        await settle(pilot)
        assert names(app, NetworkTable) == ["beta"]
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, InspectScreen)
        assert '"Subnet": "10.89.51.0/24"' in app.screen.text
        await pilot.press("escape", "escape")  # close, then clear the filter
        await settle(pilot)
        assert names(app, NetworkTable) == ["alpha", "beta", "gamma", "pydock0"]
        await pilot.press("g", "space", "space", "j", "space")  # alpha, beta and pydock0
        await pilot.press("d")
        # pydock0 is refused at once; the others are confirmed and removed together.
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.question == "Remove networks alpha, beta?"
        await pilot.press("y")
        await settle(pilot)
        assert network_names(engine) == ["gamma", "pydock0"]
        assert notices(app)[0][0] == "Cannot remove network pydock0"
        await pilot.press("P")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert network_names(engine) == ["pydock0"]
        assert ("Pruned networks", "Deleted 1 network: gamma") in notices(app)


# -- networks with containers attached (inside a private network namespace) -----------------------
@pytest.fixture
def attached(engine: Engine, tmp_path: Path, test_base: Path) -> Iterator[NetNS]:
    """``backend`` with ``web`` (alias ``www``) and ``db`` running on it, in a private netns.

    The network record is written in-process (records only, time frozen); every
    container is started by the CLI inside the namespace, where its bridge and veths live.
    """
    if os.geteuid() != 0:
        pytest.skip("containers need root")
    before = host_links()
    mknet(engine, "backend", "10.89.42.0/24")
    with private_netns(test_base) as ns, engine_in(engine.config.root, tmp_path, ns):
        for name, extra in (("web", ["--network-alias", "www"]), ("db", [])):
            r = ns.pydock(engine.config.root, "run", "-d", "--name", name, "--network",
                          "backend", *extra, IMAGE, "sleep", "1000")
            assert r.returncode == 0, r.stderr
        yield ns
    assert host_links() == before, "a test changed the host's network namespace"


async def test_attached_containers_in_detail_and_in_use_refusal(engine: Engine,
                                                                attached: NetNS) -> None:
    app = frozen_app(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_panel(pilot, "4")
        assert rows(app, NetworkTable)[0][1:] == [
            "backend", "bridge", "10.89.42.0/24", "10.89.42.1", "no", "web, db",
            "10 minutes ago"]
        detail = app.screen.query_one(NetworkDetail)
        assert sorted(detail.endpoints, key=lambda e: e.container) == [
            NetworkEndpoint("db", "10.89.42.3/24", ()),
            NetworkEndpoint("web", "10.89.42.2/24", ("www",))]
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Containers are attached, so the engine will refuse: backend (web, db)" in \
            app.screen.question
        await pilot.press("y")
        await settle(pilot)
        title, msg = notices(app)[-1]
        assert title == "Cannot remove network backend"
        assert "has active endpoints (db, web)" in msg
        assert "backend" in network_names(engine)


def test_snapshot_networks_with_detail(engine: Engine, attached: NetNS,
                                       snap_compare: SnapCompare) -> None:
    assert snap_compare(frozen_app(engine), terminal_size=SIZE,
                        run_before=lambda pilot: open_panel(pilot, "4"))


async def test_attached_containers_with_the_fake_engine(fake_engine: FakeEngine) -> None:
    """The same screen against the fake engine (tests/fakes): containers on a network
    without any namespace, and a container that leaves shows up as such."""
    fake_engine.images_import(rootfs_tar(), ImportOptions(reference="hello:1.0",
                                                          created=CREATED), source="rootfs.tar")
    fake_engine.networks_create(NetworkCreateOptions(name="shop", subnet="10.89.7.0/24"))
    for name, aliases in (("api", ("backend",)), ("cache", ())):
        fake_engine.containers_create(CreateOptions(image="hello:1.0", name=name,
                                                    command=("serve",), network="shop",
                                                    aliases=aliases))
        fake_engine.containers_start(name)
    app = make_app(cast(Engine, fake_engine), clock=lambda: FROZEN_NOW, show_ids=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_panel(pilot, "4")
        assert names(app, NetworkTable) == ["pydock0", "shop"]
        await pilot.press("j")
        detail = app.screen.query_one(NetworkDetail)
        assert sorted(detail.endpoints, key=lambda e: e.container) == [
            NetworkEndpoint("api", "10.89.7.2/24", ("backend",)),
            NetworkEndpoint("cache", "10.89.7.3/24", ())]
        await pilot.press("d", "y")
        await settle(pilot)
        assert "has active endpoints (api, cache)" in notices(app)[-1][1]
        fake_engine.containers_stop(["cache"])  # behind the panel's back
        app.screen.refresh_now()  # type: ignore[attr-defined]
        await settle(pilot)
        assert [e.container for e in detail.endpoints] == ["api"]
        assert "cache" not in rows(app, NetworkTable)[1][6]


# -- the detail widget on its own (data built directly) -------------------------------------------
class DetailApp(App[None]):
    def compose(self) -> ComposeResult:
        yield NetworkDetail(id="detail")


async def test_detail_widget_renders_given_endpoints() -> None:
    net = NetworkSummary("f" * 64, "shop", "bridge", "local", "10.89.9.0/24", "10.89.9.1",
                         True, CREATED, {"team": "a"}, ("api", "cache"))
    app = DetailApp()
    async with app.run_test(size=(100, 12)) as pilot:
        detail = app.query_one(NetworkDetail)
        detail.show(net, [NetworkEndpoint("cache", "10.89.9.3/24"),
                          NetworkEndpoint("api", "10.89.9.2/24", ("www", "api.local"))])
        await pilot.pause()
        text = screen_text(detail)
        lines = text.splitlines()
        assert "shop  bridge  10.89.9.0/24 via 10.89.9.1  internal: no route out" in text
        body = [ln.split() for ln in lines if ln.strip().startswith(("api", "cache"))]
        # Sorted by container name, whatever order the engine listed them in.
        assert body == [["api", "10.89.9.2/24", "www,", "api.local"],
                        ["cache", "10.89.9.3/24", "–"]]
        detail.show(None, [])
        await pilot.pause()
        assert "No network selected" in screen_text(detail)


# -- the palette ----------------------------------------------------------------------------------
async def test_palette_removes_a_volume_and_inspects_a_network(engine: Engine) -> None:
    mkvol(engine, "cache")
    mknet(engine, "backend", "10.89.42.0/24")
    app = frozen_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for query, expect in (("remove volume cache", ConfirmScreen),
                              ("inspect network backend", InspectScreen)):
            await pilot.press("ctrl+p")
            await settle(pilot)
            assert isinstance(app.screen, CommandPalette)
            await pilot.press(*query)
            await settle(pilot)
            await pilot.pause(0.3)  # the palette searches with a debounce
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, expect), query
            if expect is ConfirmScreen:
                assert app.current_mode == "volumes"
                assert app.screen.question.startswith("Remove volume cache?")
                await pilot.press("y")
                await settle(pilot)
                assert volume_names(engine) == []
            else:
                assert app.current_mode == "networks"
                assert '"Name": "backend"' in app.screen.text
                await pilot.press("escape")


def test_parse_labels() -> None:
    assert parse_labels(" a=1, b , c=x=y,,") == (("a", "1"), ("b", ""), ("c", "x=y"))
    with pytest.raises(ValueError, match="want KEY=VALUE"):
        parse_labels("=1")


# -- snapshots ------------------------------------------------------------------------------------
def test_snapshot_volumes(engine: Engine, web: str, snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_panel(pilot, "3")
        await pilot.press("space")  # one marked row, the cursor on the next
        await settle(pilot)

    assert snap_compare(frozen_app(engine), terminal_size=SIZE, run_before=run_before)


def test_snapshot_volumes_empty(engine: Engine, snap_compare: SnapCompare) -> None:
    assert snap_compare(frozen_app(engine), terminal_size=SIZE,
                        run_before=lambda pilot: open_panel(pilot, "3"))


def test_snapshot_create_network_dialog(engine: Engine, snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_panel(pilot, "4")
        await pilot.press("c", *"backend", "tab", *"10.89.42.0/24", "tab", "tab", "space")
        await settle(pilot)

    assert snap_compare(frozen_app(engine), terminal_size=SIZE, run_before=run_before)
