"""Parser directives: ``# escape=``, ``# syntax=`` and ``# check=`` at the top of a file.

BuildKit's rules, which we follow exactly:

- a directive is a comment of the form ``# key=value`` (spaces allowed around
  ``#``, the key and ``=``); keys are case-insensitive;
- directives are only read *before* anything else: the first line that is not a
  known directive (an instruction, a blank line, an ordinary comment, an
  unknown ``# key=value``) ends the directive block for good, and later
  directive-looking lines are plain comments;
- each key may appear once; ``escape`` must be ``\\`` or a backtick.

``syntax`` selects a BuildKit frontend image. We build with our own parser, so
it is recorded and reported as a warning, never fetched.
"""

from __future__ import annotations

import re

from ..record import dataclass, field
from .ast import Directives, ParseWarning

# Go's `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`; RE2's \s is ASCII only.
_DIRECTIVE = re.compile(r"#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*\Z", re.ASCII)
KNOWN = frozenset({"escape", "syntax", "check"})
_CHECK_KEYS = frozenset({"skip", "error"})


class DirectiveError(ValueError):
    """A directive that is repeated or has an invalid value."""


@dataclass
class DirectiveScanner:
    """Fed every line from the top; remembers directives until the block ends."""

    escape: str = "\\"
    syntax: str | None = None
    check: str | None = None
    done: bool = False
    warnings: list[ParseWarning] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)

    def feed(self, line: str, lineno: int) -> None:
        """Look at one physical line (newline removed, leading blanks trimmed)."""
        if self.done:
            return
        m = _DIRECTIVE.match(line)
        if m is None or m[1].lower() not in KNOWN:
            self.done = True
            return
        key, value = m[1].lower(), m[2]
        if key in self._seen:
            raise DirectiveError(f"only one {key} parser directive can be used")
        self._seen.add(key)
        if key == "escape":
            if value not in ("\\", "`"):
                raise DirectiveError(
                    f"invalid escape token '{value}' does not match ` or \\")
            self.escape = value
        elif key == "syntax":
            self.syntax = value
            self.warnings.append(ParseWarning(
                lineno, f"syntax directive ignored: pydock parses Dockerfiles itself ({value})"))
        else:
            self.check = value
            self._check_value(value, lineno)

    def _check_value(self, value: str, lineno: int) -> None:
        # `# check=skip=A,B;error=true`: unknown parts are warned about, as
        # BuildKit does, rather than failing the build.
        for part in filter(None, (p.strip() for p in value.split(";"))):
            key, sep, _ = part.partition("=")
            if not sep or key.strip().lower() not in _CHECK_KEYS:
                self.warnings.append(ParseWarning(lineno, f"invalid check directive: {part}"))

    def directives(self) -> Directives:
        return Directives(escape=self.escape, syntax=self.syntax, check=self.check)
