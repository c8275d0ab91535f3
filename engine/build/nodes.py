"""One logical line → a raw node: keyword, flags and the argument list as written.

This is the syntactic layer BuildKit calls the parser ``Node``: nothing is
validated or unquoted except what the grammar itself decides (JSON arrays are
decoded, flags lose their quotes). :mod:`engine.build.parser` turns nodes into
typed instructions and reports the semantic errors.

Argument shapes per keyword (the same table BuildKit dispatches on):

- shell-or-JSON (RUN CMD ENTRYPOINT SHELL): a JSON string array, or the whole
  rest of the line as one string. Invalid JSON silently falls back to the shell
  form; valid JSON holding a non-string is an error.
- JSON-or-words (ADD COPY VOLUME): a JSON array, or whitespace-split words.
- words (FROM EXPOSE): whitespace-split, quotes are *not* special.
- one string (USER WORKDIR STOPSIGNAL MAINTAINER): the rest of the line.
- key=value (ENV LABEL): quote-aware words split at the first ``=``, or the
  legacy ``KEY name the value`` form when the first word has no ``=``.
- ARG: quote-aware words, ``=`` kept inside. HEALTHCHECK: type then shell-or-JSON.
- ONBUILD: the rest of the line parsed as its own node.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from ..record import dataclass, field
from .ast import Heredoc
from .heredoc import HEREDOC_KEYWORDS
from .shellwords import is_space

_WS = re.compile(r"[\t\v\f\r ]+")
# BuildKit scans flags and HEALTHCHECK's type byte by byte: a non-ASCII space
# there is part of a word, not a separator.
_ASCII_SPACE = frozenset(" \t\n\v\f\r")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_NOT_STRINGS = "when using JSON array syntax, arrays must be comprised of strings only"


class NodeError(ValueError):
    """The line breaks the grammar (message is BuildKit's wording where it has one)."""


@dataclass
class Node:
    keyword: str  # as written; compare with .upper()
    flags: tuple[str, ...]
    args: tuple[str, ...]
    rest: str  # the argument text after the flags, trimmed
    original: str
    json: bool = False
    legacy: bool = False  # ENV/LABEL written as `KEY name value`
    sub: Node | None = None  # the ONBUILD trigger
    start_line: int = 0
    end_line: int = 0
    heredocs: list[Heredoc] = field(default_factory=list)

    def can_contain_heredoc(self) -> bool:
        node = self.sub if self.keyword.upper() == "ONBUILD" and self.sub else self
        return node.keyword.upper() in HEREDOC_KEYWORDS and not node.json


def trim(text: str) -> str:
    """Go's strings.TrimSpace (Python's strip() also eats \\x1c-\\x1f)."""
    start, end = 0, len(text)
    while start < end and is_space(text[start]):
        start += 1
    while end > start and is_space(text[end - 1]):
        end -= 1
    return text[start:end]


def node_from_line(line: str, escape: str) -> Node:
    parts = _WS.split(trim(line), maxsplit=1)
    keyword, rest = parts[0], ""
    flags: tuple[str, ...] = ()
    if len(parts) == 2:
        rest, flags = extract_flags(parts[1])
        rest = trim(rest)
    node = Node(keyword=keyword, flags=flags, args=(), rest=rest, original=line)
    _DISPATCH.get(keyword.upper(), _ignore)(node, escape)
    return node


def extract_flags(text: str) -> tuple[str, tuple[str, ...]]:
    """Leading ``--name[=value]`` words: quotes removed, ``\\`` escapes, ``--`` ends them."""
    flags: list[str] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos] in _ASCII_SPACE:
            pos += 1
        if not text.startswith("--", pos):
            return text[pos:], tuple(flags)
        word, quote, quoted = [], "", False
        while pos < len(text):
            ch = text[pos]
            if not quote and ch in _ASCII_SPACE:
                break
            pos += 1
            if not quote and ch in "'\"":
                quote, quoted = ch, True
            elif quote and ch == quote:
                quote = ""
            elif ch == "\\":
                if pos < len(text):  # a backslash at the very end is dropped
                    word.append(text[pos])
                    pos += 1
                elif quote:
                    quote = ""
            else:
                word.append(ch)
        value = "".join(word)
        if value == "--":
            return text[pos:], tuple(flags)
        if value or quoted:
            flags.append(value)
        if pos >= len(text):
            return "", tuple(flags)


def split_words(text: str, escape: str) -> list[str]:
    """Quote-aware split that keeps the quotes and escapes (ENV, LABEL, ARG)."""
    words: list[str] = []
    word, quote, quoted = "", "", False
    i = 0
    while i < len(text):
        ch = text[i]
        if not quote and is_space(ch):
            if word or quoted:
                words.append(word)
            word, quoted = "", False
        elif ch == escape and quote != "'":  # nothing escapes inside '…'
            if i + 1 == len(text):
                break  # a trailing escape is dropped
            word += ch + text[i + 1]
            i += 1
        else:
            if not quote and ch in "'\"":
                quote, quoted = ch, True
            elif quote and ch == quote:
                quote = ""
            word += ch
        i += 1
    if word or quoted:
        words.append(word)
    return words


def parse_json_array(text: str) -> list[str] | None:
    """A JSON string array, None when ``text`` is not JSON (→ shell form).

    Like Go's json.Decoder, only the first value is read: trailing text is ignored.
    """
    text = text.lstrip()
    if not text.startswith("["):
        return None
    try:
        value, _ = _DECODER.raw_decode(text)
    except ValueError:
        return None
    if not all(isinstance(v, str) for v in value):
        raise NodeError(_NOT_STRINGS)
    # Go decodes a lone surrogate escape to U+FFFD; Python would keep it unencodable.
    return [_SURROGATE.sub("\ufffd", v) for v in value]


def _no_constants(name: str) -> object:
    raise ValueError(name)  # NaN/Infinity are not JSON to Go


_DECODER = json.JSONDecoder(parse_constant=_no_constants)


# -- per-keyword argument parsers ------------------------------------------

def _ignore(node: Node, escape: str) -> None:
    node.args = ()


def _string(node: Node, escape: str) -> None:
    node.args = (node.rest,) if node.rest else ()


def _words(node: Node, escape: str) -> None:
    node.args = tuple(_WS.split(node.rest)) if node.rest else ()


def _maybe_json(node: Node, escape: str) -> None:
    if not node.rest:
        return
    arr = parse_json_array(node.rest)
    node.json = arr is not None
    node.args = tuple(arr) if arr is not None else (node.rest,)


def _maybe_json_list(node: Node, escape: str) -> None:
    arr = parse_json_array(node.rest)
    if arr is not None:
        node.json, node.args = True, tuple(arr)
    else:
        _words(node, escape)


def _name_value(node: Node, escape: str) -> None:
    words = split_words(node.rest, escape)
    if not words:
        return
    if "=" not in words[0]:  # legacy `ENV name the value`
        parts = _WS.split(node.rest, maxsplit=1)
        if len(parts) < 2:
            raise NodeError(f"{node.keyword.upper()} must have two arguments")
        node.args, node.legacy = (parts[0], parts[1]), True
        return
    flat: list[str] = []
    for word in words:
        if "=" not in word:
            raise NodeError(f"Syntax error - can't find = in {_go_quote(word)}. "
                            "Must be of the form: name=value")
        flat.extend(word.split("=", 1))
    node.args = tuple(flat)


def _arg(node: Node, escape: str) -> None:
    node.args = tuple(split_words(node.rest, escape))


def _healthcheck(node: Node, escape: str) -> None:
    rest = node.rest
    sep = next((i for i, ch in enumerate(rest) if ch in _ASCII_SPACE), len(rest))
    if sep == 0:
        return
    kind = rest[:sep]
    start = sep
    while start < len(rest) and rest[start] in _ASCII_SPACE:
        start += 1
    inner = Node(keyword="", flags=(), args=(), rest=rest[start:], original="")
    _maybe_json(inner, escape)
    node.args, node.json = (kind, *inner.args), inner.json


def _onbuild(node: Node, escape: str) -> None:
    if node.rest:
        node.sub = node_from_line(node.rest, escape)
        node.args, node.json = node.sub.args, node.sub.json


def _go_quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


_DISPATCH: dict[str, Callable[[Node, str], None]] = {
    "ADD": _maybe_json_list, "COPY": _maybe_json_list, "VOLUME": _maybe_json_list,
    "RUN": _maybe_json, "CMD": _maybe_json, "ENTRYPOINT": _maybe_json, "SHELL": _maybe_json,
    "FROM": _words, "EXPOSE": _words,
    "USER": _string, "WORKDIR": _string, "STOPSIGNAL": _string, "MAINTAINER": _string,
    "ENV": _name_value, "LABEL": _name_value, "ARG": _arg,
    "HEALTHCHECK": _healthcheck, "ONBUILD": _onbuild,
}
KEYWORDS = frozenset(_DISPATCH)
