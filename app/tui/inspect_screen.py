"""``InspectScreen``: ``pydock image inspect`` JSON in a scrollable, selectable modal."""

from __future__ import annotations

import json
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, TextArea


class InspectScreen(ModalScreen[None]):
    """Pretty-printed JSON of one object; ``escape`` or ``q`` closes it.

    A read-only TextArea rather than a Static: users want to select and copy IDs
    and digests out of it.
    """

    DEFAULT_CSS = """
    InspectScreen {
        align: center middle;
    }
    InspectScreen > Vertical {
        width: 90%;
        height: 90%;
        border: thick $primary 70%;
        background: $surface;
    }
    InspectScreen #title {
        width: 1fr;
        padding: 0 1;
        background: $primary-muted;
        text-style: bold;
    }
    InspectScreen TextArea {
        height: 1fr;
        border: none;
    }
    """

    BINDINGS = [
        Binding("escape,q", "close", "Close", id="inspect.close"),
    ]

    def __init__(self, title: str, data: Any) -> None:
        super().__init__()
        self.inspect_title = title
        # docker prints inspect output as a JSON array with 4-space indents.
        self.text = json.dumps(data, indent=4, sort_keys=False)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.inspect_title, id="title", markup=False)
            yield TextArea(self.text, read_only=True, soft_wrap=False, show_line_numbers=True,
                           id="json")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_close(self) -> None:
        self.dismiss(None)
