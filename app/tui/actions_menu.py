"""``ActionsMenu``: what ``enter`` on a row opens, an OptionList of the row's actions.

Each entry shows its key, so the menu also teaches the shortcuts (ctop and dry do
the same). It dismisses with the chosen action name, or ``None`` on ``escape``.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option


class ActionsMenu(ModalScreen[str | None]):
    """A titled list of ``(action, label, key)`` entries."""

    DEFAULT_CSS = """
    ActionsMenu {
        align: center middle;
    }
    ActionsMenu > Vertical {
        width: 44;
        height: auto;
        max-height: 80%;
        border: thick $primary 70%;
        background: $surface;
    }
    ActionsMenu #title {
        width: 1fr;
        padding: 0 1;
        background: $primary-muted;
        text-style: bold;
    }
    ActionsMenu OptionList, ActionsMenu OptionList:focus {
        height: auto;
        border: none;
    }
    """

    BINDINGS = [
        Binding("escape,q", "close", "Close", id="menu.close"),
        Binding("j", "cursor(1)", "Down", show=False, id="menu.down"),
        Binding("k", "cursor(-1)", "Up", show=False, id="menu.up"),
    ]

    def __init__(self, title: str, entries: Sequence[tuple[str, str, str]]) -> None:
        super().__init__()
        self.menu_title = title
        self.entries = list(entries)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.menu_title, id="title", markup=False)
            options = []
            for action, label, key in self.entries:
                prompt = Text(f"{label:<28}")
                prompt.append(key, style="bold")
                options.append(Option(prompt, id=action))
            yield OptionList(*options)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cursor(self, step: int) -> None:
        options = self.query_one(OptionList)
        options.action_cursor_down() if step > 0 else options.action_cursor_up()

    def action_close(self) -> None:
        self.dismiss(None)
