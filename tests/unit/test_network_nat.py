"""Outbound NAT: the option, the plan as data, and the executor with an injected runner.

Safety: nothing here applies NAT or touches a sysctl. Every executor call gets a
recording runner and writer; the real ones are replaced by tripwires so that a
mistake fails the test instead of reaching the kernel (and ``PYDOCK_NO_NAT`` is
set for the whole run by ``tests/conftest.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.cli import main as cli
from engine.errors import EngineError, InvalidArgument, Unavailable
from engine.network import attach, model, nat
from engine.types import NetworkCreateOptions

NAT = model.NAT_OPT
NET_ID = "0123456789ab" + "f" * 52


class Recorder:
    """Stands in for ``nft`` and ``/proc/sys``: remembers what would have been done."""

    def __init__(self, code: int = 0, err: str = "") -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.code, self.err = code, err

    def run(self, argv: list[str], stdin: str) -> tuple[int, str]:
        self.calls.append(("nft", argv, stdin))
        return self.code, self.err

    def write(self, path: str, value: str) -> None:
        self.calls.append(("sysctl", path, value))


@pytest.fixture(autouse=True)
def _tripwires(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*a: object) -> Any:
        raise AssertionError(f"a test reached the real nft/sysctl executor: {a}")

    monkeypatch.setattr(nat, "_run", boom)
    monkeypatch.setattr(nat, "_write", boom)


@pytest.fixture
def net_root(tmp_path: Path) -> Path:
    model.ensure_dirs(tmp_path)
    (tmp_path / "locks").mkdir()
    return tmp_path


def _net(**options: str) -> dict[str, Any]:
    rec = model._record("web", "10.89.3.0/24", "10.89.3.1", False, {},
                        {model.BRIDGE_OPT: "pd-0123456789ab", **options}, NET_ID)
    return rec


def test_option_recorded_normalised_and_off_by_default(net_root: Path) -> None:
    store = model.NetworkStore(net_root, net_root / "locks")
    plain = store.create(NetworkCreateOptions("plain"))
    assert NAT not in plain["Options"] and not model.nat_enabled(plain)
    assert not model.nat_enabled(store.get("bridge"))
    on = store.create(NetworkCreateOptions("on", options=((NAT, "TRUE"),)))
    assert on["Options"][NAT] == "true" and model.nat_enabled(on)
    off = store.create(NetworkCreateOptions("off", options=((NAT, "0"),)))
    assert off["Options"][NAT] == "false" and not model.nat_enabled(off)
    with pytest.raises(InvalidArgument, match="want true or false"):
        store.create(NetworkCreateOptions("bad", options=((NAT, "maybe"),)))
    with pytest.raises(InvalidArgument, match="internal"):
        store.create(NetworkCreateOptions("int", internal=True, options=((NAT, "true"),)))
    assert sorted(r["Name"] for r in store.all()) == ["off", "on", "plain", "pydock0"]


def test_plan_is_the_exact_ruleset_and_forwarding() -> None:
    p = nat.plan(_net(**{NAT: "true"}), other_bridges=["pydock0", "pd-0123456789ab", "pd-x"],
                 uplinks=["eth0", "pd-x", "wlan0"])
    assert p is not None and p.table == "pydock_nat_0123456789ab"
    assert p.ruleset == (
        "# pydock: outbound NAT for network web; pydock owns this table\n"
        "table ip pydock_nat_0123456789ab\n"
        "delete table ip pydock_nat_0123456789ab\n"
        "table ip pydock_nat_0123456789ab {\n"
        "\tchain postrouting {\n"
        "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
        '\t\tip saddr 10.89.3.0/24 oifname != "pd-0123456789ab" masquerade\n'
        "\t}\n"
        "\tchain forward {\n"
        "\t\ttype filter hook forward priority filter; policy accept;\n"
        '\t\tiifname "pd-0123456789ab" oifname "pd-0123456789ab" accept\n'
        '\t\toifname "pd-0123456789ab" ct state established,related accept\n'
        '\t\toifname "pd-0123456789ab" drop\n'
        '\t\tiifname "pd-0123456789ab" oifname { "pd-x", "pydock0" } drop\n'
        '\t\tiifname "pd-0123456789ab" accept\n'
        "\t}\n"
        "}\n")
    # Per-interface forwarding for the bridge and the uplinks, never ip_forward, never
    # another pydock bridge.
    assert p.sysctls == (("net/ipv4/conf/pd-0123456789ab/forwarding", "1"),
                         ("net/ipv4/conf/eth0/forwarding", "1"),
                         ("net/ipv4/conf/wlan0/forwarding", "1"))
    assert "ip_forward" not in repr(p)


def test_plan_none_without_the_option_and_refuses_odd_names() -> None:
    assert nat.plan(_net()) is None
    assert nat.plan(_net(**{NAT: "false"})) is None
    internal = _net(**{NAT: "true"})
    internal["Internal"] = True
    assert nat.plan(internal) is None
    with pytest.raises(InvalidArgument, match="interface name"):
        nat.plan(_net(**{NAT: "true"}), uplinks=["..", "eth0"])
    with pytest.raises(InvalidArgument, match="interface name"):
        nat.plan(_net(**{NAT: "true"}), other_bridges=['x" accept; #'])


def test_ensure_does_nothing_for_a_normal_network(tmp_path: Path) -> None:
    rec = Recorder()
    for net in (_net(), _net(**{NAT: "false"})):
        assert nat.ensure(tmp_path, net, [net], run=rec.run, write=rec.write,
                          find=lambda: "/usr/sbin/nft", routes=lambda: ["eth0"]) is None
    assert rec.calls == []
    assert not (tmp_path / "nat").exists()


def test_ensure_loads_rules_before_switching_forwarding_on(tmp_path: Path) -> None:
    net = _net(**{NAT: "true"})
    other = model._record("db", "10.89.4.0/24", "10.89.4.1", False, {},
                          {model.BRIDGE_OPT: "pd-other"})
    rec = Recorder()
    p = nat.ensure(tmp_path, net, [net, other], run=rec.run, write=rec.write,
                   find=lambda: "/usr/sbin/nft", routes=lambda: ["eth0"])
    assert p is not None
    assert rec.calls == [("nft", ["/usr/sbin/nft", "-f", "-"], p.ruleset),
                         ("sysctl", "net/ipv4/conf/pd-0123456789ab/forwarding", "1"),
                         ("sysctl", "net/ipv4/conf/eth0/forwarding", "1")]
    assert 'oifname { "pd-other" } drop' in p.ruleset
    assert nat.marker(tmp_path, p.table).read_text() == "web\n"


def test_missing_nft_is_one_clear_line(tmp_path: Path) -> None:
    rec = Recorder()
    with pytest.raises(Unavailable) as exc:
        nat.ensure(tmp_path, _net(**{NAT: "true"}), [], run=rec.run, write=rec.write,
                   find=lambda: None, routes=list)
    assert str(exc.value) == "outbound NAT needs the nft command: install the nftables package"
    assert rec.calls == [] and not (tmp_path / "nat").exists()


def test_nft_failure_reports_its_first_line_and_skips_forwarding(tmp_path: Path) -> None:
    rec = Recorder(1, "Error: Could not process rule: No such file or directory\n"
                      "table ip pydock_nat_0123456789ab {\n^^^^^\n")
    with pytest.raises(EngineError) as exc:
        nat.ensure(tmp_path, _net(**{NAT: "true"}), [], run=rec.run, write=rec.write,
                   find=lambda: "/sbin/nft", routes=lambda: ["eth0"])
    assert str(exc.value) == ("cannot set up outbound NAT for network web: nft: Error: Could "
                              "not process rule: No such file or directory")
    assert [c[0] for c in rec.calls] == ["nft"]


def test_remove_only_what_pydock_loaded_and_idempotent(tmp_path: Path) -> None:
    rec = Recorder()
    table = "pydock_nat_0123456789ab"
    assert nat.remove(tmp_path, table, run=rec.run, find=lambda: "/usr/sbin/nft") is False
    assert rec.calls == []  # never loaded: nft does not even run
    nat.marker(tmp_path, table).parent.mkdir()
    nat.marker(tmp_path, table).write_text("web\n")
    assert nat.remove(tmp_path, table, run=rec.run, find=lambda: "/usr/sbin/nft") is True
    assert rec.calls == [("nft", ["/usr/sbin/nft", "-f", "-"],
                          f"table ip {table}\ndelete table ip {table}\n")]
    assert not nat.marker(tmp_path, table).exists()
    assert nat.remove(tmp_path, table, run=rec.run, find=lambda: "/usr/sbin/nft") is False
    assert len(rec.calls) == 1
    for foreign in ("filter", "pydock_nat_../x", "docker_nat", "pydock_nat_0123"):
        with pytest.raises(InvalidArgument):
            nat.remove(tmp_path, foreign, run=rec.run)
    assert len(rec.calls) == 1


def test_environment_interlock_forbids_applying(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(nat.FORBID_ENV, "1")
    p = nat.plan(_net(**{NAT: "true"}))
    assert p is not None
    with pytest.raises(Unavailable, match=nat.FORBID_ENV):
        nat.apply(tmp_path, p, find=lambda: "/usr/sbin/nft")  # the real runner: refused
    assert not nat.marker(tmp_path, p.table).exists()


def test_default_route_devices(tmp_path: Path) -> None:
    f = tmp_path / "route"
    f.write_text(
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        "eth0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
        "eth0\t0002A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n"
        "wg0\t00000000\t00000000\t0001\t0\t0\t50\t00000000\t0\t0\t0\n")
    assert nat.default_route_devs(str(f)) == ["eth0", "wg0"]
    assert nat.default_route_devs(str(tmp_path / "missing")) == []


def test_cli_nat_flag_is_recorded_and_shown_by_inspect(engine: Any,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    # The CLI's printed JSON is checked end to end in tests/integration/test_networks.py
    # (output.py binds sys.stdout at import, out of capsys's reach).
    base = ["--root", str(engine.config.root), "network"]
    assert cli.main([*base, "create", "--nat", "--subnet", "10.93.1.0/24", "out"]) == 0
    assert cli.main([*base, "create", "-o", f"{NAT}=true", "--subnet", "10.93.2.0/24",
                     "out2"]) == 0
    assert cli.main([*base, "create", "--subnet", "10.93.3.0/24", "plain"]) == 0
    got = [engine.networks_inspect(n) for n in ("out", "out2", "plain")]
    assert [n["Options"].get(NAT) for n in got] == ["true", "true", None]
    capsys.readouterr()
    assert cli.main([*base, "create", "--nat", "-o", f"{NAT}=false", "x"]) == 1
    assert "conflicts" in capsys.readouterr().err
    assert cli.main([*base, "create", "--nat", "--internal", "y"]) == 1
    assert "internal" in capsys.readouterr().err


def test_network_rm_asks_for_the_nat_table_only_on_nat_networks(
        engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(attach, "run_helper", lambda root, *a: calls.append(a))
    nid = engine.networks_create(NetworkCreateOptions("n1", subnet="10.93.4.0/24",
                                                      options=((NAT, "true"),)))
    pid = engine.networks_create(NetworkCreateOptions("p1", subnet="10.93.5.0/24"))
    engine.networks_remove(["n1", "p1"])
    assert calls == [("delete-bridge", "-", f"pd-{nid[:12]}", f"pydock_nat_{nid[:12]}"),
                     ("delete-bridge", "-", f"pd-{pid[:12]}")]
