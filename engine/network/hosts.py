"""Name resolution between containers: live ``/etc/hosts`` rewrites, no DNS server.

Why hosts files and not an embedded DNS server (docker's 127.0.0.11): every
libc and busybox reads ``/etc/hosts`` first, so resolution works for static
binaries too; there is no extra process or port per container (the monitor
stays a small stdlib pump); and any front end can apply a change in a few
milliseconds without reaching into a namespace. The cost: names only (no SRV,
no round-robin), and the file is rewritten in place.

Each member's file is bind-mounted into its container, so it is rewritten *in
place* (a rename would leave the container looking at the old inode). When the
new text only appends (the common case: someone joined), only the tail is
written, so a concurrent reader never sees a shorter file.
Standard library only.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from ..fsutil import read_json
from . import ipam

BASE = """127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::\tip6-localnet
ff00::\tip6-mcastprefix
ff02::1\tip6-allnodes
ff02::2\tip6-allrouters
"""


def names_of(lease: dict[str, Any]) -> list[str]:
    """What a peer answers to: its name, its aliases and its short ID (docker's DNSNames)."""
    out: list[str] = []
    for n in [lease.get("name", ""), *(lease.get("aliases") or []), lease["cid"][:12]]:
        if n and n not in out:
            out.append(n)
    return out


def render(rec: dict[str, Any], leases: dict[str, dict[str, Any]],
           default_nets: set[str]) -> str:
    """The hosts file of ``rec`` given every network's leases."""
    lines = [BASE.rstrip("\n")]
    for entry in (rec.get("host_config") or {}).get("ExtraHosts") or []:
        name, _, ip = entry.partition(":")  # stored as name:ip; an IPv6 ip has colons
        lines.append(f"{ip}\t{name}")
    cid = rec["id"]
    hostname = (rec.get("config") or {}).get("Hostname") or cid[:12]
    mine = [(net, ip) for net, ls in leases.items() for ip, lease in ls.items()
            if lease["cid"] == cid]
    for _net, ip in mine:
        lines.append(f"{ip}\t{hostname}")
    for net, _ip in mine:
        if net in default_nets:
            continue  # docker's default bridge has no name resolution between containers
        for ip, lease in sorted(leases[net].items(), key=lambda kv: kv[1].get("name", "")):
            if lease["cid"] != cid:
                lines.append(f"{ip}\t{' '.join(names_of(lease))}")
    return "\n".join(lines) + "\n"


def write_in_place(path: Path, text: str) -> None:
    data = text.encode()
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
    except FileNotFoundError:
        return  # the container was removed meanwhile
    try:
        old = b""
        while chunk := os.read(fd, 65536):
            old += chunk
        if old == data:
            return
        if data.startswith(old):
            os.pwrite(fd, data[len(old):], len(old))
        else:
            os.pwrite(fd, data, 0)
            os.ftruncate(fd, len(data))
    finally:
        os.close(fd)


def refresh(root: Path, cids: set[str] | None = None) -> None:
    """Rewrite the hosts file of ``cids`` (default: every container holding a lease).

    The caller holds :func:`ipam.state_lock`, so the leases read here are the
    latest and the last writer always writes the latest view.
    """
    leases = ipam.all_leases(root)
    defaults = {p.stem for p in (root / "networks").glob("*.json")
                if ((read_json(p, None) or {}).get("Options") or {}).get(
                    "com.docker.network.bridge.default_bridge") == "true"}
    if cids is None:
        cids = {lease["cid"] for ls in leases.values() for lease in ls.values()}
    for cid in cids:
        cdir = root / "containers" / cid
        rec = read_json(cdir / "state.json", None)
        if isinstance(rec, dict):
            with contextlib.suppress(OSError):
                write_in_place(cdir / "hosts", render(rec, leases, defaults))


def members(root: Path, networks: list[str]) -> set[str]:
    """Containers holding a lease on any of ``networks``."""
    leases = ipam.all_leases(root)
    return {v["cid"] for n in networks for v in leases.get(n, {}).values()}
