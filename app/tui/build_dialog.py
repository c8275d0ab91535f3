"""``BuildDialog``: the form of ``docker build`` (context, Dockerfile, tags, args…).

It only collects and checks what the user typed; it dismisses with a
:class:`BuildRequest` and the caller opens :class:`app.tui.build_progress.BuildProgress`
to run it. The raw values travel with the request, so the next ``b`` opens the
form as it was left (rebuilding is the common case).

Paths follow the engine: a relative context is taken from the directory the TUI
was started in, a relative Dockerfile from the context (``-f`` in the CLI is
relative to the shell's directory instead; a form has no shell).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static, TextArea

from engine.types_build import BuildOptions


@dataclass(frozen=True)
class BuildForm:
    """What the fields hold, as typed."""

    context: str = "."
    dockerfile: str = ""
    tags: str = ""
    build_args: str = ""
    target: str = ""
    no_cache: bool = False
    no_network: bool = False  # RUN steps get --network none instead of the host's


@dataclass(frozen=True)
class BuildRequest:
    """A checked form: the context directory and the engine's options."""

    context: str
    options: BuildOptions
    form: BuildForm


def parse_tags(text: str) -> tuple[str, ...]:
    """``a:1, b:2`` → ``("a:1", "b:2")``; the engine checks each reference."""
    return tuple(t.strip() for t in text.split(",") if t.strip())


def parse_build_args(text: str, environ: dict[str, str] | None = None
                     ) -> tuple[tuple[str, str | None], ...]:
    """``K=V`` lines; a bare ``K`` takes its value from the environment, as
    ``--build-arg K`` does. Blank lines and ``#`` comments are skipped."""
    env = os.environ if environ is None else environ
    out: list[tuple[str, str | None]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, eq, value = line.partition("=")
        key = key.strip()
        if not key or any(c.isspace() for c in key):
            raise ValueError(f"build args line {number}: {line!r} is not NAME=VALUE")
        out.append((key, value if eq else env.get(key)))
    return tuple(out)


def make_request(form: BuildForm, cwd: str | None = None) -> BuildRequest:
    """Check the form; ``ValueError`` says what is wrong in one line."""
    context = form.context.strip()
    if not context:
        raise ValueError("the context directory is empty")
    base = Path(cwd or os.getcwd())
    path = base / os.path.expanduser(context)
    options = BuildOptions(
        dockerfile=form.dockerfile.strip() or None,
        tags=parse_tags(form.tags),
        build_args=parse_build_args(form.build_args),
        target=form.target.strip() or None,
        no_cache=form.no_cache,
        network="none" if form.no_network else "host",
    )
    return BuildRequest(os.path.normpath(path), options, form)


class BuildDialog(ModalScreen[BuildRequest | None]):
    """The form; ``enter`` in a one-line field or the Build button starts the build."""

    DEFAULT_CSS = """
    BuildDialog {
        align: center middle;
    }
    BuildDialog > Vertical {
        width: 92;
        height: auto;
        max-height: 100%;
        padding: 0 2;
        border: thick $primary 70%;
        background: $surface;
    }
    BuildDialog #title {
        text-style: bold;
        margin-bottom: 1;
    }
    BuildDialog .field {
        height: 3;
    }
    BuildDialog .field Label {
        width: 20;
        padding-top: 1;
    }
    BuildDialog .field Input {
        width: 1fr;
    }
    BuildDialog #args-label {
        margin-top: 1;
    }
    BuildDialog TextArea {
        height: 5;
    }
    BuildDialog #error {
        height: auto;
        color: $error;
        text-style: bold;
    }
    BuildDialog #buttons {
        height: 3;
        align-horizontal: right;
    }
    BuildDialog #buttons Checkbox {
        width: auto;
        margin-right: 1;
    }
    BuildDialog #buttons #no-network {
        width: 1fr;
    }
    BuildDialog Button {
        margin-left: 2;
    }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="build.cancel"),
        Binding("ctrl+s", "build", "Build", id="build.start"),
    ]

    def __init__(self, form: BuildForm | None = None) -> None:
        super().__init__()
        self.form = form or BuildForm()

    def compose(self) -> ComposeResult:
        form = self.form
        with Vertical():
            yield Label("Build an image (enter or ctrl+s: build · esc: cancel)", id="title")
            for field_id, label, value, placeholder in (
                    ("context", "Context directory", form.context, "a directory"),
                    ("dockerfile", "Dockerfile", form.dockerfile,
                     "<context>/Dockerfile (relative paths start at the context)"),
                    ("tags", "Tags", form.tags, "name:tag, another/name:tag"),
                    ("target", "Target stage", form.target, "the last stage")):
                with Horizontal(classes="field"):
                    yield Label(label)
                    yield Input(value, placeholder=placeholder, id=field_id)
            yield Label("Build args (NAME=VALUE, one per line; a bare NAME comes from the "
                        "environment)", id="args-label")
            yield TextArea(form.build_args, id="build-args", soft_wrap=False,
                           show_line_numbers=False)
            yield Static("", id="error", markup=False)
            with Horizontal(id="buttons"):
                yield Checkbox("No cache", form.no_cache, id="no-cache")
                yield Checkbox("No network for RUN", form.no_network, id="no-network")
                yield Button("Build", variant="primary", id="build")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#context", Input).focus()

    def current_form(self) -> BuildForm:
        def value(field_id: str) -> str:
            return self.query_one(f"#{field_id}", Input).value

        return replace(self.form, context=value("context"), dockerfile=value("dockerfile"),
                       tags=value("tags"), target=value("target"),
                       build_args=self.query_one(TextArea).text,
                       no_cache=self.query_one("#no-cache", Checkbox).value,
                       no_network=self.query_one("#no-network", Checkbox).value)

    def action_build(self) -> None:
        try:
            request = make_request(self.current_form())
        except ValueError as err:
            self.query_one("#error", Static).update(str(err))
            return
        self.dismiss(request)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_build()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "build":
            self.action_build()
        else:
            self.action_cancel()
