"""The Volumes panel (panel 3): ``pydock volume ls`` live, with sizes and users.

``c`` create, ``d`` remove (marked rows or the cursor row), ``P`` prune, ``i``
inspect, ``/`` filter. Sizes walk every volume's files, so the refresh worker
measures them only every :attr:`VolumesScreen.SIZE_SECONDS` or when a volume it has
not measured yet appears, and keeps the last sizes in between.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

import humanize
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static
from textual.worker import get_current_worker

from engine import Engine, EngineError
from engine.record import replace
from engine.types import PruneReport, RemoveReport, VolumeCreateOptions, VolumeSummary
from widgets import VolumeTable

from .create_forms import VolumeCreateForm
from .resource_screen import ResourceScreen, plural


def empty_text(cli: str) -> str:
    return ("No volumes yet\n\n"
            "A volume keeps data beyond a container's life. Create one here with c,\n"
            "or from another terminal:\n\n"
            f"  {cli} volume create app-data\n"
            f"  {cli} run -v app-data:/data busybox:latest   (made on first use)\n\n"
            "New volumes show up here by themselves.")


class VolumesScreen(ResourceScreen):
    """The Volumes panel."""

    KIND: ClassVar[str] = "volume"
    PLURAL: ClassVar[str] = "Volumes"
    REFRESH_GROUP: ClassVar[str] = "volumes"
    SUB_TITLE = "Volumes"
    AUTO_FOCUS = "#volumes"
    # Walking the data is the expensive part of a refresh; sizes may lag this much.
    SIZE_SECONDS: ClassVar[float] = 10.0

    DEFAULT_CSS = """
    VolumesScreen #filter {
        display: none;
        height: 1;
        border: none;
        padding: 0 1;
        background: $boost;
    }
    VolumesScreen #filter.-active {
        display: block;
    }
    VolumesScreen #empty {
        display: none;
        height: auto;
        margin: 1 2;
        padding: 1 2;
        border: round $primary;
        background: $boost;
    }
    VolumesScreen.-empty #empty {
        display: block;
    }
    VolumesScreen.-empty VolumeTable {
        display: none;
    }
    """

    BINDINGS = [
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="volumes.refresh"),
        Binding("slash", "filter", "Filter", id="volumes.filter"),
        Binding("c", "create", "Create", id="volumes.create"),
        Binding("d", "remove", "Remove", id="volumes.remove"),
        Binding("P", "prune", "Prune", id="volumes.prune"),
        Binding("i", "inspect", "Inspect", id="volumes.inspect"),
        Binding("escape", "back", "Back", show=False, id="volumes.back"),
    ]

    def __init__(self, engine: Engine, *, clock: Callable[[], float]) -> None:
        super().__init__(engine, clock=clock)
        # Written on the main thread only (from Loaded); the worker reads a snapshot.
        self._sizes: dict[str, int] = {}
        self._sized_at = float("-inf")

    def compose_content(self) -> ComposeResult:
        yield Static(empty_text(self.cli_prefix()), id="empty", markup=False)
        yield VolumeTable(id="volumes")

    # -- engine calls -------------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="volumes")
    def fetch(self) -> None:
        sizes, sized_at = dict(self._sizes), self._sized_at
        try:
            rows = self.engine.volumes_list()
            stale = time.monotonic() - sized_at >= self.SIZE_SECONDS
            if stale or any(r.name not in sizes for r in rows):
                rows = self.engine.volumes_list(size=True)
                sized_at = time.monotonic()
            else:
                rows = [replace(r, size=sizes[r.name]) for r in rows]
        except EngineError as err:
            self.app.notify(str(err), title=err.title, severity="error", markup=False)
            return
        # A newer fetch replaced this one (exclusive): its rows must not land after those.
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(rows, sized_at))

    def show_loaded(self, message: ResourceScreen.Loaded) -> None:
        rows: list[VolumeSummary] = message.rows
        if message.extra != self._sized_at:
            self._sized_at = message.extra
            self._sizes = {r.name: r.size for r in rows}
        super().show_loaded(message)

    def create_call(self, opts: Any) -> str:
        assert isinstance(opts, VolumeCreateOptions)
        return str(self.engine.volumes_create(opts)["Name"])

    def remove_call(self, names: list[str]) -> list[RemoveReport]:
        return self.engine.volumes_remove(names)

    def prune_call(self) -> PruneReport:
        return self.engine.volumes_prune()

    def inspect_call(self, name: str) -> dict[str, Any]:
        return self.engine.volumes_inspect(name)

    # -- wording ---------------------------------------------------------------------------------
    def form(self) -> VolumeCreateForm:
        return VolumeCreateForm()

    def remove_question(self, items: list[Any]) -> str:
        vols: list[VolumeSummary] = items
        names = ", ".join(v.name for v in vols)
        question = f"Remove {'volume' if len(vols) == 1 else 'volumes'} {names}?\n" \
                   "Their data is deleted."
        busy = [f"{v.name} (used by {', '.join(v.containers)})" for v in vols if v.containers]
        if busy:
            question += f"\nIn use, so the engine will refuse: {'; '.join(busy)}."
        return question

    def prune_question(self) -> str:
        vols: list[VolumeSummary] = self.table.all_items
        anon = [v for v in vols if v.anonymous and not v.containers]
        kept = [v.name for v in vols if not v.anonymous and not v.containers]
        question = (f"Remove {plural(len(anon), 'anonymous volume')} that no container uses?"
                    if anon else "No anonymous volume is unused right now. Prune anyway?")
        if kept:
            question += f"\nNamed volumes stay (remove them with d): {', '.join(kept)}."
        return question

    def pruned_text(self, report: PruneReport) -> str:
        if not report.deleted:
            return "Nothing to prune"
        return (f"Deleted {plural(len(report.deleted), 'volume')}: "
                f"{', '.join(report.deleted)}\n"
                f"Reclaimed {humanize.naturalsize(report.space_reclaimed)}")
