"""``LayerList``: an image's layers (index, size, the step that made it), base first.

Fed :class:`engine.types_layers.LayerInfo` rows; moving the cursor posts
:class:`LayerList.Highlighted` with the layer index, which the layer explorer
turns into a new file tree.
"""

from __future__ import annotations

from collections.abc import Sequence

import humanize
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from engine.types_layers import LayerInfo

COMMAND_WIDTH = 32  # fits the explorer's left pane (52 columns) with the other two
_NOP = "#(nop) "


def short_command(created_by: str, width: int = COMMAND_WIDTH) -> str:
    """``created_by`` as dive shows it (no ``/bin/sh -c #(nop)``), cut to ``width``."""
    text = " ".join(created_by.split())
    if _NOP in text:
        text = text.split(_NOP, 1)[1].strip()
    text = text or "(no history)"
    return text if len(text) <= width else text[: width - 1] + "…"


class LayerList(DataTable[str]):
    """One row per layer; the row key is the layer index."""

    DEFAULT_CSS = """
    LayerList {
        height: 1fr;
        border: none;
    }
    """

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="layers.down"),
        Binding("k", "cursor_up", "Up", show=False, id="layers.up"),
    ]

    class Highlighted(Message):
        """The cursor moved to layer ``index``."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.add_column("#", key="index")
        self.add_column("SIZE", key="size")
        self.add_column("COMMAND", key="command")

    def show_layers(self, layers: Sequence[LayerInfo]) -> None:
        with self.app.batch_update():
            self.clear()
            for layer in layers:
                self.add_row(str(layer.index), humanize.naturalsize(layer.size),
                             short_command(layer.created_by), key=str(layer.index))

    @property
    def selected_index(self) -> int | None:
        if not self.row_count:
            return None
        return self.cursor_row

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(self.Highlighted(int(str(event.row_key.value))))
