"""Pull speed from a local registry: pydock (download + verify + unpack) against
``skopeo copy docker://… oci:…`` (download + verify only) and, when installed,
``podman pull`` (download + unpack).

The image (5 gzip layers, ~200 MB compressed, mostly incompressible file data) is
pushed once per run into Debian's ``docker-registry`` started on a free loopback
port with a temporary storage directory; every pull starts from an empty store.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

from engine import Engine, EngineConfig
from engine.images import ingest
from engine.reference import parse
from engine.registry.types import RegistrySettings

REGISTRY = Path("/usr/bin/docker-registry")
RUNS = 3
LAYERS = 5
LAYER_MB = 40


def run(report: list[dict]) -> None:
    if not REGISTRY.exists():
        report.append({"name": "pull 200MB/5 layers", "note": "docker-registry not installed"})
        return
    work = Path(tempfile.mkdtemp(prefix="pydock-bench-pull-", dir="/var/tmp"))
    proc, port = _registry(work)
    try:
        ref = f"127.0.0.1:{port}/bench/pull:1"
        size = _push_image(work, ref)
        mine, sko, pod = [], [], []
        for i in range(RUNS):  # interleaved, so disk and cache state hit all sides alike
            mine.append(_time_pydock(work / f"pydock-{i}", ref))
            sko.append(_timed(["skopeo", "--insecure-policy", "copy", "-q",
                               "--src-tls-verify=false", f"docker://{ref}",
                               f"oci:{work}/skopeo-{i}:1"]))
            if shutil.which("podman"):
                pod.append(_timed(["podman", "--root", str(work / f"podman-{i}"), "pull", "-q",
                                   "--tls-verify=false", ref]))
            for d in work.glob("*-[0-9]*"):
                shutil.rmtree(d, ignore_errors=True)
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    mb = size / 1e6
    pydock = statistics.median(mine)
    for peer, times in (("skopeo copy (no unpack)", sko), ("podman pull", pod)):
        if not times:
            continue
        peer_s = statistics.median(times)
        report.append({"name": f"pull {mb:.0f}MB/{LAYERS} layers", "pydock_s": round(pydock, 3),
                       "peer": peer, "peer_s": round(peer_s, 3),
                       "ratio": round(pydock / peer_s, 2),
                       "note": f"pydock {mb / pydock:.0f} MB/s, peer {mb / peer_s:.0f} MB/s"})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _registry(work: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    cfg = {"version": 0.1, "log": {"level": "error", "accesslog": {"disabled": True}},
           "storage": {"filesystem": {"rootdirectory": str(work / "registry")}},
           "http": {"addr": f"127.0.0.1:{port}", "secret": os.urandom(8).hex()}}
    (work / "config.yml").write_text(json.dumps(cfg))
    proc = subprocess.Popen([str(REGISTRY), "serve", str(work / "config.yml")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, port
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("docker-registry did not start")


def _layer(i: int) -> bytes:
    rnd = __import__("random").Random(i)
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
    return time.perf_counter() - t


def _timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t
