"""Typed Messages the containers panel's thread workers post back to the main thread.

Separate from the screen modules because the panel is split over three classes
(list, detail, actions) that all post or handle them.
"""

from __future__ import annotations

from typing import Any

from textual.message import Message

from engine.types import ContainerReport, ContainerSummary


class ContainersLoaded(Message):
    """A fresh ``containers_list(all=True)`` (the numbers come from the app's stats hub)."""

    def __init__(self, rows: list[ContainerSummary]) -> None:
        super().__init__()
        self.rows = rows


class ContainersActed(Message):
    """Per-item reports of one batch verb (``verb`` in the past tense, for the notices)."""

    def __init__(self, verb: str, reports: list[ContainerReport],
                 names: dict[str, str]) -> None:
        super().__init__()
        self.verb = verb
        self.reports = reports
        self.names = names  # ref -> name, so a notice says "web", not a 64-hex ID


class ContainerInspected(Message):
    """``containers_inspect()`` of the container shown in the detail pane."""

    def __init__(self, container_id: str, data: dict[str, Any]) -> None:
        super().__init__()
        self.container_id = container_id
        self.data = data


class LogsPending(Message):
    """Log lines wait in the screen's queue. Coalesces: one wake-up drains them all."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LogsPending)


class LogsEnded(Message):
    """The follow of generation ``generation`` ended (the container stopped)."""

    def __init__(self, generation: int) -> None:
        super().__init__()
        self.generation = generation


class TopLoaded(Message):
    """``containers_top()`` output for the container in the detail pane."""

    def __init__(self, container_id: str, titles: list[str], rows: list[list[str]]) -> None:
        super().__init__()
        self.container_id = container_id
        self.titles = titles
        self.rows = rows


class ShellReady(Message):
    """A shell that exists in the container was found: run ``argv`` in the terminal."""

    def __init__(self, name: str, argv: list[str]) -> None:
        super().__init__()
        self.name = name
        self.argv = argv
