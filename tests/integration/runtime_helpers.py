"""Shared helpers for runtime tests: a CLI runner and an imported busybox image."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import busybox_rootfs_tar

REPO = Path(__file__).resolve().parents[2]
_SCRIPT = Path(sys.executable).parent / "pydock"
PYDOCK = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "app.cli"]
IMAGE = "busybox:local"


def pydock(root: Path, *args: str, input: bytes | None = None,  # noqa: A002
           timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PYDOCK, "--root", str(root), *args], cwd=REPO, capture_output=True,
                          text=True, input=None if input is None else input.decode(),
                          timeout=timeout)


def import_busybox(root: Path, tmp: Path) -> None:
    tar = tmp / "busybox.tar"
    if not tar.exists():
        tar.write_bytes(busybox_rootfs_tar())
    r = pydock(root, "import", "-c", 'CMD ["sh"]', str(tar), IMAGE)
    assert r.returncode == 0, r.stderr


def inspect(root: Path, name: str) -> dict[str, Any]:
    r = pydock(root, "inspect", "--type", "container", name)
    assert r.returncode == 0, r.stderr
    return dict(json.loads(r.stdout)[0])


def eventually(check: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    end = time.time() + timeout
    while time.time() < end:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or check}")


def remove_all(root: Path) -> None:
    r = pydock(root, "ps", "-aq", "--no-trunc")
    ids = r.stdout.split()
    if ids:
        pydock(root, "rm", "-f", *ids)


def mounts_under(root: Path) -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if line.split()[4].startswith(str(root))]


def cgroups_of(cid: str) -> list[str]:
    return [str(p) for p in Path("/sys/fs/cgroup").glob(f"*/pydock/{cid}")] + [
        str(p) for p in Path("/sys/fs/cgroup").glob(f"pydock/{cid}")]


def processes_mentioning(text: str) -> list[int]:
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if text.encode() in cmd and int(pid) != os.getpid():
                out.append(int(pid))
    return out
