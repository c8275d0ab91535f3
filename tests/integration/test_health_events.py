"""Health checks run by the monitor, and container events seen from another process (root).

Health checks use 100 ms intervals so state changes come quickly; every
assertion waits for a state (``eventually``), never for a duration.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.runtime_helpers import (
    IMAGE,
    PYDOCK,
    REPO,
    eventually,
    import_busybox,
    inspect,
    pydock,
    remove_all,
)

pytestmark = [pytest.mark.root,
              pytest.mark.skipif(os.geteuid() != 0, reason="needs root for containers")]

FAST = ["--health-interval", "100ms", "--health-retries", "1"]


@pytest.fixture
def rt(root: Path, tmp_path: Path) -> Iterator[Path]:
    import_busybox(root, tmp_path)
    yield root
    remove_all(root)


def health(root: Path, name: str) -> dict[str, Any]:
    return dict(inspect(root, name)["State"].get("Health") or {})


def status_of(root: Path, name: str) -> str:
    return str(health(root, name).get("Status", ""))


def events(root: Path, *filters: str) -> list[dict[str, Any]]:
    args = [a for f in filters for a in ("--filter", f)]
    r = pydock(root, "events", "--since", "0", "--until", str(time.time() + 1), *args,
               "--format", "json")
    return [json.loads(line) for line in r.stdout.splitlines()]


def test_health_turns_unhealthy_then_healthy(rt: Path) -> None:
    r = pydock(rt, "run", "-d", "--name", "web", "--health-cmd", "test -e /tmp/ok", *FAST,
               IMAGE, "sleep", "1000")
    assert r.returncode == 0, r.stderr
    eventually(lambda: status_of(rt, "web") == "unhealthy", what="unhealthy")
    assert "(unhealthy)" in pydock(rt, "ps").stdout
    assert pydock(rt, "exec", "web", "touch", "/tmp/ok").returncode == 0
    eventually(lambda: status_of(rt, "web") == "healthy", what="healthy")
    assert "(healthy)" in pydock(rt, "ps").stdout
    h = health(rt, "web")
    assert h["FailingStreak"] == 0 and 1 <= len(h["Log"]) <= 5
    assert h["Log"][-1]["ExitCode"] == 0 and h["Log"][-1]["Start"] <= h["Log"][-1]["End"]
    actions = [e["Action"] for e in events(rt, "container=web", "event=health_status")]
    assert actions[:2] == ["health_status: unhealthy", "health_status: healthy"]
    assert pydock(rt, "stop", "-t", "0", "web").returncode == 0
    assert status_of(rt, "web") == "unhealthy"  # docker's value once the monitor stopped
    assert "healthy" not in pydock(rt, "ps", "-a").stdout


def test_health_log_keeps_output_and_last_five(rt: Path) -> None:
    r = pydock(rt, "run", "-d", "--name", "chatty", "--health-cmd", "echo hi; exit 3",
               "--health-interval", "100ms", "--health-retries", "3", IMAGE, "sleep", "1000")
    assert r.returncode == 0, r.stderr
    eventually(lambda: len(health(rt, "chatty").get("Log") or []) == 5
               and health(rt, "chatty")["FailingStreak"] >= 6, what="six failures")
    h = health(rt, "chatty")
    assert h["Status"] == "unhealthy"
    assert {(e["ExitCode"], e["Output"]) for e in h["Log"]} == {(3, "hi\n")}


def test_probe_timeout_and_start_status(rt: Path) -> None:
    r = pydock(rt, "run", "-d", "--name", "slow", "--health-cmd", "sleep 30",
               "--health-timeout", "200ms", "--health-interval", "100ms",
               "--health-retries", "1", IMAGE, "sleep", "1000")
    assert r.returncode == 0, r.stderr
    eventually(lambda: status_of(rt, "slow") == "unhealthy", what="timeout")
    last = health(rt, "slow")["Log"][-1]
    assert (last["ExitCode"], last["Output"]) == (-1, "Health check exceeded timeout (200ms)")
    r = pydock(rt, "run", "-d", "--name", "later", "--health-cmd", "true",
               "--health-interval", "1h", IMAGE, "sleep", "1000")
    assert "(health: starting)" in pydock(rt, "ps", "--filter", "name=later").stdout


def test_image_healthcheck_and_no_healthcheck(rt: Path) -> None:
    assert pydock(rt, "create", "--name", "src", "--health-cmd", "true", *FAST, IMAGE,
                  "sleep", "1000").returncode == 0
    assert pydock(rt, "commit", "src", "hc:1").returncode == 0
    r = pydock(rt, "run", "-d", "--name", "inherits", "hc:1")
    assert r.returncode == 0, r.stderr
    assert inspect(rt, "inherits")["Config"]["Healthcheck"]["Test"] == ["CMD-SHELL", "true"]
    eventually(lambda: status_of(rt, "inherits") == "healthy", what="image's check")
    assert pydock(rt, "run", "-d", "--name", "off", "--no-healthcheck", "hc:1").returncode == 0
    assert inspect(rt, "off")["Config"]["Healthcheck"] == {"Test": ["NONE"]}
    assert "Health" not in inspect(rt, "off")["State"]
    bad = pydock(rt, "run", "--no-healthcheck", "--health-cmd", "true", "hc:1")
    assert bad.returncode == 125 and "conflicts" in bad.stderr


def test_events_from_another_process(rt: Path) -> None:
    """A follower started first sees every container action another process makes."""
    follower = subprocess.Popen([*PYDOCK, "--root", str(rt), "events", "--format", "json",
                                 "--filter", "type=container", "--filter", "container=ev"],
                                cwd=REPO, stdout=subprocess.PIPE, text=True)
    seen: list[dict[str, Any]] = []
    reader = threading.Thread(target=lambda: seen.extend(
        json.loads(line) for line in follower.stdout or []), daemon=True)
    reader.start()
    try:
        time.sleep(0.3)  # lets the follower open the log; not an assertion
        steps = [("run", "-d", "--name", "ev", IMAGE, "sleep", "1000"), ("pause", "ev"),
                 ("unpause", "ev"), ("kill", "-s", "SIGUSR1", "ev"), ("stop", "-t", "0", "ev"),
                 ("rm", "ev")]
        for step in steps:
            assert pydock(rt, *step).returncode == 0, step
        # docker's order; stop -t 0 sends SIGTERM, then SIGKILL right away
        want = ["create", "start", "pause", "unpause", "kill", "kill", "kill", "die", "stop",
                "destroy"]
        eventually(lambda: len(seen) >= len(want), timeout=15, what="the destroy event")
        assert [e["Action"] for e in seen] == want
        assert {e["Actor"]["Attributes"]["name"] for e in seen} == {"ev"}
        assert [e["Actor"]["Attributes"]["signal"] for e in seen[4:7]] == ["10", "15", "9"]
        assert seen[-3]["Actor"]["Attributes"]["exitCode"] == "137"
    finally:
        follower.terminate()
        follower.wait(10)
