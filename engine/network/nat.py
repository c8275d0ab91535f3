"""Outbound NAT for a bridge network: an explicit user option, off by default.

``pydock network create --nat NAME`` (docker's spelling
``-o com.docker.network.bridge.enable_ip_masquerade=true`` works too) lets the
network's containers reach the outside world through the host's address.
Docker masquerades every bridge by default; pydock does not, because it never
sends container traffic off the machine unless the user asked for it. Every
other network stays host-only.

The plan is computed as data (:func:`plan`, pure), then acted on
(:func:`apply`): an nftables table owned by pydock, ``ip pydock_nat_<id12>``,
holding

- ``postrouting`` (nat): masquerade the network's subnet unless it leaves
  through its own bridge;
- ``forward`` (filter, policy accept, so it never decides for traffic that is
  not the network's): bridge-local traffic, replies (established/related) and
  the network's outbound traffic pass; nothing from outside (the LAN or another
  pydock network) opens a connection into it, and it opens none into the other
  pydock bridges;

then IPv4 forwarding switched on for the bridge and the default-route
interfaces only (``net/ipv4/conf/<if>/forwarding``), not ``net.ipv4.ip_forward``:
Linux decides per *ingress* interface whether to forward, and the global switch
would also let the host-only bridges route to each other. Rules are loaded
before forwarding is switched on, so there is no window without them.

The ruleset is applied with ``nft -f -`` (argv list, the text on stdin): one
atomic transaction that first declares then deletes the table, so applying
again replaces it (idempotent, and it picks up bridges created since). pyroute2
0.9.7 has ``pyroute2.nftables``, but it calls itself a prototype: raw
register-level expression builders (no ``oifname``, ``ct state`` or
``masquerade`` statements to speak of) and no batch transactions, so a table
could be left half-built. The set-up helper applies the plan each time a
container joins a NAT network and removes the table with the bridge
(``network rm``/``prune``). A marker file ``<root>/nat/<table>`` is written
before the table is loaded and removed after it is deleted: ``nft`` runs at
removal only for a table pydock may have made, and never touches any other.
The default-route interfaces keep forwarding on after removal (other users of
the host may rely on it by then).

``PYDOCK_NO_NAT=1`` in the environment forbids applying NAT on this machine
(the test suite sets it: tests never apply NAT nor enable forwarding).
Standard library only.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..errors import EngineError, InvalidArgument, Unavailable
from ..record import dataclass
from . import model

TABLE_PREFIX = "pydock_nat_"
TABLE_RE = re.compile(r"^pydock_nat_[0-9a-f]{12}$")
FORBID_ENV = "PYDOCK_NO_NAT"
NFT_PATHS = ("/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft")
MISSING_NFT = "outbound NAT needs the nft command: install the nftables package"

# (argv, stdin) -> (exit status, stderr); tests inject one that records.
Runner = Callable[[list[str], str], tuple[int, str]]
# (path under /proc/sys, value)
Writer = Callable[[str, str], None]


@dataclass(frozen=True)
class NatPlan:
    network: str
    table: str
    ruleset: str  # nft -f input
    sysctls: tuple[tuple[str, str], ...]  # (path under /proc/sys, value), in order


def table_name(net: dict[str, Any]) -> str:
    return TABLE_PREFIX + str(net["Id"])[:12]


def plan(net: dict[str, Any], *, other_bridges: Iterable[str] = (),
         uplinks: Iterable[str] = ()) -> NatPlan | None:
    """What enabling NAT for ``net`` takes; None for a network without the option."""
    if not model.nat_enabled(net) or net.get("Internal"):
        return None
    table, bridge = table_name(net), model.bridge_name(net)
    subnet = model.subnet_of(net)
    if not TABLE_RE.match(table):
        raise InvalidArgument(f"network {net['Name']}: invalid ID for a NAT table")
    others = sorted({_ifname(b) for b in other_bridges} - {_ifname(bridge)})
    lines = [
        f"# pydock: outbound NAT for network {net['Name']}; pydock owns this table",
        *_replace(table),
        f"table ip {table} {{",
        "\tchain postrouting {",
        "\t\ttype nat hook postrouting priority srcnat; policy accept;",
        f'\t\tip saddr {subnet} oifname != "{bridge}" masquerade',
        "\t}",
        "\tchain forward {",
        "\t\ttype filter hook forward priority filter; policy accept;",
        f'\t\tiifname "{bridge}" oifname "{bridge}" accept',
        f'\t\toifname "{bridge}" ct state established,related accept',
        f'\t\toifname "{bridge}" drop',
    ]
    if others:
        names = ", ".join(f'"{o}"' for o in others)
        lines.append(f'\t\tiifname "{bridge}" oifname {{ {names} }} drop')
    lines += [f'\t\tiifname "{bridge}" accept', "\t}", "}", ""]
    devs = [bridge, *sorted({_ifname(u) for u in uplinks} - {bridge, *others})]
    return NatPlan(net["Name"], table, "\n".join(lines),
                   tuple((f"net/ipv4/conf/{d}/forwarding", "1") for d in devs))


def removal(table: str) -> str:
    """``nft -f`` input that deletes ``table`` whether or not it exists."""
    if not TABLE_RE.match(table):
        raise InvalidArgument(f"{table!r} is not a pydock NAT table")
    return "\n".join(_replace(table)) + "\n"


def _replace(table: str) -> list[str]:
    # Declaring first makes the delete succeed when the table is absent.
    return [f"table ip {table}", f"delete table ip {table}"]


def _ifname(name: str) -> str:
    # Names go into nft strings and /proc paths: only what a bridge name may hold.
    if not model.IFNAME_RE.match(name) or name in (".", ".."):
        raise InvalidArgument(f"invalid interface name {name!r}")
    return name


def nft_argv(nft: str) -> list[str]:
    return [nft, "-f", "-"]


def find_nft() -> str | None:
    return shutil.which("nft") or next((p for p in NFT_PATHS if os.access(p, os.X_OK)), None)


def default_route_devs(path: str = "/proc/net/route") -> list[str]:
    """Interfaces of this namespace's IPv4 default routes (replies come back on them)."""
    out = []
    with contextlib.suppress(OSError):
        for line in Path(path).read_text().splitlines()[1:]:
            f = line.split()
            if len(f) >= 8 and f[1] == "00000000" and f[7] == "00000000" and f[0] not in out:
                out.append(f[0])
    return out


def marker(root: Path, table: str) -> Path:
    return root / "nat" / table


def ensure(root: Path, net: dict[str, Any], networks: Iterable[dict[str, Any]], *,
           run: Runner | None = None, write: Writer | None = None,
           find: Callable[[], str | None] = find_nft,
           routes: Callable[[], list[str]] = default_route_devs) -> NatPlan | None:
    """Apply ``net``'s NAT plan if it has the option; no nft call at all otherwise."""
    if not model.nat_enabled(net):
        return None
    p = plan(net, other_bridges=[model.bridge_name(n) for n in networks
                                 if n["Name"] != net["Name"]], uplinks=routes())
    if p is not None:
        apply(root, p, run=run, write=write, find=find)
    return p


def apply(root: Path, p: NatPlan, *, run: Runner | None = None, write: Writer | None = None,
          find: Callable[[], str | None] = find_nft) -> None:
    """Load the table (atomically), then switch forwarding on; idempotent."""
    if run is None and os.environ.get(FORBID_ENV):
        raise Unavailable(f"outbound NAT is forbidden on this machine ({FORBID_ENV} is set)")
    nft = find()
    if nft is None:
        raise Unavailable(MISSING_NFT)
    mark = marker(root, p.table)
    mark.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    mark.write_text(p.network + "\n")  # before loading: a crash cannot orphan the table
    _nft(run or _run, nft, p.ruleset, f"cannot set up outbound NAT for network {p.network}")
    for path, value in p.sysctls:
        (write or _write)(path, value)


def remove(root: Path, table: str, *, run: Runner | None = None,
           find: Callable[[], str | None] = find_nft) -> bool:
    """Delete a table :func:`apply` made; True when nft ran. Idempotent."""
    text = removal(table)  # validates the name first
    mark = marker(root, table)
    if not mark.exists():
        return False  # pydock never loaded it
    nft = find()
    if nft is not None:  # without nft no table could have been loaded
        _nft(run or _run, nft, text, f"cannot remove NAT table {table}")
    mark.unlink(missing_ok=True)
    return nft is not None


def _nft(run: Runner, nft: str, text: str, what: str) -> None:
    code, err = run(nft_argv(nft), text)
    if code != 0:
        detail = next((ln for ln in err.splitlines() if ln.strip()), f"exit status {code}")
        raise EngineError(f"{what}: nft: {detail.strip()}")


def _run(argv: list[str], stdin: str) -> tuple[int, str]:
    try:
        r = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=30,
                           check=False)
    except FileNotFoundError:
        raise Unavailable(MISSING_NFT) from None
    except (OSError, subprocess.TimeoutExpired) as err:
        raise EngineError(f"nft failed: {err}") from err
    return r.returncode, r.stderr


def _write(path: str, value: str) -> None:
    if os.environ.get(FORBID_ENV):
        raise Unavailable(f"outbound NAT is forbidden on this machine ({FORBID_ENV} is set)")
    target = Path("/proc/sys") / path
    try:
        if target.read_text().strip() != value:
            target.write_text(value + "\n")
    except OSError as err:
        raise EngineError(f"cannot set {target}: {err.strerror or err}") from err
