"""``BuildLog``: the live view of one build, a block per step, like ``docker build``.

Fed plain :class:`engine.types_build.BuildEvent` values; it never calls the engine.
Each vertex the builder reports becomes one block: a title line (``Step 2/4 : COPY
. /app``, from BuildKit's ``[2/4] COPY . /app``) that ends in ``CACHED``, its
duration or ``ERROR``, followed by the lines the step printed. Only the last
:data:`MAX_LINES` lines of a step stay on screen, so a chatty ``RUN`` cannot make
every repaint slower than the one before. The view follows the newest line
unless the user scrolled up.
"""

from __future__ import annotations

import re
from collections import deque

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from engine.types_build import BuildEvent

MAX_LINES = 200
_STEP = re.compile(r"^\[(?:(?P<stage>[^\]]*?) )?(?P<n>\d+)/(?P<total>\d+)\] (?P<rest>.*)$", re.S)


def step_title(name: str) -> str:
    """``[2/4] RUN make`` → ``Step 2/4 : RUN make``; ``[build 1/3] FROM x`` names its stage.

    Internal vertices (``[internal] load build definition``, ``exporting to image``)
    keep their name.
    """
    m = _STEP.match(name)
    if m is None:
        return name
    stage = f" ({m['stage']})" if m["stage"] else ""
    return f"Step {m['n']}/{m['total']}{stage} : {m['rest']}"


def is_step(name: str) -> bool:
    """A Dockerfile instruction, as opposed to the builder's own bookkeeping."""
    return _STEP.match(name) is not None


class StepBlock(Static):
    """One vertex: its title, how it ended, what it printed."""

    DEFAULT_CSS = """
    StepBlock {
        height: auto;
    }
    """

    def __init__(self, vertex: int, name: str) -> None:
        super().__init__()
        self.vertex = vertex
        self.vertex_name = name
        self.heading = step_title(name)
        self.state = "running"  # running, cached, done, error
        self.duration = 0.0
        self.error = ""
        self.lines: deque[str] = deque(maxlen=MAX_LINES)
        self.dropped = 0

    def on_mount(self) -> None:
        self.update(self.render_text())

    def apply(self, ev: BuildEvent) -> None:
        if ev.kind == "output":
            if len(self.lines) == MAX_LINES:
                self.dropped += 1
            self.lines.append(ev.text)
        elif ev.kind == "cached":
            self.state = "cached"
        elif ev.kind == "done":
            self.state, self.duration = "done", ev.duration
        elif ev.kind == "error":
            self.state, self.duration, self.error = "error", ev.duration, ev.text
        if self.is_mounted:
            self.update(self.render_text())

    @property
    def mark(self) -> str:
        """What ends the title line: ``CACHED``, ``0.4s``, ``ERROR`` or nothing yet."""
        return {"cached": "CACHED", "done": f"{self.duration:.1f}s",
                "error": "ERROR", "running": ""}[self.state]

    def render_text(self) -> Text:
        text = Text()
        style = "bold" if is_step(self.vertex_name) else "dim"
        text.append(self.heading, style=style)
        mark_style = {"cached": "bold green", "done": "cyan", "error": "bold red"}.get(
            self.state, "")
        if self.mark:
            text.append(f"  {self.mark}", style=mark_style)
        elif self.state == "running":
            text.append("  …", style="dim")
        if self.dropped:
            text.append(f"\n   ⋮ {self.dropped} earlier lines not shown", style="dim italic")
        for line in self.lines:
            text.append("\n │ ", style="dim")
            text.append(line)
        if self.error:
            text.append(f"\n ✗ {self.error}", style="red")
        return text


class BuildLog(VerticalScroll):
    """Every block of one build, kept scrolled to the newest until the user scrolls up."""

    DEFAULT_CSS = """
    BuildLog {
        height: 1fr;
        padding: 0 1;
    }
    BuildLog .warning {
        color: $warning;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(id=id)
        self._blocks: dict[int, StepBlock] = {}

    def apply(self, ev: BuildEvent) -> None:
        """Show one event: a new block on ``step``, else update the vertex's block."""
        if ev.kind == "image":
            return  # the result is the dialog's to show
        # Follow the output only while the user has not scrolled up to read something.
        # (Not anchor(): an anchored view pins short content to the bottom edge.)
        following = self.scroll_y >= self.max_scroll_y
        if ev.kind == "warning":
            self.mount(Static(Text(f"WARNING: {ev.text}"), classes="warning"))
        else:
            block = self._blocks.get(ev.vertex)
            if block is None:
                block = self._blocks[ev.vertex] = StepBlock(ev.vertex, ev.name)
                self.mount(block)
            if ev.kind != "step":
                block.apply(ev)
        if following:
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True)

    @property
    def blocks(self) -> list[StepBlock]:
        """The blocks in the order the builder started them."""
        return list(self._blocks.values())

    @property
    def steps(self) -> list[tuple[str, str]]:
        """``(title, mark)`` of the Dockerfile steps only: what a test compares."""
        return [(b.heading, b.mark) for b in self._blocks.values() if is_step(b.vertex_name)]
