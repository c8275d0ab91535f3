"""Multi-stage builds: --target, skipped stages, COPY --from, scratch, parallel stages, ONBUILD."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.build_helpers import (
    assert_clean,
    build,
    config_of,
    import_busybox,
    outputs,
    pytestmark,
    ran_steps,
    run_image,
    write_context,
)

__all__ = ["pytestmark"]

MULTI = """\
ARG BASE=busybox:local
FROM $BASE AS build
WORKDIR /out
RUN echo built > artifact.txt && echo build-stage-ran
RUN cp /bin/busybox /out/busybox

FROM build AS broken
RUN echo "this stage must never run" && exit 7

FROM busybox:local AS tools
RUN echo tool > /tool.txt

FROM scratch AS final
COPY --from=build /out/ /app/
COPY --from=2 /tool.txt /tool.txt
COPY --from=busybox:local /etc/passwd /etc/passwd
USER nobody
ENTRYPOINT ["/app/busybox"]
CMD ["cat", "/app/artifact.txt", "/tool.txt"]

FROM build AS test
RUN --mount=type=bind,from=tools,source=/tool.txt,target=/mnt/tool.txt cat /mnt/tool.txt
"""


def test_target_skips_unneeded_stages(engine: Any, root: Path, tmp_path: Path) -> None:
    import_busybox(engine)
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": MULTI})
    image_id, events = build(engine, str(ctx), target="final", tags=("ms:final",))
    names = " ".join(e.name for e in events)
    assert "[broken" not in names and "[test" not in names
    assert "this stage must never run" not in outputs(events)
    cfg = config_of(engine, "ms:final")
    assert cfg["Entrypoint"] == ["/app/busybox"] and cfg["User"] == "nobody"
    rec = engine.images.record(image_id)
    assert len(rec.diff_ids) == 3  # scratch: only the three COPY layers
    code, out = run_image(engine, "ms:final")
    assert (code, out) == (0, "built\ntool\n")
    _, events = build(engine, str(ctx), target="test")
    assert "tool" in outputs(events)
    assert all("build" not in n for n in ran_steps(events))  # the build stage came from cache
    assert_clean(engine, root)


def test_the_last_stage_is_the_default_target(engine: Any, root: Path, tmp_path: Path) -> None:
    import_busybox(engine)
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": MULTI.replace(
        "FROM build AS test", "FROM broken AS test")})
    try:
        build(engine, str(ctx))
    except Exception as err:  # noqa: BLE001 - the broken stage is needed now
        assert "Dockerfile:8" in str(err) and "exit code: 7" in str(err)
    else:
        raise AssertionError("the broken stage should have failed the build")
    assert_clean(engine, root)


def test_independent_stages_build_in_parallel(engine: Any, root: Path, tmp_path: Path) -> None:
    import_busybox(engine)
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": """\
FROM busybox:local AS a
RUN sleep 1 && echo a > /a
FROM busybox:local AS b
RUN sleep 1 && echo b > /b
FROM busybox:local
COPY --from=a /a /a
COPY --from=b /b /b
RUN cat /a /b
"""})
    _, events = build(engine, str(ctx))
    runs = [e for e in events if "RUN sleep" in e.name and e.kind in ("step", "done")]
    # Both sleeps started before either finished: the stages overlapped.
    assert [e.kind for e in runs][:2] == ["step", "step"]
    out = outputs(events)
    assert out[out.index("a") + 1] == "b"
    _, events = build(engine, str(ctx), parallel=False)
    assert ran_steps(events) == []


def test_onbuild_triggers(engine: Any, root: Path, tmp_path: Path) -> None:
    import_busybox(engine)
    parent = write_context(tmp_path / "parent", {"Dockerfile": """\
FROM busybox:local
ONBUILD COPY app.txt /app/app.txt
ONBUILD RUN echo "trigger ran in child" && cat /app/app.txt
"""})
    build(engine, str(parent), tags=("onbuild-base:1",))
    assert config_of(engine, "onbuild-base:1")["OnBuild"] == [
        "COPY app.txt /app/app.txt", 'RUN echo "trigger ran in child" && cat /app/app.txt']
    child = write_context(tmp_path / "child", {
        "Dockerfile": "FROM onbuild-base:1\nRUN echo child-step\n", "app.txt": "child data\n"})
    _, events = build(engine, str(child), tags=("onbuild-child:1",))
    out = outputs(events)
    assert out.index("trigger ran in child") < out.index("child-step")
    assert "child data" in out
    assert any("ONBUILD RUN" in e.name for e in events if e.kind == "step")
    assert not config_of(engine, "onbuild-child:1").get("OnBuild")
    assert_clean(engine, root)
