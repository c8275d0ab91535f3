"""The containers panel, part 3 of 4: the detail pane for the row under the cursor.

Tabs: Logs (followed in a thread worker), Inspect (a JSON tree), Env, Top,
Mounts/Ports and Stats (graphs of the app's stats passes, once a second while the
panel is in front; a container that is not running gets a sentence, not zeros).
"""

from __future__ import annotations

from collections import defaultdict, deque
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Label, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from engine import EngineError
from engine.types import ContainerSummary, StatsSample
from widgets import JsonTree, LogView, ProcessTable, StatsView

from .container_logs import RUNNING, ContainerLogsScreen
from .container_messages import ContainerInspected, TopLoaded

HISTORY = 180  # samples per container for the graphs: 3 minutes at one pass a second


def env_rows(data: dict[str, Any]) -> list[tuple[str, str]]:
    """``Config.Env`` as (KEY, VALUE) pairs; a bare ``KEY`` has an empty value."""
    out = []
    for item in (data.get("Config") or {}).get("Env") or []:
        key, _, value = str(item).partition("=")
        out.append((key, value))
    return out


def ports_text(data: dict[str, Any]) -> str:
    ports = (data.get("NetworkSettings") or {}).get("Ports") or \
        (data.get("HostConfig") or {}).get("PortBindings") or {}
    if not ports:
        return "No published ports (publishing arrives with networks)."
    lines = []
    for port, binds in sorted(ports.items()):
        hosts = ", ".join(f"{b.get('HostIp') or '0.0.0.0'}:{b.get('HostPort')}"
                          for b in binds or [])
        lines.append(f"{port} -> {hosts or 'not published'}")
    return "\n".join(lines)


class ContainerDetailScreen(ContainerLogsScreen):
    """Adds the tabbed detail pane; the row under the cursor drives it."""

    DEFAULT_CSS = """
    ContainerDetailScreen #detail {
        height: 1fr;
        border-top: solid $primary 50%;
    }
    ContainerDetailScreen .note {
        width: 1fr;
        padding: 0 1;
        color: $text-muted;
    }
    ContainerDetailScreen.-empty #detail {
        display: none;
    }
    ContainerDetailScreen TabPane {
        padding: 0;
    }
    """

    BINDINGS = [
        Binding("l", "tab('logs')", "Logs", id="containers.logs"),
        Binding("i", "tab('inspect')", "Inspect", show=False, id="containers.inspect"),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.inspected: dict[str, Any] = {}
        self._tree_drawn = True  # the Inspect tab's tree shows self.inspected
        self.stats_history: defaultdict[str, deque[StatsSample]] = defaultdict(
            lambda: deque(maxlen=HISTORY))

    def compose_detail(self) -> ComposeResult:
        with TabbedContent(id="detail", initial="logs"):
            with TabPane("Logs", id="logs"):
                yield Label("", id="log-header", markup=False)
                yield Input(placeholder="Search the log (enter: keep, esc: clear)",
                            id="log-search")
                yield LogView(id="log")
            with TabPane("Inspect", id="inspect"):
                yield JsonTree(id="inspect-tree")
            with TabPane("Env", id="env"):
                yield DataTable(id="env-table", cursor_type="row", zebra_stripes=True)
            with TabPane("Top", id="top"):
                yield Static("", id="top-note", classes="note", markup=False)
                yield ProcessTable(id="top-table")
            with TabPane("Mounts/Ports", id="mounts"):
                yield DataTable(id="mounts-table", cursor_type="row")
                yield Static("", id="ports-note", classes="note", markup=False)
            with TabPane("Stats", id="stats"):
                yield StatsView(id="stats-view")

    def on_mount(self) -> None:
        self.query_one("#env-table", DataTable).add_columns("KEY", "VALUE")
        self.query_one("#mounts-table", DataTable).add_columns(
            "TYPE", "SOURCE", "DESTINATION", "MODE", "RW")
        self._log_header()

    # -- following the cursor ------------------------------------------------------------
    def show_detail(self, container: ContainerSummary | None) -> None:
        before = self.detail
        self.detail = container
        if container is None:
            if before is not None:
                self._log_gen += 1  # drops lines still in flight for the old container
                self.log_view.clear_log()
                self.query_one(JsonTree).show({})
            self._log_header()
            self._stats_if_open()
            return
        same = before is not None and before.id == container.id
        if same and before is not None and before.status == container.status:
            return
        self.load_inspect(container.id)
        if not same or (container.status in RUNNING and not self.following):
            self._start_logs(container)
        else:
            # The follow usually ends before the list learns the new state: the header
            # said "ended (running)" until something else redrew it.
            self._log_header()
        if self._active_tab() == "top":
            self._load_top()
        self._stats_if_open()

    def after_refresh(self) -> None:
        if self._active_tab() == "top":
            self._load_top()
        self._stats_if_open()

    def _stats_if_open(self) -> None:
        # A hidden Stats tab is drawn when it opens (_tab_activated): drawing it now
        # would only cost a layout of the screen on every cursor move.
        if self._active_tab() == "stats":
            self._show_stats()

    def after_stats(self) -> None:
        # Top and the graphs follow the stats passes (while a container runs), each only
        # while its tab is open.
        tab = self._active_tab()
        if tab == "top":
            self._load_top()
        elif tab == "stats":
            self._show_stats()

    def record_stats(self, samples: list[StatsSample], known: set[str]) -> None:
        for sample in samples:
            self.stats_history[sample.id].append(sample)
        for cid in [c for c in self.stats_history if c not in known]:
            del self.stats_history[cid]  # removed containers

    def _show_stats(self) -> None:
        view = self.query_one(StatsView)
        c = self.detail
        if c is None:
            view.show_note("No container selected.")
        elif c.status not in ("running", "paused"):
            view.show_note(f"{c.name} is {c.status}: no stats.")
        else:
            view.show_samples(c.name, list(self.stats_history.get(c.id, ())),
                              self.refresh_seconds)

    def _active_tab(self) -> str:
        return self.query_one(TabbedContent).active

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        target = {"logs": "#log", "inspect": "#inspect-tree"}.get(tab)
        if target is not None:
            self.query_one(target).focus()

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "top":
            self._load_top()
        elif event.pane.id == "stats":
            self._show_stats()
        elif event.pane.id == "inspect" and not self._tree_drawn:
            self._draw_tree()

    # -- inspect, env, mounts ------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="container-inspect")
    def load_inspect(self, container_id: str) -> None:
        try:
            data = self.engine.containers_inspect(container_id)
        except EngineError:
            return  # removed meanwhile: the next list refresh drops the row
        if not get_current_worker().is_cancelled:
            self.post_message(ContainerInspected(container_id, data))

    def on_container_inspected(self, message: ContainerInspected) -> None:
        if self.detail is None or self.detail.id != message.container_id:
            return
        data = self.inspected = message.data
        self._tree_drawn = False
        if self._active_tab() == "inspect":
            self._draw_tree()
        env = self.query_one("#env-table", DataTable)
        env.clear()  # a new container's env, not a live refresh: no cursor to keep
        for key, value in env_rows(data):
            env.add_row(key, value)
        mounts = self.query_one("#mounts-table", DataTable)
        mounts.clear()
        for m in data.get("Mounts") or []:
            mounts.add_row(*(str(m.get(k, "")) for k in ("Type", "Source", "Destination",
                                                           "Mode", "RW")))
        note = ("" if data.get("Mounts") else "No mounts.\n") + ports_text(data)
        # Laid out again only if seen: the Mounts/Ports tab is laid out when it opens.
        self.query_one("#ports-note", Static).update(note, layout=self._active_tab() == "mounts")

    def _draw_tree(self) -> None:
        # Only while its tab is open: a tree of a hundred nodes for every row the cursor
        # rests on cost more than the rest of the pane together.
        self._tree_drawn = True
        self.query_one(JsonTree).show(self.inspected)

    # -- top ------------------------------------------------------------------------------------
    def _load_top(self) -> None:
        c = self.detail
        live = c is not None and c.status in ("running", "paused")
        note = self.query_one("#top-note", Static)
        note.update("" if live or c is None else f"{c.name} is {c.status}: no processes.")
        note.display = not live
        self.query_one(ProcessTable).display = live
        if c is not None and live:
            self.load_top(c.id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="container-top")
    def load_top(self, container_id: str) -> None:
        try:
            titles, rows = self.engine.containers_top(container_id, "")
        except EngineError:
            return  # stopped meanwhile
        if not get_current_worker().is_cancelled:
            self.post_message(TopLoaded(container_id, list(titles), [list(r) for r in rows]))

    def on_top_loaded(self, message: TopLoaded) -> None:
        if self.detail is not None and self.detail.id == message.container_id:
            self.query_one(ProcessTable).update_processes(message.titles, message.rows)
