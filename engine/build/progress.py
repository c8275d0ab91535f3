"""Build progress as BuildKit's vertices: numbered, started, cached or done, with output.

A :class:`Vertex` turns each happening into a :class:`engine.types_build.BuildEvent`
handed to the sink (a queue the facade drains). Numbers are given out under a
lock, so stages building in parallel threads still get distinct ``#N``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from ..types_build import BuildEvent

Sink = Callable[[BuildEvent], None]
TAIL = 10  # output lines a failed step reports


class Progress:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self._next = 0
        self._lock = threading.Lock()

    def vertex(self, name: str, *, stage: str = "", line: int = 0) -> Vertex:
        with self._lock:
            self._next += 1
            number = self._next
        v = Vertex(self, number, name, stage, line)
        self.sink(BuildEvent("step", number, name, stage=stage, line=line))
        return v

    def warning(self, text: str) -> None:
        self.sink(BuildEvent("warning", 0, "", text))


class Vertex:
    def __init__(self, progress: Progress, number: int, name: str, stage: str,
                 line: int) -> None:
        self.progress = progress
        self.number = number
        self.name = name
        self.stage = stage
        self.line = line
        self.started = time.monotonic()
        self.tail: deque[str] = deque(maxlen=TAIL)
        self.was_cached = False

    def _event(self, kind: str, text: str = "", duration: float = 0.0) -> BuildEvent:
        return BuildEvent(kind, self.number, self.name, text, duration,  # type: ignore[arg-type]
                          stage=self.stage, line=self.line)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def output(self, line: str) -> None:
        self.tail.append(line)
        self.progress.sink(self._event("output", line, self.elapsed))

    def cached(self) -> None:
        self.was_cached = True
        self.progress.sink(self._event("cached"))

    def done(self) -> None:
        self.progress.sink(self._event("done", duration=self.elapsed))

    def error(self, text: str) -> None:
        self.progress.sink(self._event("error", text, self.elapsed))
