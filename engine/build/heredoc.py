"""Finding heredoc markers (``<<EOF``, ``<<-"EOF"``, ``3<<EOF``) in an instruction line.

BuildKit splits the line into shell words keeping quotes and escapes as
written, so ``"<<EOF"`` and ``\\<<EOF`` are *not* markers, then reads each word
matching ``[fd]<<[-]delimiter``. Variables in a delimiter are never expanded
(``<<$X`` ends at a line reading ``$X``). Any quoting in the delimiter turns
expansion of the body off; ``<<-`` strips leading tabs from the body and from
the terminator line.
"""

from __future__ import annotations

import re

from ..record import dataclass
from .shellwords import ShellWordError, WordLexer

# Go's `^(\d*)<<(-?)([^<]*)$`; RE2's \d is ASCII only, Python's is not.
_MARKER = re.compile(r"([0-9]*)<<(-?)([^<]*)\Z")
#: Only these instructions read heredocs (ONBUILD reads them for its trigger).
HEREDOC_KEYWORDS = frozenset({"ADD", "COPY", "RUN"})

# Heredoc words are always lexed with the backslash, whatever `# escape=` says.
_LINE_LEXER = WordLexer("\\", raw_quotes=True, raw_escapes=True, skip_unset=True)
_NAME_LEXER = WordLexer("\\", skip_unset=True)
_RAW_NAME_LEXER = WordLexer("\\", raw_quotes=True, skip_unset=True)


@dataclass(frozen=True)
class HeredocMarker:
    name: str  # the terminator line, quotes removed
    expand: bool
    chomp: bool
    fd: int


def parse_marker(word: str) -> HeredocMarker | None:
    """The marker a single word stands for, or None when it is an ordinary word."""
    m = _MARKER.match(word)
    if m is None or not m[3]:
        return None
    try:
        words = _NAME_LEXER.process_words(m[3], {})
        raw = _RAW_NAME_LEXER.process_words(m[3], {})
    except ShellWordError:
        return None
    if len(words) != 1 or len(raw) != 1:
        return None
    # A quote anywhere in the delimiter (`<<"EOF"`, `<<E'O'F`) disables expansion.
    quoted = _quotes(raw[0]) != _quotes(words[0])
    try:
        fd = int(m[1]) if m[1] else 0
    except ValueError:
        fd = 0
    return HeredocMarker(name=words[0], expand=not quoted, chomp=m[2] == "-", fd=fd)


def markers_in_line(line: str) -> list[HeredocMarker]:
    """Every marker on a logical line, in order (several heredocs per line are allowed)."""
    try:
        words = _LINE_LEXER.process_words(line, {})
    except ShellWordError:
        return []  # BuildKit ignores a line it cannot lex here: no heredocs
    found = []
    for word in words:
        marker = parse_marker(word)
        if marker is not None:
            found.append(marker)
    return found


def _quotes(text: str) -> int:
    return text.count("'") + text.count('"')
