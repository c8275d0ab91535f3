"""Pull speed from a local registry: pydock (download + verify + unpack) against
``skopeo copy docker://… oci:…`` (download + verify only) and, when installed,
``podman pull`` (download + unpack).

The image (5 gzip layers, ~200 MB compressed, mostly incompressible file data) is
pushed once per run into Debian's ``docker-registry`` started on a free loopback
port with a temporary storage directory; every pull starts from an empty store.
One untimed round first warms the registry's page cache and each tool's own
start-up (pydock runs in-process; its imports would otherwise count once), then
``RUNS`` rounds are timed, interleaved so that disk and cache state hit all sides
alike (the order rotates each round), and the medians are reported, as seconds
and as MB/s of compressed image.

Each output is emptied right after its run (files truncated, which drops their
dirty pages) and the disk synced, so that no run pays for writing back what an
earlier one left behind; outputs are only deleted at the end: on ext4 without a journal, inodes
freed in the last seconds are skipped one by one when new ones are allocated
(``recently_deleted()``), so deleting the previous round's thousands of files
would slow down whichever tool creates many files next (pydock, podman), and
not skopeo, which creates a dozen.

A peer that is missing or fails is reported in a note instead of failing the
whole benchmark; a pydock failure is an error.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import random
import shutil
import signal
import socket
import stat
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from engine import Engine, EngineConfig
from engine.images import ingest
from engine.reference import parse
from engine.registry.types import RegistrySettings

REGISTRY = Path("/usr/bin/docker-registry")
RUNS = int(os.environ.get("PYDOCK_BENCH_PULL_RUNS", "5"))
LAYERS = 5
LAYER_MB = 40
TIMEOUT = 300  # seconds for one peer command: a hung peer must not hang the bench
NAME = f"pull {LAYERS} layers"


def run(report: list[dict]) -> None:
    if not REGISTRY.exists():
        report.append({"name": NAME, "note": "docker-registry not installed"})
        return
    work = Path(tempfile.mkdtemp(prefix="pydock-bench-pull-", dir="/var/tmp"))
    proc = None
    try:
        proc, port = _registry(work)
        ref = f"127.0.0.1:{port}/bench/pull:1"
        size = _push_image(work, ref)
        os.sync()  # the registry's copy of the image is on disk, not being written back
        sides = _sides(work, ref)
        times: dict[str, list[float]] = {name: [] for name in sides}
        errors: dict[str, str] = {}
        names = list(sides)
        for i in range(RUNS + 1):  # round 0 is the untimed warm-up
            for name in names[i % len(names):] + names[: i % len(names)]:
                if name in errors:
                    continue
                dest = work / "out" / f"{name}-{i}"
                try:
                    took = sides[name](dest)
                except (OSError, subprocess.SubprocessError) as err:
                    if name == "pydock":
                        raise
                    errors[name] = _describe(err)
                    continue
                finally:
                    _empty(dest)
                    os.sync()  # the next run starts with nothing left to write back
                if i:
                    times[name].append(took)
    finally:
        if proc is not None:
            _stop(proc)
        _remove(work)
    _report(report, size, times, errors)


def _sides(work: Path, ref: str) -> dict[str, Callable[[Path], float]]:
    sides: dict[str, Callable[[Path], float]] = {"pydock": lambda d: _time_pydock(d, ref)}
    if shutil.which("skopeo"):
        sides["skopeo"] = lambda d: _timed([
            "skopeo", "--insecure-policy", "copy", "-q", "--src-tls-verify=false",
            f"docker://{ref}", f"oci:{d}:1"])
    if shutil.which("podman"):
        # A root and runroot of its own: no state shared with other podman users. The
        # runroot must be short (podman refuses more than 50 characters).
        def podman(d: Path) -> float:
            run = Path(tempfile.mkdtemp(prefix="pydock-bench-", dir="/tmp"))
            try:
                return _timed(["podman", "--root", str(d / "root"), "--runroot", str(run),
                               "pull", "-q", "--tls-verify=false", ref])
            finally:
                _remove(run)
        sides["podman"] = podman
    return sides


def _report(report: list[dict], size: int, times: dict[str, list[float]],
            errors: dict[str, str]) -> None:
    mb = size / 1e6
    med = {name: statistics.median(t) for name, t in times.items() if t}
    rate = {name: mb / s for name, s in med.items()}
    pydock = med["pydock"]
    name = f"pull {mb:.0f}MB/{LAYERS} layers (pydock {rate['pydock']:.0f} MB/s)"
    summary = ", ".join(f"{n} {rate[n]:.0f} MB/s ({med[n]:.2f} s)" for n in med)
    print(f"  {NAME}, {mb:.0f} MB, median of {RUNS}: {summary}", file=sys.stderr)
    for n, t in times.items():
        print(f"    {n}: " + " ".join(f"{x:.2f}" for x in t), file=sys.stderr)
    labels = {"skopeo": "skopeo copy (no unpack)", "podman": "podman pull"}
    for peer, label in labels.items():
        row: dict = {"name": name, "pydock_s": round(pydock, 3),
                     "pydock_MBps": round(rate["pydock"]), "peer": label}
        if peer in med:
            row |= {"peer": f"{label} {rate[peer]:.0f} MB/s", "peer_s": round(med[peer], 3),
                    "peer_MBps": round(rate[peer]), "ratio": round(pydock / med[peer], 2),
                    "note": f"pydock {rate['pydock']:.0f} MB/s, {label} {rate[peer]:.0f} MB/s"}
        else:
            row |= {"peer_s": None, "ratio": None,
                    "note": errors.get(peer, f"{peer} not installed")}
        report.append(row)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _registry(work: Path) -> tuple[subprocess.Popen[bytes], int]:
    for _ in range(3):  # the free port may be taken before the registry binds it
        port = _free_port()
        cfg = {"version": 0.1, "log": {"level": "error", "accesslog": {"disabled": True}},
               "storage": {"filesystem": {"rootdirectory": str(work / "registry")}},
               "http": {"addr": f"127.0.0.1:{port}", "secret": os.urandom(8).hex()}}
        (work / "config.yml").write_text(json.dumps(cfg))
        proc = subprocess.Popen([str(REGISTRY), "serve", str(work / "config.yml")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and proc.poll() is None:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return proc, port
            time.sleep(0.05)
        _stop(proc)
    raise RuntimeError("docker-registry did not start")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _layer(i: int) -> bytes:
    rnd = random.Random(i)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for j in range(LAYER_MB):
            data = rnd.randbytes(1 << 20)
            ti = tarfile.TarInfo(f"layer{i}/file{j}")
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def _push_image(work: Path, ref: str) -> int:
    eng = _engine(work / "source")

    def sha(b: bytes) -> str:
        return "sha256:" + hashlib.sha256(b).hexdigest()

    raws = [_layer(i) for i in range(LAYERS)]
    gz = [gzip.compress(r, compresslevel=1, mtime=0) for r in raws]
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [sha(r) for r in raws]}}).encode()
    manifest = json.dumps({"schemaVersion": 2,
                           "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": sha(config), "size": len(config)},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                       "digest": sha(g), "size": len(g)} for g in gz]}).encode()
    for blob in (*gz, config, manifest):
        eng.content.write_bytes(blob)
    ingest.register(eng.images, sha(manifest), [parse(ref)])
    for _ in eng.images_push(ref):
        pass
    _remove(work / "source")
    return sum(len(g) for g in gz)


def _engine(root: Path) -> Engine:
    eng = Engine(EngineConfig(root=root))
    eng.registry_settings = RegistrySettings(certs_dir=root / "certs.d",
                                             docker_config_dir=root / "docker",
                                             max_concurrent_downloads=LAYERS)
    return eng


def _time_pydock(root: Path, ref: str) -> float:
    eng = _engine(root)
    t = time.perf_counter()
    for _ in eng.images_pull(ref):
        pass
    took = time.perf_counter() - t
    rec = eng.images.record(eng.images_resolve(ref))
    if len(rec.chain_ids) != LAYERS or not all(eng.snapshots.exists(c) for c in rec.chain_ids):
        raise RuntimeError(f"pydock pull of {ref} left an incomplete image")
    return took


def _timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   timeout=TIMEOUT)
    return time.perf_counter() - t


def _describe(err: BaseException) -> str:
    if isinstance(err, subprocess.CalledProcessError):
        tail = (err.stderr or b"").decode(errors="replace").strip().splitlines()[-1:]
        return f"{err.cmd[0]} failed (exit {err.returncode}): {' '.join(tail)[:200]}"
    if isinstance(err, subprocess.TimeoutExpired):
        return f"{err.cmd[0]} timed out after {err.timeout:.0f} s"
    return str(err)


def _remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _empty(path: Path) -> None:
    """Truncate every regular file under ``path``: frees the data, keeps the inodes."""
    for top, _, files in os.walk(path):
        for name in files:
            p = os.path.join(top, name)
            try:
                if stat.S_ISREG(os.lstat(p).st_mode):
                    os.truncate(p, 0)
            except OSError:
                pass
