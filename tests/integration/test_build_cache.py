"""The build cache: hits, precise invalidation, cache mounts, --no-cache, prune, GC.

"Did the RUN execute?" is answered without timing: the RUN appends to a file
in a cache mount, which persists between builds, so the file's line count is
the number of times the step really ran.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.build_helpers import (
    assert_clean,
    build,
    cached_steps,
    import_busybox,
    outputs,
    pytestmark,
    ran_steps,
    run_image,
    write_context,
)

__all__ = ["pytestmark"]

COUNTING = """\
FROM busybox:local
ARG USED=1
RUN --mount=type=cache,target=/counter echo "run $USED" >> /counter/runs && wc -l < /counter/runs
COPY app.txt /app.txt
RUN --mount=type=cache,target=/counter echo after-copy >> /counter/after && cat /app.txt
COPY other.txt /other.txt
"""


def _runs(engine: Any, root: Path, name: str) -> int:
    mounts = root / "build-cache" / "mounts"
    found = [p / name for p in mounts.iterdir() if (p / name).exists()]
    return len(found[0].read_text().splitlines()) if found else 0


def test_second_build_is_fully_cached(engine: Any, root: Path, tmp_path: Path) -> None:
    import_busybox(engine)
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": COUNTING, "app.txt": "v1\n",
                                           "other.txt": "o\n", "unrelated.txt": "u\n"})
    first, events = build(engine, str(ctx), tags=("c:1",))
    assert len(ran_steps(events)) == 4 and not cached_steps(events)
    assert (_runs(engine, root, "runs"), _runs(engine, root, "after")) == (1, 1)
    second, events = build(engine, str(ctx), tags=("c:1",))
    assert len(cached_steps(events)) == 4 and ran_steps(events) == []
    assert (_runs(engine, root, "runs"), _runs(engine, root, "after")) == (1, 1)
    assert second == first  # cached steps keep their times: the very same image

    (ctx / "unrelated.txt").write_text("changed\n")
    _, events = build(engine, str(ctx), tags=("c:1",))
    assert ran_steps(events) == []
    _, events = build(engine, str(ctx), tags=("c:1",), build_args=(("NOT_USED", "x"),))
    assert ran_steps(events) == []

    (ctx / "app.txt").write_text("v2\n")
    _, events = build(engine, str(ctx), tags=("c:1",))
    assert [n.split("] ")[1].split()[0] for n in ran_steps(events)] == ["COPY", "RUN", "COPY"]
    assert (_runs(engine, root, "runs"), _runs(engine, root, "after")) == (1, 2)
    assert "v2" in outputs(events)

    _, events = build(engine, str(ctx), tags=("c:1",), build_args=(("USED", "2"),))
    # A declared ARG is in every RUN's environment: both RUNs run again. They change
    # no file (only the cache mount), so the COPY steps above the same chain stay cached.
    assert [n.split("] ")[1].split()[0] for n in ran_steps(events)] == ["RUN", "RUN"]
    assert _runs(engine, root, "runs") == 2
    code, out = run_image(engine, "c:1", ("cat", "/app.txt"))
    assert (code, out) == (0, "v2\n")
    assert_clean(engine, root)


def test_touching_a_file_keeps_the_cache(engine: Any, root: Path, tmp_path: Path) -> None:
    import os

    import_busybox(engine)
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": "FROM busybox:local\nCOPY . /src\n",
                                           "a/b.txt": "b"})
    build(engine, str(ctx))
    os.utime(ctx / "a" / "b.txt", (1, 1))
    _, events = build(engine, str(ctx))
    assert ran_steps(events) == []
    (ctx / "a" / "c.txt").write_text("new file")
    _, events = build(engine, str(ctx))
    assert len(ran_steps(events)) == 1


def test_no_cache_and_cache_mount_persistence(engine: Any, root: Path, tmp_path: Path) -> None:
    import_busybox(engine)
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": COUNTING, "app.txt": "a",
                                           "other.txt": "o"})
    for expected in (1, 2, 3):
        _, events = build(engine, str(ctx), no_cache=True)
        assert cached_steps(events) == []
        assert _runs(engine, root, "runs") == expected
        assert f"{expected}" in outputs(events)  # wc -l saw every earlier build's line
    assert_clean(engine, root)


def test_builder_prune(engine: Any, root: Path, tmp_path: Path) -> None:
    import_busybox(engine)
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": COUNTING, "app.txt": "a",
                                           "other.txt": "o"})
    build(engine, str(ctx), tags=("p:1",))
    engine.images_remove(["p:1"])
    # The cache keeps its layers through image GC: everything is still cached.
    _, events = build(engine, str(ctx))
    assert ran_steps(events) == []
    engine.images_prune()
    report = engine.builder_prune()
    assert report.entries >= 4 and report.mounts == 1 and report.space_reclaimed > 0
    assert not any((root / "build-cache" / "mounts").iterdir())
    assert engine.images_resolve("busybox:local")
    _, events = build(engine, str(ctx))
    assert len(ran_steps(events)) == 4
    assert _runs(engine, root, "runs") == 1  # a fresh cache mount
    assert_clean(engine, root)


def test_fully_cached_cli_build_stays_lean(engine: Any, root: Path, tmp_path: Path) -> None:
    """A cached rebuild through the CLI loads no step runner's heavy imports.

    Each was measured on `pydock build` of a cached Dockerfile: hashlib's OpenSSL
    start ~2.5 ms, tempfile (random, shutil) ~3 ms, shutil (bz2, lzma) ~2 ms, the
    container runtime's modules, csv. Small digests use CPython's own SHA-256.
    """
    import subprocess
    import sys

    import_busybox(engine)
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": "FROM busybox:local\nRUN echo one > /one\nCOPY f.txt /f.txt\n"
                      "ENV A=b\nCMD [\"sh\"]\n",
        "f.txt": "x\n"})
    build(engine, str(ctx), tags=("lean:1",))
    heavy = ("hashlib", "_hashlib", "tempfile", "shutil", "random", "csv",
             "engine.runtime.lifecycle", "engine.runtime.state", "engine.runtime.options")
    probe = ("import sys\nfrom app.cli.main import main\n"
             f"code = main(['--root', {str(root)!r}, 'build', '-q', '-t', 'lean:1', "
             f"{str(ctx)!r}])\n"
             f"print('RESULT', code, [m for m in {heavy!r} if m in sys.modules])\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2])
    result = next(line for line in out.stdout.splitlines() if line.startswith("RESULT "))
    assert result == "RESULT 0 []", (result, out.stderr)
