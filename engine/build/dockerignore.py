"""``.dockerignore``: which context paths a build may not see, with Docker's semantics.

Reading (moby ``ignorefile.ReadAll``): one pattern per line; a line *starting*
with ``#`` is a comment; lines are trimmed, a leading ``!`` marks a re-include,
and the rest goes through Go's ``filepath.Clean`` with a leading ``/`` dropped
(``/a/../b/`` → ``b``).

Matching (moby ``patternmatcher``): ``*`` and ``?`` never cross ``/``, ``[…]``
classes (``[^…]`` negates), ``\\`` escapes, and ``**`` spans any number of
directories, including none. A pattern that matches a directory also matches
everything under it. Patterns are evaluated in order and the *last* one that
matches decides: a ``!`` pattern re-includes, a later plain one excludes again.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from enum import Enum
from pathlib import Path

from ..errors import InvalidArgument
from ..record import dataclass

_ESCAPED = frozenset(".+()|{}$")  # regex specials that mean nothing to filepath.Match


class _Kind(Enum):
    EXACT = 1  # no wildcard: string equality
    PREFIX = 2  # `dir/**`: startswith
    SUFFIX = 3  # `**/name`: endswith, or equal to name
    REGEX = 4


def go_clean(path: str) -> str:
    """Go's filepath.Clean (posixpath.normpath keeps a leading ``//``; Go does not)."""
    cleaned = posixpath.normpath(path) if path else "."
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def read_patterns(text: str) -> list[str]:
    """The patterns of a .dockerignore file, cleaned, ``!`` kept in front."""
    out = []
    for n, line in enumerate(text.split("\n")):
        if n == 0:
            line = line.removeprefix("\ufeff")
        if line.startswith("#"):  # only in column 1: "  # x" is a pattern
            continue
        pattern = line.strip()
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = pattern[1:].strip()
        if pattern:
            pattern = go_clean(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        out.append("!" + pattern if invert else pattern)
    return out


@dataclass(frozen=True)
class Pattern:
    text: str  # cleaned, without the `!`
    exclusion: bool  # a `!` re-include
    kind: _Kind
    regex: re.Pattern[str] | None

    @classmethod
    def compile(cls, raw: str) -> Pattern:
        text = go_clean(raw.strip())
        exclusion = text.startswith("!")
        if exclusion:
            if text == "!":
                raise InvalidArgument('illegal exclusion pattern: "!"')
            text = text[1:]
        kind, source = _translate(text)
        try:
            regex = re.compile(source) if kind is _Kind.REGEX else None
        except re.error as err:
            raise InvalidArgument(f"invalid .dockerignore pattern {raw!r}: {err}") from None
        return cls(text, exclusion, kind, regex)

    def match(self, path: str) -> bool:
        if self.kind is _Kind.EXACT:
            return path == self.text
        if self.kind is _Kind.PREFIX:
            return path.startswith(self.text[:-2])
        if self.kind is _Kind.SUFFIX:
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix[:1] == "/" and path == suffix[1:])
        assert self.regex is not None
        return self.regex.match(path) is not None


def _translate(pattern: str) -> tuple[_Kind, str]:
    """Pattern → (kind, regex source); the regex is only used for REGEX."""
    if _malformed(pattern):
        raise InvalidArgument(f"invalid .dockerignore pattern {pattern!r}: syntax error")
    out, kind, i, step, in_class = ["^"], _Kind.EXACT, 0, 0, False
    while i < len(pattern):
        ch = pattern[i]
        i += 1
        if in_class and ch not in "]\\":
            # Class members are literal: `[` `&` `~` `|` would mean set
            # operations to Python's re, never to Go's.
            keep = ch == "^" or (ch == "-" and out[-1] != "-")  # `--` is set difference too
            out.append(ch if keep else re.escape(ch))
        elif ch == "*" and pattern[i:i + 1] == "*":
            i += 1
            if pattern[i:i + 1] == "/":
                i += 1  # `**/` is the same as `**`
            if i >= len(pattern):  # trailing `**`: everything below
                if kind is _Kind.EXACT:
                    kind = _Kind.PREFIX
                else:
                    out.append(".*")
                    kind = _Kind.REGEX
            else:
                out.append("(.*/)?")  # any number of directories, even none
                kind = _Kind.REGEX
            if step == 0:
                kind = _Kind.SUFFIX
        elif ch == "*":
            out.append("[^/]*")
            kind = _Kind.REGEX
        elif ch == "?":
            out.append("[^/]")
            kind = _Kind.REGEX
        elif ch in _ESCAPED:
            out.append("\\" + ch)
        elif ch == "\\":
            out.append(re.escape(pattern[i]) if i < len(pattern) else "\\\\")
            i += 1
        elif ch in "[]":
            out.append(ch)
            in_class = ch == "["
            kind = _Kind.REGEX
        else:
            out.append(ch)
        step += 1
    return kind, "".join(out) + "$"


def _malformed(pattern: str) -> bool:
    """What Go's filepath.Match rejects: a trailing ``\\``, an unclosed ``[``, or a
    class member that starts with ``]`` or ``-`` (``[]``, ``[^-a]``)."""
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            if i + 1 == len(pattern):
                return True
            i += 1
        elif ch == "[" and not in_class:
            in_class = True
            i += 1 if pattern[i + 1:i + 2] == "^" else 0
            if pattern[i + 1:i + 2] in ("]", "-"):
                return True
        elif ch == "]" and in_class:
            in_class = False
        i += 1
    return in_class


def _normalize(path: str) -> str:
    return go_clean(path).lstrip("/") or "."


class DockerIgnore:
    """A compiled .dockerignore: ``excluded(path)`` and ``can_skip_dir(path)``."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = [Pattern.compile(p) for p in patterns if p.strip()]

    @classmethod
    def from_text(cls, text: str) -> DockerIgnore:
        return cls(read_patterns(text))

    @classmethod
    def for_context(cls, context: str | Path, dockerfile: str | Path | None = None
                    ) -> DockerIgnore:
        """``<Dockerfile>.dockerignore`` next to the Dockerfile wins over the context's."""
        candidates = []
        if dockerfile is not None:
            df = Path(dockerfile)
            candidates.append(df.with_name(df.name + ".dockerignore"))
        candidates.append(Path(context) / ".dockerignore")
        for path in candidates:
            try:
                return cls.from_text(path.read_text(encoding="utf-8", errors="surrogateescape"))
            except FileNotFoundError:
                continue
        return cls([])

    def _matches(self, pattern: Pattern, path: str) -> bool:
        if pattern.match(path):
            return True
        parts = path.split("/")
        # A pattern matching any parent directory matches the path too.
        return any(pattern.match("/".join(parts[:n])) for n in range(1, len(parts)))

    def excluded(self, path: str) -> bool:
        """Whether a context-relative path (``src/a.py``) is hidden from the build."""
        path = _normalize(path)
        matched = False
        for pattern in self.patterns:
            # Only a pattern that could flip the verdict needs evaluating.
            if pattern.exclusion == matched and self._matches(pattern, path):
                matched = not pattern.exclusion
        return matched

    def can_skip_dir(self, path: str) -> bool:
        """True when ``path`` is excluded and no later ``!`` pattern could
        re-include anything below it, so a walker need not descend into it."""
        path = _normalize(path)
        if not self.excluded(path):
            return False
        last = max(i for i, p in enumerate(self.patterns)
                   if not p.exclusion and self._matches(p, path))
        segments = path.split("/")
        return not any(p.exclusion and _may_match_below(p.text, segments)
                       for p in self.patterns[last + 1:])


def _may_match_below(pattern: str, segments: list[str]) -> bool:
    """Could ``pattern`` match ``segments`` itself, an ancestor, or a descendant?"""
    for i, part in enumerate(pattern.split("/")):
        if "**" in part or i >= len(segments):
            return True  # `**` can reach anywhere; a longer pattern reaches below
        kind, source = _translate(part)
        hit = re.match(source, segments[i]) if kind is not _Kind.EXACT else part == segments[i]
        if not hit:
            return False
    return True
