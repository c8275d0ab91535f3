"""The Networks panel (panel 4): ``pydock network ls`` live, with each network's containers.

A detail pane under the table lists the containers attached to the network under
the cursor: name, IPv4 address, aliases. ``c`` create (a form), ``d`` remove,
``P`` prune, ``i`` inspect, ``/`` filter. The default network and the host/none
modes are refused with the reason before anything reaches the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.worker import get_current_worker

from engine import Engine, EngineError
from engine.types import NetworkCreateOptions, NetworkSummary, PruneReport, RemoveReport
from widgets import NetworkDetail, NetworkEndpoint, NetworkTable
from widgets.resource_table import ResourceTable

from .create_forms import NetworkCreateForm
from .resource_screen import ResourceScreen, plural

Endpoints = dict[str, list[NetworkEndpoint]]


def refusal_text(name: str) -> str | None:
    """Why a network can never be removed, or ``None``."""
    if name in ("pydock0", "bridge"):
        return (f"{name} is the default network: containers started without --network "
                "join it, so it cannot be removed.")
    if name in ("host", "none"):
        return (f"{name} is a network mode (--network {name}), not a network of its own: "
                "there is nothing to remove.")
    return None


class NetworksScreen(ResourceScreen):
    """The Networks panel."""

    KIND: ClassVar[str] = "network"
    PLURAL: ClassVar[str] = "Networks"
    REFRESH_GROUP: ClassVar[str] = "networks"
    SUB_TITLE = "Networks"
    AUTO_FOCUS = "#networks"

    DEFAULT_CSS = """
    NetworksScreen #filter {
        display: none;
        height: 1;
        border: none;
        padding: 0 1;
        background: $boost;
    }
    NetworksScreen #filter.-active {
        display: block;
    }
    NetworksScreen NetworkTable {
        height: 1fr;
        min-height: 5;
    }
    """

    BINDINGS = [
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="networks.refresh"),
        Binding("slash", "filter", "Filter", id="networks.filter"),
        Binding("c", "create", "Create", id="networks.create"),
        Binding("d", "remove", "Remove", id="networks.remove"),
        Binding("P", "prune", "Prune", id="networks.prune"),
        Binding("i", "inspect", "Inspect", id="networks.inspect"),
        Binding("escape", "back", "Back", show=False, id="networks.back"),
    ]

    def __init__(self, engine: Engine, *, clock: Callable[[], float],
                 show_ids: bool = True) -> None:
        super().__init__(engine, clock=clock)
        self.show_ids = show_ids
        self._endpoints: Endpoints = {}
        # (container ID, network) → aliases: fixed while the container stays attached,
        # so each attached container is inspected once rather than on every refresh.
        self._aliases: dict[tuple[str, str], tuple[str, ...]] = {}

    def compose_content(self) -> ComposeResult:
        yield NetworkTable(show_ids=self.show_ids, id="networks")
        yield NetworkDetail(self.cli_prefix(), id="detail")

    @property
    def detail(self) -> NetworkDetail:
        return self.query_one(NetworkDetail)

    # -- engine calls ---------------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="networks")
    def fetch(self) -> None:
        try:
            rows = self.engine.networks_list()
        except EngineError as err:
            self.app.notify(str(err), title=err.title, severity="error", markup=False)
            return
        endpoints: Endpoints = {}
        seen: set[tuple[str, str]] = set()
        for net in rows:
            if net.containers:
                endpoints[net.name] = self._endpoints_of(net, seen)
        # Only this worker touches the cache: forget containers that left.
        self._aliases = {k: v for k, v in self._aliases.items() if k in seen}
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(rows, endpoints))

    def _endpoints_of(self, net: NetworkSummary, seen: set[tuple[str, str]]
                      ) -> list[NetworkEndpoint]:
        try:
            data = self.engine.networks_inspect(net.id)
        except EngineError:
            return []  # removed meanwhile: the next refresh drops the row too
        out = []
        for cid, ep in (data.get("Containers") or {}).items():
            seen.add((cid, net.name))
            out.append(NetworkEndpoint(str(ep.get("Name") or cid[:12]),
                                       str(ep.get("IPv4Address") or ""),
                                       self._aliases_of(cid, net.name)))
        return out

    def _aliases_of(self, cid: str, network: str) -> tuple[str, ...]:
        key = (cid, network)
        if key not in self._aliases:
            try:
                nets = self.engine.containers_inspect(cid)["NetworkSettings"]["Networks"]
                self._aliases[key] = tuple(nets.get(network, {}).get("Aliases") or ())
            except (EngineError, KeyError, TypeError):
                return ()  # gone or not wired yet: ask again next time
        return self._aliases[key]

    def show_loaded(self, message: ResourceScreen.Loaded) -> None:
        self._endpoints = message.extra or {}
        super().show_loaded(message)
        self._show_detail(self.table.selected)

    def _show_detail(self, net: NetworkSummary | None) -> None:
        self.detail.show(net, self._endpoints.get(net.name, []) if net else [])

    @on(ResourceTable.Highlighted)
    def _highlighted(self, message: ResourceTable.Highlighted) -> None:
        self._show_detail(message.item)

    def create_call(self, opts: Any) -> str:
        assert isinstance(opts, NetworkCreateOptions)
        self.engine.networks_create(opts)
        return opts.name

    def remove_call(self, names: list[str]) -> list[RemoveReport]:
        return self.engine.networks_remove(names)

    def prune_call(self) -> PruneReport:
        return self.engine.networks_prune()

    def inspect_call(self, name: str) -> dict[str, Any]:
        return self.engine.networks_inspect(name)

    # -- wording ---------------------------------------------------------------------------------
    def form(self) -> NetworkCreateForm:
        return NetworkCreateForm()

    def refusal(self, item: Any) -> str | None:
        return refusal_text(item.name)

    def remove_question(self, items: list[Any]) -> str:
        nets: list[NetworkSummary] = items
        names = ", ".join(n.name for n in nets)
        question = f"Remove {'network' if len(nets) == 1 else 'networks'} {names}?"
        busy = [f"{n.name} ({', '.join(n.containers)})" for n in nets if n.containers]
        if busy:
            question += f"\nContainers are attached, so the engine will refuse: " \
                        f"{'; '.join(busy)}."
        return question

    def prune_question(self) -> str:
        return ("Remove every user network that no container uses, running or not?\n"
                "The default network pydock0 stays.")

    def pruned_text(self, report: PruneReport) -> str:
        if not report.deleted:
            return "Nothing to prune: every user network is in use"
        return f"Deleted {plural(len(report.deleted), 'network')}: {', '.join(report.deleted)}"
