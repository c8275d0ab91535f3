"""``ImageTable``: the rows of ``pydock images`` in a DataTable, updated by keyed diff.

The table is fed plain :class:`engine.types.ImageSummary` rows; it never calls the
engine. Each refresh is applied as a diff keyed by image ID + name, so the cursor,
the scroll position and unchanged cells survive a live refresh (``clear()`` would
send the cursor back to row 0).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

import humanize
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from engine.types import ImageSummary

# (column key, label) in docker's order; the keys address cells in update_cell().
COLUMNS: tuple[tuple[str, str], ...] = (
    ("repository", "REPOSITORY"),
    ("tag", "TAG"),
    ("id", "IMAGE ID"),
    ("created", "CREATED"),
    ("size", "SIZE"),
)


def format_size(n: int) -> str:
    """``4.26MB`` as the docker CLI prints it: decimal units, three significant digits."""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000:
            return f"{size:.3g}{unit}"
        size /= 1000
    return f"{size:.3g}PB"


def format_created(created: float, now: float) -> str:
    """``10 minutes ago`` relative to ``now`` (a parameter, so snapshots can freeze it)."""
    if not created:
        return "N/A"
    return humanize.naturaltime(datetime.timedelta(seconds=max(0.0, now - created)))


def row_key(image: ImageSummary) -> str:
    """One row per (image, name): an image with two tags shows twice, as in docker."""
    return f"{image.id}/{image.repository}:{image.tag}"


def row_cells(image: ImageSummary, now: float) -> tuple[str, ...]:
    return (image.repository, image.tag, image.short_id,
            format_created(image.created, now), format_size(image.size))


class ImageTable(DataTable[str]):
    """Images, one row per name, in the order the engine lists them (newest first)."""

    DEFAULT_CSS = """
    ImageTable {
        height: 1fr;
        border: none;
    }
    """

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="images.down"),
        Binding("k", "cursor_up", "Up", show=False, id="images.up"),
        Binding("g", "scroll_top", "Top", show=False, id="images.top"),
        Binding("G", "scroll_bottom", "Bottom", show=False, id="images.bottom"),
    ]

    class Selected(Message):
        """The user chose an image (enter on a row)."""

        def __init__(self, image: ImageSummary) -> None:
            super().__init__()
            self.image = image

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._images: dict[str, ImageSummary] = {}

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    @property
    def images(self) -> list[ImageSummary]:
        """The rows as shown, top to bottom."""
        return [self._images[str(r.key.value)] for r in self.ordered_rows]

    @property
    def selected_image(self) -> ImageSummary | None:
        """The image under the cursor, or ``None`` when the table is empty."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return self._images.get(str(key.value))

    def update_images(self, rows: Sequence[ImageSummary], now: float) -> None:
        """Make the table show ``rows`` (in that order), touching only what changed."""
        wanted = {row_key(r): r for r in rows}
        with self.app.batch_update():
            for key in [k for k in self._images if k not in wanted]:
                self.remove_row(key)
                del self._images[key]
            for key, image in wanted.items():
                cells = row_cells(image, now)
                if key not in self._images:
                    self.add_row(*cells, key=key)
                else:
                    old = self.get_row(key)
                    for (col, _), before, after in zip(COLUMNS, old, cells, strict=True):
                        if before != after:
                            self.update_cell(key, col, after, update_width=True)
                self._images[key] = image
            self._keep_order(list(wanted))

    def _keep_order(self, keys: list[str]) -> None:
        # New rows are appended at the bottom; sort only when the order really differs,
        # since sort() repaints the whole table.
        if [r.key.value for r in self.ordered_rows] == keys:
            return
        # DataTable.sort() hands the key function cell values, not row keys: the
        # (repository, tag, short id) triple is unique per row, so map it to a position.
        position = {row_cells(self._images[k], 0)[:3]: i for i, k in enumerate(keys)}
        self.sort("repository", "tag", "id", key=lambda cells: position.get(cells, len(keys)))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        image = self._images.get(str(event.row_key.value))
        if image is not None:
            self.post_message(self.Selected(image))
