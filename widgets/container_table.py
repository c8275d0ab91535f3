"""``ContainerTable``: ``pydock ps -a`` as a live DataTable with marks, filter, sort and groups.

Fed plain :class:`engine.types.ContainerSummary` rows; it never calls the engine.
Every refresh is a diff keyed by container ID (``update_cell``/``add_row``/``remove_row``,
never ``clear()``), so the cursor stays on the same container while rows move.
Filter, sort, show/hide stopped and grouping are view settings applied here to the
last rows, so toggling them needs no engine round trip.

Cost (issue 8's bench: 200 rows, a stats tick a second): a tick compares plain cell
values and touches only the cells that changed; drawn cells and rows are cached by
what they show, where DataTable would redraw every visible cell after any change and
every visible row after any cursor move.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from engine.types import ContainerSummary, human_duration

SORTS = ("name", "status", "created")
RUNNING = ("running", "paused", "restarting")
# "status" sort: live containers first, in the order a user scans for trouble.
_STATUS_RANK = {"running": 0, "restarting": 1, "paused": 2, "created": 3, "exited": 4, "dead": 5}
_STATE_COLOR = {"running": "success", "restarting": "warning", "paused": "warning",
                "exited": "error", "dead": "error"}
NO_STATS = "–"  # shown until the engine reports usage: never invent a number
GROUP_LABEL = "com.docker.compose.project"
CELL_CACHE = 4000  # rendered cells kept: a few screens' worth, cursor and stripes included
_NOWHERE = Coordinate(-2, 0)  # a cursor on no row, not even the header's (-1)


_ago = human_duration


def status_text(c: ContainerSummary, now: float) -> str:
    """docker's STATUS column: ``Up 3 minutes``, ``Exited (0) 2 minutes ago``, ``Created``."""
    if c.status == "running":
        return f"Up {_ago(now - (c.started_at or now))}"
    if c.status == "paused":
        return f"Up {_ago(now - (c.started_at or now))} (Paused)"
    if c.status in ("restarting", "exited"):
        return (f"{c.status.capitalize()} ({c.exit_code}) "
                f"{_ago(now - (c.finished_at or now))} ago")
    return c.status.capitalize()


def usage_bar(percent: float | None, width: int = 5) -> str:
    """``▆▆▁▁▁  42%``: a mini bar for CPU/MEM, or ``–`` while there is no measurement."""
    if percent is None:
        return NO_STATS
    full = round(max(0.0, min(percent, 100.0)) / 100 * width)
    return "▆" * full + "▁" * (width - full) + f" {percent:3.0f}%"


def sort_key(c: ContainerSummary, by: str) -> tuple[object, ...]:
    if by == "status":
        return (_STATUS_RANK.get(c.status, 9), c.name)
    if by == "created":
        return (-c.created, c.name)
    return (c.name,)


class ContainerTable(DataTable[Text]):
    """Containers, one row each; ``space`` marks rows for batch actions."""

    DEFAULT_CSS = """
    ContainerTable {
        height: 1fr;
        border: none;
    }
    """

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="containers.down"),
        Binding("k", "cursor_up", "Up", show=False, id="containers.up"),
        Binding("g", "scroll_top", "Top", show=False, id="containers.top"),
        Binding("G", "scroll_bottom", "Bottom", show=False, id="containers.bottom"),
        Binding("enter", "select_cursor", "Actions", id="containers.menu"),
        Binding("space", "toggle_mark", "Mark", id="containers.mark"),
        Binding("a", "toggle_stopped", "Show/hide stopped", show=False, id="containers.all"),
        Binding("o", "cycle_sort", "Sort", show=False, id="containers.sort"),
        Binding("L", "toggle_group", "Group by project", show=False, id="containers.group"),
    ]

    class Highlighted(Message):
        """The cursor is on ``container`` now (``None``: the table is empty)."""

        def __init__(self, container: ContainerSummary | None) -> None:
            super().__init__()
            self.container = container

    class Selected(Message):
        """``enter`` on a row: the screen opens its actions menu."""

        def __init__(self, container: ContainerSummary) -> None:
            super().__init__()
            self.container = container

    class ViewChanged(Message):
        """Marks, filter, sort, grouping or the shown set changed (for the title)."""

    def __init__(self, *, show_ids: bool = True, group_label: str = GROUP_LABEL,
                 id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        # Before DataTable's __init__: its reactive watchers already clear caches.
        self._cell_cache: dict[tuple[object, ...], Any] = {}  # see _render_cell
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        # Snapshot tests hide the ID column: IDs are random on every run.
        self.show_ids = show_ids
        self.group_label = group_label
        self.grouped = False
        self.show_stopped = True
        self.sort_by = "name"
        self.filter_text = ""
        self.marked: set[str] = set()
        self._all: list[ContainerSummary] = []
        self._shown: dict[str, ContainerSummary] = {}
        self._usage: dict[str, tuple[float | None, float | None]] = {}
        self._now = 0.0
        # What each row shows, as plain (text, style) pairs: a stats tick compares these
        # and touches only the cells that changed (usually a few uptimes and bars).
        self._drawn: dict[str, tuple[tuple[str, str], ...]] = {}
        self._view: tuple[object, ...] = ()  # what the title says, last posted
        self._order: list[str] = []  # row keys top to bottom, as last applied

    # -- columns and cells -----------------------------------------------------------
    @property
    def _keys(self) -> list[str]:
        return [key for key, _ in self._columns()]

    def _columns(self) -> list[tuple[str, str]]:
        cols = [("mark", " ")]
        if self.grouped:
            cols.append(("group", self.group_label.rsplit(".", 1)[-1].upper()))
        if self.show_ids:
            cols.append(("id", "CONTAINER ID"))
        return cols + [("name", "NAME"), ("image", "IMAGE"), ("state", "STATE"),
                       ("status", "STATUS"), ("ports", "PORTS"), ("cpu", "CPU"),
                       ("mem", "MEM")]

    def on_mount(self) -> None:
        for key, label in self._columns():
            self.add_column(label, key=key)

    def _cells(self, c: ContainerSummary, group: str, colors: Mapping[str, str],
               keys: Sequence[str]) -> tuple[tuple[str, str], ...]:
        """Each column's (text, style): plain values, cheap to compare on every tick."""
        state = c.status + (f" ({c.health})" if c.health else "")
        # Theme colours, so the states follow the theme; the rest stays dim.
        color = colors.get(_STATE_COLOR.get(c.status, ""), "dim")
        cpu, mem = self._usage.get(c.id, (None, None))
        cells = {"mark": ("●" if c.id in self.marked else " ", colors.get("accent", "")),
                 "group": (group, "bold"), "id": (c.short_id, ""),
                 "name": (c.name, ""), "image": (c.image, ""), "state": (state, color),
                 "status": (status_text(c, self._now), ""), "ports": ("", ""),
                 "cpu": (usage_bar(cpu), ""), "mem": (usage_bar(mem), "")}
        return tuple([cells[key] for key in keys])

    # -- what is shown ----------------------------------------------------------------
    def matches(self, c: ContainerSummary) -> bool:
        if not self.show_stopped and c.status not in RUNNING:
            return False
        needle = self.filter_text.strip().lower()
        return not needle or any(needle in s.lower() for s in (c.name, c.image, c.id))

    def _ordered(self) -> list[ContainerSummary]:
        shown = sorted((c for c in self._all if self.matches(c)),
                       key=lambda c: sort_key(c, self.sort_by))
        if self.grouped:  # stable: keeps the chosen sort inside each group
            shown.sort(key=lambda c: (self.group_label not in c.labels,
                                      c.labels.get(self.group_label, "")))
        return shown

    @property
    def containers(self) -> list[ContainerSummary]:
        """The rows as shown, top to bottom."""
        return [self._shown[str(r.key.value)] for r in self.ordered_rows]

    @property
    def total(self) -> int:
        return len(self._all)

    @property
    def selected_container(self) -> ContainerSummary | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return self._shown.get(str(key.value))

    @property
    def targets(self) -> list[ContainerSummary]:
        """What a batch action acts on: the marked rows, else the one under the cursor."""
        # In the order shown (rows hidden by a filter since they were marked come last).
        shown = self.containers
        marked = [c for c in shown + [c for c in self._all if c not in shown]
                  if c.id in self.marked]
        current = self.selected_container
        return marked or ([current] if current else [])

    def select(self, container_id: str) -> bool:
        """Put the cursor on a container (the palette uses it); False if not shown."""
        if container_id not in self._shown:
            return False
        self.move_cursor(row=self.get_row_index(container_id))
        return True

    # -- updates --------------------------------------------------------------------------
    def update_containers(self, rows: Sequence[ContainerSummary], now: float, usage: Mapping[
            str, tuple[float | None, float | None]] | None = None) -> None:
        """Show ``rows`` (a fresh ``containers_list(all=True)``) as of ``now``, with CPU and
        memory percentages by ID when the engine measured them (else they keep "–")."""
        self._all = list(rows)
        self._now = now
        ids = {c.id for c in rows}
        self.marked &= ids
        if usage is not None:
            self._usage = dict(usage)
        self._usage = {k: v for k, v in self._usage.items() if k in ids}
        self._apply()

    def update_usage(self, usage: Mapping[str, tuple[float | None, float | None]]) -> None:
        """CPU and memory percentages by container ID, once the engine reports them."""
        self._usage = dict(usage)
        self._apply()

    def _apply(self) -> None:
        before = self.selected_container
        wanted = self._ordered()
        keys = self._keys
        colors = self.app.theme_variables
        wanted_ids = {c.id for c in wanted}
        with self.app.batch_update():
            for key in [k for k in self._shown if k not in wanted_ids]:
                self.remove_row(key)
                del self._shown[key]
                del self._drawn[key]
            last_group = None
            for c in wanted:
                group = c.labels.get(self.group_label, "–")
                # The group's name on its first row only, so groups read as blocks.
                cells = self._cells(c, group if group != last_group else "", colors, keys)
                last_group = group
                drawn = self._drawn.get(c.id)
                if drawn is None:
                    self.add_row(*(Text(text, style=style) for text, style in cells), key=c.id)
                elif drawn != cells:
                    for col, was, now in zip(keys, drawn, cells, strict=True):
                        if was != now:
                            self._update(c.id, col, Text(now[0], style=now[1]))
                self._drawn[c.id] = cells
                self._shown[c.id] = c
            order = [c.id for c in wanted]
            # Mostly the same order as last time: then the table's rows need no look.
            if order != self._order and [r.key.value for r in self.ordered_rows] != order:
                # sort() hands the key function cell values, not row keys; names are unique.
                position = {c.name: i for i, c in enumerate(wanted)}
                self.sort("name", key=lambda name: position.get(name.plain, len(order)))
            self._order = order
            if before is not None and before.id in self._shown:
                # sort() and remove_row() keep the cursor's index, not its row.
                row = self.get_row_index(before.id)
                if row != self.cursor_row:
                    self.move_cursor(row=row, animate=False)
        after = self.selected_container
        if (after.id if after else None) != (before.id if before else None):
            self.post_message(self.Highlighted(after))
        view = (self.row_count, len(self._all), len(self.marked), self.sort_by,
                self.show_stopped, self.grouped, self.filter_text)
        if view != self._view:
            self._view = view
            self.post_message(self.ViewChanged())

    # -- rendering --------------------------------------------------------------------
    def _render_cell(self, row_index: int, column_index: int, *args: Any,
                     **kwargs: Any) -> Any:
        """DataTable's cell render, cached by what the cell shows rather than by the
        table's update count: Textual drops every cached cell on any ``update_cell``,
        so one changed uptime re-rendered every visible cell each second."""
        cells = None
        if row_index >= 0 and column_index >= 0:
            row_key = self._row_locations.get_key(row_index)
            cells = self._drawn.get(str(row_key.value)) if row_key is not None else None
        if cells is None or column_index >= len(cells):
            return super()._render_cell(row_index, column_index, *args, **kwargs)
        key = (row_index, column_index, cells[column_index], args, tuple(kwargs.items()),
               self.show_cursor, self._show_hover_cursor, self._pseudo_class_state)
        lines = self._cell_cache.get(key)
        if lines is None:
            if len(self._cell_cache) >= CELL_CACHE:
                self._cell_cache.clear()
            lines = self._cell_cache[key] = super()._render_cell(
                row_index, column_index, *args, **kwargs)
        return lines

    def _render_line_in_row(self, row_key: Any, line_no: int, base_style: Any,
                            cursor_location: Coordinate,
                            hover_location: Coordinate) -> Any:
        # With a row cursor, all a row needs to know is whether the cursor (or the mouse)
        # is on it; Textual caches a drawn row under the cursor's position, so every j/k
        # drew every visible row again (13 of them when the table scrolls).
        if self.cursor_type == "row":
            row = self._row_locations.get(row_key)
            row = -1 if row is None else row  # the header
            if cursor_location.row != row:
                cursor_location = _NOWHERE
            if hover_location.row != row:
                hover_location = _NOWHERE
        return super()._render_line_in_row(row_key, line_no, base_style,
                                           cursor_location=cursor_location,
                                           hover_location=hover_location)

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._cell_cache.clear()

    def _update_column_widths(self, updated_cells: Any) -> None:
        before = [c.content_width for c in self.columns.values()]
        super()._update_column_widths(updated_cells)
        if [c.content_width for c in self.columns.values()] != before:
            # Textual keys drawn lines by its update count, not by column widths: a
            # frame drawn between update_cell and this (deferred) re-measure kept the old
            # widths for good (the first bars showed cut to three cells).
            self._clear_caches()

    def notify_style_update(self) -> None:
        self._cell_cache.clear()  # a theme or CSS change restyles every cell
        super().notify_style_update()

    def _update(self, row: str, col: str, cell: Text) -> None:
        # Widen only: on a narrower cell Textual re-measures the whole column, 100
        # running rows x 200 cells on every stats tick.
        column = self.columns.get(ColumnKey(col))
        wider = column is None or cell.cell_len > column.content_width
        self.update_cell(row, col, cell, update_width=wider)

    def _rebuild(self) -> None:
        # Only for a change of columns (grouping), on a key press, never on refresh.
        keep = self.selected_container
        self.clear(columns=True)
        self._shown.clear()
        self._drawn.clear()
        self._order = []
        self.on_mount()
        self._apply()
        if keep is not None:
            self.select(keep.id)

    # -- view settings and marks --------------------------------------------------------
    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self._apply()

    def action_toggle_stopped(self) -> None:
        self.show_stopped = not self.show_stopped
        self._apply()

    def action_cycle_sort(self) -> None:
        self.sort_by = SORTS[(SORTS.index(self.sort_by) + 1) % len(SORTS)]
        self._apply()

    def action_toggle_group(self) -> None:
        self.grouped = not self.grouped
        self._rebuild()

    def action_toggle_mark(self) -> None:
        c = self.selected_container
        if c is None:
            return
        self.marked ^= {c.id}
        self._apply()
        self.action_cursor_down()  # k9s: mark and move on, so space-space-space marks a run

    def clear_marks(self) -> None:
        self.marked.clear()
        self._apply()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(self.Highlighted(self._shown.get(str(event.row_key.value))))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        c = self._shown.get(str(event.row_key.value))
        if c is not None:
            self.post_message(self.Selected(c))
