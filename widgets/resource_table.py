"""``ResourceTable``: the shared core of the Volumes and Networks tables.

A DataTable of named engine objects (volumes, networks) with ``space`` marks and a
substring filter, updated by a diff keyed by name inside ``batch_update()``
(``add_row``/``update_cell``/``remove_row``, never ``clear()``), so the cursor and
the marks stay on the same object across live refreshes. Subclasses say which
columns exist and what each cell shows; they never call the engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Generic, TypeVar

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

T = TypeVar("T")
MARK = "●"


class ResourceTable(DataTable[Text], Generic[T]):
    """Rows keyed by :meth:`key_of`; subclasses define :meth:`column_specs`, :meth:`cells`,
    :meth:`haystack` and their own BINDINGS (with the panel's binding ids)."""

    DEFAULT_CSS = """
    ResourceTable {
        height: 1fr;
        border: none;
    }
    """

    class Highlighted(Message):
        """The cursor is on ``item`` now (``None``: nothing is shown)."""

        def __init__(self, table: ResourceTable[Any], item: Any) -> None:
            super().__init__()
            self.table = table
            self.item = item

        @property
        def control(self) -> ResourceTable[Any]:
            return self.table

    class Selected(Message):
        """``enter`` on a row."""

        def __init__(self, table: ResourceTable[Any], item: Any) -> None:
            super().__init__()
            self.table = table
            self.item = item

        @property
        def control(self) -> ResourceTable[Any]:
            return self.table

    class ViewChanged(Message):
        """Marks, the filter or the shown set changed (the screen retitles itself)."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.filter_text = ""
        self.marked: set[str] = set()
        self._all: list[T] = []
        self._shown: dict[str, T] = {}
        self.now = 0.0

    # -- what subclasses define -------------------------------------------------------
    def column_specs(self) -> list[tuple[str, str]]:
        """``(key, label)`` of every column after the mark column."""
        raise NotImplementedError

    def key_of(self, item: T) -> str:
        """The row key: a name, unique among the rows."""
        raise NotImplementedError

    def cells(self, item: T) -> dict[str, str | Text]:
        """Cell values by column key."""
        raise NotImplementedError

    def haystack(self, item: T) -> Iterable[str]:
        """The strings the filter looks in."""
        raise NotImplementedError

    # -- columns and cells -----------------------------------------------------------------
    def _all_columns(self) -> list[tuple[str, str]]:
        return [("mark", " "), *self.column_specs()]

    def on_mount(self) -> None:
        for key, label in self._all_columns():
            self.add_column(label, key=key)

    def _row(self, item: T) -> list[Text]:
        accent = self.app.theme_variables.get("accent", "")
        values: dict[str, str | Text] = {
            "mark": Text(MARK if self.key_of(item) in self.marked else " ", style=accent),
            **self.cells(item)}
        return [v if isinstance(v, Text) else Text(v) for v in
                (values[key] for key, _ in self._all_columns())]

    # -- what is shown ---------------------------------------------------------------------
    def matches(self, item: T) -> bool:
        needle = self.filter_text.strip().lower()
        return not needle or any(needle in s.lower() for s in self.haystack(item))

    @property
    def items(self) -> list[T]:
        """The rows as shown, top to bottom."""
        return [self._shown[str(r.key.value)] for r in self.ordered_rows]

    @property
    def all_items(self) -> list[T]:
        """Every row of the last update, whether the filter shows it or not."""
        return list(self._all)

    @property
    def total(self) -> int:
        return len(self._all)

    @property
    def selected(self) -> T | None:
        """The item under the cursor, or ``None`` when nothing is shown."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return self._shown.get(str(key.value))

    @property
    def targets(self) -> list[T]:
        """What a batch action acts on: the marked rows (even those the filter hides now),
        else the one under the cursor."""
        shown = self.items
        marked = [i for i in shown + [i for i in self._all if i not in shown]
                  if self.key_of(i) in self.marked]
        current = self.selected
        return marked or ([current] if current is not None else [])

    def find(self, key: str) -> T | None:
        """The item ``key`` of the last update, shown or not."""
        return next((i for i in self._all if self.key_of(i) == key), None)

    def select(self, key: str) -> bool:
        """Put the cursor on the row ``key``; False if it is not shown."""
        if key not in self._shown:
            return False
        self.move_cursor(row=self.get_row_index(key), animate=False)
        return True

    # -- updates ---------------------------------------------------------------------------
    def update_items(self, rows: Sequence[T], now: float) -> None:
        """Show ``rows`` (in that order) as of ``now``, touching only what changed."""
        self._all = list(rows)
        self.now = now
        self.marked &= {self.key_of(i) for i in rows}
        self._apply()

    def _apply(self) -> None:
        before = self.selected
        before_key = self.key_of(before) if before is not None else None
        wanted = {self.key_of(i): i for i in self._all if self.matches(i)}
        columns = self._all_columns()
        with self.app.batch_update():
            for key in [k for k in self._shown if k not in wanted]:
                self.remove_row(key)
                del self._shown[key]
            for key, item in wanted.items():
                cells = self._row(item)
                if key not in self._shown:
                    self.add_row(*cells, key=key)
                else:
                    for (col, _), was, now in zip(columns, self.get_row(key), cells, strict=True):
                        if was != now:
                            self.update_cell(key, col, now, update_width=True)
                self._shown[key] = item
            order = list(wanted)
            if [r.key.value for r in self.ordered_rows] != order:
                # sort() hands the key function cell values, not row keys; names are
                # unique, so the "name" cell maps back to a position.
                position = {str(self.cells(item)["name"]): i
                            for i, item in enumerate(wanted.values())}
                self.sort("name", key=lambda name: position.get(str(name), len(order)))
            if before_key is not None and before_key in self._shown:
                # remove_row() and sort() keep the cursor's index, not its row.
                self.move_cursor(row=self.get_row_index(before_key), animate=False)
        after = self.selected
        if (self.key_of(after) if after is not None else None) != before_key:
            self.post_message(self.Highlighted(self, after))
        self.post_message(self.ViewChanged())

    # -- filter and marks ---------------------------------------------------------------------
    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self._apply()

    def action_toggle_mark(self) -> None:
        item = self.selected
        if item is None:
            return
        self.marked ^= {self.key_of(item)}
        self._apply()
        self.action_cursor_down()  # k9s: mark and move on, so space-space marks a run

    def clear_marks(self) -> None:
        self.marked.clear()
        self._apply()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(self.Highlighted(self, self._shown.get(str(event.row_key.value))))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        item = self._shown.get(str(event.row_key.value))
        if item is not None:
            self.post_message(self.Selected(self, item))
