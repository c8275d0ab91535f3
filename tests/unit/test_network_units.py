"""Network pieces that need no root: ports, IPAM, hosts files, records, the port proxy.

The proxy test runs entirely on 127.0.0.1 (both the published side and the
"container" side are loopback sockets of this process).
"""

from __future__ import annotations

import json
import os
import re
import selectors
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from engine.errors import AlreadyExists, Conflict, InvalidArgument, Unavailable
from engine.network import hosts, ipam, model
from engine.network.ports import PortSpec, bindings_json, format_ports, parse_publish
from engine.network.proxy import PortInUse, PortProxy
from engine.types import NetworkCreateOptions


@pytest.mark.parametrize(("spec", "want"), [
    ("80", [PortSpec("127.0.0.1", 0, 80, "tcp")]),
    ("8080:80", [PortSpec("127.0.0.1", 8080, 80, "tcp")]),
    ("0.0.0.0:53:53/udp", [PortSpec("0.0.0.0", 53, 53, "udp")]),
    ("10.0.0.1::80", [PortSpec("10.0.0.1", 0, 80, "tcp")]),
    ("7000-7001:8000-8001", [PortSpec("127.0.0.1", 7000, 8000, "tcp"),
                             PortSpec("127.0.0.1", 7001, 8001, "tcp")]),
])
def test_parse_publish(spec: str, want: list[PortSpec]) -> None:
    assert parse_publish(spec) == want


@pytest.mark.parametrize("spec", ["80/sctp", "x:80", "1:2:3:4", "70000", "1-3:5-6",
                                  "[::1]:80:80", "300.1.1.1:80:80"])
def test_parse_publish_rejects(spec: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_publish(spec)


def test_bindings_and_ps_column() -> None:
    specs = parse_publish("8080:80") + parse_publish("80") + parse_publish("53:53/udp")
    b = bindings_json(specs)
    assert b == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"},
                            {"HostIp": "127.0.0.1", "HostPort": ""}],
                 "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "53"}]}
    with pytest.raises(InvalidArgument, match="duplicate"):
        bindings_json(parse_publish("1:80") + parse_publish("1:81"))
    assert format_ports({"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
                         "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "53"}]}) == (
        "127.0.0.1:53->53/udp, 127.0.0.1:8080->80/tcp")


@pytest.fixture
def net_root(tmp_path: Path) -> Path:
    model.ensure_dirs(tmp_path)
    (tmp_path / "locks").mkdir()
    return tmp_path


def _lease(cid: str, name: str, **kw: Any) -> dict[str, Any]:
    # A lease held by this (live) process, as the set-up helper's front end would.
    return {"cid": cid, "name": name, "aliases": [], "owner": ipam.owner(), **kw}


def test_network_records(net_root: Path) -> None:
    store = model.NetworkStore(net_root, net_root / "locks")
    default = store.get("bridge")
    assert default["Name"] == "pydock0" and model.is_default(default)
    a = store.create(NetworkCreateOptions("a"))
    b = store.create(NetworkCreateOptions("b", labels=(("k", "v"),)))
    assert str(model.subnet_of(a)) != str(model.subnet_of(b))
    assert model.gateway_of(a).endswith(".1") and model.bridge_name(a).startswith("pd-")
    assert store.get(a["Id"][:10])["Name"] == "a"
    with pytest.raises(AlreadyExists):
        store.create(NetworkCreateOptions("a"))
    with pytest.raises(Conflict, match="overlaps"):
        store.create(NetworkCreateOptions("c", subnet=str(model.subnet_of(a))))
    with pytest.raises(Conflict):
        store.create(NetworkCreateOptions("host"))
    with pytest.raises(InvalidArgument):
        store.create(NetworkCreateOptions("d", subnet="10.9.0.0/24", gateway="10.8.0.1"))
    e = store.create(NetworkCreateOptions(  # outbound NAT: opt-in, see test_network_nat
        "e", options=(("com.docker.network.bridge.enable_ip_masquerade", "true"),)))
    assert model.nat_enabled(e) and not model.nat_enabled(a)
    c = store.create(NetworkCreateOptions("c", subnet="192.168.77.0/24", gateway="192.168.77.9",
                                          internal=True))
    assert model.gateway_of(c) == "192.168.77.9" and c["Internal"] is True


def test_ipam_unique_round_robin_and_release(net_root: Path) -> None:
    net = model.NetworkStore(net_root, net_root / "locks").create(
        NetworkCreateOptions("n", subnet="10.50.0.0/29"))  # 6 hosts, .1 is the gateway
    got = []
    with ipam.state_lock(net_root):
        for i in range(5):
            got.append(ipam.allocate(net_root, net, _lease(f"c{i}", f"c{i}")))
        with pytest.raises(Unavailable):
            ipam.allocate(net_root, net, _lease("c9", "c9"))
        with pytest.raises(Conflict):
            ipam.allocate(net_root, net, _lease("c0", "c0"))
    assert got == [f"10.50.0.{i}" for i in range(2, 7)]
    with ipam.state_lock(net_root):
        assert ipam.release(net_root, "c1") == ["n"]
        with pytest.raises(Conflict, match="Address already in use"):
            ipam.allocate(net_root, net, _lease("x", "x"), "10.50.0.4")
        with pytest.raises(InvalidArgument):
            ipam.allocate(net_root, net, _lease("x", "x"), "10.51.0.4")
        assert ipam.allocate(net_root, net, _lease("x", "x")) == "10.50.0.3"


def test_ipam_stale_leases(net_root: Path) -> None:
    net = model.NetworkStore(net_root, net_root / "locks").create(NetworkCreateOptions("n"))
    with ipam.state_lock(net_root):
        ipam.allocate(net_root, net, _lease("live", "live"))
        ipam.allocate(net_root, net, {"cid": "dead", "name": "dead", "owner": [1 << 22, 1]})
    assert ipam.stale(net_root) == {"dead"}


def test_hosts_render_and_live_rewrite(net_root: Path) -> None:
    store = model.NetworkStore(net_root, net_root / "locks")
    net = store.create(NetworkCreateOptions("app"))
    cids = {}
    for name in ("web", "db"):
        cid = os.urandom(32).hex()
        cids[name] = cid
        d = net_root / "containers" / cid
        d.mkdir(parents=True)
        (d / "state.json").write_text(json.dumps({
            "id": cid, "name": name, "config": {"Hostname": cid[:12]},
            "host_config": {"ExtraHosts": ["gw:10.0.0.1"]}}))
        (d / "hosts").write_text(hosts.BASE)
        with ipam.state_lock(net_root):
            ipam.allocate(net_root, net, _lease(cid, name, aliases=[f"{name}-alias"]))
    with ipam.state_lock(net_root):
        hosts.refresh(net_root)
    web = (net_root / "containers" / cids["web"] / "hosts").read_text()
    assert "10.0.0.1\tgw" in web and f"\t{cids['web'][:12]}\n" in web
    assert f"db db-alias {cids['db'][:12]}" in web and "web web-alias" not in web
    # In place: the inode a bind mount would pin keeps the new content.
    ino = (net_root / "containers" / cids["web"] / "hosts").stat().st_ino
    with ipam.state_lock(net_root):
        ipam.release(net_root, cids["db"])
        hosts.refresh(net_root, {cids["web"]})
    p = net_root / "containers" / cids["web"] / "hosts"
    # Whole words only: a random hex ID may contain the letters "db".
    assert p.stat().st_ino == ino and not re.search(r"\bdb(-alias)?\b", p.read_text())


def _echo_servers() -> tuple[socket.socket, socket.socket]:
    tcp = socket.create_server(("127.0.0.1", 0))
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", tcp.getsockname()[1]))

    def serve_tcp() -> None:
        while True:
            try:
                c, _ = tcp.accept()
            except OSError:
                return
            with c:
                data = b""
                while chunk := c.recv(65536):
                    data += chunk
                c.sendall(b"echo:" + data)

    def serve_udp() -> None:
        while True:
            try:
                d, a = udp.recvfrom(2048)
            except OSError:
                return
            udp.sendto(b"echo:" + d, a)

    for f in (serve_tcp, serve_udp):
        threading.Thread(target=f, daemon=True).start()
    return tcp, udp


def test_port_proxy_tcp_udp_and_conflict() -> None:
    tcp, udp = _echo_servers()
    target = tcp.getsockname()[1]
    px = PortProxy("127.0.0.1", [PortSpec("127.0.0.1", 0, target, "tcp"),
                                 PortSpec("127.0.0.1", 0, target, "udp")])
    ports = px.open()
    tport = int(ports[f"{target}/tcp"][0]["HostPort"])
    uport = int(ports[f"{target}/udp"][0]["HostPort"])
    sel = selectors.DefaultSelector()
    px.attach(sel)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            for key, mask in sel.select(0.05):
                key.data(mask)

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    try:
        payload = os.urandom(1 << 20)
        with socket.create_connection(("127.0.0.1", tport), timeout=5) as c:
            c.sendall(payload)
            c.shutdown(socket.SHUT_WR)  # the half-close travels through the proxy
            back = b""
            while chunk := c.recv(65536):
                back += chunk
        assert back == b"echo:" + payload
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.settimeout(5)
            u.sendto(b"ping", ("127.0.0.1", uport))
            assert u.recvfrom(2048)[0] == b"echo:ping"
        with pytest.raises(PortInUse, match="port is already allocated"):
            PortProxy("127.0.0.1", [PortSpec("127.0.0.1", tport, 1, "tcp")]).open()
    finally:
        stop.set()
        t.join()
        px.close()
        tcp.close()
        udp.close()
    with socket.socket() as s:  # released: the port can be bound again
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", tport))


def test_monitor_side_never_imports_pyroute2() -> None:
    """The monitor and everything it may load for volumes and networks stay netlink-free."""
    import subprocess
    import sys

    mods = ["engine.runtime.monitor", "engine.runtime.netvol", "engine.network.proxy",
            "engine.network.teardown", "engine.network.attach", "engine.network.ports",
            "engine.volumes.populate", "engine.runtime.attachments", "engine.api"]
    code = f"import sys\nfor m in {mods!r}: __import__(m)\nprint('pyroute2' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "False"
