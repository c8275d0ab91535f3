"""The builder's pure parts, without root: mounts, chmod, config rules, heredoc argv,
context selection and hashing, the cache index, and the CLI's option mapping."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from engine.build import ast, parse_dockerfile, state
from engine.build.cache import BuildCache, CacheResult, live_refs, step_key
from engine.build.context import Tree, hash_tree, resolve, select
from engine.build.dockerignore import DockerIgnore
from engine.build.mounts import parse_mount
from engine.build.owners import apply_chmod, check_chmod
from engine.build.step_run import argv_of
from engine.errors import InvalidArgument


def _stage_state(text: str = "FROM scratch\n") -> state.StageState:
    df = parse_dockerfile(text)
    st = state.StageState(df.stages[0], label="")
    state.scratch(st, "amd64", "linux")
    return st


def _instr(text: str) -> ast.Instruction:
    return parse_dockerfile(f"FROM scratch\n{text}\n").stages[0].instructions[0]


def test_parse_mount() -> None:
    m = parse_mount("type=cache,target=.cache,sharing=locked,mode=0700,uid=5", "/work")
    assert (m.type, m.target, m.id, m.sharing, m.mode, m.uid) == (
        "cache", "/work/.cache", "/work/.cache", "locked", 0o700, 5)
    b = parse_mount("target=/src,from=build,source=/out,rw")
    assert (b.type, b.from_, b.source, b.readonly) == ("bind", "build", "/out", False)
    assert parse_mount("type=tmpfs,dst=/t,size=64m").size == 64 << 20
    assert parse_mount('type=bind,"target=/a,b",readonly').target == "/a,b"
    for bad, why in (("type=secret,id=x", "not supported"), ("type=cache", "target"),
                     ("type=cache,target=/x,sharing=odd", "sharing"),
                     ("type=bind,target=/x,bogus=1", "unknown option"),
                     ("type=volume,target=/x", "unknown mount type")):
        with pytest.raises(InvalidArgument, match=why):
            parse_mount(bad)


def test_chmod() -> None:
    assert apply_chmod("755", 0o600, False) == 0o755
    assert apply_chmod("u+x,go-r", 0o644, False) == 0o700
    assert apply_chmod("a+X", 0o644, False) == 0o644
    assert apply_chmod("a+X", 0o644, True) == 0o755
    assert apply_chmod("g=rw", 0o751, False) == 0o761
    check_chmod("0644")
    with pytest.raises(InvalidArgument):
        check_chmod("rwx")


def test_config_rules() -> None:
    st = _stage_state()
    state.set_cmd(st, _instr('CMD ["a"]'))  # type: ignore[arg-type]
    state.set_entrypoint(st, _instr("ENTRYPOINT run me"))  # type: ignore[arg-type]
    assert st.config["Cmd"] == ["a"]  # set in this stage: kept
    assert st.config["Entrypoint"] == ["/bin/sh", "-c", "run me"]
    inherited = _stage_state()
    inherited.config["Cmd"] = ["sh"]
    state.set_entrypoint(inherited, _instr('ENTRYPOINT ["x"]'))  # type: ignore[arg-type]
    assert inherited.config["Cmd"] is None
    state.expose(st, ("80", "53/UDP", "7000-7001/tcp"))
    assert set(st.config["ExposedPorts"]) == {"80/tcp", "53/udp", "7000/tcp", "7001/tcp"}
    with pytest.raises(InvalidArgument):
        state.expose(st, ("0",))
    st.args = {"A": "arg", "B": "b"}
    st.set_env((("A", "env"),))
    assert st.expansion_env()["A"] == "env"
    assert st.run_env({"HTTP_PROXY": "p"})[-2:] == ["B=b", "HTTP_PROXY=p"]
    assert "B=b" in st.run_env({}) and "A=arg" not in st.run_env({})


def test_heredoc_argv() -> None:
    st = _stage_state()
    run = parse_dockerfile("FROM scratch\nRUN <<EOF\necho 1\nEOF\n").stages[0].instructions[0]
    assert argv_of(st, run) == (["/bin/sh", "-c", "echo 1\n"], {})  # type: ignore[arg-type]
    run = parse_dockerfile("FROM scratch\nRUN <<EOF\n#!/bin/env python3\nprint(1)\nEOF\n"
                           ).stages[0].instructions[0]
    assert argv_of(st, run) == (["/dev/pipes/EOF"],  # type: ignore[arg-type]
                                {"EOF": "#!/bin/env python3\nprint(1)\n"})
    run = parse_dockerfile("FROM scratch\nRUN cat <<A <<B\na\nA\nb\nB\n").stages[0].instructions[0]
    assert argv_of(st, run)[0] == ["/bin/sh", "-c",  # type: ignore[arg-type]
                                   "cat <<A <<B\na\nA\nb\nB"]


def test_context_select_and_hash(tmp_path: Path) -> None:
    (tmp_path / "src" / "deep").mkdir(parents=True)
    (tmp_path / "src" / "a.py").write_text("a")
    (tmp_path / "src" / "deep" / "b.py").write_text("b")
    (tmp_path / "x.log").write_text("x")
    os.symlink("src/a.py", tmp_path / "link")
    tree = Tree(tmp_path, DockerIgnore(["*.log"]))
    assert select(tree, "src/*.py") == [("a.py", "src/a.py")]
    assert select(tree, "/src/../src") == [("src", "src")]
    assert select(tree, "lin?") == [("link", "src/a.py")]  # followed, keeps its name
    assert resolve(tmp_path, "../../src") == "src"
    with pytest.raises(InvalidArgument, match="not found"):
        select(tree, "x.log")
    with pytest.raises(InvalidArgument, match="matches nothing"):
        select(tree, "*.md")
    first = hash_tree(tree, ["src"])
    os.utime(tmp_path / "src" / "a.py", (1, 1))
    assert hash_tree(tree, ["src"]) == first  # mtimes do not count
    excluded = hash_tree(tree, ["src"], DockerIgnore(["**/b.py"]))
    (tmp_path / "src" / "deep" / "b.py").write_text("B")
    assert hash_tree(tree, ["src"]) != first
    assert hash_tree(tree, ["src"], DockerIgnore(["**/b.py"])) == excluded


def test_cache_index(tmp_path: Path) -> None:
    cache = BuildCache(tmp_path, tmp_path / "locks")
    key = step_key("sha256:" + "a" * 64, {"run": ["x"], "env": ["A=1"]})
    assert key == step_key("sha256:" + "a" * 64, {"env": ["A=1"], "run": ["x"]})
    assert key != step_key("sha256:" + "a" * 64, {"run": ["x"], "env": ["A=2"]})
    assert cache.lookup(key) is None
    result = CacheResult("sha256:" + "c" * 64, "sha256:" + "d" * 64, "sha256:" + "d" * 64, 10,
                         "application/vnd.oci.image.layer.v1.tar", 1.5)
    cache.record(key, result, "RUN x")
    assert cache.lookup(key) == result
    assert live_refs(tmp_path) == ({"sha256:" + "d" * 64}, {"sha256:" + "c" * 64})
    cache.mount_dir("/root/.cache").mkdir(parents=True)
    assert cache.clear()[0] == 1
    assert cache.lookup(key) is None


def test_cli_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from app.cli import build as cli

    monkeypatch.setenv("FROM_ENV", "e")
    monkeypatch.chdir(tmp_path)
    p = argparse.ArgumentParser()
    cli.register(p.add_subparsers())
    args = p.parse_args(["build", "-t", "a:1", "-t", "b", "--build-arg", "X=1", "--build-arg",
                         "FROM_ENV", "--build-arg", "MISSING", "--label", "k=v", "-f",
                         "df/Dockerfile", "--network", "none", "--target", "t", "ctx"])
    context, opts = cli.options(args)
    assert context == "ctx"
    assert opts.tags == ("a:1", "b") and opts.target == "t" and opts.network == "none"
    assert opts.build_args == (("X", "1"), ("FROM_ENV", "e"), ("MISSING", None))
    assert opts.dockerfile == str(tmp_path / "df" / "Dockerfile")
    assert opts.labels == (("k", "v"),)
