"""pydock-tui in a real terminal, against the real engine, driven by keys through tmux.

Pilot tests run headless; this one catches what only a real terminal shows (the
driver, the console script's module entry, an exception at startup or exit). It
also checks the live path end to end: a container started by *another process*
(the CLI) appears in the Containers panel by itself, ``s`` stops it, and the new
state is drawn. It uses its own tmux server socket, so it never touches a user's
tmux sessions.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import busybox_rootfs_tar

REPO = Path(__file__).resolve().parents[2]
_SCRIPT = Path(sys.executable).parent / "pydock"
PYDOCK = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "app.cli"]

pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.skipif(os.geteuid() != 0, reason="pydock-tui needs root"),
]


def wait_for(pred: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.2)
    return pred()


@pytest.fixture
def root(test_base: Path) -> Iterator[Path]:
    # Under the run's test base, so the session leak guard sees its mounts and monitors.
    d = test_base / f"smoke-{os.urandom(3).hex()}"
    d.mkdir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PYDOCK, "--root", str(root), *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60)


def test_tui_sees_a_container_from_another_process_and_stops_it(root: Path,
                                                                tmp_path: Path) -> None:
    # A private server socket inside tmp_path: nothing left behind in /tmp/tmux-<uid>.
    socket = str(tmp_path / "tmux.sock")
    session = f"tui-{uuid.uuid4().hex[:8]}"

    def tmux(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["tmux", "-S", socket, *args], capture_output=True, text=True,
                              timeout=10, check=check)

    def pane() -> str:
        return tmux("capture-pane", "-p", "-t", session, check=False).stdout

    def alive() -> bool:
        return tmux("has-session", "-t", session, check=False).returncode == 0

    def row(name: str) -> str:
        return next((line for line in pane().splitlines() if f" {name} " in line), "")

    command = shlex.join([sys.executable, "-m", "app.tui.main", "--root", str(root)])
    # A settings file of its own: never the user's ~/.config/pydock/tui.toml.
    env = {**os.environ, "TERM": "xterm-256color",
           "PYDOCK_TUI_CONFIG": str(tmp_path / "tui.toml")}
    env.pop("TMUX", None)  # allow running the suite from inside tmux
    subprocess.run(["tmux", "-S", socket, "-f", "/dev/null", "new-session", "-d", "-s", session,
                    "-x", "120", "-y", "36", "-c", str(REPO), command],
                   env=env, check=True, timeout=10)
    try:
        # Panel 1, an empty root: the containers hint.
        assert wait_for(lambda: "No containers yet" in pane(), 20), pane()
        assert "Quit" in pane()  # the footer is drawn
        tmux("send-keys", "-t", session, "2")
        assert wait_for(lambda: "No images yet" in pane(), 10), pane()
        assert "Import a root filesystem tarball" in pane()
        tmux("send-keys", "-t", session, "1")

        # Another process brings an image in and starts a container.
        tar = tmp_path / "busybox.tar"
        tar.write_bytes(busybox_rootfs_tar())
        assert cli(root, "import", "-c", 'CMD ["sh"]', str(tar), "busybox:local").returncode == 0
        run = cli(root, "run", "-d", "--name", "smoke", "--stop-timeout", "1", "busybox:local",
                  "sh", "-c", "echo smoke-says-hi; sleep 1000")
        assert run.returncode == 0, run.stderr
        assert wait_for(lambda: "running" in row("smoke"), 20), pane()
        assert wait_for(lambda: "smoke-says-hi" in pane(), 10), pane()  # the Logs tab

        tmux("send-keys", "-t", session, "s")
        assert wait_for(lambda: "exited" in row("smoke"), 20), pane()
        assert "Exited (137)" in row("smoke")  # sleep ignored SIGTERM; killed after 1 s

        tmux("send-keys", "-t", session, "q")
        # The pane's process exiting ends the only session (no remain-on-exit).
        assert wait_for(lambda: not alive(), 10), f"still running after q:\n{pane()}"
    finally:
        tmux("kill-session", "-t", session, check=False)
        cli(root, "rm", "-f", "smoke")
