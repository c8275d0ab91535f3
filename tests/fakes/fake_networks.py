"""The fake's networks (``engine/api_networks.py``): records, leases and endpoints.

The default bridge ``pydock0`` (alias ``bridge``) exists from the start. A running
container on a bridge network holds an address from its subnet (handed out in order,
after the gateway) and its published ports show with the host port asked for (or
32768 and up). Nothing is created on the host: records only.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.errors import AlreadyExists, Conflict, InvalidArgument, Unavailable
from engine.network import model, ports
from engine.network.model import NetworkNotFound
from engine.types import (
    CreateOptions,
    NetworkCreateOptions,
    NetworkSummary,
    PruneReport,
    RemoveReport,
)

if TYPE_CHECKING:
    from engine.config import EngineConfig

    from .events import FakeEventLog

RUNNING = ("running", "paused")


class FakeNetworksMixin:
    config: EngineConfig
    events: FakeEventLog
    clock: Callable[[], float]
    _lock: threading.RLock
    _containers: dict[str, dict[str, Any]]

    if TYPE_CHECKING:
        def new_id(self, kind: str) -> str: ...
        def count(self, kind: str) -> int: ...
        def containers_resolve(self, ref: str) -> str: ...
        def _emit(self, action: str, rec: dict[str, Any], **extra: str) -> None: ...

    def _init_networks(self) -> None:
        self._networks: dict[str, dict[str, Any]] = {}
        self._new_network(model.DEFAULT, model.DEFAULT_SUBNET, "10.88.0.1", False, {},
                          {model.BRIDGE_OPT: model.DEFAULT, model.DEFAULT_OPT: "true"})

    def _new_network(self, name: str, subnet: str, gateway: str, internal: bool,
                     labels: dict[str, str], options: dict[str, str]) -> dict[str, Any]:
        net_id = self.new_id("network")
        options.setdefault(model.BRIDGE_OPT, f"pd-{net_id[:12]}")
        rec = {"Name": name, "Id": net_id, "Created": self.clock(), "Scope": "local",
               "Driver": "bridge", "EnableIPv6": False,
               "IPAM": {"Driver": "default", "Options": {},
                        "Config": [{"Subnet": subnet, "Gateway": gateway}]},
               "Internal": internal, "Attachable": False, "Ingress": False,
               "Options": options, "Labels": labels}
        self._networks[name] = rec
        return rec

    def _net(self, ref: str) -> dict[str, Any]:
        if ref in model.DEFAULT_ALIASES:
            return self._networks[model.DEFAULT]
        if ref in self._networks:
            return self._networks[ref]
        matches = [n for n in self._networks.values() if ref and n["Id"].startswith(ref.lower())]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise Conflict(f"network {ref} is ambiguous ({len(matches)} matches found)")
        raise NetworkNotFound(ref)

    def _endpoints(self, name: str) -> dict[str, dict[str, Any]]:
        """Container ID -> live endpoint on network ``name``."""
        out = {}
        for rec in self._containers.values():
            ep = ((rec.get("network_settings") or {}).get("Networks") or {}).get(name)
            if ep and rec["state"]["status"] in RUNNING:
                out[rec["id"]] = ep
        return out

    # -- verbs -----------------------------------------------------------------------------
    def networks_create(self, opts: NetworkCreateOptions) -> str:
        name = opts.name
        if not model.NAME_RE.match(name):
            raise InvalidArgument(f"invalid network name {name!r}: [a-zA-Z0-9][a-zA-Z0-9_.-]*")
        if name in model.RESERVED:
            raise Conflict(f"{name} is a pre-defined network and cannot be created")
        if opts.driver != "bridge":
            raise InvalidArgument(f"network driver {opts.driver!r} is not supported (bridge)")
        options = dict(opts.options)
        model._check_options(options)
        with self._lock:
            if name in self._networks:
                raise AlreadyExists(f"network with name {name} already exists")
            others = [model.subnet_of(n) for n in self._networks.values()]
            free = next((c for c in model.USER_POOL.subnets(new_prefix=24)
                         if not any(c.overlaps(o) for o in others)), None)
            # The host's routes play no part: the fake has no host to collide with.
            subnet = model._subnet(opts.subnet, others) if opts.subnet else free
            if subnet is None:
                raise Unavailable("all predefined address pools have been fully subnetted")
            gateway = model._gateway(subnet, opts.gateway)
            if options.get(model.BRIDGE_OPT) in {n["Options"].get(model.BRIDGE_OPT)
                                                 for n in self._networks.values()}:
                raise Conflict(f"bridge name {options[model.BRIDGE_OPT]} is used by another "
                               "network")
            net = self._new_network(name, str(subnet), str(gateway), opts.internal,
                                    dict(opts.labels), options)
        self.events.emit("network", "create", net["Id"], {"name": name, "type": "bridge"})
        return str(net["Id"])

    def networks_list(self, *, filters: list[str] | None = None) -> list[NetworkSummary]:
        from engine.api_networks import _net_match

        with self._lock:
            rows = []
            for name in sorted(self._networks):
                net = self._networks[name]
                users = tuple(self._containers[cid]["name"] for cid in self._endpoints(name))
                rows.append(NetworkSummary(
                    net["Id"], name, "bridge", "local", str(model.subnet_of(net)),
                    model.gateway_of(net), bool(net["Internal"]), float(net["Created"]),
                    dict(net["Labels"]), users))
        return [r for r in rows if all(_net_match(r, f) for f in filters or [])]

    def networks_inspect(self, ref: str) -> dict[str, Any]:
        with self._lock:
            net = self._net(ref)
            prefix = model.subnet_of(net).prefixlen
            eps = {cid: {"Name": self._containers[cid]["name"], "EndpointID": ep["EndpointID"],
                         "MacAddress": ep["MacAddress"],
                         "IPv4Address": f"{ep['IPAddress']}/{prefix}", "IPv6Address": ""}
                   for cid, ep in self._endpoints(net["Name"]).items()}
            return model.network_json(net, eps)

    def networks_remove(self, refs: list[str]) -> list[RemoveReport]:
        out = []
        for ref in refs:
            try:
                with self._lock:
                    net = self._remove_network(ref)
            except (Conflict, NetworkNotFound) as err:
                out.append(RemoveReport(ref, error=str(err)))
                continue
            self.events.emit("network", "destroy", net["Id"], {"name": net["Name"],
                                                               "type": "bridge"})
            out.append(RemoveReport(ref, image_id=net["Id"], deleted=(net["Name"],)))
        return out

    def _remove_network(self, ref: str) -> dict[str, Any]:
        net = self._net(ref)
        if model.is_default(net):
            raise Conflict(f"{net['Name']} is a pre-defined network and cannot be removed")
        users = self._endpoints(net["Name"])
        if users:
            names = ", ".join(sorted(self._containers[c]["name"] for c in users))
            raise Conflict(f"error while removing network: network {net['Name']} id "
                           f"{net['Id']} has active endpoints ({names})")
        del self._networks[net["Name"]]
        return net

    def networks_prune(self) -> PruneReport:
        deleted = []
        with self._lock:
            wanted = {n for c in self._containers.values() for n in c.get("networks") or {}}
            for name in sorted(self._networks):
                net = self._networks[name]
                if model.is_default(net) or name in wanted:
                    continue
                try:
                    self._remove_network(name)
                except Conflict:
                    continue
                deleted.append(net)
        for net in deleted:
            self.events.emit("network", "destroy", net["Id"], {"name": net["Name"]})
        return PruneReport(deleted=tuple(n["Name"] for n in deleted))

    def networks_connect(self, ref: str, container: str, *, aliases: tuple[str, ...] = (),
                         ip: str | None = None) -> None:
        with self._lock:
            net = self._net(ref)
            rec = self._containers[self.containers_resolve(container)]
            mode = rec["host_config"].get("NetworkMode")
            if mode in ("none", "host"):
                raise Conflict("container cannot be disconnected from host network or connected "
                               f"to host network (it uses --network {mode})")
            if net["Name"] in (rec.get("networks") or {}):
                raise Conflict(f"endpoint with name {rec['name']} already exists in network "
                               f"{net['Name']}")
            rec.setdefault("networks", {})[net["Name"]] = {
                "Aliases": list(aliases) or None,
                "IPAMConfig": {"IPv4Address": ip} if ip else None}
            if rec["state"]["status"] in RUNNING:
                self._attach_networks(rec)
        self.events.emit("network", "connect", net["Id"], {"name": net["Name"],
                                                           "container": rec["id"]})

    def networks_disconnect(self, ref: str, container: str, *, force: bool = False) -> None:
        with self._lock:
            net = self._net(ref)
            rec = self._containers[self.containers_resolve(container)]
            if net["Name"] not in (rec.get("networks") or {}):
                if force:
                    return
                raise Conflict(f"container {rec['name']} is not connected to network "
                               f"{net['Name']}")
            del rec["networks"][net["Name"]]
            live = (rec.get("network_settings") or {}).get("Networks") or {}
            live.pop(net["Name"], None)
        self.events.emit("network", "disconnect", net["Id"], {"name": net["Name"],
                                                              "container": rec["id"]})

    # -- containers' side ------------------------------------------------------------------------
    def _networks_for_create(self, opts: CreateOptions, rec: dict[str, Any]) -> None:
        wanted = [opts.network or "none", *opts.networks]
        if len(set(wanted)) != len(wanted):
            raise InvalidArgument("a container can join a network only once")
        special = [w for w in wanted if w in ("none", "host")]
        if special and len(wanted) > 1:
            raise InvalidArgument(f"conflicting options: --network {special[0]} cannot be "
                                  "combined with other networks")
        specs = [s for p in opts.publish for s in ports.parse_publish(p)]
        bindings = ports.bindings_json(specs)
        hc = rec["host_config"]
        if special:
            if specs and special[0] == "none":
                raise InvalidArgument("conflicting options: port publishing and the container "
                                      "type network mode (none)")
            hc.update(NetworkMode=special[0], PortBindings={})
            rec["networks"] = {}
            return
        names = [self._net(w)["Name"] for w in wanted]
        hc.update(NetworkMode=names[0], PortBindings=bindings)
        rec["networks"] = {n: {"Aliases": list(opts.aliases) or None if i == 0 else None,
                               "IPAMConfig": {"IPv4Address": opts.ip}
                               if i == 0 and opts.ip else None}
                           for i, n in enumerate(names)}
        exposed = dict(rec["config"].get("ExposedPorts") or {})
        exposed.update({s.key: {} for s in specs})
        rec["config"]["ExposedPorts"] = exposed or None

    def _attach_networks(self, rec: dict[str, Any]) -> None:
        if not rec.get("networks"):
            return
        ns = rec.setdefault("network_settings", {})
        live = ns.setdefault("Networks", {})
        for name, cfg in rec["networks"].items():
            if name in live:
                continue
            net = self._networks[name]
            subnet = model.subnet_of(net)
            taken = {model.gateway_of(net)} | {ep["IPAddress"] for ep in
                                               self._endpoints(name).values()}
            wanted_ip = ((cfg or {}).get("IPAMConfig") or {}).get("IPv4Address")
            ip = wanted_ip or next(str(h) for h in subnet.hosts() if str(h) not in taken)
            n = self.count("endpoint")
            live[name] = {"IPAMConfig": (cfg or {}).get("IPAMConfig"), "Links": None,
                          "Aliases": (cfg or {}).get("Aliases"),
                          "MacAddress": "02:42:%02x:%02x:%02x:%02x" % tuple(
                              ipaddress.IPv4Address(ip).packed),
                          "NetworkID": net["Id"], "EndpointID": f"pdv{n:05d}",
                          "Gateway": model.gateway_of(net), "IPAddress": ip,
                          "IPPrefixLen": subnet.prefixlen, "IPv6Gateway": "",
                          "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
                          "DNSNames": [rec["name"], rec["id"][:12]]}
        ns["SandboxKey"] = str(self.config.root / "netns" / rec["id"])
        bound: dict[str, list[dict[str, str]]] = {}
        for key, binds in (rec["host_config"].get("PortBindings") or {}).items():
            bound[key] = [{"HostIp": b["HostIp"],
                           "HostPort": b["HostPort"] or str(32767 + self.count("port"))}
                          for b in binds]
        ns["Ports"] = bound

    def _detach_networks(self, rec: dict[str, Any]) -> None:
        rec["network_settings"] = {}
