"""The Images panel: ``pydock images`` live, with remove, inspect and a filter.

This screen owns every engine call about images. Each runs in a thread worker and
comes back as a typed Message; widgets only ever see :class:`ImageSummary` rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input
from textual.worker import get_current_worker

from engine import Engine, EngineError
from engine.types import ImageSummary, RemoveReport
from widgets import FirstRunHint, ImageTable

from .confirm_screen import ConfirmScreen
from .container_dialogs import run_image
from .image_dialogs import IMAGE_ACTION_BINDINGS, PALETTE_ACTIONS, ImageActionsMixin
from .inspect_screen import InspectScreen
from .panel import PanelScreen, cli_prefix


def image_name(image: ImageSummary) -> str:
    """What to hand the engine for this row: ``repo:tag``, or the ID when dangling.

    Removing by name untags just that name, as ``docker rmi repo:tag`` does.
    """
    return image.id if image.dangling else f"{image.repository}:{image.tag}"


def matches(image: ImageSummary, needle: str) -> bool:
    """Case-insensitive substring match on ``repo:tag`` or the image ID."""
    needle = needle.strip().lower()
    if not needle:
        return True
    return needle in f"{image.repository}:{image.tag}".lower() or needle in image.id.lower()


def report_lines(rep: RemoveReport) -> str:
    """The lines ``docker rmi`` prints for one item."""
    lines = [f"Untagged: {t}" for t in rep.untagged] + [f"Deleted: {d}" for d in rep.deleted]
    return "\n".join(lines) or f"Nothing to remove for {rep.item}"


class ImagesScreen(ImageActionsMixin, PanelScreen):
    """The Images panel."""

    REFRESH_GROUP: ClassVar[str] = "images"
    SUB_TITLE = "Images"
    # Not the first focusable widget (the hidden filter box) but the table.
    AUTO_FOCUS = "#images"

    DEFAULT_CSS = """
    ImagesScreen #filter {
        display: none;
        margin: 0 1;
    }
    ImagesScreen #filter.-active {
        display: block;
    }
    ImagesScreen #hint {
        display: none;
    }
    ImagesScreen.-empty #hint {
        display: block;
    }
    ImagesScreen.-empty ImageTable {
        display: none;
    }
    """

    BINDINGS = [
        Binding("r,ctrl+r", "refresh", "Refresh", id="images.refresh"),
        Binding("d", "remove", "Remove", id="images.remove"),
        Binding("i", "inspect", "Inspect", id="images.inspect"),
        Binding("x", "layers", "Layers", id="images.layers"),
        Binding("n", "run", "Run", show=False, id="images.run"),
        Binding("slash", "filter", "Filter", id="images.filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="images.clear_filter"),
        *IMAGE_ACTION_BINDINGS,  # pull, push, build, tag, prune (image_dialogs.py)
    ]

    class Loaded(Message):
        """A fresh ``images_list()`` result."""

        def __init__(self, rows: list[ImageSummary]) -> None:
            super().__init__()
            self.rows = rows

    class Removed(Message):
        """The per-item reports of one ``images_remove()`` call."""

        def __init__(self, reports: list[RemoveReport]) -> None:
            super().__init__()
            self.reports = reports

    class Inspected(Message):
        """``images_inspect()`` output for ``name``."""

        def __init__(self, name: str, data: dict[str, Any]) -> None:
            super().__init__()
            self.name = name
            self.data = data

    def __init__(self, engine: Engine, *, clock: Callable[[], float]) -> None:
        super().__init__()
        self.engine = engine
        self.clock = clock
        self._rows: list[ImageSummary] = []
        self._loaded = False
        self._pending: tuple[str, str] | None = None  # a palette action awaiting the list

    # -- composition ---------------------------------------------------------
    def compose_body(self) -> ComposeResult:
        with Vertical(id="body"):
            yield Input(placeholder="Filter by name, tag or ID (enter: keep, esc: clear)",
                        id="filter")
            yield FirstRunHint(self._cli_prefix(), id="hint")
            yield ImageTable(id="images")

    def _cli_prefix(self) -> str:
        return cli_prefix(self.engine.config.root)

    @property
    def table(self) -> ImageTable:
        return self.query_one(ImageTable)

    def on_mount(self) -> None:
        # Textual runs PanelScreen.on_mount (the first fetch) after this one by itself:
        # handlers are dispatched along the MRO, so no super() call here.
        self.table.loading = True

    # -- engine calls (thread workers) ----------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="images")
    def fetch(self) -> None:
        try:
            rows = self.engine.images_list()
        except EngineError as err:
            self.app.notify(str(err), title=err.title, severity="error", markup=False)
            return
        # A newer fetch replaced this one (exclusive); its rows must not land after those.
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(rows))

    @work(thread=True, exclusive=True, exit_on_error=False, group="images-remove")
    def remove_image(self, name: str) -> None:
        try:
            reports = self.engine.images_remove([name])
        except EngineError as err:
            self.app.notify(str(err), title=err.title, severity="error", markup=False)
            return
        self.post_message(self.Removed(reports))

    @work(thread=True, exclusive=True, exit_on_error=False, group="images-inspect")
    def inspect_image(self, name: str) -> None:
        try:
            data = self.engine.images_inspect(name)
        except EngineError as err:
            self.app.notify(str(err), title=err.title, severity="error", markup=False)
            return
        self.post_message(self.Inspected(name, data))

    # -- results (main thread) --------------------------------------------------
    def on_images_screen_loaded(self, message: ImagesScreen.Loaded) -> None:
        self._rows = message.rows
        self._loaded = True
        self._show()
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self.palette_action(*pending)

    def on_images_screen_removed(self, message: ImagesScreen.Removed) -> None:
        for rep in message.reports:
            if rep.error:
                self.notify(rep.error, title=f"Cannot remove {rep.item}", severity="error",
                            markup=False)
            else:
                self.notify(report_lines(rep), title=f"Removed {rep.item}", markup=False)
        self.refresh_now()

    def on_images_screen_inspected(self, message: ImagesScreen.Inspected) -> None:
        # A JSON array, as `pydock image inspect` prints it.
        self.app.push_screen(InspectScreen(f"Inspect {message.name}", [message.data]))

    def _show(self) -> None:
        """Apply the last fetched rows through the filter to the table and the hint."""
        table = self.table
        needle = self.query_one("#filter", Input).value
        shown = [r for r in self._rows if matches(r, needle)]
        # The hint is about an empty root, not about a filter that matches nothing.
        self.set_class(self._loaded and not self._rows, "-empty")
        table.update_images(shown, self.clock())
        table.loading = False
        if self.focused is None and table.display:
            # The table was hidden while the root was empty; give it the keys back.
            table.focus()
        total = len({r.id for r in self._rows})
        self.sub_title = f"Images ({total})" if not needle.strip() else \
            f"Images ({len(shown)} of {len(self._rows)} rows match {needle.strip()!r})"

    # -- actions -------------------------------------------------------------------
    def action_refresh(self) -> None:
        self.refresh_now()

    def action_remove(self) -> None:
        image = self.table.selected_image
        if image is None:
            self.notify("No image selected", severity="warning")
            return
        self._confirm_remove(image)

    def palette_action(self, name: str, action: str) -> None:
        """``remove``/``inspect`` one image by name, as the command palette asks."""
        if not self._loaded:
            # The panel was just opened for this: act once the first list is in.
            self._pending = (name, action)
            return
        if action in PALETTE_ACTIONS:  # pull, push, build, tag, prune (image_dialogs.py)
            self.image_palette_action(name, action)
            return
        if action == "inspect":
            self.inspect_image(name)
            return
        image = next((r for r in self._rows if image_name(r) == name), None)
        if image is None:
            self.notify(f"No image {name}", severity="warning", markup=False)
        else:
            self._confirm_remove(image)

    def _confirm_remove(self, image: ImageSummary) -> None:
        name = image_name(image)

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.remove_image(name)

        others = sorted({image_name(r) for r in self._rows if r.id == image.id} - {name})
        question = f"Remove image {name} ({image.short_id})?\n"
        # As `docker rmi repo:tag`: only the last name takes the image with it.
        question += (f"The image stays under {', '.join(others)}." if others
                     else "This deletes the image and its layers.")
        self.app.push_screen(ConfirmScreen(question), confirmed)

    def action_inspect(self) -> None:
        image = self.table.selected_image
        if image is None:
            self.notify("No image selected", severity="warning")
            return
        self.inspect_image(image_name(image))

    def action_layers(self) -> None:
        # dive's view of the image: layers, file trees, wasted space (layer_explorer.py).
        image = self.table.selected_image
        if image is None:
            self.notify("No image selected", severity="warning")
            return
        from .layer_explorer import LayerExplorer

        self.app.push_screen(LayerExplorer(self.engine, image.id, image_name(image)))

    def action_run(self) -> None:
        # The Run dialog (container_dialogs) on this image; it lands in the Containers panel.
        image = self.table.selected_image
        if image is None:
            self.notify("No image selected", severity="warning")
            return
        run_image(self.app, self.engine, image_name(image))

    @on(ImageTable.Selected)
    def _inspect_selected(self, message: ImageTable.Selected) -> None:
        # Until the actions menu exists, enter opens the most useful view: inspect.
        self.inspect_image(image_name(message.image))

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("-active")
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if not box.has_class("-active"):
            return
        box.value = ""
        box.remove_class("-active")
        self.table.focus()
        self._show()

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self._show()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        # Keep the filter, hand the keys back to the table.
        box = self.query_one("#filter", Input)
        if not box.value.strip():
            box.remove_class("-active")
        self.table.focus()
