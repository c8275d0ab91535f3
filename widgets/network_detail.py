"""``NetworkDetail``: the pane under the networks table, one line per attached container.

Fed a :class:`engine.types.NetworkSummary` and its :class:`NetworkEndpoint` rows (what
the screen gathered from ``networks_inspect`` and the containers' own network
settings); it never calls the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from engine.types import NetworkSummary


@dataclass(frozen=True)
class NetworkEndpoint:
    """One container attached to a network, as the detail pane shows it."""

    container: str
    ipv4: str  # with its prefix: 10.89.0.2/24
    aliases: tuple[str, ...] = ()


def summary_line(net: NetworkSummary) -> Text:
    line = Text.assemble((net.name, "bold"), f"  {net.driver}  {net.subnet or '–'}")
    if net.gateway:
        line.append(f" via {net.gateway}")
    line.append("  internal: no route out" if net.internal else "")
    if net.labels:
        line.append("  labels: " + ", ".join(f"{k}={v}" for k, v in net.labels.items()),
                    style="dim")
    return line


def detail_renderable(net: NetworkSummary | None, endpoints: Sequence[NetworkEndpoint],
                      cli: str = "pydock") -> RenderableType:
    if net is None:
        return Text("No network selected", style="dim")
    head = summary_line(net)
    if not endpoints:
        hint = Text.assemble(
            "\nNo container is attached. Attach one with ",
            (f"{cli} run --network {net.name} …", "bold"), " or ",
            (f"{cli} network connect {net.name} CONTAINER", "bold"), ".", style="dim")
        return Group(head, hint)
    table = Table(box=None, pad_edge=False, padding=(0, 2, 0, 0), show_edge=False,
                  header_style="bold")
    table.add_column("CONTAINER")
    table.add_column("IPV4 ADDRESS")
    table.add_column("ALIASES")
    for ep in sorted(endpoints, key=lambda e: e.container):
        table.add_row(ep.container, ep.ipv4, ", ".join(ep.aliases) or "–")
    return Group(head, Text(""), table)


class NetworkDetail(Static):
    """The attached containers of the network under the cursor."""

    DEFAULT_CSS = """
    NetworkDetail {
        height: 10;
        padding: 0 1;
        border-top: solid $primary 50%;
        border-title-align: left;
        overflow-y: auto;
    }
    """

    def __init__(self, cli: str = "pydock", *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.cli = cli
        self.border_title = "Attached containers"
        self.network: NetworkSummary | None = None
        self.endpoints: tuple[NetworkEndpoint, ...] = ()

    def show(self, net: NetworkSummary | None, endpoints: Sequence[NetworkEndpoint]) -> None:
        """Point the pane at ``net``; a repaint only when something changed."""
        if net == self.network and tuple(endpoints) == self.endpoints:
            return
        self.network = net
        self.endpoints = tuple(endpoints)
        self.update(detail_renderable(net, self.endpoints, self.cli))
