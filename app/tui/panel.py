"""``PanelScreen``: the base of every top-level panel (Images now; containers, volumes… later).

It owns the live-refresh loop that every panel shares (dolphie's pattern): fetch in
a thread worker, apply the result on the main thread, and only then re-arm a
one-shot timer, so two refreshes never overlap and a slow engine call simply
stretches the interval. While a modal is on top or another panel is shown the
tick does no work and only re-arms.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header
from textual.worker import Worker, WorkerState

from engine.config import default_root


def cli_prefix(root: Path) -> str:
    """How a hint should spell the CLI so its commands act on the root shown here:
    plain ``pydock`` when the CLI finds that root by itself ($PYDOCK_ROOT or the default)."""
    if root == default_root():
        return "pydock"
    return f"pydock --root {shlex.quote(str(root))}"


class PanelScreen(Screen[None]):
    """Header, the panel's body, Footer; plus the periodic refresh.

    Subclasses implement :meth:`compose_body` and :meth:`fetch` (a thread worker in
    the group :attr:`REFRESH_GROUP` that posts its result as a Message).
    """

    REFRESH_SECONDS: ClassVar[float] = 2.0
    REFRESH_GROUP: ClassVar[str] = "refresh"

    def __init__(self) -> None:
        super().__init__()
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError

    def fetch(self) -> object:
        """Start the thread worker that reloads the panel's data."""
        raise NotImplementedError

    def on_mount(self) -> None:
        self.refresh_now()

    def refresh_now(self) -> None:
        """Fetch now; the pending tick is dropped so the loop keeps a single timer."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.fetch()

    @property
    def in_front(self) -> bool:
        """True when this panel is what the user sees, with no modal on top."""
        return self.app.screen is self

    def _tick(self) -> None:
        self._timer = None
        if self.in_front:
            self.refresh_now()
        else:
            self._arm()

    def _arm(self) -> None:
        if self._timer is None and self.is_attached:
            self._timer = self.set_timer(self.REFRESH_SECONDS, self._tick, name="panel-refresh")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state == WorkerState.ERROR:
            # Engine errors are caught in the workers; anything else is a bug, but the
            # user should still see it rather than a panel that silently stops updating.
            err = worker.error
            self.notify(f"{type(err).__name__}: {err}", title="Unexpected error",
                        severity="error", markup=False)
        if worker.group == self.REFRESH_GROUP and event.state in (
                WorkerState.SUCCESS, WorkerState.ERROR):
            self._arm()
