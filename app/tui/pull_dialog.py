"""``PullDialog``: ask for a reference, then pull it with a progress bar per layer.

:class:`TransferDialog` is the part pull and push share: a reference box, the
layer bars, an overall status, the closing digest line and one line for an
error. The engine call (a generator of progress events) runs in a thread worker
that posts each event as a Message; nothing here blocks the event loop.

``esc`` while a transfer runs is a cooperative cancel: the worker stops iterating
and closes the engine's generator, which stops the layer threads and cleans up.
What stays behind is said in the dialog (:attr:`TransferDialog.CANCELLED`). A
second ``esc`` closes the dialog.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from engine import Engine, EngineError
from engine.reference import parse
from engine.registry.types import PullProgress, PushProgress
from widgets.layer_progress import LayerProgress

Event = PullProgress | PushProgress


def one_line(text: str) -> str:
    """The first line of an error: the dialog has room for one."""
    lines = text.strip().splitlines()
    return lines[0] if lines else "failed"


class TransferDialog(ModalScreen[str | None]):
    """A reference, then live per-layer progress. Dismisses with :attr:`result`
    (an image ID or a digest once the transfer completed, else ``None``)."""

    VERB: ClassVar[str] = "Transfer"
    CANCELLED: ClassVar[str] = "Cancelled."
    HELP_IDLE: ClassVar[str] = "enter: start · esc: close"

    DEFAULT_CSS = """
    TransferDialog {
        align: center middle;
    }
    TransferDialog > Vertical {
        width: 104;
        height: auto;
        max-height: 90%;
        padding: 0 2 1 2;
        border: thick $primary 70%;
        background: $surface;
    }
    TransferDialog #title {
        width: 1fr;
        margin-bottom: 1;
        text-style: bold;
    }
    TransferDialog Input {
        margin-bottom: 1;
    }
    TransferDialog #status, TransferDialog #result {
        height: auto;
    }
    TransferDialog #result {
        color: $success;
    }
    TransferDialog #error {
        height: auto;
        color: $error;
        text-style: bold;
    }
    TransferDialog #help {
        margin-top: 1;
        color: $text-muted;
    }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel / close", id="transfer.cancel"),
    ]

    class Progress(Message):
        """One event from the engine's generator."""

        def __init__(self, event: Event) -> None:
            super().__init__()
            self.event = event

    class Ended(Message):
        """The worker is done: completed, failed (``error``) or ``cancelled``."""

        def __init__(self, error: str | None, cancelled: bool) -> None:
            super().__init__()
            self.error = error
            self.cancelled = cancelled

    def __init__(self, engine: Engine, reference: str = "", *, title: str = "") -> None:
        super().__init__()
        self.engine = engine
        self.reference = reference
        self.dialog_title = title or f"{self.VERB} an image"
        self.running = False
        self.outcome = ""  # "", done, failed, cancelled
        self.result: str | None = None
        self.status_lines: list[str] = []
        self._stop = threading.Event()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.dialog_title, id="title", markup=False)
            yield Input(self.reference, placeholder="name[:tag] or name@digest, "
                        "e.g. registry.example:5000/team/app:1.0", id="reference")
            yield Static("", id="status", markup=False)
            yield LayerProgress(id="layers")
            yield Static("", id="result", markup=False)
            yield Static("", id="error", markup=False)
            yield Label(self.HELP_IDLE, id="help")

    @property
    def layer_progress(self) -> LayerProgress:
        return self.query_one(LayerProgress)

    @property
    def error_text(self) -> str:
        return str(self.query_one("#error", Static).content)

    @property
    def result_text(self) -> str:
        return str(self.query_one("#result", Static).content)

    def on_unmount(self) -> None:
        # Closing the app (or the dialog) must not leave a transfer running behind it.
        self._stop.set()

    # -- what subclasses say ---------------------------------------------------------
    def events(self, reference: str) -> Iterator[Event]:
        """The engine's progress generator for ``reference`` (runs in the worker thread)."""
        raise NotImplementedError

    def is_status(self, ev: Event) -> bool:
        """An image-wide line (shown above the bars) rather than a layer's."""
        return not ev.id

    def finished_lines(self, ev: Event) -> list[str]:
        """What the last event (``done``) prints, as the CLI does."""
        raise NotImplementedError

    def result_of(self, ev: Event) -> str:
        raise NotImplementedError

    # -- flow ------------------------------------------------------------------------
    @on(Input.Submitted, "#reference")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        reference = event.value.strip()
        if not reference:
            self._show_error("Enter an image reference")
            return
        self.start(reference)

    def start(self, reference: str) -> None:
        if self.running:
            return
        self.reference = reference
        self.running, self.outcome, self.result = True, "", None
        self.status_lines = []
        self._stop = threading.Event()
        self.layer_progress.clear_layers()
        self.query_one("#status", Static).update("")
        self.query_one("#result", Static).update("")
        self._show_error("")
        self.query_one("#reference", Input).disabled = True
        self.query_one("#help", Label).update("esc: cancel")
        self._transfer(reference, self._stop)

    @work(thread=True, exit_on_error=False, group="image-transfer")
    def _transfer(self, reference: str, stop: threading.Event) -> None:
        error: str | None = None
        done = False
        try:
            events = self.events(reference)
            try:
                for ev in events:
                    done = done or ev.done
                    self.post_message(self.Progress(ev))
                    if stop.is_set():
                        break
            finally:
                close = getattr(events, "close", None)
                if close is not None:
                    close()  # the engine stops its layer threads and cleans up
        except EngineError as err:
            error = one_line(str(err))
        except Exception as err:  # noqa: BLE001 - a bug, but shown in the dialog, not lost
            error = f"Unexpected error: {type(err).__name__}: {one_line(str(err))}"
        finally:
            self.post_message(self.Ended(error, stop.is_set() and not done))

    def on_transfer_dialog_progress(self, message: TransferDialog.Progress) -> None:
        ev = message.event
        if ev.done:
            self.result = self.result_of(ev)
            self.query_one("#result", Static).update("\n".join(self.finished_lines(ev)))
        elif self.is_status(ev):
            self.status_lines.append(f"{ev.id}: {ev.status}" if ev.id else ev.status)
            self.query_one("#status", Static).update("\n".join(self.status_lines[-3:]))
        else:
            self.layer_progress.apply(ev)

    def on_transfer_dialog_ended(self, message: TransferDialog.Ended) -> None:
        self.running = False
        box = self.query_one("#reference", Input)
        box.disabled = False
        if message.error is not None:
            self.outcome = "failed"
            self._show_error(message.error)
            box.focus()  # fix the reference and press enter again
        elif message.cancelled:
            self.outcome = "cancelled"
            self._show_error(self.CANCELLED)
        else:
            self.outcome = "done"
        self.query_one("#help", Label).update(self.HELP_IDLE)

    def _show_error(self, text: str) -> None:
        self.query_one("#error", Static).update(text)

    def action_cancel(self) -> None:
        if self.running:
            self._stop.set()
            self.query_one("#help", Label).update("cancelling… (esc again once it stopped)")
            return
        self.dismiss(self.result)


class PullDialog(TransferDialog):
    """``docker pull`` in a dialog; dismisses with the pulled image ID."""

    VERB = "Pull"
    HELP_IDLE = "enter: pull · esc: close"
    CANCELLED = ("Pull cancelled. Layers that finished stay in the store and partial "
                 "downloads resume on the next pull; nothing was tagged.")

    def events(self, reference: str) -> Iterator[Event]:
        return self.engine.images_pull(reference)

    def is_status(self, ev: Event) -> bool:
        return not ev.id or ev.status.startswith("Pulling from")

    def finished_lines(self, ev: Event) -> list[str]:
        assert isinstance(ev, PullProgress)
        what = "Downloaded newer image" if ev.fresh else "Image is up to date"
        return [f"Digest: {ev.digest}", f"Status: {what} for {familiar(self.reference)}"]

    def result_of(self, ev: Event) -> str:
        assert isinstance(ev, PullProgress)
        return ev.image_id


def familiar(reference: str) -> str:
    """``hello`` → ``hello:latest`` as docker's closing line names it."""
    try:
        return parse(reference).familiar
    except EngineError:
        return reference
