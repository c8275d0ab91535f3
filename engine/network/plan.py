"""A container's network options checked at create time, and where they are recorded.

``--network`` names (several allowed), ``--ip``, ``--network-alias``,
``--add-host``, ``--dns*`` and ``-p``/``-P`` are validated before anything is
written; the result lands in docker's places in the record (``HostConfig``
``NetworkMode``/``PortBindings``/``ExtraHosts``/``Dns*``, ``Config.ExposedPorts``)
plus ``networks`` (docker's EndpointsConfig). Addresses are handed out at start.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgument
from ..record import dataclass, field
from ..types import CreateOptions
from . import ports

if TYPE_CHECKING:
    import ipaddress


@dataclass
class NetPlan:
    mode: str  # none, host or bridge
    networks: list[str] = field(default_factory=list)  # record names, first is primary
    endpoints: dict[str, dict[str, Any]] = field(default_factory=dict)
    ports: list[ports.PortSpec] = field(default_factory=list)
    extra_hosts: list[str] = field(default_factory=list)  # name:ip
    warnings: list[str] = field(default_factory=list)


def check(root: Path, opts: CreateOptions, img_cfg: dict[str, Any]) -> NetPlan:
    wanted = [opts.network or "none", *opts.networks]
    if len(set(wanted)) != len(wanted):
        raise InvalidArgument("a container can join a network only once")
    special = [w for w in wanted if w in ("none", "host") or w.startswith("container:")]
    if special and len(wanted) > 1:
        raise InvalidArgument(f"conflicting options: --network {special[0]} cannot be "
                              "combined with other networks")
    if wanted[0].startswith("container:"):
        raise InvalidArgument("--network container:<name> is not supported yet")
    specs = [s for p in opts.publish for s in ports.parse_publish(p)]
    if opts.publish_all:
        specs += ports.exposed(img_cfg)
    ports.bindings_json(specs)  # duplicate check
    plan = NetPlan(mode=wanted[0] if special else "bridge")
    if plan.mode != "bridge":
        if opts.ip:
            raise InvalidArgument("user specified IP address is supported on user defined "
                                  "networks only")
        if opts.aliases:
            raise InvalidArgument("network-scoped aliases are supported only for containers "
                                  "in user defined networks")
        if specs and plan.mode == "none":
            raise InvalidArgument("conflicting options: port publishing and the container "
                                  "type network mode (none)")
        if specs:
            plan.warnings.append("Published ports are discarded when using host network mode")
        plan.extra_hosts = _extra_hosts(opts.add_hosts, "127.0.0.1")
        return plan
    from . import model  # here: it pulls ipaddress (~1.5 ms), --network none/host skip it

    store = model.NetworkStore(root, root / "locks")
    for i, ref in enumerate(wanted):
        net = store.get(ref)
        ep: dict[str, Any] = {"Aliases": None, "IPAMConfig": None}
        if i == 0 and opts.ip:
            addr = _ipv4(opts.ip, "--ip")
            if model.is_default(net):
                raise InvalidArgument("user specified IP address is supported on user "
                                      "defined networks only")
            if addr not in model.subnet_of(net):
                raise InvalidArgument(f"no configured subnet contains IP address {addr}")
            ep["IPAMConfig"] = {"IPv4Address": str(addr)}
        if i == 0 and opts.aliases:
            if model.is_default(net):
                raise InvalidArgument("network-scoped aliases are supported only for "
                                      "containers in user defined networks")
            ep["Aliases"] = list(opts.aliases)
        plan.networks.append(net["Name"])
        plan.endpoints[net["Name"]] = ep
    first = store.get(plan.networks[0])
    plan.ports = specs
    plan.extra_hosts = _extra_hosts(opts.add_hosts, model.gateway_of(first))
    for d in opts.dns:
        _ip(d, "--dns")
    return plan


def _ip(value: str, flag: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    import ipaddress  # only --ip, --dns and --add-host need it

    try:
        return ipaddress.ip_address(value)
    except ValueError:
        raise InvalidArgument(f"{flag}: {value!r} is not an IP address") from None


def _ipv4(value: str, flag: str) -> ipaddress.IPv4Address:
    import ipaddress

    addr = _ip(value, flag)
    if not isinstance(addr, ipaddress.IPv4Address):
        raise InvalidArgument(f"{flag}: only IPv4 addresses are supported")
    return addr


def _extra_hosts(entries: tuple[str, ...], gateway: str) -> list[str]:
    """``--add-host name:ip`` (or ``name=ip``); ``host-gateway`` is the network's gateway."""
    out = []
    for e in entries:
        sep = "=" if "=" in e else ":"
        name, _, ip = e.partition(sep)
        if not name or not ip:
            raise InvalidArgument(f"invalid --add-host {e!r}: want NAME:IP")
        ip = gateway if ip == "host-gateway" else str(_ip(ip.strip("[]"), "--add-host"))
        out.append(f"{name}:{ip}")
    return out


def record(rec: dict[str, Any], plan: NetPlan, opts: CreateOptions) -> None:
    """Write the plan into the container record (docker's fields)."""
    hc, cfg = rec["host_config"], rec["config"]
    hc["NetworkMode"] = plan.networks[0] if plan.mode == "bridge" else plan.mode
    hc["PortBindings"] = ports.bindings_json(plan.ports) if plan.mode == "bridge" else {}
    hc["PublishAllPorts"] = opts.publish_all
    hc["ExtraHosts"] = plan.extra_hosts or None
    hc["Dns"] = list(opts.dns)
    hc["DnsSearch"] = list(opts.dns_search)
    hc["DnsOptions"] = list(opts.dns_options)
    exposed = dict(cfg.get("ExposedPorts") or {})
    exposed.update({s.key: {} for s in plan.ports})
    cfg["ExposedPorts"] = exposed or None
    rec["networks"] = {n: plan.endpoints[n] for n in plan.networks}


def resolv_conf(host_text: str, opts: CreateOptions) -> str:
    """The host's resolver settings with ``--dns``/``--dns-search``/``--dns-option`` applied."""
    lines = host_text.splitlines()
    if opts.dns:
        lines = [ln for ln in lines if not ln.startswith("nameserver")]
        lines += [f"nameserver {d}" for d in opts.dns]
    if opts.dns_search:
        lines = [ln for ln in lines if not ln.startswith(("search", "domain"))]
        lines.append("search " + " ".join(opts.dns_search))
    if opts.dns_options:
        lines = [ln for ln in lines if not ln.startswith("options")]
        lines.append("options " + " ".join(opts.dns_options))
    return "\n".join(lines) + "\n"
