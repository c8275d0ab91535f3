"""Bad input and failures: one clear line naming file and line, exit 1, nothing left behind."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from engine.build.failure import BuildFailed
from engine.errors import DockerfileError, EngineError
from engine.types_build import BuildOptions
from tests.integration.build_helpers import (
    assert_clean,
    import_busybox,
    pytestmark,
    write_context,
)
from tests.integration.runtime_helpers import pydock

__all__ = ["pytestmark"]


def _images(engine: Any) -> set[str]:
    return {i.id for i in engine.images_list()}


@pytest.mark.parametrize(("dockerfile", "line", "needle"), [
    ("FROM busybox:local\nRUN echo ok\nCOPY\n", 3, "COPY requires at least two arguments"),
    ("FROM busybox:local\nRUNN echo typo\n", 2, "unknown instruction: RUNN"),
    ("FROM busybox:local\nRUN echo ok\nCOPY missing.txt /x\n", 3, '"/missing.txt": not found'),
    ("FROM busybox:local\nRUN echo about to fail && exit 3\n", 2, "exit code: 3"),
    ("FROM busybox:local\nRUN --mount=type=secret,id=x true\n", 2, "not supported"),
    ("FROM busybox:local\nEXPOSE 99999\n", 2, "invalid port"),
    ("FROM 127.0.0.1:1/nothing/here:1\nRUN true\n", 1, "127.0.0.1:1"),
    ("ENV X=1\nFROM busybox:local\n", 1, "no build stage in current context"),
])
def test_cli_reports_one_line(engine: Any, root: Path, tmp_path: Path, dockerfile: str,
                              line: int, needle: str) -> None:
    import_busybox(engine)
    before = _images(engine)
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": dockerfile})
    r = pydock(root, "build", "-t", "broken:1", str(ctx))
    assert r.returncode == 1, r
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1, r.stderr
    assert f"Dockerfile:{line}:" in errors[0] and needle in errors[0], errors[0]
    assert r.stdout == ""
    assert _images(engine) == before  # nothing tagged, nothing half-made
    assert_clean(engine, root)


def test_failing_run_shows_its_output(engine: Any, root: Path, tmp_path: Path) -> None:
    import_busybox(engine)
    ctx = write_context(tmp_path / "ctx", {"Dockerfile":
                                           "FROM busybox:local\nRUN echo last words; exit 5\n"})
    r = pydock(root, "build", "-q", str(ctx))
    assert r.returncode == 1
    assert "last words" in r.stderr and "exit code: 5" in r.stderr
    with pytest.raises(BuildFailed) as info:
        list(engine.images_build(str(ctx)))
    assert info.value.exit_code == 5 and info.value.output == ("last words",)
    assert info.value.line == 2
    assert_clean(engine, root)


def test_parse_errors_come_before_any_work(engine: Any, root: Path, tmp_path: Path) -> None:
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": "FROM busybox:local\nCMD [\"a\"\n"
                                                         "RUN <<EOF\nnever closed\n"})
    with pytest.raises(DockerfileError):
        list(engine.images_build(str(ctx)))
    with pytest.raises(EngineError, match="invalid reference format"):
        list(engine.images_build(str(ctx), BuildOptions(tags=("UPPER:case",))))
    with pytest.raises(EngineError, match="target stage 'nope' could not be found"):
        list(engine.images_build(None, BuildOptions(dockerfile_text=b"FROM scratch\n",
                                                    target="nope")))
    assert not any((root / "tmp").glob("build-*"))


def test_cancelling_kills_the_running_step(engine: Any, root: Path, tmp_path: Path) -> None:
    import_busybox(engine)
    ctx = write_context(tmp_path / "ctx", {"Dockerfile":
                                           "FROM busybox:local\nRUN echo started; sleep 60\n"})
    gen = engine.images_build(str(ctx))
    for ev in gen:
        if ev.kind == "output" and ev.text == "started":
            break
    assert len(engine.containers_list(all=True)) == 1
    t0 = time.monotonic()
    gen.close()
    assert time.monotonic() - t0 < 15
    assert_clean(engine, root)


def test_interrupted_cli_build_leaves_nothing(engine: Any, root: Path, tmp_path: Path) -> None:
    import signal

    from tests.integration.runtime_helpers import PYDOCK

    import_busybox(engine)
    ctx = write_context(tmp_path / "ctx", {"Dockerfile":
                                           "FROM busybox:local\nRUN echo started; sleep 60\n"})
    proc = subprocess.Popen([*PYDOCK, "--root", str(root), "build", str(ctx)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:
        if "started" in line:
            break
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=20) == 130
    assert_clean(engine, root)
