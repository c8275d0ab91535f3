"""``FakeEngine``: an in-memory stand-in for :class:`engine.Engine`, for the TUI's tests.

It offers the facade verbs the TUI calls, takes the same ``*Options`` and returns the
same ``*Info``/``*Report`` types, raises the same :class:`engine.errors.EngineError`
subclasses in the same situations and emits the same events (type, action, actor,
attributes). ``tests/conformance`` runs one suite against both this and the real
engine, so a behaviour test that passes here means something there.

Deterministic by construction: the clock is injected (:class:`FakeClock`, frozen by
default), IDs are a per-kind counter hashed (the same calls give the same IDs on every
run), container commands follow scripts (:mod:`tests.fakes.programs`) and stats are
fixed numbers a test can set. Nothing touches the host: no processes, mounts, cgroups
or network devices; ``config.root`` is a real (empty) directory because the TUI prints
it in hints.

Input validation reuses the engine's pure parsers (names, restart policies, ``-v``,
``-p``, resources, health flags, references), so error messages match word for word;
state, lifecycle, events and views are implemented here.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

from engine.config import EngineConfig
from engine.types import EventRecord

from .events import FakeEventLog
from .fake_build import FakeBuildMixin
from .fake_containers import FakeContainersMixin
from .fake_images import FakeImagesMixin
from .fake_layers import FakeLayersMixin
from .fake_networks import FakeNetworksMixin
from .fake_volumes import FakeVolumesMixin
from .programs import Program

# The UI tests' "image created" instant (tests/ui/conftest.py CREATED).
EPOCH = 1700000000.0


class FakeClock:
    """A clock that moves only when told (``step`` > 0: by ``step`` at every read)."""

    def __init__(self, start: float = EPOCH, step: float = 0.0) -> None:
        self.now = start
        self.step = step
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            now = self.now
            self.now += self.step
            return now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


class FakeEngine(FakeContainersMixin, FakeImagesMixin, FakeLayersMixin, FakeBuildMixin,
                 FakeVolumesMixin, FakeNetworksMixin):
    """The engine facade over dictionaries. Thread-safe: the TUI calls it from workers."""

    def __init__(self, root: Path | str | None = None, *,
                 clock: Callable[[], float] | None = None) -> None:
        root = Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="pydock-fake-"))
        root.mkdir(parents=True, exist_ok=True)
        self.config = EngineConfig(root=root)
        self.clock: Callable[[], float] = clock if clock is not None else FakeClock()
        self.events = FakeEventLog(self.clock)
        # One lock for all state; the condition wakes waiters (wait, logs -f) on any change.
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._counters: defaultdict[str, int] = defaultdict(int)
        self._programs: dict[tuple[str, ...], Program] = {}
        self._init_containers()
        self._init_images()
        self._init_build()
        self._init_volumes()
        self._init_networks()

    # -- determinism ---------------------------------------------------------------------
    def new_id(self, kind: str) -> str:
        """64 hex digits: the ``kind``'s counter hashed, stable across runs."""
        with self._lock:
            self._counters[kind] += 1
            n = self._counters[kind]
        return hashlib.sha256(f"pydock-fake:{kind}:{n}".encode()).hexdigest()

    def advance(self, seconds: float) -> None:
        """Move the fake's clock (a :class:`FakeClock` only): later events, starts and
        exits are stamped that much later."""
        if not isinstance(self.clock, FakeClock):
            raise TypeError("this FakeEngine runs on a real clock")
        self.clock.advance(seconds)

    def count(self, kind: str) -> int:
        """A per-kind sequence number (PIDs, default names, subnets)."""
        with self._lock:
            self._counters[kind] += 1
            return self._counters[kind]

    def script(self, command: tuple[str, ...] | list[str], program: Program) -> None:
        """Containers whose command (entrypoint + cmd) is ``command`` behave as ``program``."""
        with self._lock:
            self._programs[tuple(command)] = program

    def program_for(self, args: list[str]) -> Program:
        with self._lock:
            return self._programs.get(tuple(args), Program())

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    # -- events ----------------------------------------------------------------------------
    def events_list(self, *, since: float | None = None, until: float | None = None,
                    match: Callable[[EventRecord], bool] | None = None) -> list[EventRecord]:
        return self.events.read(since=since, until=until, match=match)

    def events_follow(self, *, since: float | None = None, until: float | None = None,
                      match: Callable[[EventRecord], bool] | None = None,
                      stop: Callable[[], bool] | None = None) -> Iterator[EventRecord]:
        return self.events.follow(since=since, until=until, match=match, stop=stop)
