"""Wire a container into its networks: the short-lived set-up helper.

``python -m engine.network.setup attach|connect|disconnect ROOT CID OWNER_PID OWNER_START [NET]``
(and ``delete-bridge ROOT - PID START BRIDGE [NAT_TABLE]`` for ``network rm``)

A front end runs it before spawning the monitor (``attach``) or for a running
container (``connect``/``disconnect``). It makes ``<root>/netns/<id>``, takes an
address per network, creates the bridge if needed and a veth pair per network
(peer ``ethN`` born inside the namespace), sets addresses and the default
route, records the endpoints and rewrites the hosts files of every member. On a
network created with outbound NAT it (re)loads that network's nftables table
(:mod:`engine.network.nat`) at every join, once the bridge exists; nothing of the
kind runs for any other network. Any failure undoes all of it. The last line on
stdout is JSON: ``{"ok": true}`` or ``{"error": ..., "kind": ...}``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import EngineError, InvalidArgument
from ..runtime.state import ContainerStore
from . import hosts, ipam, model, nat, teardown
from .attach import category
from .netlink import Host, Namespace, create_netns


def veth_name(cid: str, network: str) -> str:
    return "pdv" + hashlib.sha256(f"{cid}/{network}".encode()).hexdigest()[:11]


class Wiring:
    def __init__(self, root: Path, cid: str, owner: list[int]) -> None:
        self.root = root
        self.cid = cid
        self.owner = owner
        self.store = ContainerStore(root / "containers", root / "locks")
        self.nets = model.NetworkStore(root, root / "locks")
        self.host = Host()
        self.path = model.netns_path(root, cid)

    def attach(self) -> None:
        rec = self.store.load(self.cid)
        teardown.release(self.root, self.cid)  # whatever a crashed earlier run left
        model.ensure_dirs(self.root)
        made: list[str] = []
        try:
            create_netns(self.path)
            ns = Namespace(self.path)
            try:
                ns.loopback_up()
                settings = {}
                routed = False
                for i, name in enumerate(rec.get("networks") or {}):
                    ep = self._join(ns, rec, name, f"eth{i}", default_route=not routed)
                    made.append(ep["_veth"])
                    routed = routed or bool(ep["_routed"])
                    settings[name] = ep
            finally:
                ns.close()
            self._record(settings, replace=True)
            self._refresh_hosts(list(settings))
        except BaseException:
            teardown.release(self.root, self.cid)
            for v in made:
                self.host.delete(v)
            raise

    def connect(self, name: str) -> None:
        rec = self.store.load(self.cid)
        settings = (rec.get("network_settings") or {}).get("Networks") or {}
        if name in settings:
            raise InvalidArgument(f"container {rec['name']} is already connected to {name}")
        ns = Namespace(self.path)
        try:
            used = set(ns.interfaces())
            ifname = next(f"eth{i}" for i in range(64) if f"eth{i}" not in used)
            ep = self._join(ns, rec, name, ifname, default_route=False)
        except BaseException:
            with ipam.state_lock(self.root):
                ipam.release(self.root, self.cid, [name])
            self.host.delete(veth_name(self.cid, name))
            raise
        finally:
            ns.close()
        self._record({name: ep}, replace=False)
        self._refresh_hosts([name])

    def disconnect(self, name: str) -> None:
        rec = self.store.load(self.cid)
        ep = ((rec.get("network_settings") or {}).get("Networks") or {}).get(name)
        if ep is None:
            raise InvalidArgument(f"container {rec['name']} is not connected to network {name}")
        self.host.delete(ep.get("_veth") or veth_name(self.cid, name))  # takes the peer too
        with ipam.state_lock(self.root):
            ipam.release(self.root, self.cid, [name])
            hosts.refresh(self.root, hosts.members(self.root, [name]) | {self.cid})
        with self.store.locked(self.cid):
            rec = self.store.load(self.cid)
            rec["network_settings"]["Networks"].pop(name, None)
            self.store.save(rec)

    def _join(self, ns: Namespace, rec: dict[str, Any], name: str, ifname: str, *,
              default_route: bool) -> dict[str, Any]:
        net = self.nets.get(name)
        subnet, gateway = model.subnet_of(net), model.gateway_of(net)
        ep_cfg = (rec.get("networks") or {}).get(name) or {}
        wanted = (ep_cfg.get("IPAMConfig") or {}).get("IPv4Address")
        aliases = list(ep_cfg.get("Aliases") or [])
        veth = veth_name(self.cid, name)
        with ipam.state_lock(self.root):
            ip = ipam.allocate(self.root, net, {"cid": self.cid, "name": rec["name"],
                                                "aliases": aliases, "ifname": ifname,
                                                "veth": veth, "owner": self.owner}, wanted)
        mtu_s = net["Options"].get(model.MTU_OPT)
        mtu = int(mtu_s) if mtu_s else None
        bridge = self.host.ensure_bridge(model.bridge_name(net), gateway, subnet.prefixlen, mtu)
        if model.nat_enabled(net):  # the user asked for it at network create
            nat.ensure(self.root, net, self.nets.all())
        self.host.add_veth(veth, ifname, self.path, bridge, mtu)
        route = default_route and not net.get("Internal")
        mac = ns.configure(ifname, ip, subnet.prefixlen, gateway if route else None)
        with ipam.state_lock(self.root):
            ipam.update(self.root, name, self.cid, mac=mac)
        return {"IPAMConfig": ep_cfg.get("IPAMConfig"), "Links": None, "Aliases": aliases,
                "MacAddress": mac, "NetworkID": net["Id"], "EndpointID": veth,
                "Gateway": gateway, "IPAddress": ip, "IPPrefixLen": subnet.prefixlen,
                "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
                "DNSNames": hosts.names_of({"cid": self.cid, "name": rec["name"],
                                            "aliases": aliases}),
                "_veth": veth, "_ifname": ifname, "_routed": route}

    def _record(self, settings: dict[str, Any], *, replace: bool) -> None:
        with self.store.locked(self.cid):
            rec = self.store.load(self.cid)
            ns = rec.get("network_settings") or {}
            nets = {} if replace else dict(ns.get("Networks") or {})
            nets.update(settings)
            ns.update(Networks=nets, SandboxKey=str(self.path))
            ns.setdefault("Ports", {})
            rec["network_settings"] = ns
            for name in settings:  # connect on a running container: remember it for next start
                rec.setdefault("networks", {}).setdefault(name, {"Aliases": None,
                                                                 "IPAMConfig": None})
            self.store.save(rec)

    def _refresh_hosts(self, networks: list[str]) -> None:
        with ipam.state_lock(self.root):
            hosts.refresh(self.root, hosts.members(self.root, networks) | {self.cid})


def main(argv: list[str]) -> int:
    verb, root, cid, pid, start = argv[:5]
    w: Wiring | None = None
    try:
        w = Wiring(Path(root), cid, [int(pid), int(start)])
        if verb == "attach":
            w.attach()
        elif verb == "connect":
            w.connect(argv[5])
        elif verb == "disconnect":
            w.disconnect(argv[5])
        elif verb == "delete-bridge":  # network rm: CID is "-"
            w.host.delete(argv[5])
            if len(argv) > 6:  # the network had outbound NAT
                nat.remove(Path(root), argv[6])
        else:
            raise InvalidArgument(f"unknown verb {verb}")
    except EngineError as err:
        print(json.dumps({"error": str(err), "kind": category(err)}))
        return 1
    except Exception as err:  # noqa: BLE001 - a process boundary: report, never a traceback
        print(json.dumps({"error": f"network set-up: {type(err).__name__}: {err}"}))
        return 1
    finally:
        if w is not None:
            w.host.close()
    print(json.dumps({"ok": True}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
