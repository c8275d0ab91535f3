"""Physical lines → logical instruction lines → raw nodes (with heredoc bodies).

The rules, as BuildKit applies them:

- lines end at ``\\n``; any trailing ``\\r`` is dropped (CRLF files), and a UTF-8
  BOM before the first line is ignored;
- a line whose last non-blank character is the escape character continues on
  the next line, unless that escape is itself escaped (``\\\\`` at the end ends
  the line); the escape and the blanks after it are removed, nothing is
  inserted, and the next line's leading blanks are kept;
- comment lines (``#`` after optional blanks) and empty lines inside a
  continuation are skipped; empty ones earn a warning, as in Docker;
- outside continuations, comment lines and blank lines separate nothing and
  are dropped; leading blanks before an instruction are ignored;
- after the logical line of a RUN/COPY/ADD (not in JSON form) come the bodies
  of its heredocs, one after another, each ended by a line equal to its
  delimiter (leading tabs ignored for ``<<-``).
"""

from __future__ import annotations

import re

from ..errors import DockerfileError
from ..record import dataclass, field
from .ast import Directives, Heredoc, ParseWarning
from .directives import DirectiveError, DirectiveScanner
from .heredoc import markers_in_line
from .nodes import Node, NodeError, node_from_line
from .shellwords import is_space

_PHYSICAL = re.compile(r"[^\n]*\n|[^\n]+\Z")


@dataclass
class Lexed:
    directives: Directives
    nodes: list[Node]
    warnings: list[ParseWarning] = field(default_factory=list)


def _lstrip(text: str) -> str:
    i = 0
    while i < len(text) and is_space(text[i]):
        i += 1
    return text[i:]


def _chomp_newline(raw: str) -> str:
    return raw.rstrip("\r\n")


def is_comment(raw: str) -> bool:
    return _lstrip(_chomp_newline(raw)).startswith("#")


def trim_continuation(line: str, escape: str) -> tuple[str, bool]:
    """``(line without the continuation, ended)``: ended is False when the line continues."""
    stripped = line.rstrip(" \t")
    if stripped.endswith(escape) and (len(stripped) == 1 or stripped[-2] != escape):
        return stripped[:-1], False
    return line, True


class _Lines:
    """A cursor over the physical lines; ``count`` is the number consumed so far."""

    def __init__(self, text: str) -> None:
        self.lines = _PHYSICAL.findall(text)
        if self.lines:
            self.lines[0] = self.lines[0].removeprefix("\ufeff")
        self.count = 0

    def next(self) -> str | None:
        if self.count >= len(self.lines):
            return None
        self.count += 1
        return self.lines[self.count - 1]


def lex(text: str, filename: str = "Dockerfile") -> Lexed:
    """Split ``text`` into raw nodes, reading directives and heredoc bodies on the way."""
    scanner = DirectiveScanner()
    lines = _Lines(text)
    nodes: list[Node] = []
    warnings: list[ParseWarning] = []

    def feed(line: str, lineno: int) -> None:
        try:
            scanner.feed(line, lineno)
        except DirectiveError as err:
            raise DockerfileError(filename, lineno, line, str(err)) from None

    while (raw := lines.next()) is not None:
        start = lines.count
        token = _lstrip(_chomp_newline(raw))
        feed(token, start)
        if is_comment(raw):
            continue
        escape = scanner.escape
        line, ended = trim_continuation(token, escape)
        if ended and not line:
            continue
        empty_continuation = False
        while not ended and (raw := lines.next()) is not None:
            token = _chomp_newline(raw)
            feed(token, lines.count)
            if is_comment(raw):
                continue  # comments may sit inside a continued instruction
            if not _lstrip(token):
                empty_continuation = True
                continue
            more, ended = trim_continuation(token, escape)
            line += more
        if empty_continuation:
            warnings.append(ParseWarning(lines.count, "empty continuation line found in: "
                                         f"{line.strip()} (Docker will reject these one day)"))
        try:
            node = node_from_line(line, escape)
        except NodeError as err:
            raise DockerfileError(filename, start, line, str(err)) from None
        node.start_line = start
        if node.can_contain_heredoc() and "<<" in line:
            for marker in markers_in_line(line):
                body: list[str] = []
                while (raw := lines.next()) is not None:
                    candidate = _chomp_newline(raw)
                    if marker.chomp:
                        candidate = candidate.lstrip("\t")
                    if candidate == marker.name:
                        break
                    body.append(raw)
                else:
                    raise DockerfileError(filename, start, line,
                                          f"unterminated heredoc {marker.name}")
                node.heredocs.append(Heredoc(name=marker.name, content="".join(body),
                                             expand=marker.expand, chomp=marker.chomp,
                                             fd=marker.fd))
        node.end_line = lines.count
        nodes.append(node)

    if not nodes:
        raise DockerfileError(filename, max(lines.count, 1), "", "file with no instructions")
    warnings[:0] = scanner.warnings
    return Lexed(scanner.directives(), nodes, warnings)
