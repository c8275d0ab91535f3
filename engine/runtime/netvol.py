"""The monitor's volume and network steps around a container run.

``populate_volumes`` (in the starter): fill empty volumes from the image (the
overlay is mounted, the init not yet forked). ``publish_ports`` (in the monitor,
whose loop runs the proxy): bind the published ports once per monitor, so a port
in use fails the start with docker's message. ``after_monitor``: close the port
proxy and release the network (netns, leases, hosts entries) when the monitor
finishes. Standard library only, like the monitor.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from ..errors import EngineError

if TYPE_CHECKING:
    from ..network.ports import PortSpec
    from ..network.proxy import PortProxy
    from .monitor import Monitor
    from .session import Session


def populate_volumes(sess: Session) -> None:
    """Raise ``StartError`` when a volume cannot be filled."""
    from .session import StartError

    mon, rec = sess.mon, sess.rec
    if any(m.get("Type") == "volume" and m.get("_copy") for m in rec.get("mounts") or []):
        from ..volumes.populate import populate

        try:
            populate(mon.cfg.locks_dir, rec, mon.cdir / "merged")
        except OSError as err:
            raise StartError(125, f"cannot copy image content into a volume: "
                                  f"{err.strerror or err} ({err.filename})") from err


def publish_ports(sess: Session) -> None:
    """Raise ``StartError`` when a published port cannot be bound."""
    mon, rec = sess.mon, sess.rec
    bindings = rec["host_config"].get("PortBindings")
    if bindings and mon.proxy is None:
        # Imported only here: containers without published ports never load them.
        from ..network.ports import specs_from_json

        mon.proxy = _open_proxy(mon, rec, specs_from_json(bindings))


def _open_proxy(mon: Monitor, rec: dict[str, Any], specs: list[PortSpec]) -> PortProxy:
    from ..network.proxy import PortProxy
    from .session import StartError

    cur = mon.store.load(mon.cid)
    nets = (cur.get("network_settings") or {}).get("Networks") or {}
    target = next((ep["IPAddress"] for ep in nets.values() if ep.get("IPAddress")), "")
    if not target:
        raise StartError(125, "cannot publish ports: the container has no network address")
    proxy = PortProxy(target, specs)
    try:
        bound = proxy.open()
    except EngineError as err:
        raise StartError(125, f"driver failed programming external connectivity on endpoint "
                              f"{rec['name']}: {err}") from err
    with mon.store.locked(mon.cid):
        cur = mon.store.load(mon.cid)
        cur.setdefault("network_settings", {})["Ports"] = bound
        mon.store.save(cur)
    return proxy


def after_monitor(mon: Monitor) -> None:
    """Release ports and the network; never raises (the monitor must finish its clean-up)."""
    if mon.proxy is not None:
        mon.proxy.close()
        mon.proxy = None
    rec = _load(mon)
    if rec is None or (not rec.get("networks") and not (mon.cfg.root / "netns" / mon.cid).exists()):
        return
    from ..network.teardown import release

    try:
        release(mon.cfg.root, mon.cid)
    except OSError as err:
        print(f"network clean-up failed: {err}", file=sys.stderr)


def auto_remove(mon: Monitor, rec: dict[str, Any]) -> None:
    """``run --rm`` drops the container's anonymous volumes too, as docker does."""
    if not any(m.get("_anonymous") for m in rec.get("mounts") or []):
        return  # the common case: no need to load the volume and network modules
    from .attachments import remove_anonymous

    try:
        remove_anonymous(mon.cfg, rec)
    except (EngineError, OSError) as err:
        print(f"removing anonymous volumes failed: {err}", file=sys.stderr)


def _load(mon: Monitor) -> dict[str, Any] | None:
    try:
        return mon.store.load(mon.cid)
    except EngineError:
        return None
