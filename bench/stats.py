"""Stats: one sampling pass, ``stats --no-stream`` and streaming CPU, beside docker and podman.

Issue 7's targets: a pass over 100 running containers costs at most 20 ms of CPU;
``stats --no-stream`` for 50 idle containers is compared with docker's and
podman's; the CPU a 30-second ``stats`` stream burns (the front end's own, since
there is no daemon) with docker's daemons (about 20 % of a core) and podman's
(about 1.2 %). Peers come from ``../shared/peers/peers.sh`` when installed.
"""

from __future__ import annotations

import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.containers import PYDOCK, _median, _ok, _peer_env, _peer_time, _prepare

STREAM_S = 30.0


def run(report: list[dict[str, Any]]) -> None:
    root = Path(tempfile.mkdtemp(prefix="pydock-bench-stats-", dir="/var/tmp"))
    env = _peer_env()
    cli = [*PYDOCK, "--root", str(root)]
    try:
        _prepare(root)
        started = 0
        for count in (10, 50):
            for i in range(started, count):
                _ok([*cli, "run", "-d", "--name", f"st{i}", "busybox:local", "sleep", "86400"])
            started = count
            _no_stream(report, cli, count, env)
        _stream_cpu(report, cli)
        for i in range(started, 100):
            _ok([*cli, "run", "-d", "--name", f"st{i}", "busybox:local", "sleep", "86400"])
        _pass_cpu(report, root)
    finally:
        ids = subprocess.run([*cli, "ps", "-aq", "--no-trunc"], capture_output=True,
                             text=True).stdout.split()
        if ids:
            subprocess.run([*cli, "rm", "-f", *ids], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _no_stream(report: list[dict[str, Any]], cli: list[str], count: int,
               env: dict[str, str]) -> None:
    argv = [*cli, "stats", "--no-stream"]
    warm = _median(lambda: _ok(argv))  # each run pairs with the previous run's reading
    cache = Path(cli[2]) / "stats-cache.json"

    def cold() -> None:
        cache.unlink(missing_ok=True)
        _ok(argv)

    cold_s = _median(cold)
    for peer in ("podman", "docker"):
        # Peers need as many running containers; without them the figure is README's.
        t_peer, note = (None, f"{peer}: see shared/peers/README.md figures")
        if shutil.which(peer) and _peer_running(peer, count, env):
            t_peer, note = _peer_time(peer, [peer, "stats", "--no-stream"], env)
            _peer_cleanup(peer, env)
        report.append({"name": f"stats --no-stream, {count} containers", "pydock_s":
                       round(warm, 4), "peer": peer, "peer_s": t_peer and round(t_peer, 4),
                       "ratio": t_peer and round(warm / t_peer, 2),
                       "note": f"{note}; cold (no previous reading, two reads 0.1 s apart) "
                               f"{cold_s * 1000:.0f} ms"})


def _peer_running(peer: str, count: int, env: dict[str, str]) -> bool:
    for i in range(count):
        r = subprocess.run([peer, "run", "-d", "--network", "none", "--name",
                            f"pydock-bench-st{i}", "busybox:local", "sleep", "86400"],
                           capture_output=True, env=env)
        if r.returncode != 0:
            _peer_cleanup(peer, env)
            return False
    return True


def _peer_cleanup(peer: str, env: dict[str, str]) -> None:
    # Only names that exist: podman's rm removes nothing when one name is unknown.
    out = subprocess.run([peer, "ps", "-a", "--format", "{{.Names}}"], capture_output=True,
                         text=True, env=env).stdout.split()
    names = [n for n in out if n.startswith("pydock-bench-st")]
    if names:
        subprocess.run([peer, "rm", "-f", *names], capture_output=True, env=env)


def _stream_cpu(report: list[dict[str, Any]], cli: list[str]) -> None:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen([*cli, "stats"], stdout=subprocess.DEVNULL)
    time.sleep(STREAM_S)
    proc.terminate()  # not SIGINT: a background job may have it ignored
    proc.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    share = cpu / STREAM_S * 100
    report.append({"name": "stats stream 30 s, 50 containers: % of a core", "pydock_s":
                   round(share, 2), "peer": "podman (README figure)", "peer_s": 1.2,
                   "ratio": round(share / 1.2, 2),
                   "note": f"docker about 20 %; includes the CLI's start-up ({cpu:.2f} s CPU)"})


def _pass_cpu(report: list[dict[str, Any]], root: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from engine import Engine, EngineConfig
    from engine.stats.sampler import Target

    eng = Engine(EngineConfig(root=root))
    targets = [Target(c.id, c.name, c.pid) for c in eng.containers_list()]
    sampler = eng._sampler
    sampler.read(targets)
    costs = []
    for _ in range(20):
        c0 = time.process_time()
        sampler.read(targets)
        costs.append(time.process_time() - c0)
    c0 = time.process_time()
    for _ in range(10):
        eng.containers_stats()
    facade = (time.process_time() - c0) / 10
    report.append({"name": f"one sampling pass, {len(targets)} containers: CPU s",
                   "pydock_s": round(statistics.median(costs), 4), "peer": "target",
                   "peer_s": 0.020, "ratio": round(statistics.median(costs) / 0.020, 2),
                   "note": f"facade call incl. record refresh: {facade * 1000:.1f} ms CPU"})
