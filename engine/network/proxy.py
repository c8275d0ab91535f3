"""The userland port proxy: host ``ip:port`` → container ``ip:port``, TCP and UDP.

It lives inside the container's monitor, on the monitor's own selector (no
thread, no extra process, no iptables): listeners are bound before the
container starts, so a port in use fails the start with a clear message, and
they close when the monitor ends, so nothing outlives the container. Each
socket's selector ``data`` is a callable taking the event mask; the monitor's
loop calls it. Standard library only.

TCP is spliced with bounded buffers per direction (a slow reader stops the
other side from being read: back-pressure instead of memory growth) and
half-closes are passed on. UDP keeps one connected socket per client address,
dropped after :data:`UDP_IDLE` seconds without traffic, as docker's proxy does.
"""

from __future__ import annotations

import contextlib
import errno
import selectors
import socket
import time
from collections.abc import Callable
from typing import Any

from ..errors import Conflict
from .ports import PortSpec

BUF_LIMIT = 256 * 1024
UDP_IDLE = 90.0
R, W = selectors.EVENT_READ, selectors.EVENT_WRITE


class PortInUse(Conflict):
    pass


class PortProxy:
    def __init__(self, target_ip: str, specs: list[PortSpec]) -> None:
        self.target_ip = target_ip
        self.specs = specs
        self.listeners: list[tuple[socket.socket, PortSpec]] = []
        self.sel: selectors.BaseSelector | None = None
        self.conns: set[_Tcp] = set()
        self.udp: list[_Udp] = []

    def open(self) -> dict[str, list[dict[str, str]]]:
        """Bind every published port; return docker's ``Ports`` with the real host ports."""
        ports: dict[str, list[dict[str, str]]] = {}
        try:
            for spec in self.specs:
                kind = socket.SOCK_STREAM if spec.proto == "tcp" else socket.SOCK_DGRAM
                s = socket.socket(socket.AF_INET, kind)
                self.listeners.append((s, spec))
                if spec.proto == "tcp":
                    # Rebinding right after a stop must not wait out TIME_WAIT; Linux
                    # still refuses a second listener on the same port.
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind((spec.host_ip, spec.host_port))
                except OSError as err:
                    what = f"{spec.host_ip}:{spec.host_port or 0}/{spec.proto}"
                    if err.errno == errno.EADDRINUSE:
                        raise PortInUse(f"Bind for {what} failed: port is already "
                                        "allocated") from None
                    raise PortInUse(f"Bind for {what} failed: {err.strerror}") from None
                if spec.proto == "tcp":
                    s.listen(128)
                s.setblocking(False)
                port = s.getsockname()[1]
                ports.setdefault(spec.key, []).append({"HostIp": spec.host_ip,
                                                       "HostPort": str(port)})
        except BaseException:
            self.close()
            raise
        return ports

    def attach(self, sel: selectors.BaseSelector) -> None:
        self.sel = sel
        for s, spec in self.listeners:
            target = (self.target_ip, spec.container_port)
            if spec.proto == "tcp":
                sel.register(s, R, self._acceptor(s, target))
            else:
                u = _Udp(self, s, target)
                self.udp.append(u)
                sel.register(s, R, u.on_listener)

    def _acceptor(self, s: socket.socket, target: tuple[str, int]) -> Callable[[int], None]:
        def accept(_mask: int) -> None:
            for _ in range(64):
                try:
                    client, _ = s.accept()
                except (BlockingIOError, InterruptedError):
                    return
                except OSError:
                    return
                self.conns.add(_Tcp(self, client, target))
        return accept

    def detach(self, sel: selectors.BaseSelector) -> None:
        """The container stopped: end live connections, keep the listeners bound."""
        for c in list(self.conns):
            c.close()
        for u in self.udp:
            u.close_flows()
        self.udp.clear()
        for s, _ in self.listeners:
            with contextlib.suppress(KeyError, ValueError):
                sel.unregister(s)
        self.sel = None

    def close(self) -> None:
        if self.sel is not None:
            self.detach(self.sel)
        for s, _ in self.listeners:
            s.close()
        self.listeners.clear()


class _Tcp:
    """One spliced connection: ``a`` is the host-side client, ``b`` the container."""

    def __init__(self, px: PortProxy, client: socket.socket, target: tuple[str, int]) -> None:
        self.px = px
        self.a = client
        self.b = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        for s in (self.a, self.b):
            s.setblocking(False)
        self.pending = {self.a: bytearray(), self.b: bytearray()}  # to write to the key
        self.eof = {self.a: False, self.b: False}  # the key sent FIN
        self.shut = {self.a: False, self.b: False}
        self.connected = False
        self.events: dict[socket.socket, int] = {}
        err = self.b.connect_ex(target)
        if err not in (0, errno.EINPROGRESS):
            self.close()
            return
        self._interest()

    def other(self, s: socket.socket) -> socket.socket:
        return self.b if s is self.a else self.a

    def on(self, s: socket.socket, mask: int) -> None:
        try:
            if s is self.b and not self.connected:
                if self.b.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    self.close()  # nothing listens in the container: reset the client
                    return
                self.connected = True
            if mask & R:
                try:
                    data: bytes | None = s.recv(262144)
                except (BlockingIOError, InterruptedError):
                    data = None
                if data:
                    self.pending[self.other(s)] += data
                elif data is not None:
                    self.eof[s] = True
            for t in (self.a, self.b):
                self._flush(t)
        except OSError:
            self.close()
            return
        if all(self.eof.values()) and not any(self.pending.values()):
            self.close()
            return
        self._interest()

    def _flush(self, s: socket.socket) -> None:
        """Write what is pending for ``s``; pass a half-close on once it is all out."""
        if s is self.b and not self.connected:
            return
        buf = self.pending[s]
        if buf:
            try:
                del buf[:s.send(buf)]
            except (BlockingIOError, InterruptedError):
                return
        if not buf and self.eof[self.other(s)] and not self.shut[s]:
            s.shutdown(socket.SHUT_WR)
            self.shut[s] = True

    def _interest(self) -> None:
        sel = self.px.sel
        if sel is None:
            return
        for s in (self.a, self.b):
            ev = 0
            readable = s is self.a or self.connected
            if readable and not self.eof[s] and len(self.pending[self.other(s)]) < BUF_LIMIT:
                ev |= R
            if self.pending[s] or (s is self.b and not self.connected):
                ev |= W
            old = self.events.get(s, 0)
            if ev == old:
                continue
            if old == 0:
                sel.register(s, ev, lambda m, s=s: self.on(s, m))
            elif ev == 0:
                sel.unregister(s)
            else:
                sel.modify(s, ev, lambda m, s=s: self.on(s, m))
            self.events[s] = ev

    def close(self) -> None:
        for s in (self.a, self.b):
            if self.events.get(s) and self.px.sel is not None:
                with contextlib.suppress(KeyError, ValueError):
                    self.px.sel.unregister(s)
            s.close()
        self.events.clear()
        self.px.conns.discard(self)


class _Udp:
    def __init__(self, px: PortProxy, listener: socket.socket, target: tuple[str, int]) -> None:
        self.px = px
        self.sock = listener
        self.target = target
        self.flows: dict[Any, list[Any]] = {}  # client address → [socket, last use]

    def on_listener(self, _mask: int) -> None:
        now = time.monotonic()
        for _ in range(64):
            try:
                data, addr = self.sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break
            flow = self.flows.get(addr)
            if flow is None:
                up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                up.setblocking(False)
                try:
                    up.connect(self.target)
                except OSError:
                    up.close()
                    continue
                flow = self.flows[addr] = [up, now]
                if self.px.sel is not None:
                    self.px.sel.register(up, R, lambda m, a=addr: self.on_reply(a))
            flow[1] = now
            with contextlib.suppress(OSError):
                flow[0].send(data)
        self._expire(now)

    def on_reply(self, addr: Any) -> None:
        flow = self.flows.get(addr)
        if flow is None:
            return
        flow[1] = time.monotonic()
        for _ in range(64):
            try:
                data = flow[0].recv(65535)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break  # ICMP port unreachable from the container: nobody listens yet
            with contextlib.suppress(OSError):
                self.sock.sendto(data, addr)

    def _expire(self, now: float) -> None:
        for addr, (up, last) in list(self.flows.items()):
            if now - last > UDP_IDLE:
                self._drop(addr, up)

    def _drop(self, addr: Any, up: socket.socket) -> None:
        if self.px.sel is not None:
            with contextlib.suppress(KeyError, ValueError):
                self.px.sel.unregister(up)
        up.close()
        self.flows.pop(addr, None)

    def close_flows(self) -> None:
        for addr, (up, _) in list(self.flows.items()):
            self._drop(addr, up)
