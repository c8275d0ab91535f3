"""The launcher ``make`` installs as ``pydock``: same command, no site start-up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import launcher

REPO = Path(__file__).resolve().parents[2]


def test_site_paths_are_what_site_adds() -> None:
    paths = launcher.site_paths(sys.executable)
    assert str(REPO) in paths  # the editable install's .pth line
    assert any(p.endswith("site-packages") for p in paths)
    bare = subprocess.run([sys.executable, "-IS", "-c", "import sys; print(sys.path)"],
                          capture_output=True, text=True, check=True).stdout
    assert not any(repr(p) in bare for p in paths)


def test_the_launcher_runs_the_cli_without_site(tmp_path: Path) -> None:
    target = tmp_path / "pydock"
    target.write_text("pip's script\n")
    assert launcher.install(str(target))
    first = target.read_text().splitlines()[0]
    assert first == f"#!{sys.executable} -IS"
    assert target.stat().st_mode & 0o111
    ours = subprocess.run([str(target), "--help"], capture_output=True, text=True)
    theirs = subprocess.run([sys.executable, "-m", "app.cli", "--help"],
                            capture_output=True, text=True)
    assert ours.returncode == theirs.returncode == 0
    assert ours.stdout == theirs.stdout
    # Bad usage (no image) keeps docker's exit code and the error line.
    bad = subprocess.run([str(target), "run"], capture_output=True, text=True)
    assert bad.returncode == 125 and bad.stderr.strip()


def test_a_package_not_importable_without_site_keeps_pips_script(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launcher, "site_paths", lambda python: [])
    target = tmp_path / "pydock"
    target.write_text("pip's script\n")
    assert not launcher.install(str(target))
    assert target.read_text() == "pip's script\n"
