"""``pydock build`` of a small Dockerfile, cold and fully cached, beside docker and podman.

The Dockerfile is the issue's: ``FROM busybox``, two RUN, COPY, ENV, CMD. Cold
means ``--no-cache`` (every RUN is a real container); cached means a rebuild
where every step hits the cache. Everything goes through the CLIs, peers with
``--network none`` (they must never set up networking here). Docker's legacy
builder is ``DOCKER_BUILDKIT=0``; BuildKit needs the buildx plugin and is
reported as missing when it is not installed. Rounds are interleaved (each
tool once per round) so every tool sees the same moments of a shared machine;
figures are medians.
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
TAG = "pydock-bench-build:latest"


class Tool:
    """One builder under test: its command, its timings, its images to clean up."""

    def __init__(self, name: str, build: list[str], env: dict[str, str],
                 rmi: list[str] | None) -> None:
        self.name, self.build, self.env, self.rmi = name, build, env, rmi
        self.cold: list[float] = []
        self.cached: list[float] = []
        self.ids: list[str] = []
        self.error = ""

    def once(self, ctx: Path, *, cold: bool) -> None:
        if self.error:
            return
        argv = [*self.build, *(["--no-cache"] if cold else []), "--network", "none", "-q",
                "-t", TAG, "."]
        t0 = time.perf_counter()
        try:
            r = subprocess.run(argv, capture_output=True, text=True, env=self.env, cwd=ctx,
                               timeout=300)
        except subprocess.TimeoutExpired:
            self.error = "timed out"
            return
        elapsed = time.perf_counter() - t0
        if r.returncode != 0:
            self.error = (r.stderr or r.stdout)[-200:]
            return
        (self.cold if cold else self.cached).append(elapsed)
        self.ids += r.stdout.split()[-1:]

    def cleanup(self) -> None:
        if self.rmi:
            wanted = sorted({i for i in self.ids if i} | {TAG})
            subprocess.run([*self.rmi, *wanted], capture_output=True, env=self.env)


def _peers(env: dict[str, str]) -> tuple[list[Tool], dict[str, str]]:
    tools: list[Tool] = []
    missing: dict[str, str] = {}
    docker = shutil.which("docker")
    if docker:
        tools.append(Tool("docker (legacy builder)", [docker, "build"],
                          dict(env, DOCKER_BUILDKIT="0"), [docker, "rmi", "-f"]))
        if subprocess.run([docker, "buildx", "version"], capture_output=True,
                          env=env).returncode == 0:
            tools.append(Tool("docker (BuildKit)", [docker, "build"],
                              dict(env, DOCKER_BUILDKIT="1"), [docker, "rmi", "-f"]))
        else:
            missing["docker (BuildKit)"] = "buildx plugin not installed"
    else:
        missing["docker"] = "docker not installed"
    podman = shutil.which("podman")
    if podman:
        tools.append(Tool("podman", [podman, "build"], env, [podman, "rmi", "-f"]))
    else:
        missing["podman"] = "podman not installed"
    return tools, missing


def _rounds(tools: list[Tool], ctx: Path) -> None:
    for tool in tools:
        tool.once(ctx, cold=True)  # warm-up, not counted
        tool.cold.clear()
    for _ in range(COLD_RUNS):
        for tool in tools:
            tool.once(ctx, cold=True)
    for tool in tools:
        tool.once(ctx, cold=False)  # fills the cache
        tool.cached.clear()
    for _ in range(CACHED_RUNS):
        for tool in tools:
            tool.once(ctx, cold=False)


def run(report: list[dict[str, Any]]) -> None:
    root = Path(tempfile.mkdtemp(prefix="pydock-bench-build-", dir="/var/tmp"))
    ctx = root / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    (ctx / "f.txt").write_text("payload\n")
    store = root / "store"
    peers, missing = _peers(_peer_env())
    mine = Tool("pydock", [*PYDOCK, "--root", str(store), "build"], dict(os.environ), None)
    try:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.conftest import busybox_rootfs_tar

        tar = root / "busybox.tar"
        tar.write_bytes(busybox_rootfs_tar())
        subprocess.run([*PYDOCK, "--root", str(store), "import", "-c", 'CMD ["sh"]', str(tar),
                        "busybox:local"], check=True, capture_output=True)
        _rounds([mine, *peers], ctx)
    finally:
        for tool in peers:
            tool.cleanup()
        shutil.rmtree(root, ignore_errors=True)  # its zygote goes with it
    if mine.error:
        raise RuntimeError(f"pydock build failed: {mine.error}")
    results = {t.name: (t.cold, t.cached, t.error) for t in peers}
    results.update({name: ([], [], note) for name, note in missing.items()})
    for name, (p_cold, p_cached, note) in results.items():
        for label, ours, theirs in (("cold (--no-cache)", mine.cold, p_cold),
                                    ("fully cached", mine.cached, p_cached)):
            a = statistics.median(ours)
            b = statistics.median(theirs) if theirs else None
            report.append({"name": f"build 6-line Dockerfile, {label}",
                           "pydock_s": round(a, 3), "peer": name,
                           "peer_s": b and round(b, 3), "ratio": b and round(a / b, 2),
                           "note": note})
