"""Docker-shaped network views of a container record: ``NetworkSettings``, PORTS."""

from __future__ import annotations

from typing import Any

from .ports import format_ports

_EMPTY_EP = {"IPAMConfig": None, "Links": None, "Aliases": None, "MacAddress": "",
             "NetworkID": "", "EndpointID": "", "Gateway": "", "IPAddress": "",
             "IPPrefixLen": 0, "IPv6Gateway": "", "GlobalIPv6Address": "",
             "GlobalIPv6PrefixLen": 0, "DNSNames": None}


def _public(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if not k.startswith("_")}


def settings(rec: dict[str, Any]) -> dict[str, Any]:
    """``inspect``'s ``NetworkSettings``: live endpoints while running, the config otherwise."""
    ns = rec.get("network_settings") or {}
    live = ns.get("Networks") or {}
    mode = (rec.get("host_config") or {}).get("NetworkMode", "none")
    wanted = rec.get("networks") or {mode: {}}
    nets = {}
    for name, cfg in wanted.items():
        ep = dict(_EMPTY_EP, **{k: v for k, v in (cfg or {}).items() if k in _EMPTY_EP})
        nets[name] = _public(live.get(name) or ep)
    for name, ep in live.items():  # connected at run time
        nets.setdefault(name, _public(ep))
    first = next(iter(nets.values()), _EMPTY_EP)
    return {"Bridge": "", "SandboxID": "", "SandboxKey": ns.get("SandboxKey", ""),
            "HairpinMode": False, "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
            "Ports": ns.get("Ports") or {}, "IPAddress": first.get("IPAddress", ""),
            "IPPrefixLen": first.get("IPPrefixLen", 0), "Gateway": first.get("Gateway", ""),
            "MacAddress": first.get("MacAddress", ""), "Networks": nets}


def ports_text(rec: dict[str, Any]) -> str:
    """``ps``'s PORTS: the bound ports while running, nothing otherwise (as docker)."""
    return format_ports((rec.get("network_settings") or {}).get("Ports"))
