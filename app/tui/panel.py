"""``PanelScreen``: the base of every top-level panel (Images now; containers, volumes… later).

It owns the refresh that every panel shares (dolphie's pattern): fetch in a thread
worker, apply the result on the main thread. Refreshes are driven by the engine's
events (``app/tui/live.py`` calls :meth:`PanelScreen.engine_changed`): the panel in
front refreshes at once, a hidden one or one under a modal only notes that it is
stale and refreshes when it comes back (``ScreenResume``). A slow one-shot safety
timer, re-armed after each fetch, catches what produces no event. Panels that show
live numbers (:attr:`SHOWS_STATS`) tell the app's stats hub when they are in front.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult, ScreenStackError
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header
from textual.worker import Worker, WorkerState

from engine.config import default_root

from .stats_hub import StatsSampled, live_seconds


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

    # The safety poll only: lists follow the engine's events.
    REFRESH_SECONDS: ClassVar[float] = 30.0
    REFRESH_GROUP: ClassVar[str] = "refresh"
    # Shows live stats: the stats hub samples while this panel is in front.
    SHOWS_STATS: ClassVar[bool] = False
    # ...and wants the host's totals with them (the Monitor).
    WANTS_HOST: ClassVar[bool] = False

    def __init__(self) -> None:
        super().__init__()
        self._timer: Timer | None = None
        self.stale = False  # something changed while the panel was not in front

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
    def refresh_seconds(self) -> float:
        """How often live numbers refresh: the user's ``refresh_seconds`` setting, else 1 s."""
        return live_seconds(self.app)

    @property
    def in_front(self) -> bool:
        """True when this panel is what the user sees, with no modal on top."""
        try:
            return self.app.screen is self
        except ScreenStackError:
            return False  # the app is closing: an engine event that lands now changes nothing

    def engine_changed(self) -> None:
        """The engine changed what this panel lists (the app routes events here)."""
        if self.in_front:
            self.refresh_now()
        else:
            self.stale = True

    def stats_sampled(self, message: StatsSampled) -> None:
        """A stats pass of the app's hub (only panels with :attr:`SHOWS_STATS` get it)."""

    def on_screen_resume(self) -> None:
        self._want_stats(True)
        if self.stale:
            self.stale = False
            self.refresh_now()

    def on_screen_suspend(self) -> None:
        self._want_stats(False)

    def _want_stats(self, wanted: bool) -> None:
        hub = getattr(self.app, "stats_hub", None)
        if self.SHOWS_STATS and hub is not None:
            hub.want(self, wanted, host=self.WANTS_HOST)

    def _tick(self) -> None:
        self._timer = None
        if self.in_front:
            self.refresh_now()
        else:
            # Hidden: no work and no timer until it is shown again.
            self.stale = True

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
