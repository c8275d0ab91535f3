"""The same Dockerfile through ``docker build`` and ``pydock build``: equal image configs.

Runs only where the peer docker of ``../shared/peers/peers.sh`` answers (it has
``busybox:local``); always with ``--network none``, and the peer's images are
removed afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.integration.build_helpers import build, config_of, import_busybox, write_context

PEERS = Path(__file__).resolve().parents[3] / "shared" / "peers" / "peers.sh"
KEYS = ("Env", "Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "Volumes", "Labels",
        "StopSignal", "Healthcheck", "OnBuild", "Shell")

DOCKERFILE = """\
FROM busybox:local AS base
ARG V=1
ENV A=1 B="two words" C=$V
LABEL l1=x "l 2"=y
WORKDIR /srv
WORKDIR app
USER 65534:65534
EXPOSE 80 53/udp 9000-9001
VOLUME ["/data"]
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=10s --retries=2 CMD true
SHELL ["/bin/sh", "-e", "-c"]
ONBUILD RUN echo child
ENTRYPOINT ["/bin/echo"]
CMD hello $A

FROM base AS second
ENTRYPOINT echo reset
"""


def _peer_env() -> dict[str, str] | None:
    if os.geteuid() != 0 or not PEERS.exists() or shutil.which("docker") is None:
        return None
    out = subprocess.run(["bash", str(PEERS), "env"], capture_output=True, text=True)
    env = dict(os.environ)
    for line in out.stdout.splitlines():
        line = line.removeprefix("export ")
        if "=" in line:
            k, v = line.split("=", 1)
            env[k] = v.strip("'\"")
    ok = subprocess.run(["docker", "image", "inspect", "busybox:local"], capture_output=True,
                        env=env, timeout=30)
    return env if ok.returncode == 0 else None


@pytest.mark.parametrize("target", ["base", "second"])
def test_configs_match_docker(engine: Any, root: Path, tmp_path: Path, target: str) -> None:
    env = _peer_env()
    if env is None:
        pytest.skip("the peer docker (peers.sh) is not running")
    import_busybox(engine)
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": DOCKERFILE})
    tag = f"pydock-test-build-vs-docker:{target}"
    r = subprocess.run(["docker", "build", "--network", "none", "--force-rm", "-q", "--target",
                        target, "-t", tag, str(ctx)], capture_output=True, text=True,
                       env=dict(env, DOCKER_BUILDKIT="0"), timeout=300)
    try:
        assert r.returncode == 0, r.stderr
        out = subprocess.run(["docker", "image", "inspect", tag], capture_output=True,
                             text=True, env=env, timeout=60)
        theirs = json.loads(out.stdout)[0]["Config"]
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, env=env)
    build(engine, str(ctx), target=target, tags=("mine:1",))
    mine = config_of(engine, "mine:1")
    for key in KEYS:
        assert (mine.get(key) or None) == (theirs.get(key) or None), key
