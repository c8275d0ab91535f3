"""The networks half of the facade (mixed into :class:`engine.api.Engine`).

Records and leases are read here directly (standard library); anything that
touches netlink goes through the set-up helper process (see
:mod:`engine.network.attach`), so the TUI's threads never switch namespaces.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from .errors import Conflict, EngineError, InvalidArgument

if TYPE_CHECKING:
    from .config import EngineConfig
    from .events import EventLog
    from .network.model import NetworkStore
    from .runtime.lifecycle import Lifecycle
    from .runtime.state import ContainerStore
    from .types import NetworkCreateOptions, NetworkSummary, PruneReport, RemoveReport


class NetworksMixin:
    config: EngineConfig
    events: EventLog

    if TYPE_CHECKING:  # provided by ContainersMixin
        @property
        def lifecycle(self) -> Lifecycle: ...

        @property
        def containers(self) -> ContainerStore: ...

    @cached_property
    def networks(self) -> NetworkStore:
        from .network.model import NetworkStore, ensure_dirs

        ensure_dirs(self.config.root)
        return NetworkStore(self.config.root, self.config.locks_dir)

    def _endpoints(self) -> dict[str, dict[str, Any]]:
        """Network name → {address → lease} after reclaiming what crashed holders left."""
        from .network import attach, ipam

        attach.reconcile(self.config.root, self.lifecycle.refresh)
        return ipam.all_leases(self.config.root)

    def networks_create(self, opts: NetworkCreateOptions) -> str:
        net = self.networks.create(opts)
        self.events.emit("network", "create", net["Id"], {"name": net["Name"],
                                                          "type": "bridge"})
        return str(net["Id"])

    def networks_list(self, *, filters: list[str] | None = None) -> list[NetworkSummary]:
        from .network import model
        from .types import NetworkSummary

        leases = self._endpoints()
        out = []
        for net in self.networks.all():
            s = model.subnet_of(net)
            row = NetworkSummary(net["Id"], net["Name"], "bridge", "local", str(s),
                                 model.gateway_of(net), bool(net.get("Internal")),
                                 float(net["Created"]), dict(net.get("Labels") or {}),
                                 tuple(v["name"] for v in leases.get(net["Name"], {}).values()))
            if all(_net_match(row, f) for f in filters or []):
                out.append(row)
        return out

    def networks_inspect(self, ref: str) -> dict[str, Any]:
        from .network import model

        net = self.networks.get(ref)
        prefix = model.subnet_of(net).prefixlen
        eps = {v["cid"]: {"Name": v["name"], "EndpointID": v.get("veth", ""),
                          "MacAddress": v.get("mac", ""), "IPv4Address": f"{ip}/{prefix}",
                          "IPv6Address": ""}
               for ip, v in self._endpoints().get(net["Name"], {}).items()}
        return model.network_json(net, eps)

    def networks_remove(self, refs: list[str]) -> list[RemoveReport]:
        from .types import RemoveReport

        out = []
        for ref in refs:
            try:
                net = self._remove_one(ref)
            except EngineError as err:
                out.append(RemoveReport(ref, error=str(err)))
                continue
            self.events.emit("network", "destroy", net["Id"], {"name": net["Name"],
                                                               "type": "bridge"})
            out.append(RemoveReport(ref, image_id=net["Id"], deleted=(net["Name"],)))
        return out

    def _remove_one(self, ref: str) -> dict[str, Any]:
        from .network import attach, ipam, model, nat

        net = self.networks.get(ref)
        if model.is_default(net):
            raise Conflict(f"{net['Name']} is a pre-defined network and cannot be removed")
        self._endpoints()  # reconcile first: a crashed holder does not keep it busy
        with ipam.state_lock(self.config.root):
            users = ipam.all_leases(self.config.root).get(net["Name"], {})
            if users:
                names = ", ".join(sorted(v["name"] for v in users.values()))
                raise Conflict(f"error while removing network: network {net['Name']} id "
                               f"{net['Id']} has active endpoints ({names})")
            self.networks.remove(net["Name"])
        table = (nat.table_name(net),) if model.nat_enabled(net) else ()
        attach.run_helper(self.config.root, "delete-bridge", "-", model.bridge_name(net), *table)
        return net

    def networks_prune(self) -> PruneReport:
        """User networks no container uses (running or configured), with their bridges."""
        from .network import model
        from .types import PruneReport

        wanted = {n for c in self.containers.all() for n in (c.get("networks") or {})}
        deleted = []
        for net in self.networks.all():
            if model.is_default(net) or net["Name"] in wanted:
                continue
            try:
                self._remove_one(net["Name"])
            except EngineError:
                continue
            self.events.emit("network", "destroy", net["Id"], {"name": net["Name"]})
            deleted.append(net["Name"])
        return PruneReport(deleted=tuple(deleted))

    def networks_connect(self, ref: str, container: str, *, aliases: tuple[str, ...] = (),
                         ip: str | None = None) -> None:
        """Join a network: at once if running, at the next start otherwise (as docker)."""
        from .network import attach, model

        net = self.networks.get(ref)
        cid = self.containers.resolve(container)
        rec = self.lifecycle.refresh(cid)
        mode = rec["host_config"].get("NetworkMode")
        if mode in ("none", "host"):
            raise Conflict(f"container cannot be disconnected from host network or connected "
                           f"to host network (it uses --network {mode})")
        if (aliases or ip) and model.is_default(net):
            raise InvalidArgument("aliases and --ip are supported only on user defined networks")
        if net["Name"] in (rec.get("networks") or {}):
            raise Conflict(f"endpoint with name {rec['name']} already exists in network "
                           f"{net['Name']}")
        ep = {"Aliases": list(aliases) or None,
              "IPAMConfig": {"IPv4Address": ip} if ip else None}
        self._set_endpoint(cid, net["Name"], ep)
        if rec["state"]["status"] in ("running", "paused"):
            try:
                attach.run_helper(self.config.root, "connect", cid, net["Name"])
            except EngineError:
                self._set_endpoint(cid, net["Name"], None)
                raise
        self.events.emit("network", "connect", net["Id"], {"name": net["Name"],
                                                           "container": cid})

    def networks_disconnect(self, ref: str, container: str, *, force: bool = False) -> None:
        from .network import attach

        net = self.networks.get(ref)
        cid = self.containers.resolve(container)
        rec = self.lifecycle.refresh(cid)
        live = ((rec.get("network_settings") or {}).get("Networks") or {})
        if net["Name"] not in (rec.get("networks") or {}) and net["Name"] not in live:
            if force:
                return
            raise Conflict(f"container {rec['name']} is not connected to network "
                           f"{net['Name']}")
        if net["Name"] in live and rec["state"]["status"] in ("running", "paused"):
            attach.run_helper(self.config.root, "disconnect", cid, net["Name"])
        self._set_endpoint(cid, net["Name"], None)
        self.events.emit("network", "disconnect", net["Id"], {"name": net["Name"],
                                                              "container": cid})

    def _set_endpoint(self, cid: str, name: str, ep: dict[str, Any] | None) -> None:
        with self.containers.locked(cid):
            rec = self.containers.load(cid)
            nets = dict(rec.get("networks") or {})
            if ep is None:
                nets.pop(name, None)
            else:
                nets[name] = ep
            rec["networks"] = nets
            self.containers.save(rec)

    def containers_port(self, ref: str) -> dict[str, list[dict[str, str]]]:
        """``port``: the host addresses each published port is bound to (running only)."""
        rec = self.lifecycle.refresh(self.containers.resolve(ref))
        return dict((rec.get("network_settings") or {}).get("Ports") or {})


def _net_match(row: NetworkSummary, f: str) -> bool:
    k, eq, v = f.partition("=")
    if not eq:
        raise InvalidArgument(f"invalid filter {f!r}")
    if k == "name":
        return v in row.name
    if k == "id":
        return row.id.startswith(v)
    if k == "driver":
        return v == row.driver
    if k == "label":
        lk, leq, lv = v.partition("=")
        return lk in row.labels and (not leq or row.labels[lk] == lv)
    if k == "type":
        return (v == "builtin") == (row.name == "pydock0")
    raise InvalidArgument(f"invalid filter {f!r}")
