"""The fake engine's event log: the same records and filters as ``engine.events.EventLog``.

Kept in memory behind a condition variable, so a follower in a thread worker wakes
as soon as an action on another thread emits, with no polling interval to wait out.
Times come from the fake's clock, so snapshots and ``since``/``until`` are deterministic.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

from engine.types import EventRecord

Clock = Callable[[], float]
Match = Callable[[EventRecord], bool]


class FakeEventLog:
    # A follower re-checks ``stop()`` and ``until`` at least this often (seconds).
    WAKE = 0.05

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._events: list[EventRecord] = []
        self._cond = threading.Condition()

    def emit(self, type: str, action: str, actor_id: str,  # noqa: A002 - docker's field
             attributes: dict[str, str] | None = None) -> EventRecord:
        ev = EventRecord(type, action, actor_id, dict(attributes or {}),
                         int(round(self.clock() * 1e9)))
        with self._cond:
            self._events.append(ev)
            self._cond.notify_all()
        return ev

    def read(self, *, since: float | None = None, until: float | None = None,
             match: Match | None = None) -> list[EventRecord]:
        with self._cond:
            events = list(self._events)
        return [ev for ev in events if _keep(ev, since, until, match)]

    def follow(self, *, since: float | None = None, until: float | None = None,
               match: Match | None = None,
               stop: Callable[[], bool] | None = None) -> Iterator[EventRecord]:
        """Past events from ``since`` (none if ``None``), then new ones; a generator, like the
        real one, so "new" starts when iteration starts, not when this is called."""
        with self._cond:
            seen = len(self._events)
        if since is not None:
            yield from (ev for ev in self._events[:seen] if _keep(ev, since, until, match))
        while True:
            with self._cond:
                if len(self._events) == seen:
                    if (stop is not None and stop()) or (
                            until is not None and self.clock() > until):
                        return
                    self._cond.wait(self.WAKE)
                fresh = self._events[seen:]
                seen = len(self._events)
            for ev in fresh:
                if _keep(ev, None, until, match):
                    yield ev
            if stop is not None and stop():
                return


def _keep(ev: EventRecord, since: float | None, until: float | None,
          match: Match | None) -> bool:
    if since is not None and ev.time < since:
        return False
    if until is not None and ev.time > until:
        return False
    return match is None or match(ev)
