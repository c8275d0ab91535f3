"""A private network namespace per test, so network tests never touch the host's network.

``netns`` makes an empty namespace (only ``lo``, brought up) bound to a file
under the test run's directory, and every engine call of a network test runs
inside it through ``nsenter --net=FILE``: bridges, veth pairs, addresses and
published ports all live there and vanish with it. If the namespace cannot be
made the test is skipped; nothing ever falls back to the host namespace.
Forwarding stays off (a new namespace starts with ``ip_forward=0``) and no
traffic leaves it: clients connect to 127.0.0.1 or to container addresses.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.integration.runtime_helpers import PYDOCK, REPO

MNT_DETACH = 2
_libc = ctypes.CDLL(None, use_errno=True)


@dataclass
class NetNS:
    path: Path

    def wrap(self, *cmd: str) -> list[str]:
        return ["nsenter", f"--net={self.path}", "--", *cmd]

    def run(self, *cmd: str, timeout: float = 60, input: str | None = None,  # noqa: A002
            ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.wrap(*cmd), capture_output=True, text=True, timeout=timeout,
                              cwd=REPO, input=input)

    def pydock(self, root: Path, *args: str, timeout: float = 60
               ) -> subprocess.CompletedProcess[str]:
        return self.run(*PYDOCK, "--root", str(root), *args, timeout=timeout)

    def popen_pydock(self, root: Path, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(self.wrap(*PYDOCK, "--root", str(root), *args), cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def python(self, code: str, timeout: float = 30) -> str:
        """Run ``code`` with the test's interpreter inside the namespace; its stdout."""
        r = self.run(sys.executable, "-c", code, timeout=timeout)
        assert r.returncode == 0, r.stderr
        return r.stdout

    def links(self) -> list[str]:
        """Interface names in the namespace (``if_nameindex`` run inside it)."""
        out = self.python("import socket; print(' '.join(n for _, n in socket.if_nameindex()))")
        return out.split()

    def veths(self) -> list[str]:
        return [n for n in self.links() if n.startswith("pdv")]


def _make(path: Path) -> None:
    path.touch()
    r = subprocess.run(["unshare", f"--net={path}", "true"], capture_output=True, text=True)
    if r.returncode != 0:
        path.unlink(missing_ok=True)
        pytest.skip(f"cannot create a network namespace: {r.stderr.strip()}")
    ns = NetNS(path)
    code = ("import fcntl, socket, struct\n"
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "req = struct.pack('16sH14x', b'lo', 0)\n"
            "flags = struct.unpack('16sH14x', fcntl.ioctl(s, 0x8913, req))[1]\n"
            "fcntl.ioctl(s, 0x8914, struct.pack('16sH14x', b'lo', flags | 1))\n"
            "print(open('/proc/sys/net/ipv4/ip_forward').read().strip())\n")
    # Safety: forwarding must be off in the namespace the engine is tested in.
    assert ns.python(code).strip() == "0"


def _destroy(path: Path) -> None:
    for _ in range(4):
        if _libc.umount2(str(path).encode(), MNT_DETACH) != 0:
            break
    path.unlink(missing_ok=True)


APPLETS = ("ping", "nc", "ip", "httpd", "wget", "nslookup", "route", "ifconfig", "dd")


def image_tar() -> bytes:
    """The test busybox rootfs plus the network applets' links (``exec ctr ping`` works)."""
    import io
    import tarfile

    from tests.conftest import busybox_rootfs_tar

    buf = io.BytesIO(busybox_rootfs_tar())
    with tarfile.open(fileobj=buf, mode="a") as tf:
        for applet in APPLETS:
            ti = tarfile.TarInfo(f"bin/{applet}")
            ti.type, ti.linkname, ti.mtime = tarfile.SYMTYPE, "busybox", 1700000000
            tf.addfile(ti)
    return buf.getvalue()


@contextlib.contextmanager
def private_netns(test_base: Path) -> Iterator[NetNS]:
    """Use from a fixture: ``with private_netns(test_base) as ns: yield ns``."""
    path = test_base / f"netns-{os.getpid()}-{os.urandom(3).hex()}"
    _make(path)
    try:
        yield NetNS(path)
    finally:
        _destroy(path)


@contextlib.contextmanager
def engine_in(root: Path, tmp_path: Path, ns: NetNS) -> Iterator[tuple[Path, NetNS]]:
    """An engine root with the busybox image, used only through ``ns``; emptied after."""
    tar = tmp_path / "busybox-net.tar"
    tar.write_bytes(image_tar())
    r = ns.pydock(root, "import", "-c", 'CMD ["sh"]', "-c", "EXPOSE 80 7/udp", str(tar),
                  "busybox:local")
    assert r.returncode == 0, r.stderr
    try:
        yield root, ns
    finally:
        ids = ns.pydock(root, "ps", "-aq", "--no-trunc").stdout.split()
        if ids:
            ns.pydock(root, "rm", "-f", *ids)


def host_links() -> list[str]:
    """Links of the *host* namespace that look like ours: there must never be any."""
    return sorted(n for n in os.listdir("/sys/class/net") if n.startswith(("pdv", "pd-",
                                                                           "pydock")))


def container_ip(ns: NetNS, root: Path, name: str, network: str) -> str:
    r = ns.pydock(root, "inspect", "--type", "container", name)
    assert r.returncode == 0, r.stderr
    return str(json.loads(r.stdout)[0]["NetworkSettings"]["Networks"][network]["IPAddress"])


def leases(root: Path) -> dict[str, Any]:
    out = {}
    for p in (root / "ipam").glob("*.json"):
        out[p.stem] = json.loads(p.read_text()).get("leases", {})
    return out


def netns_mounts(root: Path) -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return [ln.split()[4] for ln in f if ln.split()[4].startswith(str(root / "netns"))]


def wait_for(check: Any, timeout: float = 10.0, what: str = "") -> None:
    end = time.time() + timeout
    while time.time() < end:
        with contextlib.suppress(AssertionError):
            if check():
                return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or check}")
