"""The Dockerfile word lexer: quotes, the escape character and ``$`` expansion.

This is the small POSIX-shell subset BuildKit documents for Dockerfiles, not a
shell: single quotes are literal, double quotes allow ``$`` and escaping of
``" $`` and the escape character, and the escape character (``\\`` or the
backtick chosen by ``# escape=``) takes the next character literally.

Supported substitutions: ``$v``, ``${v}``, ``${v:-w}``, ``${v-w}``, ``${v:+w}``,
``${v+w}``, ``${v:?msg}``, ``${v?msg}``, and the newer ``${v#p}``, ``${v##p}``,
``${v%p}``, ``${v%%p}``, ``${v/p/r}``, ``${v//p/r}`` with glob patterns.
Unset variables expand to "" unless ``skip_unset`` is set, in which case the
reference is kept verbatim (how heredoc delimiters are read). ``skip_quotes``
leaves quotes as ordinary characters: BuildKit expands COPY/ADD heredoc bodies
that way so a script's quotes survive (moby/buildkit#2442).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from engine.record import dataclass, field

_LATIN1_SPACE = frozenset(" \t\n\v\f\r\x85\xa0")
_SPECIAL_PARAMS = frozenset("@*#?-$!0")


class ShellWordError(ValueError):
    """A malformed word: unterminated quote, bad ``${…}``, a failed ``${v?}``."""


def is_space(ch: str) -> bool:
    """Go's unicode.IsSpace: Python's isspace also counts \\x1c-\\x1f, Go does not."""
    return ch in _LATIN1_SPACE if ord(ch) < 256 else ch.isspace()


@dataclass
class _Words:
    """Splits the result into words; quoted and escaped text never splits."""

    word: str = ""
    words: list[str] = field(default_factory=list)
    in_word: bool = False

    def char(self, ch: str) -> None:
        if not is_space(ch):
            self.raw(ch)
        elif self.in_word and self.word:
            self.words.append(self.word)
            self.word, self.in_word = "", False

    def raw(self, text: str) -> None:
        self.word += text
        self.in_word = True

    def result(self) -> list[str]:
        if self.word:
            self.words.append(self.word)
            self.word, self.in_word = "", False
        return self.words


class WordLexer:
    """Processes one Dockerfile word (or a line into words) against an environment."""

    def __init__(self, escape: str = "\\", *, raw_quotes: bool = False,
                 raw_escapes: bool = False, skip_unset: bool = False,
                 skip_quotes: bool = False) -> None:
        self.escape = escape
        self.skip_quotes = skip_quotes
        self.raw_quotes = raw_quotes
        self.raw_escapes = raw_escapes
        self.skip_unset = skip_unset

    def process_word(self, text: str, env: Mapping[str, str],
                     used: set[str] | None = None) -> str:
        """Expand ``text`` as one word: quotes removed, whitespace kept."""
        return _Scan(self, text, env, used).run()[0]

    def process_words(self, text: str, env: Mapping[str, str],
                      used: set[str] | None = None) -> list[str]:
        """Expand ``text`` and split it on unquoted whitespace (EXPOSE, heredoc scan)."""
        return _Scan(self, text, env, used).run()[1]


class _Scan:
    def __init__(self, lexer: WordLexer, text: str, env: Mapping[str, str],
                 used: set[str] | None) -> None:
        self.lx = lexer
        self.text = text
        self.pos = 0
        self.env = env
        self.used = used if used is not None else set()

    # scanner primitives -------------------------------------------------
    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def next(self) -> str:
        ch = self.peek()
        self.pos += 1 if ch else 0
        return ch

    def run(self) -> tuple[str, list[str]]:
        result, words = self.until("")
        return result, words.result()

    def until(self, stops: str) -> tuple[str, _Words]:
        """Read up to (and consume) one of ``stops``; "" reads to the end."""
        out: list[str] = []
        words = _Words()
        while (ch := self.peek()) != "":
            if stops and ch in stops:
                self.next()
                return "".join(out), words
            quotes = not self.lx.skip_quotes
            if ch == "'" and quotes:
                tmp = self.single_quote()
                words.raw(tmp)
            elif ch == '"' and quotes:
                tmp = self.double_quote()
                words.raw(tmp)
            elif ch == "$":
                tmp = self.dollar()
                for c in tmp:  # an expanded value splits into words, like the shell
                    words.char(c)
            else:
                self.next()
                if ch == self.lx.escape:
                    if self.lx.raw_escapes:
                        words.raw(ch)
                        out.append(ch)
                    ch = self.next()
                    if ch == "":
                        break  # an escape at the very end is dropped
                    words.raw(ch)
                else:
                    words.char(ch)
                tmp = ch
            out.append(tmp)
        if stops:
            raise ShellWordError(f"unexpected end of statement while looking for matching {stops}")
        return "".join(out), words

    def single_quote(self) -> str:
        quote = self.next()
        out = [quote] if self.lx.raw_quotes else []
        while True:
            ch = self.next()
            if ch == "":
                raise ShellWordError(
                    "unexpected end of statement while looking for matching single-quote")
            if ch == "'":
                return "".join(out + ([ch] if self.lx.raw_quotes else []))
            out.append(ch)

    def double_quote(self) -> str:
        quote = self.next()
        out = [quote] if self.lx.raw_quotes else []
        while True:
            ch = self.peek()
            if ch == "":
                raise ShellWordError(
                    "unexpected end of statement while looking for matching double-quote")
            if ch == '"':
                self.next()
                return "".join(out + ([ch] if self.lx.raw_quotes else []))
            if ch == "$":
                out.append(self.dollar())
                continue
            ch = self.next()
            if ch == self.lx.escape:
                if self.lx.raw_escapes:
                    out.append(ch)
                nxt = self.peek()
                if nxt == "":
                    continue
                if nxt in ('"', "$", self.lx.escape):  # only these are escapable in "…"
                    ch = self.next()
            out.append(ch)

    # $-substitution ----------------------------------------------------
    def lookup(self, name: str) -> tuple[str, bool]:
        self.used.add(name)
        if name in self.env:
            return self.env[name], True
        return "", False

    def name(self) -> str:
        ch = self.peek()
        if ch.isdigit():  # $1, $12: positional, all digits
            start = self.pos
            while self.peek().isdigit():
                self.next()
            return self.text[start:self.pos]
        if ch and ch in _SPECIAL_PARAMS:
            return self.next()
        start = self.pos
        while (c := self.peek()) and (c.isalnum() or c == "_"):
            self.next()
        return self.text[start:self.pos]

    def dollar(self) -> str:
        self.next()  # the $
        if self.peek() != "{":
            name = self.name()
            if not name:
                return "$"
            value, found = self.lookup(name)
            return "$" + name if not found and self.lx.skip_unset else value
        self.next()  # the {
        if self.peek() == "":
            raise ShellWordError("syntax error: missing '}'")
        if self.peek() in "{}:":
            raise ShellWordError("syntax error: bad substitution")
        name = self.name()
        op = self.next()
        if op == "}":
            value, found = self.lookup(name)
            return "${" + name + "}" if not found and self.lx.skip_unset else value
        if op == "":
            raise ShellWordError("syntax error: missing '}'")
        colon = op == ":"
        if colon:
            op = self.next()
            if op == "":
                raise ShellWordError("syntax error: missing '}'")
            if op not in "-+?":
                raise ShellWordError(f"unsupported modifier ({op}) in substitution")
        elif op in "#%/" and self.peek() == op:
            op += self.next()  # ## %% //
        elif op not in "-+?#%/":
            raise ShellWordError(f"unsupported modifier ({op}) in substitution")
        pattern = ""
        if op.startswith("/"):
            pattern, _ = self.until_brace("/")
        word, _ = self.until_brace("}")
        value, found = self.lookup(name)
        if not found and self.lx.skip_unset:
            mid = (":" if colon else "") + op + (pattern + "/" if op.startswith("/") else "")
            return "${" + name + mid + word + "}"
        return _apply(name, op, colon, value, found, pattern, word)

    def until_brace(self, stop: str) -> tuple[str, _Words]:
        try:
            return self.until(stop)
        except ShellWordError:
            raise ShellWordError("syntax error: missing '}'") from None


def _apply(name: str, op: str, colon: bool, value: str, found: bool,
           pattern: str, word: str) -> str:
    empty = not value if colon else not found  # ":" also treats "" as unset
    if op == "-":
        return word if empty else value
    if op == "+":
        return "" if empty else word
    if op == "?":
        if empty:
            reason = word or ("is not allowed to be empty" if found else
                              "is not allowed to be unset")
            raise ShellWordError(f"{name}: {reason}")
        return value
    if op in ("#", "##", "%", "%%"):
        rx = re.compile(_glob_to_regex(word), re.DOTALL)
        sizes = range(len(value), -1, -1) if len(op) == 2 else range(len(value) + 1)
        for n in sizes:  # shortest or longest match, anchored at the start or end
            part = value[:n] if op[0] == "#" else value[len(value) - n:]
            if rx.fullmatch(part):
                return value[n:] if op[0] == "#" else value[:len(value) - n]
        return value
    rx = re.compile(_glob_to_regex(pattern), re.DOTALL)
    return rx.sub(lambda _m: word, value, count=0 if op == "//" else 1)


def _glob_to_regex(pattern: str) -> str:
    """Shell pattern → regex: ``*`` ``?`` ``[…]`` and ``\\x`` for a literal x."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        elif ch == "[" and (end := pattern.find("]", i + 2)) != -1:
            body = pattern[i + 1:end]
            body = "^" + body[1:] if body.startswith("!") else body
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)
