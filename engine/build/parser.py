"""Parse a Dockerfile into stages; every error names file, line and text.

Entry points: :func:`parse_dockerfile` (text or bytes) and :func:`parse_file`
(a path). The lexer yields raw nodes, :mod:`.instructions` types each one, and
this module groups them: only ARG may precede the first FROM (those ARGs are
usable in FROM lines only), each FROM opens a stage, and stage names are
unique. Values stay as written; :mod:`.expand` substitutes variables at build
time.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import DockerfileError
from . import ast
from .instructions import Reject, build_instruction
from .lexer import lex


def parse_file(path: str | Path) -> ast.Dockerfile:
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as err:
        raise DockerfileError(str(p), 0, "", f"cannot read Dockerfile: {err.strerror}") from err
    return parse_dockerfile(data, filename=str(p))


def parse_dockerfile(source: str | bytes, *, filename: str = "Dockerfile") -> ast.Dockerfile:
    # Dockerfiles are bytes to BuildKit: surrogateescape keeps non-UTF-8 paths intact.
    text = source.decode("utf-8", "surrogateescape") if isinstance(source, bytes) else source
    lexed = lex(text, filename)
    warnings = list(lexed.warnings)
    args_before: list[ast.Arg] = []
    stages: list[ast.Stage] = []
    current: tuple[ast.From, list[ast.Instruction]] | None = None
    names: set[str] = set()

    def close() -> None:
        if current is not None:
            frm, body = current
            stages.append(ast.Stage(index=len(stages), base=frm.image, name=frm.name,
                                    platform=frm.platform, from_=frm,
                                    instructions=tuple(body)))

    for node in lexed.nodes:
        try:
            instr = build_instruction(node, warnings)
        except Reject as err:
            raise DockerfileError(filename, node.start_line, node.original, str(err)) from None
        if isinstance(instr, ast.From):
            if instr.name is not None:
                if instr.name in names:
                    raise DockerfileError(filename, node.start_line, node.original,
                                          f"duplicate stage name {instr.name!r}")
                names.add(instr.name)
            close()
            current = (instr, [])
        elif current is not None:
            current[1].append(instr)
        elif isinstance(instr, ast.Arg):
            args_before.append(instr)
        else:
            raise DockerfileError(filename, node.start_line, node.original,
                                  "no build stage in current context (only ARG may come "
                                  "before the first FROM)")
    close()
    if not stages:
        last = lexed.nodes[-1]
        raise DockerfileError(filename, last.start_line, last.original,
                              "dockerfile contains no stages to build (no FROM)")
    return ast.Dockerfile(filename=filename, directives=lexed.directives,
                          args_before_from=tuple(args_before), stages=tuple(stages),
                          warnings=tuple(warnings))
