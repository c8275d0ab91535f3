"""Every Dockerfile instruction, checked in the image config, the history and a real run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.build_helpers import (
    assert_clean,
    build,
    config_of,
    import_busybox,
    outputs,
    pytestmark,
    run_image,
    write_context,
)

__all__ = ["pytestmark"]

DOCKERFILE = """\
# syntax=docker/dockerfile:1
ARG BASE=busybox:local
FROM $BASE
MAINTAINER someone@example.com
ARG GREETING=hello
ENV APP_HOME=/srv/app PATH_EXTRA=/opt/bin
ENV WHO="the world" OLD=$APP_HOME
LABEL org.example.name="demo app" version=1
WORKDIR $APP_HOME
WORKDIR sub
RUN echo "$GREETING from $(pwd)" > greeting.txt && echo ran-first-run
RUN ["/bin/sh", "-c", "echo exec-form > /exec.txt"]
SHELL ["/bin/sh", "-e", "-c"]
RUN echo shell=$0 > /shell.txt
USER nobody
EXPOSE 8080 53/udp 7000-7002
VOLUME ["/data", "/cache"]
VOLUME /logs
STOPSIGNAL SIGINT
HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD cat /exec.txt
ENTRYPOINT ["/bin/sh", "-c", "echo \\"args:$0 $*\\"; cat greeting.txt"]
CMD ["one", "two"]
"""


@pytest.fixture
def built(engine: Any, root: Path, tmp_path: Path) -> tuple[str, list[Any]]:
    import_busybox(engine)
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": DOCKERFILE})
    image_id, events = build(engine, str(ctx), tags=("demo:1",))
    return image_id, events


def test_config_matches_docker(engine: Any, root: Path, built: tuple[str, list[Any]]) -> None:
    image_id, events = built
    cfg = config_of(engine, "demo:1")
    env = dict(e.split("=", 1) for e in cfg["Env"])
    assert env["APP_HOME"] == "/srv/app"
    assert env["WHO"] == "the world"
    assert env["OLD"] == "/srv/app"
    assert "GREETING" not in env  # ARG values never reach the image
    assert cfg["WorkingDir"] == "/srv/app/sub"
    assert cfg["User"] == "nobody"
    assert cfg["Labels"] == {"org.example.name": "demo app", "version": "1"}
    assert cfg["ExposedPorts"] == {"8080/tcp": {}, "53/udp": {}, "7000/tcp": {},
                                   "7001/tcp": {}, "7002/tcp": {}}
    assert cfg["Volumes"] == {"/data": {}, "/cache": {}, "/logs": {}}
    assert cfg["StopSignal"] == "SIGINT"
    assert cfg["Healthcheck"] == {"Test": ["CMD-SHELL", "cat /exec.txt"],
                                  "Interval": 30_000_000_000, "Timeout": 5_000_000_000,
                                  "Retries": 3}
    assert cfg["Shell"] == ["/bin/sh", "-e", "-c"]
    assert cfg["Entrypoint"] == ["/bin/sh", "-c", 'echo "args:$0 $*"; cat greeting.txt']
    assert cfg["Cmd"] == ["one", "two"]
    inspect = engine.images_inspect("demo:1")
    assert inspect["Author"] == "someone@example.com"
    assert "ran-first-run" in outputs(events)
    assert_clean(engine, root)


def test_history_and_layers(engine: Any, built: tuple[str, list[Any]]) -> None:
    rec = engine.images.record(engine.images.resolve("demo:1"))
    history = rec.config["history"]
    layers = [h for h in history if not h.get("empty_layer")]
    assert len(layers) == len(rec.diff_ids) == len(rec.manifest["layers"])
    by = [h.get("created_by", "") for h in history]
    assert "ENV APP_HOME=/srv/app PATH_EXTRA=/opt/bin" in by
    assert "USER nobody" in by
    assert "EXPOSE map[53/udp:{} 7000/tcp:{} 7001/tcp:{} 7002/tcp:{} 8080/tcp:{}]" in by
    assert any(b.startswith("RUN |1 GREETING=hello /bin/sh -c echo") for b in by)
    assert 'CMD ["one" "two"]' in by
    # WORKDIR /srv/app and sub made directories (layers); metadata steps made none.
    assert sum(1 for h in history if h.get("created_by", "").startswith("WORKDIR")
               and not h.get("empty_layer")) == 2
    assert all(h.get("empty_layer") for h in history if h.get("created_by", "").startswith(
        ("ENV", "LABEL", "USER", "EXPOSE", "VOLUME", "CMD", "ENTRYPOINT", "ARG")))


def test_the_image_runs(engine: Any, root: Path, built: tuple[str, list[Any]]) -> None:
    code, out = run_image(engine, "demo:1")
    assert code == 0, out
    assert "args:one two" in out
    assert "hello from /srv/app/sub" in out
    code, out = run_image(engine, "demo:1", ("cat", "/exec.txt", "/shell.txt"),
                          entrypoint=())
    assert code == 0, out
    assert "exec-form" in out and "shell=/bin/sh" in out
    code, out = run_image(engine, "demo:1", ("id", "-u"), entrypoint=())
    assert out.strip() == "65534"
    assert_clean(engine, root)


CMD_ENTRYPOINT_CASES = [
    # (Dockerfile tail, config Entrypoint, config Cmd, output when run)
    ('CMD ["echo", "exec-cmd"]', None, ["echo", "exec-cmd"], "exec-cmd"),
    ("CMD echo shell-cmd $HOME", None, ["/bin/sh", "-c", "echo shell-cmd $HOME"],
     "shell-cmd /root"),
    ('ENTRYPOINT ["echo", "ep"]', ["echo", "ep"], None, "ep"),
    ('ENTRYPOINT ["echo", "ep"]\nCMD ["arg"]', ["echo", "ep"], ["arg"], "ep arg"),
    ('CMD ["arg"]\nENTRYPOINT ["echo", "ep"]', ["echo", "ep"], ["arg"], "ep arg"),
    ("ENTRYPOINT echo shell-ep\nCMD [\"ignored\"]", ["/bin/sh", "-c", "echo shell-ep"],
     ["ignored"], "shell-ep"),
    ('ENTRYPOINT ["echo", "ep"]\nCMD echo x', ["echo", "ep"], ["/bin/sh", "-c", "echo x"],
     "ep /bin/sh -c echo x"),
]


@pytest.mark.parametrize(("tail", "entrypoint", "cmd", "printed"), CMD_ENTRYPOINT_CASES)
def test_cmd_entrypoint_table(engine: Any, root: Path, tmp_path: Path, tail: str,
                              entrypoint: list[str] | None, cmd: list[str] | None,
                              printed: str) -> None:
    import_busybox(engine)
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": f"FROM busybox:local\n{tail}\n"})
    build(engine, str(ctx), tags=("ce:1",))
    cfg = config_of(engine, "ce:1")
    assert cfg["Entrypoint"] == entrypoint
    assert cfg["Cmd"] == cmd  # an ENTRYPOINT drops the base image's CMD ["sh"]
    code, out = run_image(engine, "ce:1")
    assert (code, out.strip()) == (0, printed)


def test_build_args_and_arg_scoping(engine: Any, root: Path, tmp_path: Path) -> None:
    import_busybox(engine)
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": """\
ARG TAG=local
ARG ONLY_GLOBAL=g
FROM busybox:${TAG}
ARG ONLY_GLOBAL
ARG STAGE_ARG=default
ARG UNSET_ARG
ENV FROM_ARG=$STAGE_ARG
RUN echo "g=$ONLY_GLOBAL s=$STAGE_ARG u=${UNSET_ARG-unset} tag=${TAG-none} \
arch=${TARGETARCH-none}"
"""})
    _, events = build(engine, str(ctx), tags=("args:1",),
                      build_args=(("STAGE_ARG", "cli"), ("NOT_DECLARED", "x")))
    assert "g=g s=cli u=unset tag=none arch=none" in outputs(events)
    warnings = [e.text for e in events if e.kind == "warning"]
    assert any("NOT_DECLARED" in w for w in warnings)
    env = config_of(engine, "args:1")["Env"]
    assert "FROM_ARG=cli" in env
    assert not any(e.startswith("STAGE_ARG=") for e in env)


def test_label_option_and_inspect_json(engine: Any, root: Path, tmp_path: Path) -> None:
    import_busybox(engine)
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": "FROM busybox:local\nLABEL a=1\n"})
    build(engine, str(ctx), tags=("lbl:1", "lbl:2"), labels=(("b", "2"), ("a", "override")))
    assert config_of(engine, "lbl:2")["Labels"] == {"a": "override", "b": "2"}
    json.dumps(engine.images_inspect("lbl:1"))
