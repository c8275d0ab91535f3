"""``ContainerTable``: ``pydock ps -a`` as a live DataTable with marks, filter, sort and groups.

Fed plain :class:`engine.types.ContainerSummary` rows; it never calls the engine.
Every refresh is a diff keyed by container ID (``update_cell``/``add_row``/``remove_row``,
never ``clear()``), so the cursor stays on the same container while rows move.
Filter, sort, show/hide stopped and grouping are view settings applied here to the
last rows, so toggling them needs no engine round trip.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.binding import Binding
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

    # -- columns and cells -----------------------------------------------------------
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

    def _cells(self, c: ContainerSummary, group: str) -> list[Text]:
        colors = self.app.theme_variables
        state = c.status + (f" ({c.health})" if c.health else "")
        # Theme colours, so the states follow the theme; the rest stays dim.
        color = colors.get(_STATE_COLOR.get(c.status, ""), "dim")
        cpu, mem = self._usage.get(c.id, (None, None))
        cells = {"mark": Text("●" if c.id in self.marked else " ", style=colors.get("accent", "")),
                 "group": Text(group, style="bold"), "id": Text(c.short_id),
                 "name": Text(c.name), "image": Text(c.image), "state": Text(state, style=color),
                 "status": Text(status_text(c, self._now)), "ports": Text(""),
                 "cpu": Text(usage_bar(cpu)), "mem": Text(usage_bar(mem))}
        return [cells[key] for key, _ in self._columns()]

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
        with self.app.batch_update():
            for key in [k for k in self._shown if k not in {c.id for c in wanted}]:
                self.remove_row(key)
                del self._shown[key]
            last_group = None
            for c in wanted:
                group = c.labels.get(self.group_label, "–")
                # The group's name on its first row only, so groups read as blocks.
                cells = self._cells(c, group if group != last_group else "")
                last_group = group
                if c.id not in self._shown:
                    self.add_row(*cells, key=c.id)
                else:
                    old = self.get_row(c.id)
                    for (col, _), was, now in zip(self._columns(), old, cells, strict=True):
                        if was != now:
                            # Widen only: on a narrower cell Textual re-measures the whole
                            # column, 100 running rows x 200 cells on every stats tick.
                            column = self.columns.get(ColumnKey(col))
                            wider = column is None or now.cell_len > column.content_width
                            self.update_cell(c.id, col, now, update_width=wider)
                self._shown[c.id] = c
            order = [c.id for c in wanted]
            if [r.key.value for r in self.ordered_rows] != order:
                # sort() hands the key function cell values, not row keys; names are unique.
                position = {c.name: i for i, c in enumerate(wanted)}
                self.sort("name", key=lambda name: position.get(name.plain, len(order)))
            if before is not None and before.id in self._shown:
                # sort() and remove_row() keep the cursor's index, not its row.
                self.move_cursor(row=self.get_row_index(before.id), animate=False)
        after = self.selected_container
        if (after.id if after else None) != (before.id if before else None):
            self.post_message(self.Highlighted(after))
        self.post_message(self.ViewChanged())

    def _rebuild(self) -> None:
        # Only for a change of columns (grouping), on a key press, never on refresh.
        keep = self.selected_container
        self.clear(columns=True)
        self._shown.clear()
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
