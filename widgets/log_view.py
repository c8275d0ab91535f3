"""``LogView``: a container's log with search highlights, ``n``/``N``, timestamps and wrap.

A line-API ScrollView (toolong's model) rather than a RichLog: toggling wrap or
timestamps and moving between search matches needs the lines as data, re-laid out
on demand, not strips rendered once at the width of the moment. Lines are kept with
absolute numbers so dropping the oldest ones (``max_lines``) shifts nothing.
"""

from __future__ import annotations

import re
import time
from collections import deque
from typing import NamedTuple

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f]")


class LogLine(NamedTuple):
    """One log entry as plain values (the engine's LogEntry stays out of widgets)."""

    stream: str
    text: str
    time_ns: int


def timestamp(ns: int) -> str:
    """``docker logs -t``'s fixed-width RFC3339Nano UTC time."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 1_000_000_000)) + \
        f".{ns % 1_000_000_000:09d}Z"


def clean(text: str) -> str:
    # Colour codes and stray control bytes would corrupt the screen; tabs keep their look.
    return _ANSI.sub("", text.rstrip("\n")).expandtabs(8)


def chop(text: str, width: int) -> list[tuple[int, int]]:
    """Split ``text`` into (start, end) pieces at most ``width`` cells wide."""
    if width < 1 or cell_len(text) <= width:
        return [(0, len(text))]
    if text.isascii():
        return [(i, min(i + width, len(text))) for i in range(0, len(text), width)]
    pieces, start, used = [], 0, 0
    for i, ch in enumerate(text):
        w = cell_len(ch)
        if used + w > width:
            pieces.append((start, i))
            start, used = i, 0
        used += w
    return pieces + [(start, len(text))]


class LogView(ScrollView, can_focus=True):
    """Shows :class:`LogLine` rows; the screen feeds it and handles its requests."""

    COMPONENT_CLASSES = {"log-view--match", "log-view--current", "log-view--timestamp",
                         "log-view--stderr"}

    DEFAULT_CSS = """
    LogView {
        height: 1fr;
        background: $surface;
    }
    LogView > .log-view--match { background: $warning 40%; }
    LogView > .log-view--current { background: $warning; color: $background; }
    LogView > .log-view--timestamp { color: $text-muted; }
    LogView > .log-view--stderr { color: $error; }
    """

    BINDINGS = [
        Binding("slash", "search", "Search", id="logs.search"),
        Binding("n", "next_match(1)", "Next", id="logs.next"),
        Binding("N", "next_match(-1)", "Previous match", show=False, id="logs.previous"),
        Binding("t", "toggle_timestamps", "Timestamps", id="logs.timestamps"),
        Binding("w", "toggle_wrap", "Wrap", id="logs.wrap"),
        Binding("ctrl+s", "save", "Save", id="logs.save"),
        Binding("j,down", "scroll_down", "Down", show=False, id="logs.down"),
        Binding("k,up", "scroll_up", "Up", show=False, id="logs.up"),
        Binding("g,home", "scroll_home", "Top", show=False, id="logs.top"),
        Binding("G,end", "scroll_end", "Bottom", show=False, id="logs.bottom"),
    ]

    wrap: reactive[bool] = reactive(False)
    timestamps: reactive[bool] = reactive(False)
    search: reactive[str] = reactive("")

    class SearchRequested(Message):
        """``/`` pressed: the screen shows its search box."""

    class SaveRequested(Message):
        """``ctrl+s`` pressed: the screen writes :meth:`export` to a file."""

    class Changed(Message):
        """Lines, wrap, timestamps or the search changed (for the header)."""

    def __init__(self, *, max_lines: int = 10_000, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.max_lines = max_lines
        self._lines: deque[LogLine] = deque()
        self._base = 0  # absolute number of self._lines[0]
        self._rows: deque[tuple[int, int, int]] = deque()  # (line number, start, end)
        self._matches: list[int] = []  # line numbers containing the search
        self.current: int | None = None  # index into _matches (n/N)
        self._widest = 0
        self._sticky = False

    # -- data ------------------------------------------------------------------------
    @property
    def line_count(self) -> int:
        return len(self._lines)

    @property
    def match_count(self) -> int:
        return len(self._matches)

    def display_text(self, number: int) -> str:
        line = self._lines[number - self._base]
        text = clean(line.text)
        return f"{timestamp(line.time_ns)} {text}" if self.timestamps else text

    def export(self) -> str:
        """The log as shown (timestamps per the toggle), for saving to a file."""
        return "".join(self.display_text(self._base + i) + "\n" for i in range(len(self._lines)))

    def clear_log(self) -> None:
        self._lines.clear()
        self._base, self.current = 0, None
        self._relayout()

    def append(self, lines: list[LogLine]) -> None:
        """Add lines at the bottom; follows the end if the view was at the end."""
        # Sticky end: a scroll to the end may still be pending (it runs after the
        # refresh that applies the new size), so "at the end" includes that.
        at_end = self._sticky or self.scroll_y >= self.max_scroll_y
        first = self._base + len(self._lines)
        self._lines.extend(lines)
        for number in range(first, first + len(lines)):
            self._layout_line(number)
        if len(self._lines) > self.max_lines:
            # Drop a tenth at once, so a chatty container does not pay per line.
            drop = len(self._lines) - self.max_lines + self.max_lines // 10
            dropped_rows = self._drop(drop)
            if not at_end:
                self.scroll_to(y=max(0, self.scroll_y - dropped_rows), animate=False)
        self._update_size()
        if at_end and not self._sticky:
            self._sticky = True
            self.call_after_refresh(self._to_end)
        self.post_message(self.Changed())

    def _to_end(self) -> None:
        self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)
        self._sticky = False

    def _drop(self, count: int) -> int:
        for _ in range(count):
            self._lines.popleft()
        self._base += count
        rows = 0
        while self._rows and self._rows[0][0] < self._base:
            self._rows.popleft()
            rows += 1
        self._matches = [m for m in self._matches if m >= self._base]
        self.current = None if self.current is None or not self._matches else 0
        return rows

    # -- layout ----------------------------------------------------------------------
    def _width(self) -> int:
        # 0 while hidden (an inactive tab): chop() then leaves lines whole until on_resize.
        return self.scrollable_content_region.width

    def _layout_line(self, number: int) -> None:
        text = self.display_text(number)
        self._widest = max(self._widest, cell_len(text))
        pieces = chop(text, self._width()) if self.wrap else [(0, len(text))]
        self._rows.extend((number, a, b) for a, b in pieces)
        if self.search and self.search.lower() in text.lower():
            self._matches.append(number)

    def _relayout(self) -> None:
        self._rows.clear()
        self._matches, self._widest = [], 0
        for i in range(len(self._lines)):
            self._layout_line(self._base + i)
        if self.current is not None and self.current >= len(self._matches):
            self.current = None
        self._update_size()
        self.refresh()
        self.post_message(self.Changed())

    def _update_size(self) -> None:
        width = self._width() if self.wrap else self._widest
        self.virtual_size = Size(width, len(self._rows))
        self.refresh()

    def on_resize(self) -> None:
        if self.wrap:
            self._relayout()

    def watch_wrap(self) -> None:
        self._relayout()

    def watch_timestamps(self) -> None:
        self._relayout()

    def watch_search(self) -> None:
        self.current = None
        self._relayout()
        if self._matches:
            # Start at the newest match: that is what someone searching a log wants.
            self.current = len(self._matches) - 1
            self._show_current()

    # -- rendering ---------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self.rich_style
        index = scroll_y + y
        if index >= len(self._rows):
            return Strip.blank(width, base)
        number, start, end = self._rows[index]
        text = Text(self.display_text(number)[start:end], no_wrap=True, end="")
        text.stylize(base)  # as a span: Text(style=) is dropped by render() here
        line = self._lines[number - self._base]
        ts_len = 31 if self.timestamps else 0  # "2024-01-01T00:00:00.000000000Z "
        if start < ts_len:
            text.stylize(self.get_component_rich_style("log-view--timestamp"), 0,
                         ts_len - start)
        if line.stream == "stderr":
            text.stylize(self.get_component_rich_style("log-view--stderr"),
                         max(0, ts_len - start))
        if self.search:
            current = self.current is not None and self._matches[self.current] == number
            style = self.get_component_rich_style(
                "log-view--current" if current else "log-view--match")
            text.highlight_words([self.search], style, case_sensitive=False)
        strip = Strip(list(text.render(self.app.console)))
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    # -- keys ---------------------------------------------------------------------------
    def action_search(self) -> None:
        self.post_message(self.SearchRequested())

    def action_save(self) -> None:
        self.post_message(self.SaveRequested())

    def action_toggle_timestamps(self) -> None:
        self.timestamps = not self.timestamps

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap

    def action_next_match(self, step: int) -> None:
        if not self._matches:
            self.app.bell()
            return
        n = len(self._matches)
        self.current = (step - 1 if step > 0 else -1) % n if self.current is None else \
            (self.current + step) % n
        self._show_current()

    def _show_current(self) -> None:
        if self.current is None:
            return
        number = self._matches[self.current]
        row = next((i for i, r in enumerate(self._rows) if r[0] == number), 0)
        self.scroll_to(y=max(0, row - self.scrollable_content_region.height // 2),
                       animate=False, immediate=True)
        self.refresh()
        self.post_message(self.Changed())
