"""Netlink work through pyroute2: bridges, veth pairs, addresses, routes, namespaces.

Only the set-up helper (``python -m engine.network.setup``) imports this: it is
a fresh single-threaded process, so switching its network namespace with
``setns`` and creating one with ``unshare`` are safe. NetlinkError and OSError
are translated to EngineError here, once.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from ..errors import EngineError, Unavailable
from ..sys import libc


@contextlib.contextmanager
def translated(what: str) -> Iterator[None]:
    try:
        yield
    except NetlinkError as err:
        raise EngineError(f"{what}: {os.strerror(err.code) if err.code else err}") from err
    except OSError as err:
        raise EngineError(f"{what}: {err.strerror or err}") from err


@contextlib.contextmanager
def inside(path: Path) -> Iterator[None]:
    """Run the body with this thread in the namespace at ``path``, then come back."""
    back = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.setns(fd, os.CLONE_NEWNET)
        try:
            yield
        finally:
            os.setns(back, os.CLONE_NEWNET)
    finally:
        os.close(fd)
        os.close(back)


def create_netns(path: Path) -> None:
    """A new, empty network namespace kept alive by a bind mount at ``path``."""
    with translated("cannot create the network namespace"):
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o444))
        back = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.unshare(os.CLONE_NEWNET)
            try:
                libc.mount("/proc/thread-self/ns/net", str(path), None, libc.MS_BIND)
            finally:
                os.setns(back, os.CLONE_NEWNET)
        finally:
            os.close(back)


class Host:
    """The namespace the engine runs in: bridges and the host ends of veth pairs."""

    def __init__(self) -> None:
        try:
            self.ipr = IPRoute()
        except OSError as err:
            raise Unavailable(f"netlink is not available: {err.strerror}") from err

    def close(self) -> None:
        self.ipr.close()

    def index(self, name: str) -> int | None:
        found = self.ipr.link_lookup(ifname=name)
        return int(found[0]) if found else None

    def ensure_bridge(self, name: str, gateway: str, prefixlen: int, mtu: int | None) -> int:
        with translated(f"cannot set up bridge {name}"):
            idx = self.index(name)
            if idx is None:
                try:
                    self.ipr.link("add", ifname=name, kind="bridge")
                except NetlinkError as err:
                    if err.code != errno.EEXIST:  # another helper made it just now
                        raise
                idx = self.index(name)
                assert idx is not None
            have = {a.get_attr("IFA_ADDRESS") for a in self.ipr.get_addr(index=idx)}
            if gateway not in have:
                with contextlib.suppress(NetlinkError):
                    self.ipr.addr("add", index=idx, address=gateway, prefixlen=prefixlen)
            kw: dict[str, Any] = {"mtu": mtu} if mtu else {}
            self.ipr.link("set", index=idx, state="up", **kw)
            return idx

    def add_veth(self, host_name: str, peer: str, netns: Path, bridge: int,
                 mtu: int | None) -> None:
        """A veth pair whose peer is born inside ``netns``: no window where it is on the host."""
        with translated(f"cannot create veth {host_name}"):
            self.delete(host_name)  # a left-over of a crash mid-way
            fd = os.open(netns, os.O_RDONLY | os.O_CLOEXEC)
            try:
                kw: dict[str, Any] = {"mtu": mtu} if mtu else {}
                self.ipr.link("add", ifname=host_name, kind="veth",
                              peer={"ifname": peer, "net_ns_fd": fd, **kw}, **kw)
            finally:
                os.close(fd)
            idx = self.index(host_name)
            assert idx is not None
            self.ipr.link("set", index=idx, master=bridge, state="up")

    def delete(self, name: str) -> None:
        idx = self.index(name)
        if idx is not None:
            with contextlib.suppress(NetlinkError):
                self.ipr.link("del", index=idx)


class Namespace:
    """A container's network namespace, reached by switching into it while connecting."""

    def __init__(self, path: Path) -> None:
        with translated("cannot enter the container's network namespace"), inside(path):
            self.ipr = IPRoute()
            self.ipr.link_lookup(ifname="lo")  # the socket is bound now, inside the namespace

    def close(self) -> None:
        self.ipr.close()

    def _index(self, name: str) -> int:
        found = self.ipr.link_lookup(ifname=name)
        if not found:
            raise EngineError(f"interface {name} not found in the container")
        return int(found[0])

    def loopback_up(self) -> None:
        with translated("cannot bring up lo"):
            self.ipr.link("set", index=self._index("lo"), state="up")

    def configure(self, ifname: str, address: str, prefixlen: int,
                  gateway: str | None) -> str:
        """Address, link up, default route (if ``gateway``); returns the MAC address."""
        with translated(f"cannot configure {ifname}"):
            idx = self._index(ifname)
            self.ipr.addr("add", index=idx, address=address, prefixlen=prefixlen)
            self.ipr.link("set", index=idx, state="up")
            if gateway:
                self.ipr.route("add", dst="0.0.0.0/0", gateway=gateway)
            return str(self.ipr.get_links(idx)[0].get_attr("IFLA_ADDRESS"))

    def interfaces(self) -> list[str]:
        return [str(link.get_attr("IFLA_IFNAME")) for link in self.ipr.get_links()]

    def delete(self, ifname: str) -> None:
        with translated(f"cannot remove {ifname}"):
            self.ipr.link("del", index=self._index(ifname))
