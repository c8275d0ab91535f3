"""``ResourceScreen``: what the Volumes and Networks panels share.

A filter box, a :class:`~widgets.resource_table.ResourceTable` with marks, and the
verbs both kinds of object have: create (a form), remove (marked rows or the
cursor row, confirmed, one report per item), prune (confirmed, with what it
reclaimed), inspect (the JSON in a modal). Subclasses supply the engine calls, the
table and the wording; every engine call runs in a thread worker here and comes
back as a Message, and an :class:`EngineError` becomes a notification.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input

from engine import Engine, EngineError
from engine.types import PruneReport, RemoveReport
from widgets.resource_table import ResourceTable

from .actions_menu import ActionsMenu
from .confirm_screen import ConfirmScreen
from .create_forms import CreateForm
from .filter_panel import FilterPanelScreen
from .inspect_screen import InspectScreen
from .panel import cli_prefix

MENU = [("inspect", "Inspect", "i"), ("remove", "Remove…", "d"), ("create", "Create…", "c"),
        ("prune", "Prune unused…", "P")]


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


class ResourceScreen(FilterPanelScreen):
    """Subclasses set KIND/PLURAL, build the table and implement the ``*_call`` hooks."""

    KIND: ClassVar[str] = ""  # "volume"
    PLURAL: ClassVar[str] = ""  # "Volumes", the panel's title

    class Loaded(Message):
        """A fresh list, plus whatever else the panel fetched with it."""

        def __init__(self, rows: Sequence[Any], extra: Any = None) -> None:
            super().__init__()
            self.rows = list(rows)
            self.extra = extra

    class Removed(Message):
        def __init__(self, reports: list[RemoveReport]) -> None:
            super().__init__()
            self.reports = reports

    class Created(Message):
        def __init__(self, name: str, error: EngineError | None = None) -> None:
            super().__init__()
            self.name = name
            self.error = error

    class Pruned(Message):
        def __init__(self, report: PruneReport | None, error: EngineError | None = None
                     ) -> None:
            super().__init__()
            self.report = report
            self.error = error

    class Inspected(Message):
        def __init__(self, name: str, data: dict[str, Any]) -> None:
            super().__init__()
            self.name = name
            self.data = data

    def __init__(self, engine: Engine, *, clock: Callable[[], float]) -> None:
        super().__init__()
        self.engine = engine
        self.clock = clock
        self._loaded = False
        self._only: Any = None  # the palette's single target
        self._pending: tuple[str, str] | None = None  # a palette action awaiting the list
        self._select_after: str | None = None  # a just-created name to put the cursor on

    # -- what subclasses define ---------------------------------------------------------
    def compose_content(self) -> ComposeResult:
        """Under the filter box: the table, with a hint before it or a detail pane after."""
        raise NotImplementedError

    def form(self) -> CreateForm:
        raise NotImplementedError

    def create_call(self, opts: Any) -> str:
        """Create from the form's options; returns the new object's name."""
        raise NotImplementedError

    def remove_call(self, names: list[str]) -> list[RemoveReport]:
        raise NotImplementedError

    def prune_call(self) -> PruneReport:
        raise NotImplementedError

    def inspect_call(self, name: str) -> dict[str, Any]:
        raise NotImplementedError

    def refusal(self, item: Any) -> str | None:
        """Why ``item`` cannot be removed at all (no engine call, no confirmation)."""
        return None

    def remove_question(self, items: list[Any]) -> str:
        raise NotImplementedError

    def prune_question(self) -> str:
        raise NotImplementedError

    def pruned_text(self, report: PruneReport) -> str:
        raise NotImplementedError

    def show_loaded(self, message: ResourceScreen.Loaded) -> None:
        """Apply a fresh list (the table plus whatever the subclass shows)."""
        self.table.update_items(message.rows, self.clock())

    # -- composition ------------------------------------------------------------------------
    def compose_body(self) -> ComposeResult:
        with Vertical(id="body"):
            yield Input(placeholder="Filter by name, container or label (enter: keep, "
                                    "esc: clear)", id="filter")
            yield from self.compose_content()

    def cli_prefix(self) -> str:
        return cli_prefix(self.engine.config.root)

    @property
    def table(self) -> ResourceTable[Any]:
        return self.query_one(ResourceTable)

    def on_mount(self) -> None:
        # PanelScreen.on_mount (the first fetch) runs after this one by itself.
        self.table.loading = True

    # -- engine calls (thread workers) ------------------------------------------------------
    @work(thread=True, exit_on_error=False, group="resource-remove")
    def remove_items(self, names: list[str]) -> None:
        # Not exclusive: a second remove must not cancel the reports of the first.
        try:
            reports = self.remove_call(names)
        except EngineError as err:
            reports = [RemoveReport(n, error=str(err)) for n in names]
        self.post_message(self.Removed(reports))

    @work(thread=True, exit_on_error=False, group="resource-create")
    def create_item(self, opts: Any) -> None:
        try:
            name = self.create_call(opts)
        except EngineError as err:
            self.post_message(self.Created(str(getattr(opts, "name", "") or ""), err))
            return
        self.post_message(self.Created(name))

    @work(thread=True, exclusive=True, exit_on_error=False, group="resource-prune")
    def prune_items(self) -> None:
        try:
            self.post_message(self.Pruned(self.prune_call()))
        except EngineError as err:
            self.post_message(self.Pruned(None, err))

    @work(thread=True, exclusive=True, exit_on_error=False, group="resource-inspect")
    def inspect_item(self, name: str) -> None:
        try:
            data = self.inspect_call(name)
        except EngineError as err:
            self.app.notify(str(err), title=err.title or f"Cannot inspect {name}",
                            severity="error", markup=False)
            return
        self.post_message(self.Inspected(name, data))

    # -- results (main thread) -----------------------------------------------------------
    def on_resource_screen_loaded(self, message: ResourceScreen.Loaded) -> None:
        table = self.table
        self._loaded = True
        self.set_class(not message.rows, "-empty")
        self.show_loaded(message)
        table.loading = False
        if self.focused is None and table.display:
            table.focus()
        if self._select_after is not None and table.select(self._select_after):
            self._select_after = None
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self.palette_action(*pending)

    def on_resource_screen_removed(self, message: ResourceScreen.Removed) -> None:
        for rep in message.reports:
            if rep.error:
                self.notify(rep.error, title=f"Cannot remove {self.KIND} {rep.item}",
                            severity="error", markup=False)
            else:
                self.notify(f"Removed {self.KIND} {rep.item}", markup=False)
        self.refresh_now()

    def on_resource_screen_created(self, message: ResourceScreen.Created) -> None:
        if message.error is not None:
            self.notify(str(message.error), title=message.error.title or
                        f"Cannot create {self.KIND} {message.name}".rstrip(),
                        severity="error", markup=False)
            return
        self.notify(f"Created {self.KIND} {message.name}", markup=False)
        self._select_after = message.name
        self.refresh_now()

    def on_resource_screen_pruned(self, message: ResourceScreen.Pruned) -> None:
        if message.error is not None or message.report is None:
            self.notify(str(message.error), title=f"Cannot prune {self.PLURAL.lower()}",
                        severity="error", markup=False)
            return
        self.notify(self.pruned_text(message.report), title=f"Pruned {self.PLURAL.lower()}",
                    markup=False)
        self.refresh_now()

    def on_resource_screen_inspected(self, message: ResourceScreen.Inspected) -> None:
        # A JSON array, as `pydock <kind> inspect` prints it.
        self.app.push_screen(InspectScreen(f"Inspect {self.KIND} {message.name}",
                                           [message.data]))

    @on(ResourceTable.ViewChanged)
    def _view_changed(self) -> None:
        table = self.table
        shown, total = table.row_count, table.total
        parts = [f"{shown} of {total}" if shown != total else str(total)]
        if table.marked:
            parts.append(f"{len(table.marked)} marked")
        if table.filter_text.strip():
            parts.append(f"filter {table.filter_text.strip()!r}")
        self.sub_title = " · ".join([f"{self.PLURAL} ({parts[0]})", *parts[1:]])

    # -- actions -----------------------------------------------------------------------------
    def _targets(self) -> list[Any]:
        targets = [self._only] if self._only is not None else self.table.targets
        if not targets:
            self.notify(f"No {self.KIND} selected", severity="warning")
        return targets

    def action_refresh(self) -> None:
        self.refresh_now()

    def action_create(self) -> None:
        def chosen(opts: object) -> None:
            if opts is not None:
                self.create_item(opts)

        self.app.push_screen(self.form(), chosen)

    def action_remove(self) -> None:
        table = self.table
        targets = self._targets()
        allowed = []
        for item in targets:
            why = self.refusal(item)
            if why:
                self.notify(why, title=f"Cannot remove {self.KIND} {table.key_of(item)}",
                            severity="error", markup=False)
            else:
                allowed.append(item)
        if not allowed:
            return
        names = [table.key_of(i) for i in allowed]
        marks_used = self._only is None and bool(table.marked)

        def confirmed(yes: bool | None) -> None:
            if yes:
                if marks_used:
                    table.clear_marks()  # the marks were for this action
                self.remove_items(names)

        self.app.push_screen(ConfirmScreen(self.remove_question(allowed)), confirmed)

    def action_prune(self) -> None:
        def confirmed(yes: bool | None) -> None:
            if yes:
                self.prune_items()

        self.app.push_screen(ConfirmScreen(self.prune_question(), yes="Prune"), confirmed)

    def action_inspect(self) -> None:
        targets = self._targets()
        if targets:
            self.inspect_item(self.table.key_of(targets[0]))

    @on(ResourceTable.Selected)
    def action_menu(self, message: ResourceTable.Selected | None = None) -> None:
        item = message.item if message else self.table.selected
        if item is None:
            return
        name = self.table.key_of(item)

        def chosen(action: str | None) -> None:
            if action:
                self.palette_action(name, action)

        self.app.push_screen(ActionsMenu(f"{self.KIND} {name}", MENU), chosen)

    def palette_action(self, name: str, action: str) -> None:
        """``inspect``/``remove``/``create``/``prune`` as the palette or the menu asks."""
        if not self._loaded:
            self._pending = (name, action)  # the panel was just opened for this
            return
        if action in ("create", "prune"):
            getattr(self, f"action_{action}")()
            return
        if action == "inspect":
            self.inspect_item(name)
            return
        item = self.table.find(name)
        if item is None:
            self.notify(f"No {self.KIND} {name}", severity="warning", markup=False)
            return
        if not self.table.select(name):
            self.clear_filter()
            self.table.select(name)
        self._only = item
        try:
            self.action_remove()
        finally:
            self._only = None

    # -- filter and escape ---------------------------------------------------------------------

    def action_back(self) -> None:
        """``escape``: leave the filter box, then clear the filter, then the marks."""
        box = self.query_one("#filter", Input)
        if box.has_class("-active") and (self.focused is box or not box.value):
            self.clear_filter()
            self.table.focus()
        elif self.focused is not self.table and self.table.display:
            self.table.focus()
        elif box.value:
            self.clear_filter()
        elif self.table.marked:
            self.table.clear_marks()
