"""``ProcessTable``: ``pydock top`` output, refreshed in place by PID.

Fed the ``(titles, rows)`` pair of ``containers_top``; it never calls the engine.
Rows are keyed by PID so a refresh every couple of seconds keeps the cursor on
the same process (``clear()`` would send it back to the top).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable


class ProcessTable(DataTable[Text]):
    """One row per process, columns as ``ps`` titled them."""

    DEFAULT_CSS = """
    ProcessTable {
        height: 1fr;
        border: none;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._titles: tuple[str, ...] = ()

    def update_processes(self, titles: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        titles = tuple(titles)
        if titles != self._titles:
            # Other ps columns: a new layout, so here (not on every refresh) a rebuild.
            self.clear(columns=True)
            for i, title in enumerate(titles):
                self.add_column(title, key=str(i))
            self._titles = titles
        pid_col = titles.index("PID") if "PID" in titles else 0
        wanted: dict[str, list[Text]] = {}
        for row in rows:
            key = str(row[pid_col]) if row else ""
            wanted.setdefault(key, [Text(str(v)) for v in row])
        with self.app.batch_update():
            for key in [str(r.key.value) for r in self.ordered_rows if r.key.value not in wanted]:
                self.remove_row(key)
            existing = {str(r.key.value) for r in self.ordered_rows}
            for key, cells in wanted.items():
                if key not in existing:
                    self.add_row(*cells, key=key)
                    continue
                for i, (was, now) in enumerate(zip(self.get_row(key), cells, strict=False)):
                    if was != now:
                        self.update_cell(key, str(i), now, update_width=True)

    @property
    def pids(self) -> list[str]:
        return [str(r.key.value) for r in self.ordered_rows]
