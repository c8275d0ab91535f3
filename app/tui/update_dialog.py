"""``UpdateDialog``: change a container's limits live (``u``, ``docker update``).

The fields start from ``inspect``'s ``HostConfig``; only the ones the user changes
are sent to ``containers_update``, which applies them to the live cgroup first
and records them only if the kernel took them. An error (a bad size, a limit the
kernel refuses) stays in the dialog under its field, so the user can fix it.
Dismisses with ``True`` once updated, ``None`` when cancelled or nothing changed.
"""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from engine import Engine, EngineError

from .container_forms import FORM, FormError, LimitsForm, limits_form, update_options

# (field id, label, placeholder), as the `update` flags name them.
FIELDS = (
    ("memory", "Memory", "no limit (512m, 1g)"),
    ("memory_swap", "Memory+swap", "twice the memory (-1: unlimited swap)"),
    ("cpus", "CPUs", "no limit (0.5, 2)"),
    ("pids_limit", "PIDs limit", "no limit (-1: unlimited)"),
)


class UpdateDialog(ModalScreen[bool | None]):
    """Memory, memory+swap, CPUs and the PIDs limit of one container."""

    DEFAULT_CSS = """
    UpdateDialog {
        align: center middle;
    }
    UpdateDialog > Vertical {
        width: 72;
        height: auto;
        padding: 1 2 0 2;
        border: thick $primary 70%;
        border-title-style: bold;
        background: $surface;
    }
    UpdateDialog .row {
        height: auto;
        margin-top: 1;
    }
    UpdateDialog .label {
        width: 13;
        padding-right: 1;
        text-align: right;
        color: $text-muted;
    }
    UpdateDialog Input {
        width: 1fr;
    }
    UpdateDialog Input {
        background: $boost;
    }
    UpdateDialog Input:focus {
        background: $primary 20%;
    }
    UpdateDialog #note {
        color: $text-muted;
    }
    UpdateDialog .error {
        display: none;
        padding-left: 13;
        color: $text-error;
    }
    UpdateDialog .error.-shown {
        display: block;
    }
    UpdateDialog #form-error {
        padding-left: 0;
        margin-top: 1;
    }
    UpdateDialog #buttons {
        height: auto;
        margin-top: 1;
        align-horizontal: right;
    }
    UpdateDialog Button {
        margin-left: 2;
    }
    """

    BINDINGS = [
        Binding("ctrl+s", "submit", "Update", priority=True, id="update.submit"),
        Binding("escape", "cancel", "Cancel", id="update.cancel"),
    ]

    class Loaded(Message):
        """The container's ``HostConfig`` as ``inspect`` shows it."""

        def __init__(self, host_config: dict[str, Any]) -> None:
            super().__init__()
            self.host_config = host_config

    class Rejected(Message):
        """Nothing was changed: one message per bad field (``FORM``: the whole form)."""

        def __init__(self, errors: dict[str, str]) -> None:
            super().__init__()
            self.errors = errors

    class Updated(Message):
        """The engine took the new limits (``changed`` False: there were none)."""

        def __init__(self, changed: bool) -> None:
            super().__init__()
            self.changed = changed

    def __init__(self, engine: Engine, container_id: str, name: str) -> None:
        super().__init__()
        self.engine = engine
        self.container_id = container_id
        self.container_name = name
        self.current = LimitsForm()
        self.loaded = False  # fields sent are those changed from the loaded values
        self.busy = False

    def compose(self) -> ComposeResult:
        box = Vertical()
        box.border_title = f"Update the limits of {self.container_name}"
        with box:
            yield Static("Applied at once if it runs, else at its next start. Only the "
                         "fields you change are sent.", id="note", markup=False)
            for field, label, hint in FIELDS:
                yield Horizontal(Label(label, classes="label"),
                                 Input(placeholder=hint, id=field, compact=True), classes="row")
                yield Static(id=f"{field}-error", classes="error", markup=False)
            yield Static(id="form-error", classes="error", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Update (ctrl+s)", variant="primary", id="update", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#memory", Input).focus()
        self.load()

    def form(self) -> LimitsForm:
        return LimitsForm(**{f: self.query_one(f"#{f}", Input).value for f, _, _ in FIELDS})

    def show_errors(self, errors: dict[str, str]) -> None:
        for line in self.query(".error").results(Static):
            field = (line.id or "").removesuffix("-error")
            message = errors.get(FORM if field == "form" else field, "")
            line.update(message)
            line.set_class(bool(message), "-shown")

    # -- actions -----------------------------------------------------------------------
    def action_submit(self) -> None:
        if self.busy or not self.loaded:
            return
        self.busy = True
        self.show_errors({})
        self.update(self.form(), self.current)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_submit() if event.button.id == "update" else self.action_cancel()

    # -- engine calls (thread workers) ---------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="update-load")
    def load(self) -> None:
        try:
            data = self.engine.containers_inspect(self.container_id)
        except EngineError as err:
            self.post_message(self.Rejected({FORM: str(err)}))
            return
        self.post_message(self.Loaded(dict(data.get("HostConfig") or {})))

    @work(thread=True, exclusive=True, exit_on_error=False, group="update-container")
    def update(self, new: LimitsForm, old: LimitsForm) -> None:
        try:
            opts = update_options(new, old)
        except FormError as err:
            self.post_message(self.Rejected(err.errors))
            return
        if opts is None:
            self.post_message(self.Updated(False))  # nothing to change is not an error
            return
        try:
            reports = self.engine.containers_update([self.container_id], opts)
        except EngineError as err:
            self.post_message(self.Rejected({FORM: str(err)}))
            return
        # The reports name the container by the ref given: its ID, which the user never typed.
        errors = [r.error.replace(self.container_id, self.container_name)
                  for r in reports if r.error]
        if errors:
            self.post_message(self.Rejected({FORM: "\n".join(errors)}))
        else:
            self.post_message(self.Updated(True))

    # -- results (main thread) -------------------------------------------------------------
    def on_update_dialog_loaded(self, message: Loaded) -> None:
        self.current = limits_form(message.host_config)
        for field, _, _ in FIELDS:
            self.query_one(f"#{field}", Input).value = getattr(self.current, field)
        self.loaded = True

    def on_update_dialog_rejected(self, message: Rejected) -> None:
        self.busy = False
        self.show_errors(message.errors)

    def on_update_dialog_updated(self, message: Updated) -> None:
        self.dismiss(True if message.changed else None)
