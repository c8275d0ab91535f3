"""``LayerProgress``: one progress bar per layer of a pull or a push, docker-style.

Fed plain :class:`engine.registry.types.PullProgress` / ``PushProgress`` events;
it never calls the engine. A row per layer ID in order of first appearance, as
``docker pull`` prints them: the short digest, a :class:`ProgressBar` and the
status in docker's words with the bytes (``Downloading 1.2 MB / 3.4 MB``).
"""

from __future__ import annotations

from dataclasses import dataclass

import humanize
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Label, ProgressBar

from engine.registry.types import PullProgress, PushProgress

Event = PullProgress | PushProgress

# Statuses after which a layer has nothing left to transfer: its bar shows 100 %.
FINISHED = ("Pull complete", "Already exists", "Download complete", "Pushed",
            "Layer already exists", "Mounted from")
# Statuses that carry a byte count worth printing next to the bar.
COUNTED = ("Downloading", "Extracting", "Pushing")


def is_finished(status: str) -> bool:
    return status.startswith(FINISHED)


def status_text(ev: Event) -> str:
    """``Downloading 1.2 MB / 3.4 MB``; other statuses as the engine words them."""
    if ev.status in COUNTED and ev.total:
        return f"{ev.status} {humanize.naturalsize(ev.current)} / {humanize.naturalsize(ev.total)}"
    return ev.status


@dataclass
class LayerState:
    """What one row shows; kept apart from the widgets so tests can read it."""

    status: str = ""
    current: int = 0
    total: int = 0  # 0 while unknown ("Waiting", "Pulling fs layer")

    def apply(self, ev: Event) -> None:
        self.status = status_text(ev)
        if ev.total:
            self.total = ev.total
            self.current = min(ev.current, ev.total)
        if is_finished(ev.status):
            # "Already exists" has no size; a finished layer is full whatever it weighed.
            self.total = self.total or 1
            self.current = self.total

    @property
    def percentage(self) -> float | None:
        return self.current / self.total if self.total else None


class LayerRow(Horizontal):
    """``<short digest>  [bar] 42%  <status>``."""

    DEFAULT_CSS = """
    LayerRow {
        height: 1;
    }
    LayerRow .layer-id {
        width: 14;
        color: $text-muted;
    }
    LayerRow ProgressBar {
        width: 42;
    }
    LayerRow .layer-status {
        width: 1fr;
    }
    LayerRow.-finished .layer-status {
        color: $success;
    }
    """

    def __init__(self, layer_id: str) -> None:
        super().__init__()
        self.layer_id = layer_id
        self.state = LayerState()

    def compose(self) -> ComposeResult:
        yield Label(self.layer_id, classes="layer-id", markup=False)
        yield ProgressBar(show_eta=False)
        yield Label("", classes="layer-status", markup=False)

    def on_mount(self) -> None:
        self._show()

    def apply(self, ev: Event) -> None:
        self.state.apply(ev)
        if self.is_mounted:
            self._show()

    def _show(self) -> None:
        state = self.state
        bar = self.query_one(ProgressBar)
        # total None = indeterminate: nothing known about the size yet.
        bar.update(total=state.total or None, progress=state.current)
        self.query_one(".layer-status", Label).update(state.status)
        self.set_class(state.percentage == 1.0, "-finished")


class LayerProgress(VerticalScroll):
    """The rows of one transfer; :meth:`apply` takes every per-layer event."""

    DEFAULT_CSS = """
    LayerProgress {
        height: auto;
        max-height: 16;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(id=id)
        self._rows: dict[str, LayerRow] = {}

    def apply(self, ev: Event) -> None:
        """Show ``ev`` on its layer's row (made on first sight). Image-wide events
        (empty ``id``) are the dialog's to show, not a layer's."""
        if not ev.id:
            return
        row = self._rows.get(ev.id)
        if row is None:
            row = self._rows[ev.id] = LayerRow(ev.id)
            self.mount(row)
        row.apply(ev)

    def clear_layers(self) -> None:
        """Forget every row (a new transfer in the same dialog)."""
        for row in self._rows.values():
            row.remove()
        self._rows.clear()

    @property
    def states(self) -> dict[str, LayerState]:
        """Layer ID → state, in order of first appearance."""
        return {k: row.state for k, row in self._rows.items()}
