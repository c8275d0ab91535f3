"""Small modal forms that build ``volume create`` and ``network create`` options.

They only check what can be checked without the engine (label syntax, address
syntax) and dismiss with a frozen ``*CreateOptions``; the screen that opened them
makes the engine call and reports the engine's own error if it refuses.
"""

from __future__ import annotations

import ipaddress

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label

from engine.types import NetworkCreateOptions, VolumeCreateOptions


def parse_labels(text: str) -> tuple[tuple[str, str], ...]:
    """``k=v,k2=v2`` (or a bare ``k``, an empty value, as ``--label k``) as pairs."""
    out = []
    for item in (i.strip() for i in text.split(",")):
        if not item:
            continue
        key, _, value = item.partition("=")
        if not key.strip():
            raise ValueError(f"invalid label {item!r}: want KEY=VALUE")
        out.append((key.strip(), value.strip()))
    return tuple(out)


class CreateForm(ModalScreen[object]):
    """The frame both forms share: title, fields, an error line, Create/Cancel."""

    DEFAULT_CSS = """
    CreateForm {
        align: center middle;
    }
    CreateForm > Vertical {
        width: 70;
        height: auto;
        padding: 1 2;
        border: thick $primary 70%;
        background: $surface;
    }
    CreateForm #title {
        text-style: bold;
        margin-bottom: 1;
    }
    CreateForm .field {
        margin-top: 1;
    }
    /* One line per field, so the whole form fits a small terminal. */
    CreateForm Input {
        height: 1;
        border: none;
        padding: 0 1;
        background: $boost;
    }
    /* Input's own :focus rule adds a tall border, which would hide the one line of text. */
    CreateForm Input:focus {
        border: none;
        background: $primary-muted;
    }
    CreateForm Checkbox, CreateForm Checkbox:focus {
        margin-top: 1;
        border: none;
        padding: 0;
        background: $surface;
    }
    CreateForm #error {
        color: $error;
        height: auto;
        margin-top: 1;
    }
    CreateForm Horizontal {
        height: auto;
        margin-top: 1;
        align-horizontal: right;
    }
    CreateForm Button {
        margin-left: 2;
    }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("ctrl+s", "submit", "Create", id="form.submit"),
    ]

    TITLE_TEXT = ""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.TITLE_TEXT, id="title")
            yield from self.compose_fields()
            yield Label("", id="error", markup=False)
            with Horizontal():
                yield Button("Create", variant="primary", id="create")
                yield Button("Cancel (esc)", id="cancel")

    def compose_fields(self) -> ComposeResult:
        raise NotImplementedError

    def build(self) -> object:
        """The options from the fields; ValueError with a message when they are wrong."""
        raise NotImplementedError

    def value(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value.strip()

    def action_submit(self) -> None:
        try:
            opts = self.build()
        except ValueError as err:
            self.query_one("#error", Label).update(str(err))
            return
        self.dismiss(opts)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "create":
            self.action_submit()
        else:
            self.action_cancel()


class VolumeCreateForm(CreateForm):
    """``volume create [NAME] [--label k=v…]``; an empty name gets a random one, as docker."""

    TITLE_TEXT = "Create a volume"

    def compose_fields(self) -> ComposeResult:
        yield Label("Name (empty: a random name)")
        yield Input(placeholder="app-data", id="name")
        yield Label("Labels (optional)", classes="field")
        yield Input(placeholder="key=value,key2=value2", id="labels")

    def build(self) -> VolumeCreateOptions:
        return VolumeCreateOptions(name=self.value("name") or None,
                                   labels=parse_labels(self.value("labels")))


class NetworkCreateForm(CreateForm):
    """``network create NAME [--subnet] [--gateway] [--internal] [--label k=v…]``."""

    TITLE_TEXT = "Create a bridge network"

    def compose_fields(self) -> ComposeResult:
        yield Label("Name")
        yield Input(placeholder="backend", id="name")
        yield Label("Subnet (optional: a free /24 of 10.89.0.0/16)", classes="field")
        yield Input(placeholder="10.89.42.0/24", id="subnet")
        yield Label("Gateway (optional: the subnet's first address)", classes="field")
        yield Input(placeholder="10.89.42.1", id="gateway")
        yield Checkbox("Internal (no route out of the network)", id="internal")
        yield Label("Labels (optional)", classes="field")
        yield Input(placeholder="key=value,key2=value2", id="labels")

    def build(self) -> NetworkCreateOptions:
        name, subnet, gateway = self.value("name"), self.value("subnet"), self.value("gateway")
        if not name:
            raise ValueError("A network needs a name")
        if subnet:
            try:
                ipaddress.IPv4Network(subnet, strict=False)
            except ValueError as err:
                raise ValueError(f"Subnet: {err}") from None
        if gateway:
            try:
                ipaddress.IPv4Address(gateway)
            except ValueError as err:
                raise ValueError(f"Gateway: {err}") from None
        return NetworkCreateOptions(name=name, subnet=subnet or None, gateway=gateway or None,
                                    internal=self.query_one("#internal", Checkbox).value,
                                    labels=parse_labels(self.value("labels")))
