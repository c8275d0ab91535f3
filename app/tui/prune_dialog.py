"""``PruneDialog``: confirm ``image prune`` and choose how far it goes (``-a``)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, RadioButton, RadioSet

DANGLING = "Dangling images only (no name left)"
ALL_UNUSED = "All unused images (no container uses them), like prune -a"


class PruneDialog(ModalScreen[bool | None]):
    """Dismisses with ``False`` (dangling only), ``True`` (all unused) or ``None`` (cancel).

    As with every destructive modal here, ``enter`` on the default button cancels.
    """

    DEFAULT_CSS = """
    PruneDialog {
        align: center middle;
    }
    PruneDialog > Vertical {
        width: 72;
        height: auto;
        padding: 1 2;
        border: thick $error 70%;
        background: $surface;
    }
    PruneDialog #question {
        width: 1fr;
    }
    PruneDialog RadioSet {
        width: 1fr;
        margin: 1 0;
    }
    PruneDialog Horizontal {
        height: auto;
        align-horizontal: right;
    }
    PruneDialog Button {
        margin-left: 2;
    }
    """

    BINDINGS = [
        Binding("y", "prune", "Prune", id="prune.yes"),
        Binding("a", "choose(True)", "All unused", id="prune.all"),
        Binding("n,escape", "cancel", "Cancel", id="prune.no"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Remove images that nothing needs? Layers no other image shares "
                        "are deleted with them.", id="question")
            with RadioSet():
                yield RadioButton(DANGLING, value=True, id="dangling")
                yield RadioButton(ALL_UNUSED, id="all")
            with Horizontal():
                yield Button("Prune (y)", variant="error", id="yes")
                yield Button("Cancel (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @property
    def all_unused(self) -> bool:
        return self.query_one("#all", RadioButton).value

    def action_choose(self, all_unused: bool) -> None:
        self.query_one("#all" if all_unused else "#dangling", RadioButton).value = True

    def action_prune(self) -> None:
        self.dismiss(self.all_unused)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "yes":
            self.action_prune()
        else:
            self.action_cancel()
