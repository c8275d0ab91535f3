"""Network costs, measured inside a private network namespace (never the host's).

* start: ``run --rm --network <user net> true`` against ``--network none`` (the
  set-up helper, veth, addresses, hosts files and teardown);
* throughput: a 64 MB download from busybox httpd through a published port
  (the monitor's userland proxy) against a direct connection to the container's
  address.

Docker is listed as the peer but not run: ``peers.sh`` starts dockerd with
``--bridge=none --iptables=false`` so that nothing touches the host network,
which leaves it no bridge networking to compare with.
"""

from __future__ import annotations

import ctypes
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PYDOCK = [str(Path(sys.executable).parent / "pydock")]
RUNS = 7
SIZE = 64 << 20


def _median(fn: Any, n: int = RUNS) -> float:
    fn()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run(report: list[dict[str, Any]]) -> None:
    if os.geteuid() != 0:
        report.append({"name": "network: start on a user network", "note": "needs root"})
        return
    with tempfile.TemporaryDirectory(prefix="pydock-bench-net-", dir="/var/tmp") as tmp:
        ns = Path(tmp) / "netns"
        ns.touch()
        subprocess.run(["unshare", f"--net={ns}", "true"], check=True)
        try:
            _bench(Path(tmp) / "root", ns, report)
        finally:
            ctypes.CDLL(None).umount2(str(ns).encode(), 2)


def _bench(root: Path, ns: Path, report: list[dict[str, Any]]) -> None:
    from tests.integration.netns_helpers import image_tar

    def pd(*args: str, check: bool = True) -> str:
        r = subprocess.run(["nsenter", f"--net={ns}", "--", *PYDOCK, "--root", str(root),
                            *args], capture_output=True, text=True, cwd=REPO)
        if check and r.returncode != 0:
            raise RuntimeError(f"pydock {args[0]} failed: {r.stderr[-300:]}")
        return r.stdout

    def in_ns(code: str) -> str:
        return subprocess.run(["nsenter", f"--net={ns}", "--", sys.executable, "-c", code],
                              capture_output=True, text=True, check=True).stdout

    root.mkdir()
    tar = root.parent / "bb.tar"
    tar.write_bytes(image_tar())
    pd("import", "-c", 'CMD ["sh"]', str(tar), "busybox:local")
    in_ns("import fcntl, socket, struct\ns = socket.socket(2, 2)\n"
          "f = struct.unpack('16sH14x', fcntl.ioctl(s, 0x8913, struct.pack('16sH14x', b'lo', 0)))"
          "[1]\nfcntl.ioctl(s, 0x8914, struct.pack('16sH14x', b'lo', f | 1))")
    pd("network", "create", "benchnet")
    none = _median(lambda: pd("run", "--rm", "--network", "none", "busybox:local", "true"))
    user = _median(lambda: pd("run", "--rm", "--network", "benchnet", "busybox:local", "true"))
    report.append({"name": "network: run --rm true, user network", "pydock_s": user,
                   "peer": "pydock --network none", "peer_s": none, "ratio": user / none,
                   "note": "docker not compared: peers run with --bridge=none"})
    pd("run", "-d", "--name", "web", "--network", "benchnet", "-p", "127.0.0.1::80",
       "busybox:local", "sh", "-c",
       f"head -c {SIZE} /dev/zero > /tmp/big && exec busybox httpd -f -p 80 -h /tmp")
    try:
        info = json.loads(pd("inspect", "web"))[0]["NetworkSettings"]
        port = info["Ports"]["80/tcp"][0]["HostPort"]
        ip = info["Networks"]["benchnet"]["IPAddress"]
        # A raw client with large reads: urllib's own overhead would hide the proxy's.
        code = ("import socket, sys, time\n"
                "host, port = sys.argv[1], int(sys.argv[2])\n"
                # Ready means httpd answers, not just that the port accepts: the
                # proxy accepts at once and closes when the backend is not up yet.
                "for _ in range(100):\n"
                "    try:\n"
                "        p = socket.create_connection((host, port), timeout=5)\n"
                "        p.sendall(b'GET /missing HTTP/1.0\\r\\n\\r\\n')\n"
                "        if p.recv(64): p.close(); break\n"
                "        p.close()\n"
                "    except OSError: pass\n"
                "    time.sleep(0.1)\n"
                "c = socket.create_connection((host, port))\n"
                "c.sendall(b'GET /big HTTP/1.0\\r\\n\\r\\n')\n"
                "t = time.perf_counter(); n = 0\n"
                "while chunk := c.recv(1 << 20): n += len(chunk)\n"
                "if n < 1024: sys.exit(f'only {n} bytes from {host}:{port}')\n"
                "print(n / (time.perf_counter() - t))")

        def rate(host: str, port: str) -> float:
            out = subprocess.run(["nsenter", f"--net={ns}", "--", sys.executable, "-c", code,
                                  host, port], capture_output=True, text=True, check=True).stdout
            return float(out)

        proxied = statistics.median(rate("127.0.0.1", port) for _ in range(5))
        direct = statistics.median(rate(ip, "80") for _ in range(5))
        report.append({"name": "network: 64 MB through -p (s per GB)", "pydock_s": 1e9 / proxied,
                       "peer": "direct to container IP", "peer_s": 1e9 / direct,
                       "ratio": direct / proxied,
                       "note": f"{proxied / 1e6:.0f} vs {direct / 1e6:.0f} MB/s"})
    finally:
        pd("rm", "-f", "web", check=False)
        pd("network", "rm", "benchnet", check=False)
