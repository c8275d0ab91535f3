"""pydock-tui in a real terminal: start it in tmux, wait for the first-run hint, quit.

Pilot tests run headless; this one catches what only a real terminal shows (the
driver, the console script's module entry, an exception at startup or exit).
It uses its own tmux server socket, so it never touches a user's tmux sessions.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HINT = "No images yet"

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def wait_for(pred: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.2)
    return pred()


def test_tui_starts_shows_hint_and_quits_with_q(tmp_path: Path) -> None:
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

    command = shlex.join([sys.executable, "-m", "app.tui.main", "--root", str(tmp_path / "root")])
    env = {**os.environ, "TERM": "xterm-256color"}
    env.pop("TMUX", None)  # allow running the suite from inside tmux
    subprocess.run(["tmux", "-S", socket, "-f", "/dev/null", "new-session", "-d", "-s", session,
                    "-x", "120", "-y", "36", "-c", str(REPO), command],
                   env=env, check=True, timeout=10)
    try:
        assert wait_for(lambda: HINT in pane(), 20), f"hint never appeared:\n{pane()}"
        screen = pane()
        assert "import rootfs.tar busybox:latest" in screen
        assert "Quit" in screen  # the footer is drawn
        tmux("send-keys", "-t", session, "q")
        # The pane's process exiting ends the only session (no remain-on-exit).
        assert wait_for(lambda: not alive(), 10), f"still running after q:\n{pane()}"
    finally:
        tmux("kill-session", "-t", session, check=False)
