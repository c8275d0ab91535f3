"""One stats sampler for the whole app: ``containers_stats()`` once a second, in one thread.

Panels that show live numbers (the Containers list's CPU/MEM bars and Stats tab, the
Monitor) say when they come to the front and when they leave it (:meth:`StatsHub.want`).
The hub samples only while at least one of them is in front, the app is not suspended
(a shell took the terminal) and some container may be running: after a pass finds none
it stops until a container event wakes it (:meth:`StatsHub.poke`). Each pass becomes one
:class:`StatsSampled` for the app, which hands it to those panels. The Monitor also wants
host totals (:func:`host_totals`), taken in the same pass.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psutil
from textual.app import App
from textual.message import Message
from textual.worker import Worker, get_current_worker

from engine import Engine, EngineError
from engine.types import StatsSample

LIVE_SECONDS = 1.0
# How long an idle hub sleeps before it checks again whether the app is quitting
# (it is woken at once by demand, a container event or close()).
IDLE_WAIT = 1.0


def live_seconds(app: object) -> float:
    """The stats interval: the user's ``refresh_seconds`` setting, else one second."""
    setting = getattr(getattr(app, "settings", None), "refresh_seconds", None)
    return float(setting or LIVE_SECONDS)


@dataclass(frozen=True)
class HostTotals:
    """The host line of the Monitor: CPU over all cores, memory, load average."""

    cpu_percent: float  # 100 % = every core busy (top's summary line, not docker's)
    cpus: int
    mem_used: int  # total - available, as free(1) and htop count it
    mem_total: int
    load: tuple[float, float, float]


def host_totals() -> HostTotals:
    mem = psutil.virtual_memory()
    # interval=None: CPU use since the previous call, which is the previous pass.
    return HostTotals(cpu_percent=psutil.cpu_percent(interval=None),
                      cpus=psutil.cpu_count() or 1, mem_used=int(mem.total - mem.available),
                      mem_total=int(mem.total), load=psutil.getloadavg())


class StatsSampled(Message):
    """One pass: a sample per running container (``[]``: none running), and the host
    totals when a panel asked for them. A newer pass replaces one still queued."""

    def __init__(self, samples: list[StatsSample], host: HostTotals | None,
                 interval: float) -> None:
        super().__init__()
        self.samples = samples
        self.host = host
        self.interval = interval

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StatsSampled)


class StatsHub:
    """The app's single sampler; see the module docstring."""

    GROUP = "stats-hub"

    def __init__(self, app: App[Any], engine: Engine, *,
                 host: Callable[[], HostTotals] | None = None) -> None:
        self.app = app
        self.engine = engine
        self._host = host
        self.interval = LIVE_SECONDS
        self._consumers: dict[int, bool] = {}  # id(panel) -> wants host totals
        # What the thread reads, derived on the main thread (it never iterates the dict).
        self._wanted = False
        self._want_host = False
        self._suspended = False
        self._closed = False
        self._wake = threading.Event()
        # Set: some container may be running (at start, and after each container event).
        self._poked = threading.Event()
        self._poked.set()
        self._running = False  # the last pass found running containers
        self._last_error = ""
        self.stopped = threading.Event()  # the thread has ended (quitting must not wait)
        self.worker: Worker[None] | None = None

    # -- main thread ------------------------------------------------------------------
    def start(self) -> None:
        self.interval = live_seconds(self.app)
        self.app.app_suspend_signal.subscribe(self.app, self._suspend)
        self.app.app_resume_signal.subscribe(self.app, self._resume)
        self.worker = self.app.run_worker(self._run, thread=True, group=self.GROUP,
                                          name="stats-hub", exit_on_error=False)

    def close(self) -> None:
        self._closed = True
        self._wake.set()

    def want(self, consumer: object, wanted: bool, *, host: bool = False) -> None:
        """``consumer`` (a panel) came to the front (``wanted``) or left it."""
        if wanted:
            self._consumers[id(consumer)] = host
        else:
            self._consumers.pop(id(consumer), None)
        self._wanted = bool(self._consumers)
        self._want_host = any(self._consumers.values())
        self._wake.set()

    def poke(self) -> None:
        """A container changed (an event): sample now, even if none was running."""
        self._poked.set()
        self._wake.set()

    @property
    def active(self) -> bool:
        return self._wanted and not self._suspended and not self._closed

    def _suspend(self, _app: object) -> None:
        self._suspended = True

    def _resume(self, _app: object) -> None:
        self._suspended = False
        self._wake.set()

    # -- the thread -------------------------------------------------------------------
    def _run(self) -> None:
        worker = get_current_worker()
        try:
            while not (self._closed or worker.is_cancelled):
                if not self.active:
                    self._sleep(IDLE_WAIT)
                    continue
                started = time.monotonic()
                self._pass()
                self._sleep(max(0.0, self.interval - (time.monotonic() - started)))
        finally:
            self.stopped.set()

    def _sleep(self, seconds: float) -> None:
        self._wake.wait(seconds)
        self._wake.clear()

    def _pass(self) -> None:
        want_host = self._want_host
        check = self._running or self._poked.is_set()
        self._poked.clear()  # a poke from now on asks for another pass
        if not check and not want_host:
            return  # nothing runs and nobody wants the host line: stay quiet
        samples: list[StatsSample] = []
        if check:
            try:
                samples = self.engine.containers_stats()
                self._last_error = ""
            except EngineError as err:
                if str(err) != self._last_error:  # once, not every second
                    self._last_error = str(err)
                    self.app.notify(str(err), title="Stats", severity="warning", markup=False)
        self._running = bool(samples)
        host = (self._host or host_totals)() if want_host else None
        self.app.post_message(StatsSampled(samples, host, self.interval))
