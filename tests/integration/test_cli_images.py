"""The ``pydock`` command line as users type it: output shapes, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import busybox_rootfs_tar

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
_SCRIPT = Path(sys.executable).parent / "pydock"
# The installed console script is what users run; fall back to the module in a bare checkout.
PYDOCK = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "app.cli"]
REPO = Path(__file__).resolve().parents[2]


def run(root: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PYDOCK, "--root", str(root), *args], cwd=REPO, capture_output=True,
                          text=stdin is None, input=stdin, timeout=120)


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    p = tmp_path / "rootfs.tar"
    p.write_bytes(busybox_rootfs_tar())
    return p


def test_import_images_tag_history_inspect(root: Path, rootfs: Path) -> None:
    r = run(root, "import", "-c", "CMD [\"sh\"]", "-m", "hello", str(rootfs), "busybox:local")
    assert r.returncode == 0, r.stderr
    image_id = r.stdout.strip()
    assert image_id.startswith("sha256:") and len(image_id) == 71
    assert run(root, "tag", "busybox:local", "localhost:5000/me/bb:v1").returncode == 0
    out = run(root, "images").stdout.splitlines()
    assert out[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert {tuple(line.split()[:3]) for line in out[1:]} == {
        ("busybox", "local", image_id[7:19]), ("localhost:5000/me/bb", "v1", image_id[7:19])}
    assert run(root, "images", "-q").stdout.split() == [image_id[7:19]]
    rows = [json.loads(line) for line in run(root, "image", "ls", "--format", "json").stdout
            .splitlines()]
    assert {r["Repository"] for r in rows} == {"busybox", "localhost:5000/me/bb"}
    assert run(root, "images", "busybox").stdout.count("\n") == 2
    assert run(root, "images", "--filter", "dangling=true", "-q").stdout == ""
    info = json.loads(run(root, "inspect", "busybox:local").stdout)
    assert isinstance(info, list) and info[0]["Id"] == image_id
    assert info[0]["Config"]["Cmd"] == ["sh"]
    hist = run(root, "history", "busybox:local").stdout.splitlines()
    assert hist[0].split()[:2] == ["IMAGE", "CREATED"] and "hello" in hist[1]


def test_save_load_via_stdio(root: Path, rootfs: Path, tmp_path: Path) -> None:
    assert run(root, "import", str(rootfs), "bb:1").returncode == 0
    saved = subprocess.run([*PYDOCK, "--root", str(root), "save", "bb:1"], cwd=REPO,
                           capture_output=True, timeout=60)
    assert saved.returncode == 0 and saved.stdout[:512].count(b"oci-layout") == 1
    assert run(root, "rmi", "bb:1").returncode == 0
    r = run(root, "load", stdin=saved.stdout)
    assert r.returncode == 0 and b"Loaded image: bb:1" in r.stdout
    out = tmp_path / "o.tar"
    assert run(root, "save", "-o", str(out), "bb:1").returncode == 0
    assert out.read_bytes() == saved.stdout


@pytest.mark.parametrize(("args", "needle"), [
    (("rmi", "nope:1"), "No such image: nope:1"),
    (("tag", "nope", "x:1"), "No such image: nope"),
    (("tag", "bb:1", "Bad:Ref"), "repository name must be lowercase"),
    (("import", "/does/not/exist.tar", "x:1"), "cannot open /does/not/exist.tar"),
    (("import", "-c", "RUN true", "ROOTFS", "x:1"), "RUN is not a valid change command"),
    (("load", "-i", "ROOTFS"), "neither a docker archive"),
    (("save", "-o", "/tmp/never.tar", "nope"), "No such image"),
    (("images", "--filter", "bogus=1"), "invalid filter"),
])
def test_bad_input_is_one_clear_line(root: Path, rootfs: Path, args: tuple[str, ...],
                                     needle: str) -> None:
    assert run(root, "import", str(rootfs), "bb:1").returncode == 0
    before = sorted(p.name for p in (root / "content" / "blobs" / "sha256").iterdir())
    r = run(root, *(str(rootfs) if a == "ROOTFS" else a for a in args))
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], r.stderr
    assert "Traceback" not in r.stderr
    assert sorted(p.name for p in (root / "content" / "blobs" / "sha256").iterdir()) == before
    assert not Path("/tmp/never.tar").exists()


def test_not_root_is_one_line(monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str], root: Path) -> None:
    from app.cli.main import main

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert main(["--root", str(root), "images"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs root" in err[0]


def test_root_from_environment(root: Path, rootfs: Path) -> None:
    env = dict(os.environ, PYDOCK_ROOT=str(root))
    r = subprocess.run([*PYDOCK, "import", str(rootfs), "envroot:1"], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "envroot" in run(root, "images").stdout
