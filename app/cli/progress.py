"""Docker-style pull/push progress: one line per layer.

On a terminal the lines are redrawn in place (cursor up, clear line) with a bar
for ``Downloading``/``Pushing``, as docker does; otherwise only status changes
are printed, one per line, so logs and pipes stay readable.
"""

from __future__ import annotations

import sys
from typing import TextIO

from engine.registry.types import PullProgress, PushProgress

_BAR = 50
_REDRAWN = {"Downloading", "Pushing", "Extracting"}


def human(n: float) -> str:
    """docker's units.HumanSize: decimal units, four significant digits (``52.48MB``)."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.4g}{unit}"
        n /= 1000
    raise AssertionError("unreachable")


def bar(current: int, total: int) -> str:
    """``[=====>      ]  1.2MB/3.4MB`` (docker's JSONProgress.String)."""
    if total <= 0:
        return human(current)
    filled = min(_BAR, _BAR * current // total)
    inner = "=" * filled + (">" + " " * (_BAR - filled - 1) if filled < _BAR else "")
    return f"[{inner}] {human(current):>8}/{human(total)}"


class ProgressPrinter:
    """Feed it events; it keeps one line per ``id`` in order of first appearance."""

    def __init__(self, out: TextIO | None = None, *, tty: bool | None = None) -> None:
        self.out = out or sys.stdout
        self.tty = self.out.isatty() if tty is None else tty
        self._order: list[str] = []
        self._lines: dict[str, str] = {}
        self._last_status: dict[str, str] = {}

    def line(self, text: str) -> None:
        """A free-standing line (``Digest: ...``) below the layer lines."""
        self.out.write(text + "\n")
        self.out.flush()
        if self.tty:  # later redraws must not climb into it
            self._order = []
            self._lines = {}

    def update(self, ev: PullProgress | PushProgress) -> None:
        if not ev.id:
            self.line(ev.status)
            return
        text = f"{ev.id}: {ev.status}"
        if ev.status in _REDRAWN and ev.total:
            text += " " + bar(ev.current, ev.total)
        if not self.tty:
            if self._last_status.get(ev.id) != ev.status:
                self._last_status[ev.id] = ev.status
                self.out.write(f"{ev.id}: {ev.status}\n")
                self.out.flush()
            return
        if ev.id not in self._lines:
            self._order.append(ev.id)
            self._lines[ev.id] = text
            self.out.write(text + "\n")
        else:
            self._lines[ev.id] = text
            up = len(self._order) - self._order.index(ev.id)
            # cursor up, clear the line, write, cursor back down
            self.out.write(f"\x1b[{up}A\x1b[2K\r{text}\x1b[{up}B\r")
        self.out.flush()
