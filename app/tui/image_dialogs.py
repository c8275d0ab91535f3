"""``ImageActionsMixin``: pull, push, build, tag and prune for the Images panel.

Mixed into :class:`app.tui.images_screen.ImagesScreen`, which adds
:data:`IMAGE_ACTION_BINDINGS` to its own (Textual reads ``BINDINGS`` only from
widget classes, not from a mixin). The long transfers run inside their dialogs
(:mod:`.pull_dialog`, :mod:`.push_dialog`, :mod:`.build_progress`); tag and prune
are one engine call each, made here in a thread worker that posts its result.
Every dialog's end refreshes the list, since it may have added or removed rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import humanize
from textual import work
from textual.binding import Binding
from textual.message import Message

from engine import EngineError
from engine.types import PruneReport

from .prompt_screen import PromptScreen

if TYPE_CHECKING:
    from textual.app import App

    from engine import Engine
    from engine.types import ImageSummary
    from widgets import ImageTable

    from .build_dialog import BuildForm, BuildRequest

# The dialogs' modules are imported when first opened: start-up pays only for the panel.

IMAGE_ACTION_BINDINGS = [
    Binding("p", "pull", "Pull", id="images.pull"),
    Binding("u", "push", "Push", id="images.push"),
    Binding("b", "build", "Build", id="images.build"),
    Binding("t", "tag", "Tag", id="images.tag"),
    Binding("D", "prune", "Prune", id="images.prune"),
]


# What the command palette may ask of the mixin (``push image web:1``, ``pull image``…);
# the image-less ones come with an empty name.
PALETTE_ACTIONS = frozenset({"pull", "push", "build", "tag", "prune"})
PALETTE_GLOBAL = (("pull", "pull image…"), ("build", "build image…"), ("prune", "prune images"))


def prune_summary(rep: PruneReport) -> str:
    """What ``docker image prune`` ends with, plus how many images went."""
    lines = [f"Deleted images: {len(rep.deleted)}"]
    if rep.untagged:
        lines.append(f"Untagged: {len(rep.untagged)}")
    lines.append(f"Total reclaimed space: {humanize.naturalsize(rep.space_reclaimed)}")
    return "\n".join(lines)


class ImageActionsMixin:
    """The image actions; the host screen supplies ``engine``, ``table`` and ``refresh_now``."""

    if TYPE_CHECKING:
        engine: Engine

        app: App[Any]
        @property
        def table(self) -> ImageTable: ...
        def refresh_now(self) -> None: ...
        def notify(self, message: str, *, title: str = "", severity: Any = "information",
                   timeout: float | None = None, markup: bool = True) -> None: ...
        def post_message(self, message: Message) -> bool: ...

    # The form as last submitted, so that `b` then enter rebuilds the same thing.
    _build_form: BuildForm | None = None

    class Tagged(Message):
        def __init__(self, source: str, target: str) -> None:
            super().__init__()
            self.source = source
            self.target = target

    class Pruned(Message):
        def __init__(self, report: PruneReport, all_unused: bool) -> None:
            super().__init__()
            self.report = report
            self.all_unused = all_unused

    def _selected_name(self, verb: str) -> str | None:
        image: ImageSummary | None = self.table.selected_image
        if image is None:
            self.notify("No image selected", severity="warning")
            return None
        if image.dangling:
            self.notify(f"A dangling image has no name to {verb}: tag it first (t)",
                        severity="warning")
            return None
        return f"{image.repository}:{image.tag}"

    def _refresh_after(self, _result: object = None) -> None:
        self.refresh_now()

    def image_palette_action(self, name: str, action: str) -> None:
        """One of :data:`PALETTE_ACTIONS`, on the image called ``name`` where it needs one."""
        if action == "push":
            from .push_dialog import PushDialog

            self.app.push_screen(PushDialog(self.engine, name), self._refresh_after)
        elif action == "tag":
            self._prompt_tag(name, name)
        else:
            getattr(self, f"action_{action}")()

    # -- pull / push / build: dialogs that run their own workers --------------------------
    def action_pull(self) -> None:
        from .pull_dialog import PullDialog

        self.app.push_screen(PullDialog(self.engine), self._refresh_after)

    def action_push(self) -> None:
        from .push_dialog import PushDialog

        name = self._selected_name("push")
        if name is not None:
            self.app.push_screen(PushDialog(self.engine, name), self._refresh_after)

    def action_build(self) -> None:
        from .build_dialog import BuildDialog

        self.app.push_screen(BuildDialog(self._build_form), self._start_build)

    def _start_build(self, request: BuildRequest | None) -> None:
        from .build_progress import BuildProgress

        if request is None:
            return
        self._build_form = request.form
        self.app.push_screen(BuildProgress(self.engine, request), self._refresh_after)

    # -- tag ----------------------------------------------------------------------------
    def action_tag(self) -> None:
        image: ImageSummary | None = self.table.selected_image
        if image is None:
            self.notify("No image selected", severity="warning")
            return
        source = image.id if image.dangling else f"{image.repository}:{image.tag}"
        self._prompt_tag(source, "" if image.dangling else source)

    def _prompt_tag(self, source: str, prefill: str) -> None:
        def chosen(target: str | None) -> None:
            if target:
                self.tag_image(source, target)

        self.app.push_screen(PromptScreen(f"New name for {source} (repository:tag)", prefill),
                             chosen)

    @work(thread=True, exit_on_error=False, group="images-tag")
    def tag_image(self, source: str, target: str) -> None:
        try:
            self.engine.images_tag(source, target)
        except EngineError as err:
            self.app.notify(str(err), title=err.title, severity="error", markup=False)
            return
        self.post_message(self.Tagged(source, target))

    def on_image_actions_mixin_tagged(self, message: ImageActionsMixin.Tagged) -> None:
        self.notify(f"Tagged {message.source} as {message.target}", markup=False)
        self.refresh_now()

    # -- prune --------------------------------------------------------------------------
    def action_prune(self) -> None:
        from .prune_dialog import PruneDialog

        def chosen(all_unused: bool | None) -> None:
            if all_unused is not None:
                self.prune_images(all_unused)

        self.app.push_screen(PruneDialog(), chosen)

    @work(thread=True, exit_on_error=False, group="images-prune")
    def prune_images(self, all_unused: bool) -> None:
        try:
            report = self.engine.images_prune(all_unused=all_unused)
        except EngineError as err:
            self.app.notify(str(err), title=err.title, severity="error", markup=False)
            return
        self.post_message(self.Pruned(report, all_unused))

    def on_image_actions_mixin_pruned(self, message: ImageActionsMixin.Pruned) -> None:
        what = "unused" if message.all_unused else "dangling"
        self.notify(prune_summary(message.report), title=f"Pruned {what} images", markup=False)
        self.refresh_now()
