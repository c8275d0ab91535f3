"""``PushDialog``: push the selected image, to its own name or to a new one.

The target is prefilled with the image's name. A registry needs the name to
say where it goes (``registry:5000/team/app:1.0``), so a target that differs from
the source is tagged first, as ``docker tag`` then ``docker push`` would; the tag
stays, so the image then shows under both names.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine import Engine
from engine.registry.types import PushProgress

from .pull_dialog import Event, TransferDialog


class PushDialog(TransferDialog):
    """``docker push`` in a dialog; dismisses with the pushed manifest digest."""

    VERB = "Push"
    HELP_IDLE = "enter: push · esc: close"
    CANCELLED = ("Push cancelled. Layers already uploaded stay in the registry, unreferenced "
                 "until a later push uses them; no manifest or tag was pushed.")

    def __init__(self, engine: Engine, source: str) -> None:
        super().__init__(engine, source, title=f"Push {source} to (edit the target name):")
        self.source = source

    def events(self, reference: str) -> Iterator[Event]:
        # A generator, so the tag happens in the worker thread like the push itself.
        if reference != self.source:
            self.engine.images_tag(self.source, reference)
            yield PushProgress("", f"Tagged {self.source} as {reference}")
        yield from self.engine.images_push(reference)

    def finished_lines(self, ev: Event) -> list[str]:
        assert isinstance(ev, PushProgress)
        return [f"{ev.tag}: digest: {ev.digest} size: {ev.size}"]

    def result_of(self, ev: Event) -> str:
        return ev.digest
