"""Bridge networks end to end, every engine call inside a test-made network namespace.

Nothing here touches the host's network: see ``netns_helpers``. Each test also
checks that the host namespace gained no link of ours.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.netns_helpers import (
    NetNS,
    container_ip,
    engine_in,
    host_links,
    leases,
    netns_mounts,
    private_netns,
    wait_for,
)
from tests.integration.runtime_helpers import IMAGE, processes_mentioning

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

HTTPD = ["busybox", "httpd", "-f", "-p", "80", "-h", "/etc"]


@pytest.fixture
def net_root(root: Path, tmp_path: Path, test_base: Path) -> Iterator[tuple[Path, NetNS]]:
    with private_netns(test_base) as ns, engine_in(root, tmp_path, ns) as pair:
        yield pair


@pytest.fixture(autouse=True)
def _host_untouched() -> Iterator[None]:
    before = host_links()
    yield
    assert host_links() == before, "a test changed the host's network namespace"


def _ok(r: object) -> str:
    assert r.returncode == 0, (r.stdout, r.stderr)  # type: ignore[attr-defined]
    return str(r.stdout)  # type: ignore[attr-defined]


def _http(ns: NetNS, port: int, path: str = "/hostname") -> str:
    return ns.python("import urllib.request\n"
                     f"print(urllib.request.urlopen('http://127.0.0.1:{port}{path}', "
                     "timeout=5).read().decode(), end='')")


def _nothing_left(root: Path, ns: NetNS) -> None:
    wait_for(lambda: ns.veths() == [], what="veths gone")
    assert netns_mounts(root) == []
    assert all(not v for v in leases(root).values())
    # No monitor (hence no port proxy) is left; the root's monitor zygote (and the
    # spare monitor it keeps ready) may idle on.
    assert [p for p in processes_mentioning(str(root)) if not _is_zygote(p)] == []


def _is_zygote(pid: int) -> bool:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        return b"zygote_server" in cmd or b"(spare)" in cmd
    except OSError:
        return True  # gone meanwhile: not a leak either


def test_containers_reach_each_other_by_name_and_alias(net_root: tuple[Path, NetNS]) -> None:
    root, ns = net_root
    _ok(ns.pydock(root, "network", "create", "app"))
    _ok(ns.pydock(root, "run", "-d", "--name", "web", "--network", "app",
                  "--network-alias", "www", IMAGE, *HTTPD))
    # Joins later; resolvable by name and alias at once, and it resolves the others.
    _ok(ns.pydock(root, "run", "-d", "--name", "late", "--network", "app", IMAGE,
                  "sleep", "60"))
    out = _ok(ns.pydock(root, "exec", "late", "sh", "-c",
                        "ping -c1 -W2 web >/dev/null && echo ping-ok; "
                        "printf 'GET /hostname HTTP/1.0\\r\\n\\r\\n' | busybox nc www 80"))
    assert "ping-ok" in out and "200 OK" in out
    assert _ok(ns.pydock(root, "exec", "web", "ping", "-c1", "-W2", "late")).count("1 packets "
                                                                                   "received")
    web_ip = container_ip(ns, root, "web", "app")
    assert web_ip.startswith("10.89.")
    # Leaving is seen at once too: the other member's hosts file forgets it.
    _ok(ns.pydock(root, "stop", "-t", "0", "late"))
    assert "late" not in _ok(ns.pydock(root, "exec", "web", "cat", "/etc/hosts"))
    _ok(ns.pydock(root, "rm", "-f", "web", "late"))
    _nothing_left(root, ns)


def test_networks_are_isolated_and_internal_has_no_route(net_root: tuple[Path, NetNS]) -> None:
    root, ns = net_root
    _ok(ns.pydock(root, "network", "create", "one"))
    _ok(ns.pydock(root, "network", "create", "--internal", "--subnet", "10.77.5.0/24",
                  "--gateway", "10.77.5.254", "two"))
    _ok(ns.pydock(root, "run", "-d", "--name", "a", "--network", "one", IMAGE, "sleep", "60"))
    _ok(ns.pydock(root, "run", "-d", "--name", "b", "--network", "two", "--ip", "10.77.5.9",
                  IMAGE, "sleep", "60"))
    a_ip = container_ip(ns, root, "a", "one")
    assert container_ip(ns, root, "b", "two") == "10.77.5.9"
    r = ns.pydock(root, "exec", "b", "ping", "-c1", "-W1", a_ip)
    assert r.returncode != 0  # another network, and the engine never forwards
    assert ns.pydock(root, "exec", "b", "ping", "-c1", "-W1", "a").returncode != 0  # no name
    routes_b = _ok(ns.pydock(root, "exec", "b", "ip", "route"))
    assert "default" not in routes_b and "10.77.5.0/24" in routes_b
    assert "default via 10.89." in _ok(ns.pydock(root, "exec", "a", "ip", "route"))
    # --network none: loopback only.
    out = _ok(ns.pydock(root, "run", "--rm", "--network", "none", IMAGE, "ls", "/sys/class/net"))
    assert out.split() == ["lo"]
    _ok(ns.pydock(root, "rm", "-f", "a", "b"))
    _nothing_left(root, ns)


def test_published_tcp_ports(net_root: tuple[Path, NetNS]) -> None:
    root, ns = net_root
    port = _free_port(ns)
    _ok(ns.pydock(root, "run", "-d", "--name", "web", "--network", "bridge",
                  "-p", f"127.0.0.1:{port}:80", "-p", "80", IMAGE, *HTTPD))
    assert _http(ns, port).strip() == _ok(ns.pydock(root, "exec", "web", "hostname")).strip()
    lines = _ok(ns.pydock(root, "port", "web")).splitlines()
    assert f"80/tcp -> 127.0.0.1:{port}" in lines and len(lines) == 2
    random_port = int(next(ln for ln in lines if not ln.endswith(f":{port}")).rsplit(":", 1)[1])
    assert _http(ns, random_port).strip()
    assert f"127.0.0.1:{port}->80/tcp" in _ok(ns.pydock(root, "ps"))
    # Throughput through the proxy: a 4 MB file comes back whole.
    _ok(ns.pydock(root, "exec", "web", "sh", "-c", "head -c 4000000 /dev/urandom > /etc/big"))
    size = ns.python("import urllib.request\n"
                     f"print(len(urllib.request.urlopen('http://127.0.0.1:{port}/big').read()))")
    assert int(size) == 4000000
    _ok(ns.pydock(root, "stop", "-t", "1", "web"))
    with pytest.raises(AssertionError, match="Connection refused"):  # the proxy went too
        _http(ns, port)
    _nothing_left(root, ns)


def test_publish_all_and_udp(net_root: tuple[Path, NetNS]) -> None:
    """-P publishes EXPOSE 80 and 7/udp; a UDP echo server (the host's python3, bind-mounted
    read-only) answers through the proxy."""
    if not Path("/usr/bin/python3").exists():
        pytest.skip("no /usr/bin/python3 to serve UDP from")
    root, ns = net_root
    echo = ("import socket\n"
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('0.0.0.0', 7))\n"
            "while True:\n"
            "    d, a = s.recvfrom(2048); s.sendto(b'echo:' + d, a)\n")
    _ok(ns.pydock(root, "run", "-d", "--name", "udp", "--network", "bridge", "-P",
                  "-v", "/usr:/usr:ro", "-v", "/usr/lib:/lib:ro", "-v", "/usr/lib64:/lib64:ro",
                  IMAGE, "/usr/bin/python3", "-c", echo))
    ports = json.loads(_ok(ns.pydock(root, "inspect", "udp")))[0]["NetworkSettings"]["Ports"]
    assert set(ports) == {"80/tcp", "7/udp"}
    assert all(b[0]["HostIp"] == "127.0.0.1" for b in ports.values())
    udp_port = int(ports["7/udp"][0]["HostPort"])
    got = ns.python("import socket, time\n"
                    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.5)\n"
                    "for _ in range(20):\n"
                    f"    s.sendto(b'ping', ('127.0.0.1', {udp_port}))\n"
                    "    try:\n"
                    "        print(s.recvfrom(2048)[0].decode()); break\n"
                    "    except TimeoutError:\n"
                    "        time.sleep(0.2)\n")
    assert got.strip() == "echo:ping"
    _ok(ns.pydock(root, "rm", "-f", "udp"))
    _nothing_left(root, ns)


def test_port_in_use_fails_start_and_leaves_nothing(net_root: tuple[Path, NetNS]) -> None:
    root, ns = net_root
    _ok(ns.pydock(root, "network", "create", "pnet"))
    port = _free_port(ns)
    _ok(ns.pydock(root, "run", "-d", "--name", "first", "--network", "pnet",
                  "-p", f"{port}:80", IMAGE, *HTTPD))
    r = ns.pydock(root, "run", "-d", "--name", "second", "--network", "pnet",
                  "-p", f"{port}:80", IMAGE, *HTTPD)
    assert r.returncode == 125
    assert f"127.0.0.1:{port}/tcp failed: port is already allocated" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    names = _ok(ns.pydock(root, "ps", "-a", "--format", "json"))
    assert '"Names":"second"' not in names  # run removed it
    assert [v["name"] for v in leases(root)["pnet"].values()] == ["first"]
    assert len(ns.veths()) == 1 and len(netns_mounts(root)) == 1
    # docker create + start: the container stays, its network does not.
    _ok(ns.pydock(root, "create", "--name", "third", "--network", "pnet",
                  "-p", f"{port}:80", IMAGE, *HTTPD))
    r = ns.pydock(root, "start", "third")
    assert r.returncode != 0 and "port is already allocated" in r.stderr
    assert len(ns.veths()) == 1 and len(netns_mounts(root)) == 1
    _ok(ns.pydock(root, "rm", "-f", "first", "third"))
    _nothing_left(root, ns)


@pytest.mark.parametrize("n", [10, pytest.param(50, marks=pytest.mark.slow)])
def test_ipam_concurrent_starts_get_unique_addresses(net_root: tuple[Path, NetNS],
                                                      n: int) -> None:
    root, ns = net_root
    _ok(ns.pydock(root, "network", "create", "--subnet", "10.66.0.0/24", "crowd"))
    procs = [ns.popen_pydock(root, "run", "-d", "--name", f"c{i}", "--network", "crowd", IMAGE,
                             "sleep", "120") for i in range(n)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    ips = [container_ip(ns, root, f"c{i}", "crowd") for i in range(n)]
    assert len(set(ips)) == n
    assert sorted(v["name"] for v in leases(root)["crowd"].values()) == sorted(
        f"c{i}" for i in range(n))
    assert len(ns.veths()) == n
    # Every member resolves every other one.
    hosts = _ok(ns.pydock(root, "exec", "c0", "cat", "/etc/hosts"))
    assert all(f"{ips[i]}\tc{i} " in hosts for i in range(1, n))
    _ok(ns.pydock(root, "rm", "-f", *(f"c{i}" for i in range(n))))
    _nothing_left(root, ns)


def test_addresses_reclaimed_after_stop_and_after_monitor_kill(
        net_root: tuple[Path, NetNS]) -> None:
    root, ns = net_root
    _ok(ns.pydock(root, "network", "create", "--subnet", "10.55.0.0/29", "tiny"))
    _ok(ns.pydock(root, "run", "-d", "--name", "s1", "--network", "tiny", "--ip", "10.55.0.2",
                  IMAGE, "sleep", "60"))
    r = ns.pydock(root, "run", "-d", "--name", "s2", "--network", "tiny", "--ip", "10.55.0.2",
                  IMAGE, "sleep", "60")
    assert r.returncode == 125 and "Address already in use" in r.stderr
    _ok(ns.pydock(root, "stop", "-t", "0", "s1"))
    assert "s2" not in _ok(ns.pydock(root, "ps", "-a"))  # run removed what it could not start
    _ok(ns.pydock(root, "run", "-d", "--name", "s3", "--network", "tiny", "--ip", "10.55.0.2",
                  IMAGE, "sleep", "60"))
    # A monitor killed with SIGKILL cleans nothing: the next user of the network reclaims.
    st = json.loads((root / "containers" / _id(ns, root, "s3") / "state.json").read_text())
    os.kill(st["state"]["monitor_pid"], signal.SIGKILL)
    time.sleep(0.2)
    _ok(ns.pydock(root, "run", "-d", "--name", "s4", "--network", "tiny", "--ip", "10.55.0.2",
                  IMAGE, "sleep", "60"))
    assert "Exited (137)" in _ok(ns.pydock(root, "ps", "-a", "--filter", "name=s3"))
    assert [v["name"] for v in leases(root)["tiny"].values()] == ["s4"]
    wait_for(lambda: len(ns.veths()) == 1, what="the killed container's veth gone")
    assert len(netns_mounts(root)) == 1
    _ok(ns.pydock(root, "rm", "-f", "s1", "s3", "s4"))
    _nothing_left(root, ns)


def test_network_rm_refused_while_in_use(net_root: tuple[Path, NetNS]) -> None:
    root, ns = net_root
    _ok(ns.pydock(root, "network", "create", "--label", "team=a", "busy"))
    assert "busy" in _ok(ns.pydock(root, "network", "ls", "--filter", "label=team=a"))
    _ok(ns.pydock(root, "run", "-d", "--name", "u", "--network", "busy", IMAGE, "sleep", "60"))
    r = ns.pydock(root, "network", "rm", "busy")
    assert r.returncode == 1 and "has active endpoints" in r.stderr
    r = ns.pydock(root, "network", "rm", "pydock0")
    assert "pre-defined" in r.stderr
    _ok(ns.pydock(root, "stop", "-t", "0", "u"))
    _ok(ns.pydock(root, "network", "rm", "busy"))
    assert not any(n.startswith("pd-") for n in ns.links())  # the bridge went too
    assert "busy" not in _ok(ns.pydock(root, "network", "ls"))
    r = ns.pydock(root, "start", "u")
    assert r.returncode != 0 and "not found" in r.stderr
    _nothing_left(root, ns)


def test_connect_disconnect_running_container(net_root: tuple[Path, NetNS]) -> None:
    root, ns = net_root
    for n in ("front", "back"):
        _ok(ns.pydock(root, "network", "create", n))
    _ok(ns.pydock(root, "run", "-d", "--name", "api", "--network", "front", IMAGE,
                  "sleep", "60"))
    _ok(ns.pydock(root, "run", "-d", "--name", "db", "--network", "back", IMAGE, "sleep", "60"))
    assert ns.pydock(root, "exec", "api", "ping", "-c1", "-W1", "db").returncode != 0
    _ok(ns.pydock(root, "network", "connect", "--alias", "apiserver", "back", "api"))
    assert "eth1" in _ok(ns.pydock(root, "exec", "api", "ls", "/sys/class/net"))
    _ok(ns.pydock(root, "exec", "api", "ping", "-c1", "-W2", "db"))
    _ok(ns.pydock(root, "exec", "db", "ping", "-c1", "-W2", "apiserver"))
    _ok(ns.pydock(root, "network", "disconnect", "back", "api"))
    assert "eth1" not in _ok(ns.pydock(root, "exec", "api", "ls", "/sys/class/net"))
    assert "apiserver" not in _ok(ns.pydock(root, "exec", "db", "cat", "/etc/hosts"))
    assert [v["name"] for v in leases(root)["back"].values()] == ["db"]
    _ok(ns.pydock(root, "rm", "-f", "api", "db"))
    _nothing_left(root, ns)


def test_add_host_dns_and_host_network(net_root: tuple[Path, NetNS]) -> None:
    root, ns = net_root
    out = _ok(ns.pydock(root, "run", "--rm", "--network", "bridge", "--add-host",
                        "db.local:10.1.2.3", "--add-host", "gw:host-gateway", "--dns", "10.0.0.53",
                        "--dns-search", "example.test", IMAGE, "sh", "-c",
                        "cat /etc/hosts /etc/resolv.conf"))
    assert "10.1.2.3\tdb.local" in out and "10.88.0.1\tgw" in out
    assert "nameserver 10.0.0.53" in out and "search example.test" in out
    r = ns.pydock(root, "run", "--rm", "--network", "none", "-p", "80", IMAGE, "true")
    assert r.returncode == 125 and "port publishing" in r.stderr
    r = ns.pydock(root, "run", "--rm", "--network", "nosuchnet", IMAGE, "true")
    assert r.returncode == 125 and "network nosuchnet not found" in r.stderr
    r = ns.pydock(root, "run", "--rm", "--network", "bridge", "--ip", "10.88.0.9", IMAGE, "true")
    assert r.returncode == 125 and "user defined networks" in r.stderr
    _nothing_left(root, ns)


def _id(ns: NetNS, root: Path, name: str) -> str:
    return str(json.loads(_ok(ns.pydock(root, "inspect", name)))[0]["Id"])


def _free_port(ns: NetNS) -> int:
    return int(ns.python("import socket\ns = socket.socket(); s.bind(('127.0.0.1', 0))\n"
                         "print(s.getsockname()[1])"))


@pytest.mark.parametrize("runtime", ["runc", "crun"])
def test_oci_runtimes_join_the_engine_netns(net_root: tuple[Path, NetNS], runtime: str) -> None:
    """The spec names the namespace by path and lists the volume mounts: runc and crun
    wire the container exactly as the built-in init does."""
    import shutil

    if not shutil.which(runtime):
        pytest.skip(f"{runtime} is not installed")
    root, ns = net_root
    _ok(ns.pydock(root, "network", "create", "oci"))
    out = _ok(ns.pydock(root, "run", "--rm", "--runtime", runtime, "--network", "oci",
                        "-v", "ocivol:/v", "--tmpfs", "/t", IMAGE, "sh", "-c",
                        "ip -o -4 addr show eth0; ping -c1 -W2 10.89.0.1 >/dev/null && "
                        "echo gw-ok; grep -c ' /t tmpfs' /proc/mounts; touch /v/f"))
    assert "inet 10.89." in out and "gw-ok" in out and "\n1\n" in out
    _nothing_left(root, ns)


def test_nat_network_is_recorded_and_shown_never_applied(net_root: tuple[Path, NetNS]) -> None:
    """Outbound NAT is opt-in and recorded; no container joins, so nothing is applied
    (and PYDOCK_NO_NAT, set for the run, would refuse it anyway)."""
    root, ns = net_root
    nat_opt = "com.docker.network.bridge.enable_ip_masquerade"
    _ok(ns.pydock(root, "network", "create", "--nat", "out"))
    _ok(ns.pydock(root, "network", "create", "-o", f"{nat_opt}=true", "out2"))
    _ok(ns.pydock(root, "network", "create", "plain"))
    got = json.loads(_ok(ns.pydock(root, "network", "inspect", "out", "out2", "plain")))
    assert [n["Options"].get(nat_opt) for n in got] == ["true", "true", None]
    r = ns.pydock(root, "network", "create", "--internal", "--nat", "sealed")
    assert r.returncode != 0 and "internal" in r.stderr
    _ok(ns.pydock(root, "network", "rm", "out", "out2", "plain"))
    assert not (root / "nat").exists()  # no table was ever loaded, so none was removed
    assert ns.python("print(open('/proc/sys/net/ipv4/ip_forward').read().strip())") == "0\n"
    _nothing_left(root, ns)
