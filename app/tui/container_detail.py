"""The containers panel, part 2 of 3: the detail pane for the row under the cursor.

Tabs: Logs (followed in a thread worker), Inspect (a JSON tree), Env, Top,
Mounts/Ports and Stats. Stats are detected with ``hasattr(engine, "containers_stats")``
and, until the engine measures them, the tab says so instead of faking numbers.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Label, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from engine import EngineError
from engine.types import ContainerSummary
from widgets import JsonTree, LogLine, LogView, ProcessTable

from .container_list import ContainerListScreen
from .container_messages import ContainerInspected, LogsEnded, LogsPending, TopLoaded

RUNNING = ("running", "paused", "restarting")
NO_STATS = ("Stats arrive with the resources issue: CPU, memory, network and block I/O "
            "graphs over the last minutes. Nothing is shown until the engine measures it.")


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


class ContainerDetailScreen(ContainerListScreen):
    """Adds the tabbed detail pane; the row under the cursor drives it."""

    LOG_TAIL: ClassVar[int] = 1000

    DEFAULT_CSS = """
    ContainerDetailScreen #detail {
        height: 1fr;
        border-top: solid $primary 50%;
    }
    ContainerDetailScreen #log-header, ContainerDetailScreen .note {
        width: 1fr;
        padding: 0 1;
        color: $text-muted;
    }
    ContainerDetailScreen #log-search {
        display: none;
        height: 1;
        border: none;
        padding: 0 1;
        background: $boost;
    }
    ContainerDetailScreen #log-search.-active {
        display: block;
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
        self.detail: ContainerSummary | None = None
        self.inspected: dict[str, Any] = {}
        self.following = False
        # Lines from the follow thread: appended there, drained on the main thread.
        self._log_queue: deque[tuple[int, LogLine]] = deque()
        self._log_gen = 0
        self._log_wakeup_sent = False

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
                yield Static(self._stats_text(), id="stats-note", classes="note", markup=False)

    def _stats_text(self) -> str:
        if hasattr(self.engine, "containers_stats"):
            return "The engine reports stats now; the graphs are not wired in yet."
        return NO_STATS

    def on_mount(self) -> None:
        self.query_one("#env-table", DataTable).add_columns("KEY", "VALUE")
        self.query_one("#mounts-table", DataTable).add_columns(
            "TYPE", "SOURCE", "DESTINATION", "MODE", "RW")
        self._log_header()

    @property
    def log_view(self) -> LogView:
        return self.query_one(LogView)

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
            return
        same = before is not None and before.id == container.id
        if same and before is not None and before.status == container.status:
            return
        self.load_inspect(container.id)
        if not same or (container.status in RUNNING and not self.following):
            self._start_logs(container)
        if self._active_tab() == "top":
            self._load_top()

    def after_refresh(self) -> None:
        # Top follows the panel's 2 s refresh, only while its tab is open.
        if self._active_tab() == "top":
            self._load_top()

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

    # -- logs ------------------------------------------------------------------------------
    def _start_logs(self, container: ContainerSummary) -> None:
        self._log_gen += 1
        self._log_queue.clear()
        self.log_view.clear_log()
        self.following = container.status in RUNNING
        self._log_header()
        self.follow_logs(container.id, self._log_gen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="container-logs")
    def follow_logs(self, container_id: str, generation: int) -> None:
        worker = get_current_worker()
        try:
            # stop= ends the follow of a quiet container as soon as the cursor moves on.
            for e in self.engine.containers_logs(container_id, tail=self.LOG_TAIL, follow=True,
                                                 stop=lambda: worker.is_cancelled):
                if worker.is_cancelled:
                    return
                self._log_queue.append((generation, LogLine(
                    e.stream, e.data.decode("utf-8", "replace"), e.time_ns)))
                if not self._log_wakeup_sent:
                    # One wake-up per batch, not per line: the handler drains them all.
                    self._log_wakeup_sent = True
                    self.post_message(LogsPending())
        except EngineError as err:
            self.app.notify(str(err), title=err.title, severity="error", markup=False)
        if not worker.is_cancelled:
            self.post_message(LogsEnded(generation))

    def on_logs_pending(self) -> None:
        self._log_wakeup_sent = False  # before draining, so no line is left behind
        lines = []
        while self._log_queue:
            generation, line = self._log_queue.popleft()
            if generation == self._log_gen:
                lines.append(line)
        if lines:
            self.log_view.append(lines)

    def on_logs_ended(self, message: LogsEnded) -> None:
        if message.generation == self._log_gen:
            self.on_logs_pending()
            self.following = False
            self._log_header()

    @on(LogView.Changed)
    def _log_header(self) -> None:
        log = self.log_view
        c = self.detail
        if c is None:
            self.query_one("#log-header", Label).update("No container selected")
            return
        # What is loaded, said plainly: "empty logs" complaints are mostly tail/since.
        state = "following" if self.following else f"ended ({c.status})"
        parts = [c.name, f"tail {self.LOG_TAIL}", "since start", state,
                 f"{log.line_count} lines", f"timestamps {'on' if log.timestamps else 'off'}",
                 f"wrap {'on' if log.wrap else 'off'}"]
        if log.search:
            at = f"{log.current + 1}/" if log.current is not None else ""
            parts.append(f"/{log.search} {at}{log.match_count}")
        self.query_one("#log-header", Label).update(" · ".join(parts))

    @on(LogView.SearchRequested)
    def _open_search(self) -> None:
        box = self.query_one("#log-search", Input)
        box.add_class("-active")
        box.focus()

    @on(Input.Changed, "#log-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.log_view.search = event.value

    @on(Input.Submitted, "#log-search")
    def _search_submitted(self) -> None:
        self.log_view.focus()

    def back_from_detail(self) -> bool:
        box = self.query_one("#log-search", Input)
        if box.has_class("-active") and self.focused in (box, self.log_view):
            box.value = ""
            box.remove_class("-active")
            self.log_view.search = ""
            self.log_view.focus()
            return True
        return False

    @on(LogView.SaveRequested)
    def _save_log(self) -> None:
        if self.detail is None:
            return
        self.save_log(Path.cwd() / f"{self.detail.name}.log", self.log_view.export())

    @work(thread=True, exclusive=True, exit_on_error=False, group="container-log-save")
    def save_log(self, path: Path, text: str) -> None:
        try:
            path.write_text(text)
        except OSError as err:
            self.app.notify(str(err), title="Cannot save the log", severity="error",
                            markup=False)
            return
        self.app.notify(f"Saved {text.count(chr(10))} lines to {path}", title="Log saved",
                        markup=False)

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
        self.query_one(JsonTree).show(data)
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
        self.query_one("#ports-note", Static).update(note)

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
