"""``MonitorTable``: every running container's live numbers in one sortable table, ctop-style.

Fed the :class:`engine.types.StatsSample` list of each stats pass; it never calls the
engine. Network and block I/O are counters, so the table shows their rate between a
container's two latest samples (a dash until there are two). Each pass is a diff keyed
by container ID inside ``batch_update()``: cells that changed are updated, the cursor
stays on its container while rows move.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from engine.types import StatsSample

from .stats_view import binary_size, decimal_size

# The order `o` cycles through. Numbers sort biggest first, names A to Z; `O` flips.
SORTS = ("cpu", "mem", "net", "block", "pids", "name")
NO_RATE = "–"
BAR = 8


@dataclass(frozen=True)
class MonitorRow:
    """One container's numbers; rates in bytes per second, ``None`` before two samples."""

    id: str
    name: str
    cpu_percent: float
    mem_usage: int
    mem_limit: int
    mem_percent: float
    rx: float | None
    tx: float | None
    read: float | None
    write: float | None
    pids: int

    @property
    def net(self) -> float:
        return (self.rx or 0.0) + (self.tx or 0.0)

    @property
    def block(self) -> float:
        return (self.read or 0.0) + (self.write or 0.0)


def rate(before: int, after: int, seconds: float) -> float | None:
    """A counter's bytes per second; never negative (a counter reset reads as 0)."""
    if seconds <= 0:
        return None
    return max(0.0, (after - before) / seconds)


def monitor_row(s: StatsSample, prev: StatsSample | None,
                max_gap: float = float("inf")) -> MonitorRow:
    """``s`` with its I/O rates since ``prev``, the same container's previous sample; a
    ``prev`` more than ``max_gap`` seconds old (the panel was hidden) gives no rates, not
    an average over minutes shown as this second's."""
    def per_second(attr: str) -> float | None:
        if prev is None or s.read - prev.read > max_gap:
            return None
        return rate(getattr(prev, attr), getattr(s, attr), s.read - prev.read)

    return MonitorRow(s.id, s.name, s.cpu_percent, s.mem_usage, s.mem_limit, s.mem_percent,
                      rx=per_second("net_rx"), tx=per_second("net_tx"),
                      read=per_second("block_read"), write=per_second("block_write"),
                      pids=s.pids)


def cpu_bar(percent: float, width: int = BAR) -> str:
    """``▆▆▆▁▁▁▁▁  37.5%``; the bar is full at one busy core (docker's 100 %)."""
    full = round(max(0.0, min(percent, 100.0)) / 100 * width)
    return "▆" * full + "▁" * (width - full) + f" {percent:5.1f}%"


def pair(a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return NO_RATE
    return f"{decimal_size(a)} / {decimal_size(b)}"


def sort_key(row: MonitorRow, by: str) -> tuple[object, ...]:
    if by == "name":
        return (row.name,)
    value = {"cpu": row.cpu_percent, "mem": float(row.mem_usage), "net": row.net,
             "block": row.block, "pids": float(row.pids)}[by]
    return (-value, row.name)  # biggest first; ties by name, so the order is stable


class MonitorTable(DataTable[Text]):
    """Running containers with CPU, memory, network and block I/O rates and PIDs."""

    DEFAULT_CSS = """
    MonitorTable {
        height: 1fr;
        border: none;
    }
    """

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="monitor.down"),
        Binding("k", "cursor_up", "Up", show=False, id="monitor.up"),
        Binding("o", "cycle_sort", "Sort", id="monitor.sort"),
        Binding("O", "reverse_sort", "Reverse", id="monitor.reverse"),
        Binding("enter", "select_cursor", "Logs", id="monitor.logs"),
    ]

    class Selected(Message):
        """``enter`` on a row: the screen jumps to that container's logs."""

        def __init__(self, container_id: str, name: str) -> None:
            super().__init__()
            self.container_id = container_id
            self.name = name

    class ViewChanged(Message):
        """The sort, the filter or the shown set changed (for the screen's title)."""

    def __init__(self, *, show_ids: bool = True, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        # Snapshot tests hide the ID column: IDs are random on every run.
        self.show_ids = show_ids
        self.sort_by = "cpu"
        self.reverse = False
        self.filter_text = ""
        self.rows_by_id: dict[str, MonitorRow] = {}  # every running container
        self._prev: dict[str, StatsSample] = {}
        self._shown: dict[str, MonitorRow] = {}

    def _columns(self) -> list[tuple[str, str]]:
        cols = [("id", "CONTAINER ID")] if self.show_ids else []
        return cols + [("name", "NAME"), ("cpu", "CPU %"), ("mem", "MEM USAGE / LIMIT"),
                       ("memp", "MEM %"), ("net", "NET RX / TX per s"),
                       ("block", "BLOCK R / W per s"), ("pids", "PIDS")]

    def on_mount(self) -> None:
        for key, label in self._columns():
            self.add_column(label, key=key)

    def _cells(self, r: MonitorRow) -> list[Text]:
        cells = {"id": Text(r.id[:12]), "name": Text(r.name), "cpu": Text(cpu_bar(r.cpu_percent)),
                 "mem": Text(f"{binary_size(r.mem_usage)} / {binary_size(r.mem_limit)}"),
                 # Padded by hand: DataTable cells ignore Text.justify.
                 "memp": Text(f"{r.mem_percent:6.2f}%"),
                 "net": Text(pair(r.rx, r.tx)), "block": Text(pair(r.read, r.write)),
                 "pids": Text(f"{r.pids:4d}")}
        return [cells[key] for key, _ in self._columns()]

    # -- what is shown ------------------------------------------------------------------
    @property
    def shown(self) -> list[MonitorRow]:
        """The rows as shown, top to bottom."""
        return [self._shown[str(r.key.value)] for r in self.ordered_rows]

    @property
    def selected(self) -> MonitorRow | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return self._shown.get(str(key.value))

    def matches(self, row: MonitorRow) -> bool:
        needle = self.filter_text.strip().lower()
        return not needle or needle in row.name.lower() or needle in row.id

    def _ordered(self) -> list[MonitorRow]:
        rows = sorted((r for r in self.rows_by_id.values() if self.matches(r)),
                      key=lambda r: sort_key(r, self.sort_by))
        return rows[::-1] if self.reverse else rows

    # -- updates --------------------------------------------------------------------------
    def update_samples(self, samples: Sequence[StatsSample],
                       max_gap: float = float("inf")) -> None:
        """Show one stats pass (every running container; ``[]``: none runs); rates only
        against a previous pass at most ``max_gap`` seconds older."""
        self.rows_by_id = {s.id: monitor_row(s, self._prev.get(s.id), max_gap)
                           for s in samples}
        self._prev = {s.id: s for s in samples}
        self._apply()

    def _apply(self) -> None:
        before = self.selected
        wanted = self._ordered()
        keep = {r.id for r in wanted}
        with self.app.batch_update():
            for key in [k for k in self._shown if k not in keep]:
                self.remove_row(key)
                del self._shown[key]
            for r in wanted:
                cells = self._cells(r)
                if r.id not in self._shown:
                    self.add_row(*cells, key=r.id)
                else:
                    for (col, _), was, now in zip(self._columns(), self.get_row(r.id), cells,
                                                  strict=True):
                        if was != now:
                            self.update_cell(r.id, col, now, update_width=True)
                self._shown[r.id] = r
            order = [r.id for r in wanted]
            if [row.key.value for row in self.ordered_rows] != order:
                # sort() hands the key function cell values, not row keys; names are unique.
                position = {r.name: i for i, r in enumerate(wanted)}
                self.sort("name", key=lambda name: position.get(name.plain, len(order)))
            if before is not None and before.id in self._shown:
                self.move_cursor(row=self.get_row_index(before.id), animate=False)
        self.post_message(self.ViewChanged())

    # -- view settings ------------------------------------------------------------------
    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self._apply()

    def action_cycle_sort(self) -> None:
        self.sort_by = SORTS[(SORTS.index(self.sort_by) + 1) % len(SORTS)]
        self.reverse = False
        self._apply()

    def action_reverse_sort(self) -> None:
        self.reverse = not self.reverse
        self._apply()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = self._shown.get(str(event.row_key.value))
        if row is not None:
            self.post_message(self.Selected(row.id, row.name))
