"""``RunDialog``: ``docker run -d`` as a form (``n`` in the Containers and Images panels).

The dialog owns its engine calls so it can stay open on an error: one thread
worker checks the fields (:mod:`app.tui.container_forms`, the engine's own
parsers), creates, then starts. A bad value comes back as an error line under its
field; a container that was created but would not start is removed again, so a
failed run leaves nothing behind. It dismisses with the new container's
``(id, name)``, or ``None`` when cancelled.
"""

from __future__ import annotations

import contextlib

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from engine import Engine, EngineError

from .container_forms import (
    BUILTIN_NETWORKS,
    FORM,
    RESTART_POLICIES,
    FormError,
    RunForm,
    field_of,
    run_options,
)

# (field id, label, placeholder) of the one-line text fields, top to bottom.
TEXT_FIELDS = (
    ("image", "Image", "repository:tag or ID"),
    ("name", "Name", "a random name"),
    ("command", "Command", "the image's default (sh -c 'quoted words' work)"),
    ("ports", "Ports", "-p syntax, comma separated: 8080:80, 127.0.0.1:53:53/udp"),
    ("volumes", "Volumes", "-v syntax, space separated: data:/data /srv/www:/www:ro"),
)
LIMIT_FIELDS = (
    ("memory", "Memory", "no limit (512m, 1g)"),
    ("cpus", "CPUs", "no limit (0.5, 2)"),
)


def _row(label: str, *widgets: Input | Select[str] | TextArea) -> Horizontal:
    return Horizontal(Label(label, classes="label"), *widgets, classes="row")


class RunDialog(ModalScreen[tuple[str, str] | None]):
    """Image, name, command, ports, volumes, env, network, restart policy, limits."""

    DEFAULT_CSS = """
    RunDialog {
        align: center middle;
    }
    RunDialog > Vertical {
        width: 90;
        height: auto;
        max-height: 100%;
        padding: 1 2 0 2;
        border: thick $primary 70%;
        border-title-style: bold;
        background: $surface;
    }
    RunDialog .row {
        height: auto;
        margin-top: 1;
    }
    RunDialog .label {
        width: 10;
        padding-right: 1;
        text-align: right;
        color: $text-muted;
    }
    RunDialog Input, RunDialog Select, RunDialog TextArea {
        width: 1fr;
    }
    RunDialog Input, RunDialog TextArea {
        background: $boost;
    }
    RunDialog Input:focus, RunDialog TextArea:focus {
        background: $primary 20%;
    }
    RunDialog TextArea {
        height: 3;
        padding: 0;
    }
    RunDialog .error {
        display: none;
        padding-left: 10;
        color: $text-error;
    }
    RunDialog .error.-shown {
        display: block;
    }
    RunDialog #form-error {
        padding-left: 0;
        margin-top: 1;
    }
    RunDialog #buttons {
        height: auto;
        margin-top: 1;
        align-horizontal: right;
    }
    RunDialog Button {
        margin-left: 2;
    }
    """

    BINDINGS = [
        Binding("ctrl+s", "submit", "Run", priority=True, id="run.submit"),
        Binding("escape", "cancel", "Cancel", id="run.cancel"),
    ]

    class NetworksLoaded(Message):
        """The names of the networks a container can join."""

        def __init__(self, names: list[str]) -> None:
            super().__init__()
            self.names = names

    class Rejected(Message):
        """The form was not run: one message per bad field (``FORM``: the whole form)."""

        def __init__(self, errors: dict[str, str]) -> None:
            super().__init__()
            self.errors = errors

    class Started(Message):
        """The container runs."""

        def __init__(self, container_id: str, name: str) -> None:
            super().__init__()
            self.container_id = container_id
            self.name = name

    def __init__(self, engine: Engine, *, image: str = "") -> None:
        super().__init__()
        self.engine = engine
        self.image = image
        self.busy = False

    # -- composition ---------------------------------------------------------------
    def compose(self) -> ComposeResult:
        box = Vertical()
        box.border_title = "Run a container (detached)"
        with box:
            for field, label, hint in TEXT_FIELDS:
                yield _row(label, Input(self.image if field == "image" else "",
                                        placeholder=hint, id=field, compact=True))
                yield Static(id=f"{field}-error", classes="error", markup=False)
            yield _row("Env", TextArea(id="env", compact=True, show_line_numbers=False,
                                       highlight_cursor_line=False,
                                       placeholder="KEY=value, one per line"))
            yield Static(id="env-error", classes="error", markup=False)
            yield _row("Network", Select([(n, n) for n in BUILTIN_NETWORKS], value="none",
                                         allow_blank=False, compact=True, id="network"))
            yield Static(id="network-error", classes="error", markup=False)
            yield _row("Restart", Select([(p, p) for p in RESTART_POLICIES], value="no",
                                         allow_blank=False, compact=True, id="restart"))
            yield Static(id="restart-error", classes="error", markup=False)
            for field, label, hint in LIMIT_FIELDS:
                yield _row(label, Input(placeholder=hint, id=field, compact=True))
                yield Static(id=f"{field}-error", classes="error", markup=False)
            yield Static(id="form-error", classes="error", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Run (ctrl+s)", variant="primary", id="run", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        # Opened on an image: the name is the next thing to type.
        self.query_one("#name" if self.image else "#image", Input).focus()
        self.load_networks()

    def form(self) -> RunForm:
        def text(field: str) -> str:
            return self.query_one(f"#{field}", Input).value

        def choice(field: str) -> str:
            return str(self.query_one(f"#{field}", Select).value)

        return RunForm(image=text("image"), name=text("name"), command=text("command"),
                       ports=text("ports"), volumes=text("volumes"),
                       env=self.query_one("#env", TextArea).text, network=choice("network"),
                       restart=choice("restart"), memory=text("memory"), cpus=text("cpus"))

    def show_errors(self, errors: dict[str, str]) -> None:
        """One line under each field that has an error; the others are cleared."""
        for line in self.query(".error").results(Static):
            field = (line.id or "").removesuffix("-error")
            message = errors.get(FORM if field == "form" else field, "")
            line.update(message)
            line.set_class(bool(message), "-shown")

    # -- actions -----------------------------------------------------------------------
    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        button = self.query_one("#run", Button)
        button.disabled = busy
        button.label = "Starting…" if busy else "Run (ctrl+s)"

    def action_submit(self) -> None:
        if self.busy:
            return
        self._set_busy(True)
        self.show_errors({})
        self.run_container(self.form())

    def action_cancel(self) -> None:
        if self.busy:
            # The worker cannot be stopped halfway; closing now would hide its outcome.
            self.app.bell()
            return
        self.dismiss(None)

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_submit() if event.button.id == "run" else self.action_cancel()

    # -- engine calls (thread workers) ---------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="run-networks")
    def load_networks(self) -> None:
        try:
            names = [n.name for n in self.engine.networks_list()]
        except EngineError as err:
            self.app.notify(str(err), title=err.title, severity="error", markup=False)
            return
        self.post_message(self.NetworksLoaded(names))

    @work(thread=True, exclusive=True, exit_on_error=False, group="run-container")
    def run_container(self, form: RunForm) -> None:
        try:
            opts = run_options(form)
        except FormError as err:
            self.post_message(self.Rejected(err.errors))
            return
        try:
            cid = self.engine.containers_create(opts)
        except EngineError as err:
            self.post_message(self.Rejected({field_of(err): str(err)}))
            return
        try:
            self.engine.containers_start(cid)
            name = str(self.engine.containers_inspect(cid).get("Name", "")).lstrip("/")
        except EngineError as err:
            # A run that did not start leaves nothing behind, as `pydock run` does.
            with contextlib.suppress(EngineError):
                self.engine.containers_remove([cid], force=True)
            self.post_message(self.Rejected({FORM: f"{err} (the container was removed)"}))
            return
        self.post_message(self.Started(cid, name or cid[:12]))

    # -- results (main thread) -------------------------------------------------------------
    def on_run_dialog_networks_loaded(self, message: NetworksLoaded) -> None:
        select: Select[str] = self.query_one("#network", Select)
        current = select.value
        names = [*BUILTIN_NETWORKS, *(n for n in message.names if n not in BUILTIN_NETWORKS)]
        select.set_options([(n, n) for n in names])
        select.value = current if current in names else "none"

    def on_run_dialog_rejected(self, message: Rejected) -> None:
        self._set_busy(False)
        self.show_errors(message.errors)
        first = next((f for f in message.errors if f), "")
        target = self.query(f"#{first}") if first else None
        if target:
            target.first().focus()

    def on_run_dialog_started(self, message: Started) -> None:
        self.dismiss((message.container_id, message.name))
