"""Variable expansion: the word rules, and which instructions get expanded."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.build import ast, expand_instruction, expand_word, parse_dockerfile
from engine.build.expand import apply_env
from engine.build.shellwords import ShellWordError, WordLexer
from engine.errors import DockerfileError

ENV = {"FOO": "/bar", "EMPTY": "", "NAME": "world", "PORTS": "80 443/udp",
       "PATHLIKE": "/usr/local/bin/python3.12"}


def instr(line: str, escape: str = "\\") -> ast.Instruction:
    head = "# escape=`\n" if escape == "`" else ""
    return parse_dockerfile(f"{head}FROM x\n{line}\n").stages[0].instructions[0]


def expanded(line: str, env: dict[str, str] | None = None, escape: str = "\\"
             ) -> ast.Instruction:
    return expand_instruction(instr(line, escape), ENV if env is None else env,
                              escape=escape).instruction


# -- word rules ------------------------------------------------------------------------

@pytest.mark.parametrize(("word", "result"), [
    ("$FOO", "/bar"),
    ("${FOO}", "/bar"),
    ("${FOO}/baz", "/bar/baz"),
    ("$FOO_x", ""),  # the name runs on: FOO_x is unset
    ("${UNSET}", ""),
    ("${UNSET:-default}", "default"),
    ("${EMPTY:-default}", "default"),
    ("${EMPTY-default}", ""),  # set, although empty
    ("${UNSET-default}", "default"),
    ("${FOO:+alt}", "alt"),
    ("${EMPTY:+alt}", ""),
    ("${EMPTY+alt}", "alt"),
    ("${UNSET+alt}", ""),
    ("${UNSET:-$FOO/x}", "/bar/x"),  # words are expanded recursively
    ("\\$FOO", "$FOO"),
    ("\\${FOO}", "${FOO}"),
    ("'$FOO'", "$FOO"),  # single quotes: literal
    ('"$FOO"', "/bar"),  # double quotes: expanded
    ('"\\$FOO \\" \\\\ \\n"', '$FOO " \\ \\n'),  # only " $ and \\ escape inside "…"
    ("a\\ b", "a b"),
    ("$", "$"),
    ("100$", "100$"),
    ("$1", ""),
    ("${PATHLIKE#*/}", "usr/local/bin/python3.12"),
    ("${PATHLIKE##*/}", "python3.12"),
    ("${PATHLIKE%.*}", "/usr/local/bin/python3"),
    ("${PATHLIKE%%.*}", "/usr/local/bin/python3"),
    ("${NAME/o/0}", "w0rld"),
    ("${PATHLIKE//\\//:}", ":usr:local:bin:python3.12"),
])
def test_word_expansion(word: str, result: str) -> None:
    assert expand_word(word, ENV) == result


@pytest.mark.parametrize(("word", "error"), [
    ("${FOO", "missing '}'"),
    ("${}", "bad substitution"),
    ("${FOO:=x}", "unsupported modifier"),
    ("${UNSET:?must be set}", "UNSET: must be set"),
    ("${EMPTY:?}", "EMPTY: is not allowed to be empty"),
    ("'open", "matching single-quote"),
    ('"open', "matching double-quote"),
])
def test_word_errors(word: str, error: str) -> None:
    with pytest.raises(ShellWordError, match=error):
        expand_word(word, ENV)


def test_backtick_escape() -> None:
    assert expand_word("`$FOO", ENV, escape="`") == "$FOO"
    assert expand_word("C:\\$FOO", ENV, escape="`") == "C:\\/bar"


def test_words_split_on_unquoted_whitespace_only() -> None:
    lexer = WordLexer()
    assert lexer.process_words('a "b c" $PORTS', ENV) == ["a", "b c", "80", "443/udp"]
    assert lexer.process_words('"$PORTS"', ENV) == ["80 443/udp"]


def test_skip_unset_keeps_references() -> None:
    lexer = WordLexer(skip_unset=True)
    assert lexer.process_word("$A ${B} ${C:-x} $FOO", ENV) == "$A ${B} ${C:-x} /bar"


# -- which instructions ---------------------------------------------------------------

def test_docker_documented_example() -> None:
    # docs: ENV FOO=/bar; WORKDIR ${FOO}; ADD . $FOO; COPY \$FOO /quux
    assert expanded("WORKDIR ${FOO}") == ast.Workdir(line=2, end_line=2,
                                                     original="WORKDIR ${FOO}", path="/bar")
    add = expanded("ADD . $FOO")
    assert isinstance(add, ast.Add) and add.dest == "/bar"
    copy = expanded("COPY \\$FOO /quux")
    assert isinstance(copy, ast.Copy) and copy.sources == ("$FOO",)


def test_old_value_rule_within_one_instruction() -> None:
    # docs: ENV abc=hello / ENV abc=bye def=$abc / ENV ghi=$abc → def=hello, ghi=bye
    env = {"abc": "hello"}
    first = expand_instruction(instr("ENV abc=bye def=$abc"), env).instruction
    assert isinstance(first, ast.Env) and first.pairs == (("abc", "bye"), ("def", "hello"))
    env = apply_env(env, first)
    second = expand_instruction(instr("ENV ghi=$abc"), env).instruction
    assert isinstance(second, ast.Env) and second.pairs == (("ghi", "bye"),)


def test_env_and_label_remove_quotes_and_expand_keys() -> None:
    env = expanded('ENV A="two words" B=\'$NAME\' C="$NAME" D=esc\\ aped')
    assert env.pairs == (("A", "two words"), ("B", "$NAME"), ("C", "world"),
                         ("D", "esc aped"))
    label = expanded('LABEL "key.$NAME"="v $NAME"')
    assert label.pairs == (("key.world", "v world"),)
    legacy = expanded("ENV GREETING hello $NAME")
    assert legacy.pairs == (("GREETING", "hello world"),)


def test_arg_from_expose_volume_user_stopsignal() -> None:
    arg = expanded("ARG LOCAL=${NAME}-local OTHER")
    assert arg.args == (ast.ArgSpec("LOCAL", "world-local"), ast.ArgSpec("OTHER"))
    frm = expand_instruction(parse_dockerfile("FROM --platform=$P img:$V AS b\n").stages[0]
                             .from_, {"P": "linux/arm64", "V": "3"}).instruction
    assert isinstance(frm, ast.From) and (frm.image, frm.platform) == ("img:3", "linux/arm64")
    assert frm.flags == {"platform": "linux/arm64"} and frm.name == "b"
    assert expanded("EXPOSE $PORTS 8080").ports == ("80", "443/udp", "8080")
    assert expanded('VOLUME ["$FOO", "/x"]').paths == ("/bar", "/x")
    assert expanded("USER ${NAME}:staff").user == "world:staff"
    assert expanded("STOPSIGNAL ${SIG:-SIGTERM}").signal == "SIGTERM"


@pytest.mark.parametrize("line", [
    "RUN echo $FOO", 'RUN ["echo", "$FOO"]', "CMD echo $FOO", 'ENTRYPOINT ["$FOO"]',
    "HEALTHCHECK CMD test -d $FOO", 'SHELL ["$FOO"]', "MAINTAINER $FOO",
    "ONBUILD WORKDIR $FOO",
])
def test_not_expanded(line: str) -> None:
    original = instr(line)
    result = expand_instruction(original, ENV)
    assert result.instruction is original and result.used == frozenset()


def test_copy_flags_sources_and_heredocs() -> None:
    text = ("COPY --from=$STAGE --chown=${NAME}:${NAME} --chmod=$MODE <<EOF <<\"RAW\" "
            "$FOO/src /dst/$NAME\nhello \"$NAME\" \\$FOO\nEOF\nkeep $NAME\nRAW")
    env = {**ENV, "STAGE": "build", "MODE": "0644"}
    copy = expanded(text, env)
    assert isinstance(copy, ast.Copy)
    assert copy.flags == {"from": "build", "chown": "world:world", "chmod": "0644"}
    assert copy.sources == ("<<EOF", '<<"RAW"', "/bar/src") and copy.dest == "/dst/world"
    # Bodies: variables expanded, quotes kept; a quoted delimiter leaves the body alone.
    assert [h.content for h in copy.heredocs] == ['hello "world" $FOO\n', "keep $NAME\n"]


def test_used_variables_are_reported() -> None:
    result = expand_instruction(instr("ENV A=$FOO B=${UNSET:-x} C='$NOT'"), ENV)
    assert result.used == {"FOO", "UNSET"}


def test_expansion_errors_name_file_and_line() -> None:
    with pytest.raises(DockerfileError) as info:
        expand_instruction(instr("WORKDIR ${FOO"), ENV, filename="app/Dockerfile")
    assert str(info.value) == "app/Dockerfile:2: syntax error: missing '}': WORKDIR ${FOO"


@pytest.mark.parametrize("path", sorted((Path(__file__).parent / "corpus").glob("*.Dockerfile")),
                         ids=lambda p: p.stem)
def test_every_corpus_instruction_expands(path: Path) -> None:
    """Walk each stage the way the builder will: ARG defaults and ENV feed later steps."""
    df = parse_dockerfile(path.read_bytes(), filename=path.name)
    for stage in df.stages:
        env: dict[str, str] = {}
        for step in stage.instructions:
            result = expand_instruction(step, env, escape=df.escape, filename=path.name)
            done = result.instruction
            if isinstance(done, ast.Env):
                env = apply_env(env, done)
            elif isinstance(done, ast.Arg):
                env.update({a.name: a.default for a in done.args if a.default is not None})
            assert done.line == step.line and done.original == step.original
