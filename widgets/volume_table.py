"""``VolumeTable``: ``pydock volume ls`` with sizes and users, as a live DataTable.

Fed plain :class:`engine.types.VolumeSummary` rows (``size`` is -1 until the screen's
worker has walked the volume; the cell then says so rather than inventing a number).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

import humanize
from rich.text import Text
from textual.binding import Binding

from engine.types import VolumeSummary

from .image_table import format_created
from .resource_table import ResourceTable

UNKNOWN = "…"  # the size is being measured
MOUNT_WIDTH = 40


def format_volume_size(size: int) -> str:
    return UNKNOWN if size < 0 else humanize.naturalsize(size)


def parse_created(created_at: str) -> float:
    """``2023-11-14T22:13:20Z`` (docker's CreatedAt) as a timestamp; 0 when unreadable."""
    try:
        return datetime.datetime.fromisoformat(created_at).timestamp()
    except ValueError:
        return 0.0


def short_path(path: str, width: int = MOUNT_WIDTH) -> str:
    """Keep the end of a long path, where the volume's own name is: ``…/volumes/x/_data``.
    Inspect (``i``) shows it whole."""
    return path if len(path) <= width else "…" + path[-(width - 1):]


def users_text(names: Iterable[str]) -> str:
    return ", ".join(names) or "–"


class VolumeTable(ResourceTable[VolumeSummary]):
    """Volumes, one row each, by name; ``space`` marks rows for a batch remove."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="volumes.down"),
        Binding("k", "cursor_up", "Up", show=False, id="volumes.up"),
        Binding("g", "scroll_top", "Top", show=False, id="volumes.top"),
        Binding("G", "scroll_bottom", "Bottom", show=False, id="volumes.bottom"),
        Binding("enter", "select_cursor", "Actions", id="volumes.menu"),
        Binding("space", "toggle_mark", "Mark", id="volumes.mark"),
    ]

    def column_specs(self) -> list[tuple[str, str]]:
        return [("name", "VOLUME NAME"), ("driver", "DRIVER"), ("size", "SIZE"),
                ("mountpoint", "MOUNTPOINT"), ("users", "USED BY"), ("created", "CREATED")]

    def key_of(self, item: VolumeSummary) -> str:
        return item.name

    def cells(self, item: VolumeSummary) -> dict[str, str | Text]:
        return {"name": item.name, "driver": item.driver,
                "size": Text(format_volume_size(item.size), justify="right"),
                "mountpoint": Text(short_path(item.mountpoint), style="dim"),
                "users": users_text(item.containers),
                "created": format_created(parse_created(item.created_at), self.now)}

    def haystack(self, item: VolumeSummary) -> Iterable[str]:
        return (item.name, *item.containers, *(f"{k}={v}" for k, v in item.labels.items()))

    @property
    def selected_volume(self) -> VolumeSummary | None:
        return self.selected
