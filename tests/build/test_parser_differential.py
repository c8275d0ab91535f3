"""Differential test: our parser against BuildKit's, on a corpus of Dockerfiles.

The oracle is the PyPI package ``dockerfile`` 3.4.0: cgo bindings around
BuildKit v0.12.5's ``frontend/dockerfile/parser``. It is used here only; the
engine never imports it. It reports the *syntactic* layer (keyword as written,
start/end line, flags as strings, the value list, the JSON flag, heredocs as
``(name, fd, raw content)``), so each of our typed instructions is mapped back
to that shape and must agree on every corpus file.

Known oracle differences, each handled below and pinned by a test:

1. ONBUILD heredocs: BuildKit attaches heredoc bodies to the ONBUILD node, but
   the binding reports the *trigger* node's heredocs (none), and builds
   ``original`` from those, so it drops the bodies. Line numbers still span them.
2. Non-ASCII in flags: BuildKit v0.12's flag lexer walks bytes, not runes, so
   ``--mount=id=clé`` comes back as ``id=clÃ©`` (each UTF-8 byte turned into the
   code point of the same value). We keep the text; the mapping undoes the
   mojibake with ``latin-1 → utf-8``.
3. ``# check=`` is a directive since BuildKit 0.14; v0.12 reads it as an
   ordinary comment, which ends the directive block, so a directive *after*
   it is a plain comment to the oracle but a directive to us.
4. ONBUILD flags: the binding reports the ONBUILD node's own flags (always
   empty), never the trigger's, so trigger flags are checked in test_parser.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.build import ast, parse_dockerfile

dockerfile = pytest.importorskip("dockerfile")

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.Dockerfile"))
BOOL_FLAGS = {"link", "parents", "keep-git-dir", "unpack"}
LIST_FLAGS = {"mount", "exclude", "device"}


def _unmojibake(text: str) -> str:
    # Oracle difference 2: undo byte-wise flag lexing.
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def oracle_flags(flags: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for raw in flags:
        name, has_value, value = _unmojibake(raw)[2:].partition("=")
        if name in BOOL_FLAGS:
            out[name] = value.lower() != "false"
        elif name in LIST_FLAGS:
            out[name] = (*out.get(name, ()), value)
        else:
            out[name] = value if has_value else True
    return out


def value_of(instr: ast.Instruction) -> tuple[str, ...]:
    """Our instruction in the oracle's ``value`` shape."""
    match instr:
        case ast.From(image=image, name=None):
            return (image,)
        case ast.From(image=image, name=name):
            return (image, "AS", name or "")
        case ast.Arg(args=args):
            return tuple(a.name if a.default is None else f"{a.name}={a.default}"
                         for a in args)
        case ast.Env(pairs=pairs) | ast.Label(pairs=pairs):
            return tuple(x for pair in pairs for x in pair)
        case ast.ShellOrExec(command=command):
            return command
        case ast.Shell(shell=shell):
            return shell
        case ast.Copy() | ast.Add():
            return (*instr.sources, instr.dest)
        case ast.Workdir(path=v) | ast.User(user=v) | ast.Stopsignal(signal=v) \
                | ast.Maintainer(maintainer=v):
            return (v,)
        case ast.Volume(paths=paths):
            return paths
        case ast.Expose(ports=ports):
            return ports
        case ast.Healthcheck(kind=kind, command=command):
            return (kind, *command)
        case ast.Onbuild(trigger=trigger):
            return value_of(trigger)
    raise AssertionError(f"unmapped instruction {instr!r}")


def ours(instr: ast.Instruction) -> dict[str, Any]:
    inner = instr.trigger if isinstance(instr, ast.Onbuild) else instr
    heredocs: tuple[ast.Heredoc, ...] = getattr(inner, "heredocs", ())
    original = instr.original
    if heredocs and not isinstance(instr, ast.Onbuild):  # difference 1
        original += "\n" + "".join(h.content + h.name + "\n" for h in heredocs)
    return {
        "cmd": instr.keyword,
        "sub_cmd": inner.keyword if inner is not instr else None,
        "json": bool(getattr(inner, "json", isinstance(inner, ast.Shell))),  # SHELL: JSON only
        "original": original,
        "start_line": instr.line,
        "end_line": instr.end_line,
        "flags": dict(instr.flags),
        "value": value_of(instr),
        "heredocs": () if isinstance(instr, ast.Onbuild)
        else tuple((h.name, h.fd, h.content) for h in heredocs),
    }


def theirs(cmd: Any) -> dict[str, Any]:
    value = tuple(cmd.value)
    if cmd.cmd.upper() == "FROM" and len(value) == 3:
        value = (value[0], value[1].upper(), value[2].lower())  # AS and names fold case
    if cmd.cmd.upper() == "HEALTHCHECK" and value:
        value = (value[0].upper(), *value[1:])
    return {
        "cmd": cmd.cmd.upper(),
        "sub_cmd": cmd.sub_cmd.upper() if cmd.sub_cmd else None,
        "json": cmd.json,
        "original": cmd.original,
        "start_line": cmd.start_line,
        "end_line": cmd.end_line,
        "flags": oracle_flags(cmd.flags),
        "value": value,
        "heredocs": tuple((h.name, h.file_descriptor, h.content) for h in cmd.heredocs),
    }


def test_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 40


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_agrees_with_buildkit(path: Path) -> None:
    data = path.read_bytes()
    expected = [theirs(c) for c in dockerfile.parse_string(data.decode("utf-8"))]
    got = [ours(i) for i in parse_dockerfile(data, filename=path.name).instructions()]
    assert len(got) == len(expected), [c["original"] for c in expected]
    for mine, oracle in zip(got, expected, strict=True):
        assert mine == oracle


# -- malformed files: both parsers refuse them -----------------------------

REJECTED_BY_BOTH = {
    "unterminated heredoc": "FROM a\nRUN <<EOF\necho\n",
    "legacy ENV without a value": "FROM a\nENV lonely\n",
    "LABEL word without =": "FROM a\nLABEL a=b c\n",
    "JSON array of non-strings": 'FROM a\nCMD ["a", 1]\n',
    "repeated escape directive": "# escape=\\\n# escape=`\nFROM a\n",
    "invalid escape directive": "# escape=x\nFROM a\n",
    "no instructions at all": "# only a comment\n\n",
}


@pytest.mark.parametrize("text", REJECTED_BY_BOTH.values(), ids=list(REJECTED_BY_BOTH))
def test_both_reject(text: str) -> None:
    from engine.errors import DockerfileError

    with pytest.raises(dockerfile.GoParseError):
        dockerfile.parse_string(text)
    with pytest.raises(DockerfileError):
        parse_dockerfile(text)


# -- the documented differences, pinned so a new oracle shows up here ------

def test_difference_onbuild_heredoc_dropped_by_oracle() -> None:
    text = "FROM a\nONBUILD RUN <<EOF\nbody\nEOF\n"
    oracle = dockerfile.parse_string(text)[1]
    assert oracle.heredocs == () and oracle.end_line == 4
    trigger = parse_dockerfile(text).stages[0].instructions[0]
    assert isinstance(trigger, ast.Onbuild) and isinstance(trigger.trigger, ast.Run)
    assert trigger.trigger.heredocs[0].content == "body\n"


def test_difference_non_ascii_flag_bytes() -> None:
    text = "FROM a\nRUN --mount=id=clé ls\n"
    assert dockerfile.parse_string(text)[1].flags == ("--mount=id=clÃ©",)
    run = parse_dockerfile(text).stages[0].instructions[0]
    assert run.flags == {"mount": ("id=clé",)}


def test_difference_check_directive_unknown_to_oracle() -> None:
    text = "# check=skip=all\n# escape=`\nFROM a\nRUN a `\n  b\n"
    oracle = dockerfile.parse_string(text)
    assert [c.original for c in oracle] == ["FROM a", "RUN a `", "b"]  # `b` as a keyword
    df = parse_dockerfile(text)
    assert df.directives.check == "skip=all" and df.escape == "`"
    assert df.stages[0].instructions[0].original == "RUN a   b"
