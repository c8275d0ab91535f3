"""Addresses per network: ``ipam/<name>.json`` leases, one global lock.

A lease is an endpoint: address, container, names for the hosts files, the veth
and who holds it. It is valid while its container's monitor lives or, before the
monitor exists, while the front end that set it up lives (PID plus start time,
so a recycled PID never keeps a dead lease). Anything else is stale: a crash
left it, and :func:`stale` finds it so the caller can tear it down and reuse the
address. One lock (``locks/network-state.lock``) covers leases and hosts
rewrites: both are millisecond work, and one lock makes "who is on this
network" and "what every member's hosts file says" change together.
Standard library only.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import Conflict, InvalidArgument, Unavailable
from ..fsutil import atomic_write_json, file_lock, read_json
from ..runtime.state import alive, proc_start_time
from .model import gateway_of, subnet_of


@contextlib.contextmanager
def state_lock(root: Path) -> Iterator[None]:
    with file_lock(root / "locks" / "network-state.lock"):
        yield


def _path(root: Path, name: str) -> Path:
    return root / "ipam" / f"{name}.json"


def load(root: Path, name: str) -> dict[str, Any]:
    data = read_json(_path(root, name), None)
    if not isinstance(data, dict):
        data = {"leases": {}, "last": ""}
    return data


def save(root: Path, name: str, data: dict[str, Any]) -> None:
    _path(root, name).parent.mkdir(parents=True, exist_ok=True)
    if data["leases"] or data.get("last"):
        atomic_write_json(_path(root, name), data)
    else:
        with contextlib.suppress(FileNotFoundError):
            _path(root, name).unlink()


def all_leases(root: Path) -> dict[str, dict[str, Any]]:
    """Network name → {address → lease} for every network with leases."""
    out = {}
    for p in sorted((root / "ipam").glob("*.json")):
        data = read_json(p, None)
        if isinstance(data, dict) and data.get("leases"):
            out[p.stem] = dict(data["leases"])
    return out


def owner() -> list[int]:
    pid = os.getpid()
    return [pid, proc_start_time(pid)]


def lease_alive(root: Path, lease: dict[str, Any]) -> bool:
    pid, start = (lease.get("owner") or [0, 0])[:2]
    if alive(int(pid), int(start)):
        return True
    st = (read_json(root / "containers" / lease["cid"] / "state.json", None) or {}).get(
        "state") or {}
    return alive(int(st.get("monitor_pid") or 0), int(st.get("monitor_start") or 0))


def stale(root: Path) -> set[str]:
    """Containers holding a lease nobody keeps alive any more (crash left-overs)."""
    return {lease["cid"] for leases in all_leases(root).values() for lease in leases.values()
            if not lease_alive(root, lease)}


def allocate(root: Path, net: dict[str, Any], lease: dict[str, Any],
             requested: str | None = None) -> str:
    """Give ``lease["cid"]`` an address on ``net``; the caller holds :func:`state_lock`."""
    name = net["Name"]
    data = load(root, name)
    leases: dict[str, Any] = data["leases"]
    if any(v["cid"] == lease["cid"] for v in leases.values()):
        raise Conflict(f"container is already connected to network {name}")
    subnet = subnet_of(net)
    reserved = {str(subnet.network_address), str(subnet.broadcast_address), gateway_of(net)}
    if requested:
        try:
            addr = ipaddress.IPv4Address(requested)
        except ValueError:
            raise InvalidArgument(f"invalid IPv4 address: {requested}") from None
        if addr not in subnet:
            raise InvalidArgument(f"no configured subnet contains IP address {addr} "
                                  f"(network {name} is {subnet})")
        ip = str(addr)
        if ip in reserved or ip in leases:
            raise Conflict(f"Address already in use: {ip} on network {name}")
    else:
        ip = _next_free(subnet, reserved | set(leases), data.get("last") or "")
    leases[ip] = {"owner": owner(), **lease}  # a helper passes its front end as owner
    data["last"] = ip
    save(root, name, data)
    return ip


def _next_free(subnet: ipaddress.IPv4Network, taken: set[str], last: str) -> str:
    # Round-robin from the last address handed out: a freed address is not reused
    # at once, so stale ARP entries and late packets do not reach a new container.
    first, size = int(subnet.network_address) + 1, subnet.num_addresses - 2
    start = int(ipaddress.IPv4Address(last)) - first + 1 if last and \
        ipaddress.IPv4Address(last) in subnet else 0
    for i in range(size):
        ip = str(ipaddress.IPv4Address(first + (start + i) % size))
        if ip not in taken:
            return ip
    raise Unavailable(f"no available IPv4 addresses on network {subnet}")


def update(root: Path, name: str, cid: str, **fields: Any) -> None:
    """Fill in endpoint details once known (veth, MAC); the caller holds the lock."""
    data = load(root, name)
    for lease in data["leases"].values():
        if lease["cid"] == cid:
            lease.update(fields)
    save(root, name, data)


def release(root: Path, cid: str, networks: list[str] | None = None) -> list[str]:
    """Drop ``cid``'s leases (on ``networks`` or everywhere); return the networks touched."""
    touched = []
    for name in networks if networks is not None else list(all_leases(root)):
        data = load(root, name)
        kept = {ip: v for ip, v in data["leases"].items() if v["cid"] != cid}
        if len(kept) != len(data["leases"]):
            data["leases"] = kept
            save(root, name, data)
            touched.append(name)
    return touched


def leases_of(root: Path, cid: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """Network name → (address, lease) of one container."""
    return {net: (ip, lease) for net, leases in all_leases(root).items()
            for ip, lease in leases.items() if lease["cid"] == cid}
