"""``pydock build`` of a small Dockerfile, cold and fully cached, beside docker and podman.

The Dockerfile is the issue's: ``FROM busybox``, two RUN, COPY, ENV, CMD. Cold
means ``--no-cache`` (every RUN is a real container); cached means a rebuild
where every step hits the cache. Everything goes through the CLIs, peers with
``--network none`` (they must never set up networking here). Docker's legacy
builder is ``DOCKER_BUILDKIT=0``; BuildKit needs the buildx plugin and is
reported as missing when it is not installed. Figures are medians.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.containers import PYDOCK, _peer_env

DOCKERFILE = """\
FROM busybox:local
RUN echo one > /one
RUN echo two > /two
COPY f.txt /f.txt
ENV GREETING=hello
CMD ["sh"]
"""
COLD_RUNS = 5
CACHED_RUNS = 10


def _time(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    t0 = time.perf_counter()
    r = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=300)
    elapsed = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{argv[0]} build failed: {(r.stderr or r.stdout)[-300:]}")
    return elapsed, r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""


def _series(argv_cold: list[str], argv_cached: list[str], env: dict[str, str], cwd: Path,
            ids: list[str]) -> tuple[float, float]:
    cold = []
    for _ in range(COLD_RUNS):
        t, image = _time(argv_cold, env, cwd)
        cold.append(t)
        ids.append(image)
    _time(argv_cached, env, cwd)  # fill the cache
    cached = []
    for _ in range(CACHED_RUNS):
        t, image = _time(argv_cached, env, cwd)
        cached.append(t)
        ids.append(image)
    return statistics.median(cold), statistics.median(cached)


def _peers(env: dict[str, str], ctx: Path) -> dict[str, tuple[float | None, float | None, str]]:
    out: dict[str, tuple[float | None, float | None, str]] = {}
    docker = shutil.which("docker")
    peers: list[tuple[str, list[str], dict[str, str], list[str]]] = []
    if docker:
        legacy = dict(env, DOCKER_BUILDKIT="0")
        peers.append(("docker (legacy builder)", [docker, "build"], legacy, [docker, "rmi", "-f"]))
        has_buildx = subprocess.run([docker, "buildx", "version"], capture_output=True,
                                    env=env).returncode == 0
        if has_buildx:
            peers.append(("docker (BuildKit)", [docker, "build"], dict(env, DOCKER_BUILDKIT="1"),
                          [docker, "rmi", "-f"]))
        else:
            out["docker (BuildKit)"] = (None, None, "buildx plugin not installed")
    else:
        out["docker"] = (None, None, "docker not installed")
    podman = shutil.which("podman")
    if podman:
        peers.append(("podman", [podman, "build"], env, [podman, "rmi", "-f"]))
    else:
        out["podman"] = (None, None, "podman not installed")
    for name, build, penv, rmi in peers:
        ids: list[str] = []
        flags = ["--network", "none", "-q", "-t", "pydock-bench-build:latest", "."]
        try:
            cold, cached = _series([*build, "--no-cache", *flags], [*build, *flags], penv,
                                   ctx, ids)
            out[name] = (cold, cached, "")
        except (RuntimeError, subprocess.TimeoutExpired) as err:
            out[name] = (None, None, str(err)[:200])
        finally:
            wanted = sorted({i for i in ids if i} | {"pydock-bench-build:latest"})
            subprocess.run([*rmi, *wanted], capture_output=True, env=penv)
    return out


def run(report: list[dict[str, Any]]) -> None:
    root = Path(tempfile.mkdtemp(prefix="pydock-bench-build-", dir="/var/tmp"))
    ctx = root / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    (ctx / "f.txt").write_text("payload\n")
    try:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.conftest import busybox_rootfs_tar

        tar = root / "busybox.tar"
        tar.write_bytes(busybox_rootfs_tar())
        store = root / "store"
        subprocess.run([*PYDOCK, "--root", str(store), "import", "-c", 'CMD ["sh"]', str(tar),
                        "busybox:local"], check=True, capture_output=True)
        base = [*PYDOCK, "--root", str(store), "build", "--network", "none", "-q", "-t",
                "bench:latest", "."]
        ids: list[str] = []
        cold, cached = _series([*base[:-1], "--no-cache", "."], base, dict(os.environ), ctx,
                               ids)
        for name, (p_cold, p_cached, note) in _peers(_peer_env(), ctx).items():
            for label, mine, theirs in (("cold (--no-cache)", cold, p_cold),
                                        ("fully cached", cached, p_cached)):
                report.append({"name": f"build 6-line Dockerfile, {label}",
                               "pydock_s": round(mine, 3), "peer": name,
                               "peer_s": theirs and round(theirs, 3),
                               "ratio": theirs and round(mine / theirs, 2), "note": note})
    finally:
        shutil.rmtree(root, ignore_errors=True)
