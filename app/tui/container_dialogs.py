"""The containers panel's dialogs: run (``n``), update limits (``u``), commit (``C``).

A link in the panel's chain, between the detail pane and the actions
(``ContainersScreen``). The Run and Update dialogs make their own engine calls
so they can stay open on an error; commit runs here, in a thread worker. After a
run the new container gets the cursor as soon as the list shows it.

:func:`run_image` opens the Run dialog from anywhere (the Images panel, the
palette) and brings the user to the new container afterwards.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import App
from textual.binding import Binding

from engine import Engine, EngineError
from engine.types import ContainerSummary
from engine.types_tools import CommitOptions

from .container_detail import ContainerDetailScreen
from .prompt_screen import PromptScreen
from .run_dialog import RunDialog
from .update_dialog import UpdateDialog

CONTAINERS_MODE = "containers"


def show_started(app: App[Any], started: tuple[str, str] | None) -> None:
    """Say the container runs, and put the cursor on it in the Containers panel."""
    if started is None:
        return
    cid, name = started
    app.notify(f"Started {name} ({cid[:12]})", markup=False)
    if app.current_mode != CONTAINERS_MODE:
        app.switch_mode(CONTAINERS_MODE)
    screen = app.screen
    if isinstance(screen, ContainerDialogsScreen):
        screen.select_when_listed(cid)


def run_image(app: App[Any], engine: Engine, image: str = "") -> None:
    """Open the Run dialog on ``image`` (``n`` in the Images panel, "run image X")."""
    app.push_screen(RunDialog(engine, image=image), lambda started: show_started(app, started))


class ContainerDialogsScreen(ContainerDetailScreen):
    """Adds run, update and commit to the containers panel."""

    BINDINGS = [
        Binding("n", "run", "Run", show=False, id="containers.run"),
        Binding("u", "update", "Update limits", show=False, id="containers.update"),
        Binding("C", "commit", "Commit", show=False, id="containers.commit"),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._select_next: str | None = None  # a new container to put the cursor on

    def _targets(self) -> list[ContainerSummary]:
        """The marked rows or the cursor row (ContainersScreen)."""
        return []

    # -- run -------------------------------------------------------------------------------
    def action_run(self) -> None:
        run_image(self.app, self.engine)

    def select_when_listed(self, container_id: str) -> None:
        """Move the cursor to ``container_id`` once a refresh lists it."""
        self._select_next = container_id
        if self.table.filter_text.strip():
            self.clear_filter()  # a filter typed for other rows must not hide the new one
        if self.is_mounted:
            self.refresh_now()

    def after_refresh(self) -> None:
        super().after_refresh()
        if self._select_next is not None and self.table.select(self._select_next):
            self._select_next = None

    # -- update ------------------------------------------------------------------------
    def action_update(self) -> None:
        targets = self._targets()
        if not targets:
            return
        c = targets[0]

        def updated(done: bool | None) -> None:
            if done:
                self.notify(f"Updated the limits of {c.name}", markup=False)
                self.refresh_now()

        self.app.push_screen(UpdateDialog(self.engine, c.id, c.name), updated)

    # -- commit ----------------------------------------------------------------------------
    def action_commit(self) -> None:
        targets = self._targets()
        if not targets:
            return
        c = targets[0]

        def chosen(reference: str | None) -> None:
            if reference:
                self.notify(f"Committing {c.name}…", timeout=3, markup=False)
                self.commit(c.id, c.name, reference)

        self.app.push_screen(PromptScreen(f"Commit {c.name} as a new image (repository:tag):"),
                             chosen)

    @work(thread=True, exit_on_error=False, group="container-commit")
    def commit(self, container_id: str, name: str, reference: str) -> None:
        # Not exclusive: a second commit must not cancel the report of the first.
        try:
            image_id = self.engine.containers_commit(container_id,
                                                     CommitOptions(reference=reference))
        except EngineError as err:
            self.app.notify(str(err), title=f"Cannot commit {name}", severity="error",
                            markup=False)
            return
        short = image_id.removeprefix("sha256:")[:12]
        self.app.notify(f"{reference} is image {short}", title=f"Committed {name}",
                        markup=False)
