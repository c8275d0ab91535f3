"""``BuildProgress``: run one build and show it step by step as it happens.

``engine.images_build`` is a generator of :class:`BuildEvent`; a thread worker
iterates it and posts every event as a Message, and :class:`widgets.BuildLog`
draws them: ``Step n/N`` lines marked ``CACHED`` or with their duration, the
output of ``RUN`` steps under them, the image ID at the end. A failed build ends
with the engine's one-line error, which names the Dockerfile and the line.

``esc`` while building cancels cooperatively: the worker stops iterating and
closes the generator (or, while a step is silent, the engine sees ``stop`` within
half a second) and the engine stops the running step (its container is killed
and removed). Steps that finished stay in the build cache and nothing is
tagged. The event loop never waits for any of it.
"""

from __future__ import annotations

import threading

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from engine import Engine, EngineError
from engine.types_build import BuildEvent
from widgets.build_log import BuildLog

from .build_dialog import BuildRequest
from .pull_dialog import one_line

CANCELLED = ("Build cancelled. The running step was stopped and its container removed; "
             "finished steps stay in the build cache; nothing was tagged.")


def describe(request: BuildRequest) -> str:
    """The title line: what is built and under which names."""
    tags = ", ".join(request.options.tags) or "no tag"
    extra = " · no cache" if request.options.no_cache else ""
    extra += " · no network" if request.options.network == "none" else ""
    target = f" · target {request.options.target}" if request.options.target else ""
    # The context as typed: shorter than the resolved path, and what the user recognises.
    return f"Building {request.form.context.strip()} → {tags}{target}{extra}"


class BuildProgress(ModalScreen[str | None]):
    """Dismisses with the built image ID (``None`` if it failed or was cancelled)."""

    DEFAULT_CSS = """
    BuildProgress {
        align: center middle;
    }
    BuildProgress > Vertical {
        width: 110;
        height: 90%;
        border: thick $primary 70%;
        background: $surface;
    }
    BuildProgress #title {
        width: 1fr;
        padding: 0 1;
        background: $primary-muted;
        text-style: bold;
    }
    BuildProgress #outcome {
        height: auto;
        padding: 0 1;
        color: $success;
    }
    BuildProgress #outcome.-failed {
        color: $error;
        text-style: bold;
    }
    BuildProgress #help {
        padding: 0 1;
        color: $text-muted;
    }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel / close", id="build.close"),
    ]

    class Progress(Message):
        def __init__(self, event: BuildEvent) -> None:
            super().__init__()
            self.event = event

    class Ended(Message):
        """The worker is done: built (``image_id``), failed (``error``) or ``cancelled``."""

        def __init__(self, image_id: str, error: str | None, cancelled: bool) -> None:
            super().__init__()
            self.image_id = image_id
            self.error = error
            self.cancelled = cancelled

    def __init__(self, engine: Engine, request: BuildRequest) -> None:
        super().__init__()
        self.engine = engine
        self.request = request
        self.running = False
        self.outcome = ""  # "", done, failed, cancelled
        self.image_id: str | None = None
        self._stop = threading.Event()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(describe(self.request), id="title", markup=False)
            yield BuildLog(id="log")
            yield Static("", id="outcome", markup=False)
            yield Label("esc: cancel the build", id="help")

    @property
    def build_log(self) -> BuildLog:
        return self.query_one(BuildLog)

    @property
    def outcome_text(self) -> str:
        return str(self.query_one("#outcome", Static).content)

    def on_mount(self) -> None:
        self.running = True
        self._build(self._stop)

    def on_unmount(self) -> None:
        self._stop.set()

    @work(thread=True, exit_on_error=False, group="image-build")
    def _build(self, stop: threading.Event) -> None:
        image_id, error = "", None
        try:
            # `stop` also reaches a silent step (a long RUN): between events the
            # engine polls it, since a generator blocked in another thread cannot be closed.
            events = self.engine.images_build(self.request.context, self.request.options,
                                              stop=stop.is_set)
            try:
                for ev in events:
                    if ev.kind == "image":
                        image_id = ev.image_id
                    self.post_message(self.Progress(ev))
                    if stop.is_set():
                        break
            finally:
                close = getattr(events, "close", None)
                if close is not None:
                    close()  # the engine cancels the step, joins its thread, cleans up
        except EngineError as err:
            error = one_line(str(err))
        except Exception as err:  # noqa: BLE001 - a bug, but shown here, not lost
            error = f"Unexpected error: {type(err).__name__}: {one_line(str(err))}"
        finally:
            cancelled = stop.is_set() and not image_id
            # A cancelled build raises the engine's "cancelled" error: the outcome says it.
            self.post_message(self.Ended(image_id, None if cancelled else error, cancelled))

    def on_build_progress_progress(self, message: BuildProgress.Progress) -> None:
        self.build_log.apply(message.event)

    def on_build_progress_ended(self, message: BuildProgress.Ended) -> None:
        self.running = False
        outcome = self.query_one("#outcome", Static)
        if message.error is not None:
            self.outcome = "failed"
            outcome.update(f"Build failed: {message.error}")
            outcome.add_class("-failed")
        elif message.cancelled:
            self.outcome = "cancelled"
            outcome.update(CANCELLED)
            outcome.add_class("-failed")
        else:
            self.outcome, self.image_id = "done", message.image_id
            lines = [f"Successfully built {message.image_id}"]
            lines += [f"Successfully tagged {t}" for t in self.request.options.tags]
            outcome.update("\n".join(lines))
        self.query_one("#help", Label).update("esc: close")

    def action_cancel(self) -> None:
        if self.running:
            self._stop.set()
            self.query_one("#help", Label).update("cancelling… (esc again once it stopped)")
            return
        self.dismiss(self.image_id)
