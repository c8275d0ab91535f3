"""The containers panel, part 2 of 4: the followed log of the row under the cursor.

A thread worker follows ``containers_logs(follow=True)`` with a stop flag, so moving
the cursor off a quiet container ends its follow at once. Lines go through a queue
drained on the main thread, woken by a coalescing :class:`LogsPending`, so a chatty
container costs one message per batch, not one per line.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any, ClassVar

from rich.cells import cell_len
from textual import on, work
from textual.widgets import Input, Label
from textual.worker import get_current_worker

from engine import EngineError
from engine.types import ContainerSummary
from widgets import LogLine, LogView
from widgets.container_table import RUNNING

from .container_list import ContainerListScreen
from .container_messages import LogsEnded, LogsPending


class ContainerLogsScreen(ContainerListScreen):
    """The Logs tab's behaviour; ContainerDetailScreen composes the tab itself."""

    LOG_TAIL: ClassVar[int] = 1000

    DEFAULT_CSS = """
    ContainerLogsScreen #log-header {
        width: 1fr;
        padding: 0 1;
        color: $text-muted;
    }
    ContainerLogsScreen #log-search {
        display: none;
        height: 1;
        border: none;
        padding: 0 1;
        background: $boost;
    }
    ContainerLogsScreen #log-search.-active {
        display: block;
    }
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.detail: ContainerSummary | None = None
        self.following = False
        # Lines from the follow thread: appended there, drained on the main thread.
        self._log_queue: deque[tuple[int, LogLine]] = deque()
        self._log_gen = 0
        self._log_wakeup_sent = False
        self._header_text = ""  # what #log-header says

    @property
    def log_view(self) -> LogView:
        return self.query_one(LogView)

    def _start_logs(self, container: ContainerSummary) -> None:
        self._log_gen += 1
        self._log_queue.clear()
        self.log_view.clear_log()
        self.following = container.status in RUNNING
        self._log_header()
        self.follow_logs(container.id, self._log_gen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="container-logs")
    def follow_logs(self, container_id: str, generation: int) -> None:
        worker = get_current_worker()
        try:
            # stop= ends the follow of a quiet container as soon as the cursor moves on.
            for e in self.engine.containers_logs(container_id, tail=self.LOG_TAIL, follow=True,
                                                 stop=lambda: worker.is_cancelled):
                if worker.is_cancelled:
                    return
                self._log_queue.append((generation, LogLine(
                    e.stream, e.data.decode("utf-8", "replace"), e.time_ns)))
                if not self._log_wakeup_sent:
                    # One wake-up per batch, not per line: the handler drains them all.
                    self._log_wakeup_sent = True
                    self.post_message(LogsPending())
        except EngineError as err:
            self.app.notify(str(err), title=err.title, severity="error", markup=False)
        if not worker.is_cancelled:
            self.post_message(LogsEnded(generation))

    def on_logs_pending(self) -> None:
        self._log_wakeup_sent = False  # before draining, so no line is left behind
        lines = []
        while self._log_queue:
            generation, line = self._log_queue.popleft()
            if generation == self._log_gen:
                lines.append(line)
        if lines:
            self.log_view.append(lines)

    def on_logs_ended(self, message: LogsEnded) -> None:
        if message.generation == self._log_gen:
            self.on_logs_pending()
            self.following = False
            self._log_header()

    @on(LogView.Changed)
    def _log_header(self) -> None:
        log = self.log_view
        c = self.detail
        if c is None:
            self._set_header("No container selected")
            return
        # What is loaded, said plainly: "empty logs" complaints are mostly tail/since.
        state = "following" if self.following else f"ended ({c.status})"
        parts = [c.name, f"tail {self.LOG_TAIL}", "since start", state,
                 f"{log.line_count} lines", f"timestamps {'on' if log.timestamps else 'off'}",
                 f"wrap {'on' if log.wrap else 'off'}"]
        if log.search:
            at = f"{log.current + 1}/" if log.current is not None else ""
            parts.append(f"/{log.search} {at}{log.match_count}")
        self._set_header(" · ".join(parts))

    def _set_header(self, text: str) -> None:
        label = self.query_one("#log-header", Label)
        old, self._header_text = self._header_text, text
        if text == old:
            return  # several changes of one cursor move often say the same thing
        # One line before and after: no need to lay the screen out again.
        width = label.content_size.width
        label.update(text, layout=not (0 < width and cell_len(text) <= width
                                       and cell_len(old) <= width))

    @on(LogView.SearchRequested)
    def _open_search(self) -> None:
        box = self.query_one("#log-search", Input)
        box.add_class("-active")
        box.focus()

    @on(Input.Changed, "#log-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.log_view.search = event.value

    @on(Input.Submitted, "#log-search")
    def _search_submitted(self) -> None:
        self.log_view.focus()

    def back_from_detail(self) -> bool:
        box = self.query_one("#log-search", Input)
        if box.has_class("-active") and self.focused in (box, self.log_view):
            box.value = ""
            box.remove_class("-active")
            self.log_view.search = ""
            self.log_view.focus()
            return True
        return False

    @on(LogView.SaveRequested)
    def _save_log(self) -> None:
        if self.detail is None:
            return
        self.save_log(Path.cwd() / f"{self.detail.name}.log", self.log_view.export())

    @work(thread=True, exclusive=True, exit_on_error=False, group="container-log-save")
    def save_log(self, path: Path, text: str) -> None:
        try:
            path.write_text(text)
        except OSError as err:
            self.app.notify(str(err), title="Cannot save the log", severity="error",
                            markup=False)
            return
        self.app.notify(f"Saved {text.count(chr(10))} lines to {path}", title="Log saved",
                        markup=False)

