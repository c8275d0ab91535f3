"""Container start, ps and per-container cost, side by side with crun, podman and docker.

Peers come from ``../shared/peers/peers.sh`` (``busybox:local`` in docker and
podman, a crun bundle); a peer that cannot run is reported as such. Every
figure is a median over several runs in this one invocation.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PEERS = REPO.parent / "shared" / "peers" / "peers.sh"
CRUN_BUNDLE = Path("/var/lib/pydock-peers/bundle-crun")
PYDOCK = [str(Path(sys.executable).parent / "pydock")]
RUNS = 10


def _median(fn: Any, n: int = RUNS) -> float:
    fn()  # warm caches once
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _ok(argv: list[str], **kw: Any) -> None:
    r = subprocess.run(argv, capture_output=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed: {r.stderr.decode(errors='replace')[-300:]}")


def _peer_env() -> dict[str, str]:
    env = dict(os.environ)
    if PEERS.exists():
        out = subprocess.run(["bash", str(PEERS), "env"], capture_output=True, text=True)
        for line in out.stdout.splitlines():
            line = line.removeprefix("export ")
            if "=" in line:
                k, v = line.split("=", 1)
                env[k] = v.strip("'\"")
    return env


def _peer_time(name: str, argv: list[str], env: dict[str, str]) -> tuple[float | None, str]:
    if shutil.which(argv[0]) is None:
        return None, f"{name} not installed"
    try:
        return _median(lambda: _ok(argv, env=env)), ""
    except RuntimeError as err:
        return None, str(err)


def _crun_raw() -> tuple[float | None, str]:
    if shutil.which("crun") is None or not (CRUN_BUNDLE / "config.json").exists():
        return None, "crun or its bundle missing (run peers.sh image)"
    # crun 1.8 refuses hybrid cgroup hosts: hide the v2 mount in a private namespace.
    script = (f"mount --make-rslave / && umount /sys/fs/cgroup/unified 2>/dev/null; "
              f"cd {CRUN_BUNDLE} && exec crun run bench-$$")
    try:
        return _median(lambda: _ok(["unshare", "-m", "sh", "-c", script])), ""
    except RuntimeError as err:
        return None, str(err)


def _compile_bytecode() -> None:
    """Measure what an install runs: bytecode caches present (pip compiles them).

    With PYTHONDONTWRITEBYTECODE set (some shells and CI set it) and a source
    checkout, every CLI call and subprocess monitor would compile ~100 modules
    from source, which is a property of the checkout, not of pydock.
    """
    import compileall

    for pkg in ("engine", "app"):
        compileall.compile_dir(str(REPO / pkg), quiet=1)


def run(report: list[dict[str, Any]]) -> None:
    root = Path(tempfile.mkdtemp(prefix="pydock-bench-", dir="/var/tmp"))
    env = _peer_env()
    try:
        _compile_bytecode()
        _prepare(root)
        _bench_run(report, root, env)
        _bench_ps(report, root, env)
        _bench_monitor(report, root)
        _bench_concurrent(report, root)
    finally:
        ids = subprocess.run([*PYDOCK, "--root", str(root), "ps", "-aq", "--no-trunc"],
                             capture_output=True, text=True).stdout.split()
        if ids:
            subprocess.run([*PYDOCK, "--root", str(root), "rm", "-f", *ids], capture_output=True)
        from engine.runtime import zygote

        zygote.stop(root)
        shutil.rmtree(root, ignore_errors=True)


def _prepare(root: Path) -> None:
    sys.path.insert(0, str(REPO))
    from tests.conftest import busybox_rootfs_tar

    tar = root / "busybox.tar"
    tar.write_bytes(busybox_rootfs_tar())
    _ok([*PYDOCK, "--root", str(root), "import", str(tar), "busybox:local"])


def _bench_run(report: list[dict[str, Any]], root: Path, env: dict[str, str]) -> None:
    from engine import Engine, EngineConfig
    from engine.types import CreateOptions

    eng = Engine(EngineConfig(root=root))

    def facade() -> None:
        cid = eng.containers_create(CreateOptions(image="busybox:local", command=("true",),
                                                  auto_remove=True))
        eng.containers_start(cid)
        while (root / "containers" / cid).exists():
            time.sleep(0.0005)

    t_facade = _median(facade)
    t_crun, note = _crun_raw()
    report.append({"name": "run --rm true, facade", "pydock_s": round(t_facade, 4),
                   "peer": "crun run (raw)", "peer_s": t_crun and round(t_crun, 4),
                   "ratio": t_crun and round(t_facade / t_crun, 2), "note": note})
    cli = [*PYDOCK, "--root", str(root), "run", "--rm", "--network", "none",
           "busybox:local", "true"]
    t_cli = _median(lambda: _ok(cli))
    for peer in ("podman", "docker"):
        t_peer, note = _peer_time(peer, [peer, "run", "--rm", "--network", "none",
                                         "busybox:local", "true"], env)
        report.append({"name": "run --rm true, CLI", "pydock_s": round(t_cli, 4),
                       "peer": peer, "peer_s": t_peer and round(t_peer, 4),
                       "ratio": t_peer and round(t_cli / t_peer, 2), "note": note})


def _rss_of(argv: list[str], env: dict[str, str] | None = None) -> int:
    """Peak RSS (KiB) of one run of ``argv``, from GNU time."""
    r = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], capture_output=True, text=True,
                       env=env)
    return int(r.stderr.strip().splitlines()[-1])


def _bench_ps(report: list[dict[str, Any]], root: Path, env: dict[str, str]) -> None:
    for i in range(50):
        _ok([*PYDOCK, "--root", str(root), "create", "--name", f"ps{i}", "busybox:local",
             "true"])
    ps = [*PYDOCK, "--root", str(root), "ps", "-a"]
    t_ps = _median(lambda: _ok(ps))
    have_time = Path("/usr/bin/time").exists()
    rss = _rss_of(ps) if have_time else None
    t_peer, note, peer_rss = None, "podman not installed", None
    if shutil.which("podman"):
        names = [f"pydock-bench-ps{i}" for i in range(50)]
        for n in names:
            subprocess.run(["podman", "create", "--name", n, "--network", "none",
                            "busybox:local", "true"], capture_output=True, env=env)
        try:
            t_peer, note = _peer_time("podman", ["podman", "ps", "-a"], env)
            peer_rss = _rss_of(["podman", "ps", "-a"], env) if have_time else None
        finally:
            subprocess.run(["podman", "rm", "-f", *names], capture_output=True, env=env)
    report.append({"name": "ps -a, 50 containers", "pydock_s": round(t_ps, 4),
                   "peer": "podman", "peer_s": t_peer and round(t_peer, 4),
                   "ratio": t_peer and round(t_ps / t_peer, 2), "note": note,
                   "pydock_peak_rss_kib": rss, "peer_peak_rss_kib": peer_rss})
    subprocess.run([*PYDOCK, "--root", str(root), "rm", *[f"ps{i}" for i in range(50)]],
                   capture_output=True)


def _smaps(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, value = line.split(":", 1)
        out[key] = int(value.split()[0])
    return out


def _monitor_pid(root: Path, name: str) -> int:
    import json

    for d in (root / "containers").iterdir():
        try:
            rec = json.loads((d / "state.json").read_text())
        except (OSError, ValueError):
            continue
        if rec["name"] == name:
            return int(rec["state"]["monitor_pid"])
    raise RuntimeError(f"no container {name}")


def _bench_monitor(report: list[dict[str, Any]], root: Path) -> None:
    """PSS of an idle container's monitor, alone and with nine more idle containers.

    Monitors forked by the zygote share its pages: PSS splits them among the
    zygote and every monitor, so the per-container cost falls towards the
    monitor's private pages (USS) as containers are added.
    """
    def idle(name: str) -> None:
        _ok([*PYDOCK, "--root", str(root), "run", "-d", "--name", name, "busybox:local",
             "sleep", "1000"])

    idle("idle0")
    time.sleep(1.0)
    one = _smaps(_monitor_pid(root, "idle0"))
    for i in range(1, 10):
        idle(f"idle{i}")
    time.sleep(1.0)
    ten = [_smaps(_monitor_pid(root, f"idle{i}")) for i in range(10)]
    pss10 = statistics.median(s["Pss"] for s in ten)
    shared = _helpers_pss(root)  # the zygote and its spare, which no container owns
    uss = one["Private_Clean"] + one["Private_Dirty"]
    # The zygote exits after 5 idle minutes (and its spare with it): then the pages
    # the monitors inherited from it are shared by the monitors alone.
    from engine.runtime import zygote

    zygote.stop(root)
    time.sleep(1.0)
    pss10_gone = statistics.median(_smaps(_monitor_pid(root, f"idle{i}"))["Pss"]
                                   for i in range(10))
    subprocess.run([*PYDOCK, "--root", str(root), "rm", "-f", *[f"idle{i}" for i in range(1, 10)]],
                   capture_output=True)
    time.sleep(0.5)
    alone_gone = _smaps(_monitor_pid(root, "idle0"))["Pss"]
    report.append({"name": "idle container, monitor PSS (KiB)", "pydock_s": one["Pss"],
                   "peer": "conmon / docker shim (README figures)", "peer_s": 369,
                   "ratio": round(one["Pss"] / 369, 2), "monitor_uss_kib": uss,
                   "monitor_pss_with_10_idle_kib": pss10,
                   "zygote_and_spare_pss_kib": shared,
                   "per_container_pss_with_10_incl_zygote_kib":
                       round((sum(s["Pss"] for s in ten) + shared) / 10),
                   "monitor_pss_with_10_zygote_gone_kib": pss10_gone,
                   "monitor_pss_alone_zygote_gone_kib": alone_gone,
                   "note": "target: at most 3072 KiB; docker's shim 3.3 MiB. With one "
                           "container the zygote's shared pages are split three ways "
                           "(zygote, spare, monitor); monitor_pss_with_10_idle_kib is the "
                           "median over 10; *_zygote_gone: after the zygote's idle exit, "
                           "when the monitors alone share what they inherited"})
    subprocess.run([*PYDOCK, "--root", str(root), "rm", "-f", "idle0"], capture_output=True)


def _helpers_pss(root: Path) -> int:
    """PSS (KiB) of the root's zygote and its spare monitor, found by command line."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if str(root).encode() in cmd and (b"engine.runtime.zygote_server" in cmd
                                              or b"(spare)" in cmd):
                total += _smaps(int(pid))["Pss"]
        except OSError:
            continue
    return total


def _bench_concurrent(report: list[dict[str, Any]], root: Path) -> None:
    def one(i: int) -> int:
        return subprocess.run([*PYDOCK, "--root", str(root), "run", "-d", "--name",
                               f"c{i}", "busybox:local", "sleep", "600"],
                              capture_output=True).returncode

    t0 = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(one, range(100)))
    elapsed = time.perf_counter() - t0
    out = subprocess.run([*PYDOCK, "--root", str(root), "ps", "--format", "json"],
                         capture_output=True, text=True).stdout.splitlines()
    running = sum('"State":"running"' in line for line in out)
    names = {line.split('"Names":"')[1].split('"')[0] for line in out if '"Names"' in line}
    report.append({"name": "100 x run -d from 4 processes", "pydock_s": round(elapsed, 2),
                   "peer": "", "peer_s": None, "ratio": None,
                   "note": f"{codes.count(0)} started, {running} running, "
                           f"{len(names)} unique names"})
