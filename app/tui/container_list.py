"""The containers panel, part 1 of 4: the live list, its filter and the empty-root hint.

The panel is one screen split over a chain of classes so each file stays readable:
:class:`ContainerListScreen` (here) refreshes the table on engine events and puts the
app's stats passes (``stats_hub``) on it,
``ContainerLogsScreen`` follows the log, ``ContainerDetailScreen`` adds the tabbed
detail pane, ``ContainersScreen`` adds the actions. Every engine call runs in a
thread worker and comes back as a Message from ``container_messages``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static
from textual.worker import Worker, get_current_worker

from engine import Engine, EngineError
from engine.types import ContainerSummary, StatsSample
from widgets import ContainerTable
from widgets.container_table import RUNNING

from .container_messages import ContainersLoaded
from .filter_panel import FilterPanelScreen
from .panel import cli_prefix
from .stats_hub import StatsSampled


class ContainerListScreen(FilterPanelScreen):
    """Header, filter box, the container table, (detail pane), Footer."""

    REFRESH_GROUP: ClassVar[str] = "containers"
    SHOWS_STATS: ClassVar[bool] = True  # the CPU/MEM bars and the Stats tab
    SUB_TITLE = "Containers"
    # Seconds the cursor must rest on a row before the detail pane follows it.
    DETAIL_DELAY: ClassVar[float] = 0.1
    # The table, not the first focusable widget (the hidden filter box).
    AUTO_FOCUS = "#containers"

    DEFAULT_CSS = """
    ContainerListScreen #filter {
        display: none;
        height: 1;
        border: none;
        padding: 0 1;
        background: $boost;
    }
    ContainerListScreen #filter.-active {
        display: block;
    }
    ContainerListScreen #containers {
        height: 40%;
        min-height: 6;
    }
    ContainerListScreen #empty {
        display: none;
        height: auto;
        margin: 1 2;
        padding: 1 2;
        border: round $primary;
        background: $boost;
    }
    ContainerListScreen.-empty #empty {
        display: block;
    }
    ContainerListScreen.-empty #containers {
        display: none;
    }
    """

    BINDINGS = [
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="containers.refresh"),
        Binding("slash", "filter", "Filter", id="containers.filter"),
        Binding("escape", "back", "Back", show=False, id="containers.back"),
    ]

    def __init__(self, engine: Engine, *, clock: Callable[[], float],
                 show_ids: bool = True) -> None:
        super().__init__()
        self.engine = engine
        self.clock = clock
        self.show_ids = show_ids
        self._loaded = False
        self._rows: list[ContainerSummary] = []
        self._samples: list[StatsSample] = []  # the hub's last pass
        self._rests_at = 0.0  # when the cursor will have rested long enough (monotonic)
        self._cursor_wait: Worker[None] | None = None

    # -- composition ---------------------------------------------------------------
    def compose_body(self) -> ComposeResult:
        with Vertical(id="body"):
            yield Input(placeholder="Filter by name, image or ID (enter: keep, esc: clear)",
                        id="filter")
            yield Static(self._empty_text(), id="empty", markup=False)
            yield ContainerTable(show_ids=self.show_ids, id="containers")
            yield from self.compose_detail()

    def compose_detail(self) -> ComposeResult:
        """The detail pane under the table (ContainerDetailScreen)."""
        yield from ()

    def cli_prefix(self) -> str:
        return cli_prefix(self.engine.config.root)

    def _empty_text(self) -> str:
        cli = self.cli_prefix()
        return ("No containers yet\n\n"
                "Start one from another terminal, for example:\n\n"
                f"  {cli} run -d --name web busybox:latest sh -c 'while true; do date; "
                "sleep 1; done'\n\n"
                "It shows up here by itself. No image? Press 2 for the Images panel.")

    @property
    def table(self) -> ContainerTable:
        return self.query_one(ContainerTable)

    def on_mount(self) -> None:
        # PanelScreen.on_mount (the first fetch) runs after this one by itself.
        self.table.loading = True

    # -- engine calls (thread workers) ----------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="containers")
    def fetch(self) -> None:
        try:
            rows = self.engine.containers_list(all=True)
        except EngineError as err:
            self.app.notify(str(err), title=err.title, severity="error", markup=False)
            return
        # A newer fetch replaced this one (exclusive): its rows must not land after those.
        if not get_current_worker().is_cancelled:
            self.post_message(ContainersLoaded(rows))

    # -- results (main thread) ---------------------------------------------------------------
    def _usage(self) -> dict[str, tuple[float | None, float | None]]:
        """CPU and MEM bars from the hub's last pass, for rows that still run (a container
        that just stopped shows "–" at once, not its last numbers)."""
        live = {c.id for c in self._rows if c.status in RUNNING}
        return {s.id: (s.cpu_percent, s.mem_percent) for s in self._samples if s.id in live}

    def on_containers_loaded(self, message: ContainersLoaded) -> None:
        table = self.table
        self._loaded = True
        self._rows = message.rows
        self.set_class(not message.rows, "-empty")
        table.update_containers(message.rows, self.clock(), self._usage())
        table.loading = False
        if self.focused is None and table.display:
            table.focus()
        # The table reports a new cursor row itself; a new state of the same row it does
        # not, and the detail pane wants both.
        self.show_detail(table.selected_container)
        self.after_refresh()

    def stats_sampled(self, message: StatsSampled) -> None:
        self._samples = message.samples
        # Known: listed, or running though the list has not caught up (panel hidden).
        self.record_stats(message.samples,
                          {c.id for c in self._rows} | {s.id for s in message.samples})
        if self.in_front and self._loaded:
            # The same rows with new bars and uptimes: a keyed diff touches only those cells.
            self.table.update_containers(self._rows, self.clock(), self._usage())
            self.after_stats()

    def record_stats(self, samples: list[StatsSample], known: set[str]) -> None:
        """Keep the samples for the Stats tab's graphs (ContainerDetailScreen)."""

    def after_stats(self) -> None:
        """Called after each stats pass shown (the Stats tab redraws here)."""

    def show_detail(self, container: ContainerSummary | None) -> None:
        """Point the detail pane at ``container`` (ContainerDetailScreen)."""

    def after_refresh(self) -> None:
        """Called after every list refresh (the detail pane refreshes Top here)."""

    @on(ContainerTable.Highlighted)
    def _highlighted(self) -> None:
        # The detail pane (log follow, inspect) follows once the cursor has rested for a
        # moment: j/k held down redraws only the cursor, not a log per row passed.
        self._rests_at = time.monotonic() + self.DETAIL_DELAY
        if self._cursor_wait is None or self._cursor_wait.is_finished:
            self._cursor_wait = self._follow_cursor()

    @work(exit_on_error=False, group="container-detail")
    async def _follow_cursor(self) -> None:
        # One wait that each move extends, rather than a wait per move cancelled by the
        # next: nothing is cancelled, so whoever waits for the workers sees it finish.
        while (left := self._rests_at - time.monotonic()) > 0:
            await asyncio.sleep(left)
        self.show_detail(self.table.selected_container)

    @on(ContainerTable.ViewChanged)
    def _view_changed(self) -> None:
        table = self.table
        shown, total = table.row_count, table.total
        parts = [f"{shown} of {total}" if shown != total else str(total)]
        if table.marked:
            parts.append(f"{len(table.marked)} marked")
        parts.append(f"sort: {table.sort_by}")
        if not table.show_stopped:
            parts.append("running only")
        if table.grouped:
            parts.append(f"grouped by {table.group_label}")
        if table.filter_text.strip():
            parts.append(f"filter {table.filter_text.strip()!r}")
        self.sub_title = f"Containers ({parts[0]}) · " + " · ".join(parts[1:])

    # -- filter and escape -------------------------------------------------------------------
    def action_refresh(self) -> None:
        self.refresh_now()


    def back_from_detail(self) -> bool:
        """Close what the detail pane has open; True if it did (ContainerDetailScreen)."""
        return False

    def action_back(self) -> None:
        """``escape``: close the innermost thing that is open, one level per press."""
        box = self.query_one("#filter", Input)
        if self.back_from_detail():
            return
        if box.has_class("-active") and (self.focused is box or not box.value):
            self.clear_filter()
            self.table.focus()
        elif self.focused is not self.table:
            self.table.focus()
        elif box.value:
            self.clear_filter()
        elif self.table.marked:
            self.table.clear_marks()
