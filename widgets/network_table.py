"""``NetworkTable``: ``pydock network ls`` with subnets and attached containers, live.

Fed plain :class:`engine.types.NetworkSummary` rows; it never calls the engine.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.binding import Binding

from engine.types import NetworkSummary

from .image_table import format_created
from .resource_table import ResourceTable

# Networks the engine provides by itself: they cannot be removed (docker's bridge/host/none).
BUILTIN = ("pydock0", "bridge", "host", "none")


class NetworkTable(ResourceTable[NetworkSummary]):
    """Networks, one row each, by name; ``space`` marks rows for a batch remove."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="networks.down"),
        Binding("k", "cursor_up", "Up", show=False, id="networks.up"),
        Binding("g", "scroll_top", "Top", show=False, id="networks.top"),
        Binding("G", "scroll_bottom", "Bottom", show=False, id="networks.bottom"),
        Binding("enter", "select_cursor", "Actions", id="networks.menu"),
        Binding("space", "toggle_mark", "Mark", id="networks.mark"),
    ]

    def __init__(self, *, show_ids: bool = True, id: str | None = None) -> None:  # noqa: A002
        # Snapshot tests hide the ID column: network IDs are random on every run.
        self.show_ids = show_ids
        super().__init__(id=id)

    def column_specs(self) -> list[tuple[str, str]]:
        cols = [("name", "NAME")]
        if self.show_ids:
            cols.append(("id", "NETWORK ID"))
        return cols + [("driver", "DRIVER"), ("subnet", "SUBNET"), ("gateway", "GATEWAY"),
                       ("internal", "INTERNAL"), ("containers", "CONTAINERS"),
                       ("created", "CREATED")]

    def key_of(self, item: NetworkSummary) -> str:
        return item.name

    def cells(self, item: NetworkSummary) -> dict[str, str | Text]:
        name = Text(item.name)
        if item.name in BUILTIN:
            name.append(" (default)", style="dim")
        return {"name": name, "id": item.short_id, "driver": item.driver,
                "subnet": item.subnet, "gateway": item.gateway,
                "internal": "yes" if item.internal else "no",
                "containers": ", ".join(item.containers) or Text("–", style="dim"),
                "created": format_created(item.created, self.now)}

    def haystack(self, item: NetworkSummary) -> Iterable[str]:
        return (item.name, item.id, item.subnet, *item.containers,
                *(f"{k}={v}" for k, v in item.labels.items()))

    @property
    def selected_network(self) -> NetworkSummary | None:
        return self.selected
