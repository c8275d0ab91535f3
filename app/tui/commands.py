"""The command palette (``ctrl+p``): find containers, images, volumes and networks by name.

Typing ``stop web`` or ``logs web`` or ``remove image busybox`` offers exactly that,
k9s ``:`` style. The lists are read once when the palette opens, off the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from engine import EngineError
from engine.types import ContainerSummary, ImageSummary, NetworkSummary, VolumeSummary
from widgets.container_table import RUNNING

from .container_dialogs import run_image
from .image_dialogs import PALETTE_GLOBAL

if TYPE_CHECKING:
    from .app import PydockApp

def container_commands(c: ContainerSummary) -> Iterator[tuple[str, str]]:
    """``(action, text)`` pairs the palette offers for one container."""
    live = c.status in RUNNING
    yield "toggle_run", f"{'stop' if live else 'start'} {c.name}"
    yield "logs", f"logs {c.name}"
    yield "inspect", f"inspect {c.name}"
    yield "restart", f"restart {c.name}"
    yield "toggle_pause", f"{'unpause' if c.status == 'paused' else 'pause'} {c.name}"
    yield "kill", f"kill {c.name}"
    yield "remove", f"remove {c.name}"
    yield "rename", f"rename {c.name}"
    yield "update", f"update limits of {c.name}"
    yield "commit", f"commit {c.name}"
    if live:
        yield "exec_shell", f"shell in {c.name}"
        yield "attach", f"attach to {c.name}"


def image_name(image: ImageSummary) -> str:
    return image.id if image.dangling else f"{image.repository}:{image.tag}"


class PydockCommands(Provider):
    """Containers and images of the app's engine, with their actions."""

    async def startup(self) -> None:
        self._containers: list[ContainerSummary] = []
        self._images: list[ImageSummary] = []
        engine = self._app.engine
        try:
            # Engine calls block (files, locks): never on the event loop.
            self._containers = await asyncio.to_thread(engine.containers_list, all=True)
            self._images = await asyncio.to_thread(engine.images_list)
        except EngineError as err:
            self.app.notify(str(err), title=err.title, severity="error", markup=False)
        self._volumes: list[VolumeSummary] = []
        self._networks: list[NetworkSummary] = []
        try:
            self._volumes = await asyncio.to_thread(engine.volumes_list)
            self._networks = await asyncio.to_thread(engine.networks_list)
        except EngineError as err:
            self.app.notify(str(err), title=err.title, severity="error", markup=False)

    @property
    def _app(self) -> PydockApp:
        return self.app  # type: ignore[return-value]

    def _commands(self) -> Iterator[tuple[str, Callable[[], Any], str]]:
        app = self._app
        for c in self._containers:
            for action, text in container_commands(c):
                yield text, partial(app.container_command, c.id, action), \
                    f"{c.image} · {c.status}"
        for image in self._images:
            name = image_name(image)
            for action in ("inspect", "remove", "push", "tag"):
                yield f"{action} image {name}", partial(app.image_command, name, action), \
                    image.short_id
            yield f"run image {name}", partial(run_image, app, app.engine, name), image.short_id
        for action, text in PALETTE_GLOBAL:  # no image needed: pull, build, prune
            yield text, partial(app.image_command, "", action), "Images"
        for vol in self._volumes:
            for action in ("inspect", "remove"):
                yield f"{action} volume {vol.name}", partial(app.volume_command, vol.name,
                                                             action), vol.driver
        for net in self._networks:
            for action in ("inspect", "remove"):
                yield f"{action} network {net.name}", partial(app.network_command, net.name,
                                                              action), net.subnet

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, command, help_text in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), command, text=text, help=help_text)

    async def discover(self) -> Hits:
        # The empty prompt: the logs of every container, the most common first move.
        for c in self._containers:
            yield DiscoveryHit(f"logs {c.name}", partial(self._app.container_command, c.id,
                                                          "logs"), text=f"logs {c.name}")
