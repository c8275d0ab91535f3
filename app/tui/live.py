"""Live lists without polling: the engine's event log, followed in one thread worker.

Every ``pydock`` process appends to the same ``events.jsonl`` (engine/events.py), so
a container that the CLI starts in another terminal shows up here as an event. The
follower turns bursts of events into one :class:`EngineChanged` per burst (a
``compose up`` of 50 containers refreshes each panel once, not 50 times); the app
routes it to the panels that show that kind of object (:data:`ROUTES`). A panel in
front refreshes at once; a hidden one, or one under a modal, only notes that it is
stale (``PanelScreen.engine_changed``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.message import Message
from textual.worker import Worker, get_current_worker

from engine import Engine, EngineError
from engine.types import EventRecord

# Which event types each panel (mode) shows. A container's start or removal changes
# the Volumes panel's "used by" and the Networks panel's attachments too.
ROUTES: dict[str, frozenset[str]] = {
    "containers": frozenset({"container"}),
    "images": frozenset({"image"}),
    "volumes": frozenset({"volume", "container"}),
    "networks": frozenset({"network", "container"}),
    "monitor": frozenset({"container"}),
}
ALL_KINDS = frozenset({"container", "image", "volume", "network"})

# Actions that change nothing any list shows: an exec (a healthcheck script run
# through the CLI every few seconds) must not refresh the containers list each time.
QUIET_ACTIONS = frozenset({"exec_create", "exec_start", "exec_die", "export", "save"})

# A burst is over when the log has been quiet this long. Longer than the real log's
# poll interval (0.2 s), so a burst that straddles two reads is still one batch.
QUIET_SECONDS = 0.25


def kinds_for(mode: str) -> frozenset[str]:
    """The event types a panel cares about; a panel not listed gets every kind."""
    return ROUTES.get(mode, ALL_KINDS)


def wanted(ev: EventRecord) -> bool:
    return ev.action not in QUIET_ACTIONS


class EngineChanged(Message):
    """The engine changed objects of these types (``"container"``, ``"image"``...)."""

    def __init__(self, kinds: frozenset[str]) -> None:
        super().__init__()
        self.kinds = kinds


class Batcher:
    """Collects event types and lets them go once the log has been quiet for a while.

    ``add`` runs for each event, ``due`` whenever the follower polls (``stop=``): the
    engine's follow calls it at least once per poll interval, events or not.
    """

    def __init__(self, quiet: float = QUIET_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.quiet = quiet
        self.clock = clock
        self.pending: set[str] = set()
        self.last = 0.0

    def add(self, kind: str) -> None:
        self.pending.add(kind)
        self.last = self.clock()

    def due(self) -> frozenset[str]:
        """The collected types if the burst is over (then forgotten), else nothing."""
        if not self.pending or self.clock() - self.last < self.quiet:
            return frozenset()
        kinds, self.pending = frozenset(self.pending), set()
        return kinds


class EventFollower:
    """Follows the event log for the app in one long-lived thread worker."""

    GROUP = "engine-events"

    def __init__(self, target: App[Any], engine: Engine) -> None:
        self.target = target
        self.engine = engine
        # Set when the follow has ended (tests check that quitting ends it promptly).
        self.stopped = threading.Event()
        self.worker: Worker[None] | None = None

    def start(self) -> None:
        self.worker = self.target.run_worker(self._follow, thread=True, group=self.GROUP,
                                             name="events-follow", exit_on_error=False)

    def _follow(self) -> None:
        worker = get_current_worker()
        batch = Batcher()

        def tick() -> bool:
            kinds = batch.due()
            if kinds:
                self.target.post_message(EngineChanged(kinds))
            # Textual cancels every worker when the app exits: the follow ends within
            # one poll interval, so quitting never waits on it.
            return worker.is_cancelled

        try:
            for ev in self.engine.events_follow(match=wanted, stop=tick):
                batch.add(ev.type)
        except (EngineError, OSError) as err:
            # Without events the lists still refresh on the panels' slow safety poll.
            self.target.post_message(EngineChanged(ALL_KINDS))
            self.target.notify(f"Live updates stopped: {err}", title="Event log",
                               severity="warning", markup=False)
        finally:
            self.stopped.set()
