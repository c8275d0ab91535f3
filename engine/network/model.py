"""Network records: ``networks/<name>.json`` in docker's ``network inspect`` shape.

The default bridge ``pydock0`` (docker's ``bridge``, also reachable under that
name) is written on first use. User networks get a /24 from 10.89.0.0/16 unless
``--subnet`` is given; a subnet that overlaps another network or a route of the
current network namespace is refused, so a new bridge never shadows a LAN.

Outbound NAT (``-o com.docker.network.bridge.enable_ip_masquerade=true`` or
``network create --nat``) is recorded here as ``"true"``/``"false"`` in
``Options`` and is off unless asked for: unlike docker, whose bridges masquerade
by default, pydock never sends container traffic off the machine unless the
user asked for it. :mod:`engine.network.nat` plans and applies it.
Standard library only.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import AlreadyExists, Conflict, InvalidArgument, NotFound, Unavailable
from ..fsutil import atomic_write_json, file_lock, read_json

if TYPE_CHECKING:
    from ..types import NetworkCreateOptions

DEFAULT = "pydock0"
DEFAULT_ALIASES = ("bridge", DEFAULT)
DEFAULT_SUBNET = "10.88.0.0/16"
USER_POOL = ipaddress.IPv4Network("10.89.0.0/16")
RESERVED = ("none", "host", "bridge", DEFAULT, "default")
BRIDGE_OPT = "com.docker.network.bridge.name"
DEFAULT_OPT = "com.docker.network.bridge.default_bridge"
MTU_OPT = "com.docker.network.driver.mtu"
NAT_OPT = "com.docker.network.bridge.enable_ip_masquerade"
NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
IFNAME_RE = re.compile(r"^[a-zA-Z0-9_.-]{1,15}$")


class NetworkNotFound(NotFound):
    def __init__(self, ref: str) -> None:
        super().__init__(f"network {ref} not found", title="Network not found")
        self.ref = ref


class NetworkStore:
    def __init__(self, root: Path, locks: Path) -> None:
        self.dir = root / "networks"
        self.locks = locks

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        with file_lock(self.locks / "networks.lock"):
            yield

    def _path(self, name: str) -> Path:
        return self.dir / f"{name}.json"

    def all(self) -> list[dict[str, Any]]:
        self.ensure_default()
        out = []
        for p in sorted(self.dir.glob("*.json")):
            rec = read_json(p, None)
            if isinstance(rec, dict):
                out.append(rec)
        return out

    def get(self, ref: str) -> dict[str, Any]:
        """By name, full ID or unique ID prefix; ``bridge`` is the default network."""
        if ref in DEFAULT_ALIASES:
            return self.ensure_default()
        if NAME_RE.match(ref):
            rec = read_json(self._path(ref), None)
            if isinstance(rec, dict):
                return rec
        matches = [r for r in self.all() if r["Id"].startswith(ref.lower())] if ref else []
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise Conflict(f"network {ref} is ambiguous ({len(matches)} matches found)")
        raise NetworkNotFound(ref)

    def ensure_default(self) -> dict[str, Any]:
        rec = read_json(self._path(DEFAULT), None)
        if isinstance(rec, dict):
            return rec
        with self.lock():
            rec = read_json(self._path(DEFAULT), None)
            if isinstance(rec, dict):
                return rec
            rec = _record(DEFAULT, DEFAULT_SUBNET, "10.88.0.1", False, {},
                          {BRIDGE_OPT: DEFAULT, DEFAULT_OPT: "true"})
            self.dir.mkdir(parents=True, exist_ok=True)
            atomic_write_json(self._path(DEFAULT), rec)
            return rec

    def create(self, opts: NetworkCreateOptions) -> dict[str, Any]:
        name = opts.name
        if not NAME_RE.match(name):
            raise InvalidArgument(f"invalid network name {name!r}: [a-zA-Z0-9][a-zA-Z0-9_.-]*")
        if name in RESERVED:
            raise Conflict(f"{name} is a pre-defined network and cannot be created")
        if opts.driver != "bridge":
            raise InvalidArgument(f"network driver {opts.driver!r} is not supported (bridge)")
        options = dict(opts.options)
        _check_options(options)
        if opts.internal and nat_enabled({"Options": options}):
            raise InvalidArgument("an --internal network has no route out: outbound NAT "
                                  f"({NAT_OPT}) cannot be enabled on it")
        self.ensure_default()
        with self.lock():
            if self._path(name).exists():
                raise AlreadyExists(f"network with name {name} already exists")
            others = [ipaddress.ip_network(r["IPAM"]["Config"][0]["Subnet"])
                      for r in self._records()]
            subnet = _subnet(opts.subnet, others)
            gateway = _gateway(subnet, opts.gateway)
            # os.urandom, as secrets.token_hex: secrets would import hmac and hashlib (~4 ms).
            net_id = os.urandom(32).hex()
            options.setdefault(BRIDGE_OPT, f"pd-{net_id[:12]}")
            if options[BRIDGE_OPT] in {r["Options"].get(BRIDGE_OPT) for r in self._records()}:
                raise Conflict(f"bridge name {options[BRIDGE_OPT]} is used by another network")
            rec = _record(name, str(subnet), str(gateway), opts.internal, dict(opts.labels),
                          options, net_id)
            self.dir.mkdir(parents=True, exist_ok=True)
            atomic_write_json(self._path(name), rec)
            return rec

    def _records(self) -> list[dict[str, Any]]:
        return [r for p in self.dir.glob("*.json") if isinstance(r := read_json(p, None), dict)]

    def remove(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(name).unlink()


def _record(name: str, subnet: str, gateway: str, internal: bool, labels: dict[str, str],
            options: dict[str, str], net_id: str | None = None) -> dict[str, Any]:
    return {"Name": name, "Id": net_id or os.urandom(32).hex(), "Created": time.time(),
            "Scope": "local", "Driver": "bridge", "EnableIPv6": False,
            "IPAM": {"Driver": "default", "Options": {},
                     "Config": [{"Subnet": subnet, "Gateway": gateway}]},
            "Internal": internal, "Attachable": False, "Ingress": False,
            "Options": options, "Labels": labels}


def _check_options(options: dict[str, str]) -> None:
    for k, v in list(options.items()):  # normalises the NAT value in place
        if k == BRIDGE_OPT:
            if not IFNAME_RE.match(v):
                raise InvalidArgument(f"invalid bridge name {v!r} (1-15 characters)")
        elif k == MTU_OPT:
            if not v.isdigit() or not 68 <= int(v) <= 65535:
                raise InvalidArgument(f"invalid MTU {v!r}")
        elif k == NAT_OPT:
            options[k] = "true" if nat_flag(v) else "false"
        else:
            raise InvalidArgument(f"unknown network option {k!r}")


def nat_flag(value: str) -> bool:
    """The NAT option's value, read as docker does (Go's ``strconv.ParseBool``)."""
    v = value.strip().lower()
    if v in ("1", "t", "true"):
        return True
    if v in ("0", "f", "false"):
        return False
    raise InvalidArgument(f"invalid value {value!r} for {NAT_OPT}: want true or false")


def nat_enabled(net: dict[str, Any]) -> bool:
    """Outbound NAT was asked for; a record without the option has it off."""
    return str((net.get("Options") or {}).get(NAT_OPT, "false")) == "true"


def is_default(net: dict[str, Any]) -> bool:
    return net["Options"].get(DEFAULT_OPT) == "true"


def bridge_name(net: dict[str, Any]) -> str:
    return str(net["Options"][BRIDGE_OPT])


def subnet_of(net: dict[str, Any]) -> ipaddress.IPv4Network:
    n = ipaddress.ip_network(net["IPAM"]["Config"][0]["Subnet"])
    assert isinstance(n, ipaddress.IPv4Network)
    return n


def gateway_of(net: dict[str, Any]) -> str:
    return str(net["IPAM"]["Config"][0]["Gateway"])


def _subnet(wanted: str | None, others: list[Any]) -> ipaddress.IPv4Network:
    routes = host_routes()
    if wanted:
        try:
            net = ipaddress.ip_network(wanted, strict=False)
        except ValueError as err:
            raise InvalidArgument(f"invalid subnet {wanted!r}: {err}") from None
        if not isinstance(net, ipaddress.IPv4Network):
            raise InvalidArgument("IPv6 networks are not supported yet")
        if net.prefixlen > 30:
            raise InvalidArgument(f"subnet {net} is too small (at most /30)")
        if any(net.overlaps(o) for o in others):
            raise Conflict(f"Pool overlaps with other one on this address space: {net}")
        return net
    for cand in USER_POOL.subnets(new_prefix=24):
        if not any(cand.overlaps(o) for o in [*others, *routes]):
            return cand
    raise Unavailable("all predefined address pools have been fully subnetted")


def _gateway(subnet: ipaddress.IPv4Network, wanted: str | None) -> ipaddress.IPv4Address:
    if not wanted:
        return next(subnet.hosts())
    try:
        gw = ipaddress.IPv4Address(wanted)
    except ValueError:
        raise InvalidArgument(f"invalid gateway {wanted!r}") from None
    if gw not in subnet or gw in (subnet.network_address, subnet.broadcast_address):
        raise InvalidArgument(f"no matching subnet for gateway {gw}")
    return gw


def host_routes(path: str = "/proc/net/route") -> list[ipaddress.IPv4Network]:
    """IPv4 routes of this network namespace (default route excluded), from procfs."""
    out: list[ipaddress.IPv4Network] = []
    try:
        lines = Path(path).read_text().splitlines()[1:]
    except OSError:
        return out
    for line in lines:
        f = line.split()
        if len(f) < 8:
            continue
        dest, mask = (socket.inet_ntoa(struct.pack("<I", int(x, 16))) for x in (f[1], f[7]))
        if mask == "0.0.0.0":
            continue
        with contextlib.suppress(ValueError):
            out.append(ipaddress.IPv4Network(f"{dest}/{mask}", strict=False))
    return out


def network_json(net: dict[str, Any], containers: dict[str, Any]) -> dict[str, Any]:
    """``network inspect``: the record plus its running endpoints."""
    out = json.loads(json.dumps(net))
    out["Created"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(net["Created"]))
    out["Containers"] = containers
    out["ConfigFrom"] = {"Network": ""}
    out["ConfigOnly"] = False
    return out


def netns_dir(root: Path) -> Path:
    return root / "netns"


def netns_path(root: Path, cid: str) -> Path:
    return netns_dir(root) / cid


def ensure_dirs(root: Path) -> None:
    for d in (root / "networks", root / "ipam", netns_dir(root)):
        d.mkdir(mode=0o755, parents=True, exist_ok=True)
    os.chmod(netns_dir(root), 0o700)
