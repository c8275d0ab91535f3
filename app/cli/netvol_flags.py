"""``run``/``create`` flags for volumes and networks, as docker spells them.

Parsing and checking happen in the engine (``engine.volumes.mounts``,
``engine.network.ports``); this only collects the strings.
"""

from __future__ import annotations

import argparse
from typing import Any


def add_netvol_flags(p: argparse.ArgumentParser) -> None:
    a = p.add_argument
    a("-v", "--volume", action="append", default=[], dest="volume",
      help="bind mount a volume: [SOURCE:]DEST[:ro|rw,nocopy,...]")
    a("--mount", action="append", default=[], help="type=volume|bind|tmpfs,src=,dst=,readonly")
    a("--tmpfs", action="append", default=[], help="mount a tmpfs: DEST[:OPTIONS]")
    a("--volumes-from", action="append", default=[], help="CONTAINER[:ro|rw]")
    a("--network", "--net", action="append", default=[], dest="network",
      help="none (default), host, or a network name; repeat to join several")
    a("--network-alias", "--net-alias", action="append", default=[], dest="network_alias")
    a("--ip", default=None, help="IPv4 address on the first network")
    a("--add-host", action="append", default=[], help="NAME:IP (IP may be host-gateway)")
    a("--dns", action="append", default=[])
    a("--dns-search", action="append", default=[])
    a("--dns-option", "--dns-opt", action="append", default=[], dest="dns_option")
    a("-p", "--publish", action="append", default=[],
      help="[IP:][HOST_PORT:]CONTAINER_PORT[/tcp|udp]; IP defaults to 127.0.0.1")
    a("-P", "--publish-all", action="store_true")


def netvol_options(args: argparse.Namespace) -> dict[str, Any]:
    nets = list(args.network)
    return {
        "volumes": tuple(args.volume), "mounts": tuple(args.mount), "tmpfs": tuple(args.tmpfs),
        "volumes_from": tuple(args.volumes_from),
        "network": nets[0] if nets else "none", "networks": tuple(nets[1:]),
        "aliases": tuple(args.network_alias), "ip": args.ip,
        "add_hosts": tuple(args.add_host), "dns": tuple(args.dns),
        "dns_search": tuple(args.dns_search), "dns_options": tuple(args.dns_option),
        "publish": tuple(args.publish), "publish_all": args.publish_all,
    }
