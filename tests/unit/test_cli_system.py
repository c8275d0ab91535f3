"""``pydock version`` and ``info``, plain and through --format (as scripts ask docker)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_version_flag_prints_the_version_commands_line() -> None:
    # docker -v / --version.
    for argv in (["--version"], ["-v"], ["version"]):
        r = subprocess.run([sys.executable, "-m", "app.cli", *argv], capture_output=True,
                           text=True, cwd=REPO)
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("pydock version ") and r.stdout.count("\n") == 1


def test_version_and_info_formats(tmp_path: Path) -> None:
    def cli(*argv: str) -> str:
        r = subprocess.run([sys.executable, "-m", "app.cli", "--root", str(tmp_path), *argv],
                           capture_output=True, text=True, cwd=REPO)
        assert r.returncode == 0, r.stderr
        return r.stdout

    assert cli("version", "--format", "{{.Client.Version}}") == \
        cli("version", "--format", "{{.Server.Version}}")
    assert cli("info", "--format", "{{.Containers}} {{.Images}} {{.OSType}}") == "0 0 linux\n"
    info = cli("info")
    assert info.startswith("Server:\n Containers: 0\n  Running: 0\n") and "Cgroup Version" in info
    assert json.loads(cli("info", "--format", "json"))["DockerRootDir"] == str(tmp_path)
