"""The Dockerfile parser, rule by rule (the differential test covers the corpus)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.build import ast, parse_dockerfile, parse_file
from engine.errors import DockerfileError, InvalidArgument


def body(text: str) -> tuple[ast.Instruction, ...]:
    """The instructions of the single stage of ``FROM x\\n`` + text."""
    return parse_dockerfile("FROM x\n" + text).stages[0].instructions


def one(text: str) -> ast.Instruction:
    (instr,) = body(text)
    return instr


def fails(text: str, line: int, fragment: str, *, filename: str = "Dockerfile") -> str:
    """Assert the error names file:line, quotes the offending text, and return it."""
    with pytest.raises(DockerfileError) as info:
        parse_dockerfile(text, filename=filename)
    err = info.value
    msg = str(err)
    assert msg.startswith(f"{filename}:{line}: "), msg
    assert err.file == filename and err.line == line
    assert fragment in msg, msg
    return msg


# -- directives ------------------------------------------------------------

def test_escape_directive_backtick_continues_lines() -> None:
    df = parse_dockerfile("# escape=`\nFROM x\nRUN dir C:\\ `\n  /w\n")
    assert df.escape == "`"
    run = df.stages[0].instructions[0]
    assert isinstance(run, ast.Run) and run.command == ("dir C:\\   /w",)


def test_directive_keys_are_case_insensitive_and_spaced() -> None:
    df = parse_dockerfile("#  ESCAPE = `\n# Syntax=docker/dockerfile:1\nFROM x\n")
    assert df.escape == "`" and df.directives.syntax == "docker/dockerfile:1"


def test_syntax_directive_is_ignored_with_a_warning() -> None:
    df = parse_dockerfile("# syntax=docker/dockerfile:1.7\nFROM x\n")
    assert any("syntax directive ignored" in w.message and w.line == 1 for w in df.warnings)


def test_check_directive_is_recorded() -> None:
    df = parse_dockerfile("# check=skip=JSONArgsRecommended;error=true\nFROM x\n")
    assert df.directives.check == "skip=JSONArgsRecommended;error=true"
    assert not df.warnings


def test_directive_only_before_anything_else() -> None:
    # After a comment, a blank line or an instruction it is just a comment.
    for prefix in ("# a comment\n", "\n", "FROM x\n"):
        df = parse_dockerfile(prefix + "# escape=`\nFROM y\n")
        assert df.escape == "\\", prefix


def test_unknown_directive_ends_the_block() -> None:
    df = parse_dockerfile("# foo=bar\n# escape=`\nFROM x\n")
    assert df.escape == "\\"


def test_directive_twice_is_an_error() -> None:
    fails("# escape=`\n# ESCAPE=`\nFROM x\n", 2, "only one escape parser directive")


def test_bad_escape_value() -> None:
    fails("# escape=x\nFROM x\n", 1, "invalid escape token 'x'")


# -- lines, comments, continuations --------------------------------------------

def test_comments_and_empty_lines_inside_continuations() -> None:
    text = "RUN a \\\n  # inside\n\n  b \\\n# col one\n  c\n"
    run = one(text)
    assert run.original == "RUN a   b   c" and (run.line, run.end_line) == (2, 7)
    df = parse_dockerfile("FROM x\n" + text)
    assert [w.line for w in df.warnings if "empty continuation" in w.message] == [7]


def test_escaped_escape_at_end_does_not_continue() -> None:
    first, second = body("RUN echo \\\\\nRUN b\n")
    assert first.original == "RUN echo \\\\" and second.original == "RUN b"


def test_escape_then_blanks_still_continues() -> None:
    assert one("RUN a \\ \t\n b\n").original == "RUN a  b"


def test_keywords_are_case_insensitive() -> None:
    df = parse_dockerfile("from x As Build\nrun echo\nCoPy a b\n")
    assert df.stages[0].name == "build"
    assert [type(i) for i in df.stages[0].instructions] == [ast.Run, ast.Copy]


def test_crlf_and_bom() -> None:
    df = parse_dockerfile(b"\xef\xbb\xbfFROM x\r\nRUN a \\\r\n  b\r\n")
    run = df.stages[0].instructions[0]
    assert run.original == "RUN a   b" and run.end_line == 3


def test_end_of_file_inside_a_continuation() -> None:
    assert one("RUN a \\").original == "RUN a "


# -- shell vs exec form -------------------------------------------------------

def test_exec_and_shell_forms() -> None:
    exec_, shell = body('CMD ["a", "b c"]\nCMD a "b c"\n')
    assert isinstance(exec_, ast.Cmd) and exec_.json and exec_.command == ("a", "b c")
    assert isinstance(shell, ast.Cmd) and shell.shell_form and shell.command == ('a "b c"',)


def test_invalid_json_falls_back_to_shell_form_with_a_warning() -> None:
    df = parse_dockerfile("FROM x\nENTRYPOINT ['a', 'b']\n")
    ep = df.stages[0].instructions[0]
    assert isinstance(ep, ast.Entrypoint) and not ep.json and ep.command == ("['a', 'b']",)
    assert any("not valid JSON" in w.message for w in df.warnings)


def test_json_with_non_strings_is_an_error() -> None:
    fails('FROM x\nRUN ["a", 1]\n', 2, "arrays must be comprised of strings only")


def test_shell_requires_json() -> None:
    fails("FROM x\nSHELL /bin/bash -c\n", 2, "SHELL requires the arguments to be in JSON form")
    assert one('SHELL ["/bin/bash", "-c"]') == ast.Shell(
        line=2, end_line=2, original='SHELL ["/bin/bash", "-c"]', shell=("/bin/bash", "-c"))


# -- flags ------------------------------------------------------------------------

def test_flags_are_typed() -> None:
    copy = one("COPY --from=build --chown=app:app --chmod=0755 --link "
               "--exclude=*.md --exclude=*.txt a b /dst/")
    assert isinstance(copy, ast.Copy)
    assert copy.flags == {"from": "build", "chown": "app:app", "chmod": "0755", "link": True,
                          "exclude": ("*.md", "*.txt")}
    assert copy.sources == ("a", "b") and copy.dest == "/dst/"
    assert one("COPY --link=false a b").flags == {"link": False}


def test_run_flags() -> None:
    run = one("RUN --mount=type=cache,target=/c --mount=type=tmpfs,target=/t "
              "--network=none -- echo --not-a-flag")
    assert isinstance(run, ast.Run)
    assert run.mounts == ("type=cache,target=/c", "type=tmpfs,target=/t")
    assert run.network == "none" and run.command == ("echo --not-a-flag",)


def test_add_and_from_flags() -> None:
    add = one("ADD --checksum=sha256:abc --keep-git-dir https://x/y.git /src")
    assert add.flags == {"checksum": "sha256:abc", "keep-git-dir": True}
    df = parse_dockerfile("FROM --platform=linux/arm64 x AS a\n")
    assert df.stages[0].platform == "linux/arm64"


@pytest.mark.parametrize(("line", "reason"), [
    ("COPY --form=a b c", "unknown flag: --form (did you mean --from?)"),
    ("COPY --from=a --from=b c d", "duplicate flag specified: --from"),
    ("COPY --from c d", "missing a value on flag: --from"),
    ("COPY --link=maybe c d", "expecting boolean value for flag --link, not: maybe"),
    ("WORKDIR --x=1 /a", "unknown flag: --x"),
])
def test_bad_flags(line: str, reason: str) -> None:
    fails(f"FROM x\n{line}\n", 2, reason)


# -- heredocs -----------------------------------------------------------------------

def test_run_heredoc() -> None:
    run = one("RUN <<EOF\napt-get update\nEOF\n")
    assert isinstance(run, ast.Run) and run.command == ("<<EOF",)
    assert run.heredocs == (ast.Heredoc("EOF", "apt-get update\n"),)
    assert (run.line, run.end_line) == (2, 4)


def test_run_program_with_heredoc_stdin() -> None:
    run = one('RUN python3 <<EOF\nprint("hi")\nEOF\n')
    assert run.command == ("python3 <<EOF",)
    assert run.heredocs[0].body == 'print("hi")\n'


def test_chomp_strips_leading_tabs_from_body_and_terminator() -> None:
    run = one("RUN <<-EOF\n\techo a\n\t\techo b\n  echo c\n\tEOF\n")
    h = run.heredocs[0]
    assert h.chomp and h.content == "\techo a\n\t\techo b\n  echo c\n"
    assert h.body == "echo a\necho b\n  echo c\n"


def test_quoted_delimiters_disable_expansion() -> None:
    run = one("RUN <<\"A\" <<'B' <<C cat\na\nA\nb\nB\nc\nC\n")
    assert [(h.name, h.expand) for h in run.heredocs] == [("A", False), ("B", False),
                                                         ("C", True)]


def test_several_heredocs_and_file_descriptors() -> None:
    run = one("RUN cat 3<<X <<Y\nx\nX\ny\nY\n")
    assert [(h.name, h.fd, h.content) for h in run.heredocs] == [("X", 3, "x\n"),
                                                                ("Y", 0, "y\n")]


def test_copy_heredoc_source() -> None:
    copy = one("COPY --chmod=755 <<EOF /usr/bin/hello\n#!/bin/sh\necho hi\nEOF\n")
    assert isinstance(copy, ast.Copy)
    assert copy.dest == "/usr/bin/hello" and copy.path_sources() == ()
    ((marker, doc),) = copy.inline_sources()
    assert marker == "<<EOF" and doc.content == "#!/bin/sh\necho hi\n"


def test_heredoc_not_read_in_json_form_or_other_instructions() -> None:
    run, cmd = body('RUN ["cat", "<<EOF"]\nCMD cat <<EOF\n')
    assert run.heredocs == () and isinstance(cmd, ast.Cmd)


def test_unterminated_heredoc() -> None:
    fails("FROM x\nRUN <<EOF\necho\n", 2, "unterminated heredoc EOF: RUN <<EOF")


def test_heredoc_as_destination_is_an_error() -> None:
    fails("FROM x\nCOPY a <<EOF\nx\nEOF\n", 2, "cannot accept a heredoc as a destination")


# -- ENV, LABEL, ARG ---------------------------------------------------------------

def test_env_forms_keep_quotes_for_expansion() -> None:
    env = one('ENV A=1 B="two words" C=esc\\ aped')
    assert isinstance(env, ast.Env) and not env.legacy
    assert env.pairs == (("A", "1"), ("B", '"two words"'), ("C", "esc\\ aped"))


def test_env_legacy_form_takes_the_rest_of_the_line() -> None:
    env = one("ENV MY_NAME John  Doe")
    assert isinstance(env, ast.Env) and env.legacy and env.pairs == (("MY_NAME", "John  Doe"),)


def test_label_forms() -> None:
    label = one('LABEL "com.example.vendor"="ACME Inc" version=1.0 empty=')
    assert label.pairs == (('"com.example.vendor"', '"ACME Inc"'), ("version", "1.0"),
                           ("empty", ""))


def test_env_errors() -> None:
    fails("FROM x\nENV\n", 2, "ENV requires at least one argument")
    fails("FROM x\nENV =v\n", 2, "ENV names can not be blank")
    fails("FROM x\nENV a=1 b\n", 2, "can't find = in \"b\"")
    fails("FROM x\nLABEL onlykey\n", 2, "LABEL must have two arguments")


def test_arg_forms() -> None:
    arg = one("ARG A B=2 C= \"D\"=4")
    assert isinstance(arg, ast.Arg)
    assert arg.args == (ast.ArgSpec("A"), ast.ArgSpec("B", "2"), ast.ArgSpec("C", ""),
                        ast.ArgSpec('"D"', "4"))


def test_arg_without_name() -> None:
    fails("FROM x\nARG\n", 2, "ARG requires at least one argument: ARG")
    fails("FROM x\nARG =1\n", 2, "ARG names can not be blank: ARG =1")


# -- the other instructions ---------------------------------------------------------

def test_onbuild() -> None:
    ob = one("ONBUILD COPY --chown=1:1 . /app")
    assert isinstance(ob, ast.Onbuild) and ob.expression == "COPY --chown=1:1 . /app"
    assert isinstance(ob.trigger, ast.Copy) and ob.trigger.flags == {"chown": "1:1"}
    fails("FROM x\nONBUILD ONBUILD RUN a\n", 2, "Chaining ONBUILD")
    fails("FROM x\nONBUILD FROM y\n", 2, "FROM isn't allowed as an ONBUILD trigger")
    fails("FROM x\nONBUILD RUNN a\n", 2, "unknown instruction: RUNN")


def test_healthcheck() -> None:
    none, cmd, exec_ = body("HEALTHCHECK NONE\nHEALTHCHECK --interval=1m30s --timeout=3s "
                            "--start-period=0 --retries=3 CMD curl -f x\n"
                            'HEALTHCHECK --start-interval=500ms CMD ["/check"]\n')
    assert isinstance(none, ast.Healthcheck) and none.test == ("NONE",)
    assert isinstance(cmd, ast.Healthcheck) and cmd.test == ("CMD-SHELL", "curl -f x")
    assert (cmd.interval, cmd.timeout, cmd.start_period, cmd.retries) == (
        90_000_000_000, 3_000_000_000, 0, 3)
    assert isinstance(exec_, ast.Healthcheck) and exec_.test == ("CMD", "/check")
    assert exec_.start_interval == 500_000_000


@pytest.mark.parametrize(("line", "reason"), [
    ("HEALTHCHECK", "HEALTHCHECK requires an argument"),
    ("HEALTHCHECK NONE now", "HEALTHCHECK NONE takes no arguments"),
    ("HEALTHCHECK PING x", "Unknown type 'PING' in HEALTHCHECK"),
    ("HEALTHCHECK CMD", "Missing command after HEALTHCHECK CMD"),
    ("HEALTHCHECK --interval=5 CMD x", "invalid duration"),
    ("HEALTHCHECK --interval=10us CMD x", "cannot be less than 1ms"),
    ("HEALTHCHECK --retries=-1 CMD x", "--retries cannot be negative (-1)"),
])
def test_healthcheck_errors(line: str, reason: str) -> None:
    fails(f"FROM x\n{line}\n", 2, reason)


def test_single_argument_instructions() -> None:
    workdir, user, sig, maint = body("WORKDIR /a b\nUSER app:staff\nSTOPSIGNAL SIGTERM\n"
                                     "MAINTAINER Jane <j@x>\n")
    assert workdir == ast.Workdir(line=2, end_line=2, original="WORKDIR /a b", path="/a b")
    assert isinstance(user, ast.User) and user.user == "app:staff"
    assert isinstance(sig, ast.Stopsignal) and sig.signal == "SIGTERM"
    assert isinstance(maint, ast.Maintainer) and maint.maintainer == "Jane <j@x>"
    df = parse_dockerfile("FROM x\nMAINTAINER me\n")
    assert any("MAINTAINER is deprecated" in w.message for w in df.warnings)
    fails("FROM x\nUSER\n", 2, "USER requires exactly one argument")


def test_expose_and_volume() -> None:
    expose, vol_json, vol_words = body('EXPOSE 80 53/udp\nVOLUME ["/a", "/b c"]\n'
                                       "VOLUME /x /y\n")
    assert isinstance(expose, ast.Expose) and expose.ports == ("80", "53/udp")
    assert isinstance(vol_json, ast.Volume) and vol_json.json and vol_json.paths == ("/a", "/b c")
    assert isinstance(vol_words, ast.Volume) and vol_words.paths == ("/x", "/y")
    fails('FROM x\nVOLUME [""]\n', 2, "VOLUME specified can not be an empty string")
    fails("FROM x\nEXPOSE\n", 2, "EXPOSE requires at least one argument")


def test_copy_needs_a_destination() -> None:
    fails("FROM x\nCOPY onlyone\n", 2, "COPY requires at least two arguments")


# -- FROM and stages ------------------------------------------------------------------

def test_stages() -> None:
    df = parse_dockerfile("ARG V=1\nFROM --platform=$P img:$V AS Build\nRUN a\n"
                          "FROM scratch\nCOPY --from=build /a /a\n")
    assert [a.args for a in df.args_before_from] == [(ast.ArgSpec("V", "1"),)]
    build, final = df.stages
    assert (build.index, build.name, build.base, build.platform) == (0, "build", "img:$V", "$P")
    assert (final.index, final.name, final.base) == (1, None, "scratch")
    assert df.stage("build") is build and df.stage("BUILD") is build
    assert df.stage(1) is final and df.stage("1") is final and df.stage("nope") is None
    assert [i.keyword for i in df.instructions()] == ["ARG", "FROM", "RUN", "FROM", "COPY"]


def test_from_errors() -> None:
    assert fails("FROM\n", 1, "FROM requires either one or three arguments").endswith(": FROM")
    assert fails("FROM a b\n", 1, "one or three arguments").endswith("]: FROM a b")
    fails("FROM a AS 1st\n", 1, "invalid name for build stage: '1st'")
    fails("FROM a AS x\nFROM b AS X\n", 2, "duplicate stage name 'x'")


def test_only_arg_before_from() -> None:
    assert fails("ARG a\nRUN b\nFROM c\n", 2, "no build stage in current context").endswith(
        ": RUN b")
    fails("ARG a\n", 1, "no stages to build")
    fails("\n# nothing\n", 2, "file with no instructions")


def test_unknown_instruction_names_file_line_and_text() -> None:
    msg = fails("FROM x\n\nRUNN apt-get update\n", 3, "unknown instruction: RUNN",
                filename="build/Dockerfile.dev")
    assert msg == ("build/Dockerfile.dev:3: unknown instruction: RUNN (did you mean RUN?): "
                   "RUNN apt-get update")


def test_error_type_and_fields() -> None:
    with pytest.raises(InvalidArgument) as info:
        parse_dockerfile("FROM x\nCOPY a\n")
    err = info.value
    assert isinstance(err, DockerfileError) and err.title == "Dockerfile error"
    assert (err.line, err.text) == (2, "COPY a") and "destination" in err.reason


def test_parse_file(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM x\nCOPY caf\xc3\xa9 /\n")
    df = parse_file(path)
    assert df.filename == str(path)
    assert df.stages[0].instructions[0].sources == ("café",)
    with pytest.raises(DockerfileError, match="cannot read Dockerfile"):
        parse_file(tmp_path / "missing")
