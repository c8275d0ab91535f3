"""The Monitor panel (panel 5): every running container's live numbers, ctop-style.

The numbers come from the app's one stats sampler (``stats_hub``), once a second while
this panel is in front; this screen makes no engine call of its own. A line on top
gives the host's totals (CPU over all cores, memory, load average) and the running
containers' share. ``o``/``O`` sort, ``/`` filters, ``enter`` opens the container's
logs in the Containers panel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from engine import Engine
from engine.types import StatsSample
from widgets import MonitorTable
from widgets.stats_view import binary_size

from .filter_panel import FilterPanelScreen
from .stats_hub import HostTotals, StatsSampled


def host_line(host: HostTotals | None, samples: Sequence[StatsSample]) -> str:
    """Two lines: the host's totals (CPU over all cores, memory, load average), then the
    running containers' count and sums (CPU in docker's unit: 100 % is one core)."""
    if host is None:
        first = "Host        measuring…"
    else:
        pct = host.mem_used / host.mem_total * 100 if host.mem_total else 0.0
        cores = "core" if host.cpus == 1 else "cores"
        first = (f"Host        CPU {host.cpu_percent:.1f}% of {host.cpus} {cores} · "
                 f"MEM {binary_size(host.mem_used)} / {binary_size(host.mem_total)} "
                 f"({pct:.1f}%) · load {' '.join(f'{v:.2f}' for v in host.load)}")
    cpu = sum(s.cpu_percent for s in samples)
    mem = sum(s.mem_usage for s in samples)
    return (f"{first}\nContainers  {len(samples)} running · CPU {cpu:.1f}% · "
            f"MEM {binary_size(mem)}")


class MonitorScreen(FilterPanelScreen):
    """The Monitor panel."""

    REFRESH_GROUP: ClassVar[str] = "monitor"
    SHOWS_STATS: ClassVar[bool] = True
    WANTS_HOST: ClassVar[bool] = True
    SUB_TITLE = "Monitor"
    AUTO_FOCUS = "#monitor"

    DEFAULT_CSS = """
    MonitorScreen #host {
        height: 2;
        padding: 0 1;
        background: $boost;
        text-style: bold;
    }
    MonitorScreen #filter {
        display: none;
        height: 1;
        border: none;
        padding: 0 1;
        background: $boost;
    }
    MonitorScreen #filter.-active {
        display: block;
    }
    MonitorScreen #none {
        display: none;
        margin: 1 2;
        color: $text-muted;
    }
    MonitorScreen.-none #none {
        display: block;
    }
    """

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="monitor.filter"),
        Binding("escape", "back", "Back", show=False, id="monitor.back"),
    ]

    def __init__(self, engine: Engine, *, clock: Callable[[], float],
                 show_ids: bool = True) -> None:
        super().__init__()
        self.engine = engine
        self.clock = clock
        self.show_ids = show_ids
        self._host: HostTotals | None = None

    def compose_body(self) -> ComposeResult:
        with Vertical(id="body"):
            yield Static(host_line(None, []), id="host", markup=False)
            yield Input(placeholder="Filter by name or ID (enter: keep, esc: clear)",
                        id="filter")
            yield Static("No running containers. They show up here as soon as one starts.",
                         id="none", markup=False)
            yield MonitorTable(show_ids=self.show_ids, id="monitor")

    @property
    def table(self) -> MonitorTable:
        return self.query_one(MonitorTable)

    def on_mount(self) -> None:
        self.table.loading = True

    def fetch(self) -> None:
        # Nothing to list: the hub samples every running container. An event (or the
        # first showing) only asks it for a pass now rather than in up to a second.
        hub = getattr(self.app, "stats_hub", None)
        if hub is not None:
            hub.poke()

    def stats_sampled(self, message: StatsSampled) -> None:
        if not self.in_front:
            return  # the first pass after coming back redraws everything
        if message.host is not None:
            self._host = message.host
        table = self.table
        # Rates against a pass from before the panel was hidden would be averages over
        # however long it was away: a dash for one pass instead.
        table.update_samples(message.samples, max_gap=3 * message.interval)
        table.loading = False
        self.set_class(not message.samples, "-none")
        self.query_one("#host", Static).update(host_line(self._host, message.samples))

    @on(MonitorTable.ViewChanged)
    def _view_changed(self) -> None:
        table = self.table
        shown, total = table.row_count, len(table.rows_by_id)
        parts = [f"{shown} of {total} running" if shown != total else f"{total} running",
                 f"sort: {table.sort_by}" + (" (reversed)" if table.reverse else "")]
        if table.filter_text.strip():
            parts.append(f"filter {table.filter_text.strip()!r}")
        self.sub_title = f"Monitor ({parts[0]}) · " + " · ".join(parts[1:])

    @on(MonitorTable.Selected)
    async def _jump(self, message: MonitorTable.Selected) -> None:
        jump = getattr(self.app, "container_command", None)
        if jump is not None:
            await jump(message.container_id, "logs")

    # -- filter ------------------------------------------------------------------------

    def action_back(self) -> None:
        box = self.query_one("#filter", Input)
        if self.focused is box or box.value:
            box.value = ""
            box.remove_class("-active")
            self.table.focus()
