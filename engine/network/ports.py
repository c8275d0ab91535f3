"""``-p``/``-P`` as docker parses them, and docker's ``Ports`` JSON. Pure.

The default host address is 127.0.0.1, not docker's 0.0.0.0: a published port
is reachable from other machines only when the user writes ``-p 0.0.0.0:...``.
Docker publishes on every interface and its iptables rules bypass host
firewalls (ufw/firewalld), which has exposed many databases by accident.
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidArgument
from ..record import dataclass

DEFAULT_HOST_IP = "127.0.0.1"
PROTOS = ("tcp", "udp")


@dataclass(frozen=True)
class PortSpec:
    host_ip: str
    host_port: int  # 0: any free port
    container_port: int
    proto: str

    @property
    def key(self) -> str:
        return f"{self.container_port}/{self.proto}"


def _port_range(s: str, spec: str, *, allow_zero: bool = False) -> list[int]:
    lo, dash, hi = s.partition("-")
    try:
        a = int(lo)
        b = int(hi) if dash else a
    except ValueError:
        raise InvalidArgument(f"invalid port {s!r} in {spec!r}") from None
    if not (0 if allow_zero else 1) <= a <= b <= 65535:
        raise InvalidArgument(f"invalid port range {s!r} in {spec!r}")
    return list(range(a, b + 1))


def parse_publish(spec: str, default_ip: str = DEFAULT_HOST_IP) -> list[PortSpec]:
    """``[ip:][hostPort:]containerPort[/proto]``, ranges of equal length allowed."""
    rest, _, proto = spec.partition("/")
    proto = (proto or "tcp").lower()
    if proto not in PROTOS:
        raise InvalidArgument(f"invalid protocol {proto!r} in {spec!r} (tcp or udp)")
    host_ip = ""
    if rest.startswith("["):
        ip6, sep, rest = rest[1:].partition("]:")
        if not sep:
            raise InvalidArgument(f"invalid publish specification {spec!r}")
        host_ip = ip6
        parts = rest.split(":")
        parts = ["", *parts] if len(parts) == 1 else parts
        host_port_s, container_s = parts[-2], parts[-1]
    else:
        parts = rest.split(":")
        if len(parts) == 1:
            host_port_s, container_s = "", parts[0]
        elif len(parts) == 2:
            host_port_s, container_s = parts
        elif len(parts) == 3:
            host_ip, host_port_s, container_s = parts
        else:
            raise InvalidArgument(f"invalid publish specification {spec!r}")
    if host_ip:
        import ipaddress  # here: only -p with an address needs it, every create imports us

        try:
            addr = ipaddress.ip_address(host_ip)
        except ValueError:
            raise InvalidArgument(f"invalid IP address {host_ip!r} in {spec!r}") from None
        if addr.version == 6:
            raise InvalidArgument("publishing on IPv6 addresses is not supported yet")
    container = _port_range(container_s, spec)
    hosts = _port_range(host_port_s, spec, allow_zero=True) if host_port_s else [0] * len(
        container)
    if len(hosts) != len(container):
        raise InvalidArgument(f"host and container port ranges differ in length in {spec!r}")
    ip = host_ip or default_ip
    return [PortSpec(ip, h, c, proto) for h, c in zip(hosts, container, strict=True)]


def exposed(img_cfg: dict[str, Any]) -> list[PortSpec]:
    """``-P``: every EXPOSEd port on a random host port."""
    out = []
    for key in sorted(img_cfg.get("ExposedPorts") or {}):
        port, _, proto = key.partition("/")
        out += parse_publish(f"{port}/{proto or 'tcp'}")
    return out


def bindings_json(specs: list[PortSpec]) -> dict[str, list[dict[str, str]]]:
    """docker's ``HostConfig.PortBindings`` (HostPort "" = any)."""
    out: dict[str, list[dict[str, str]]] = {}
    seen: set[tuple[str, int, str]] = set()
    for s in specs:
        if s.host_port and (s.host_ip, s.host_port, s.proto) in seen:
            raise InvalidArgument(f"duplicate published port {s.host_ip}:{s.host_port}/"
                                  f"{s.proto}")
        seen.add((s.host_ip, s.host_port, s.proto))
        out.setdefault(s.key, []).append(
            {"HostIp": s.host_ip, "HostPort": str(s.host_port) if s.host_port else ""})
    return out


def specs_from_json(bindings: dict[str, Any]) -> list[PortSpec]:
    out = []
    for key, items in sorted((bindings or {}).items()):
        port, _, proto = key.partition("/")
        for b in items or []:
            out.append(PortSpec(b.get("HostIp") or DEFAULT_HOST_IP, int(b.get("HostPort") or 0),
                                int(port), proto or "tcp"))
    return out


def format_ports(ports: dict[str, Any] | None) -> str:
    """``ps``'s PORTS column: ``127.0.0.1:8080->80/tcp, 443/tcp``."""
    out = []
    for key, items in sorted((ports or {}).items(), key=lambda kv: _sort_key(kv[0])):
        if not items:
            out.append(key)
        for b in items or []:
            out.append(f"{b['HostIp']}:{b['HostPort']}->{key}")
    return ", ".join(out)


def _sort_key(key: str) -> tuple[int, str]:
    port, _, proto = key.partition("/")
    return (int(port) if port.isdigit() else 0, proto)
