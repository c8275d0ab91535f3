"""Variable expansion, applied to exactly the instructions Docker expands.

The builder expands: ADD, COPY (sources, destination, ``--from``, ``--chown``,
``--chmod``, ADD's ``--checksum``, and heredoc sources with unquoted delimiters),
ENV and LABEL (keys and values), ARG (names and defaults), EXPOSE (split into
words afterwards, so ``EXPOSE $PORTS`` may yield several), FROM (image and
``--platform``, against the ARGs declared before the first FROM), STOPSIGNAL,
USER, VOLUME and WORKDIR.

Never expanded here: RUN, CMD, ENTRYPOINT and SHELL (a shell does it at run
time, and the exec form not at all), HEALTHCHECK, MAINTAINER, and ONBUILD,
whose trigger is stored verbatim and expanded in the child build.

Expansion of one instruction uses the environment *before* it: in
``ENV a=1 b=$a`` the ``$a`` is the previous value of ``a``. The builder
applies the instruction's result to the environment afterwards.

Quotes and escapes are removed in the same pass, so ``ENV x="a b"`` gives
``a b``; :func:`expand_instruction` also reports which variables were looked
up, which is what a step's cache key must include.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import DockerfileError
from ..record import dataclass, replace
from . import ast
from .shellwords import ShellWordError, WordLexer

EXPANDED = frozenset({"ADD", "COPY", "ENV", "EXPOSE", "FROM", "LABEL", "STOPSIGNAL",
                      "USER", "VOLUME", "WORKDIR", "ARG"})
_TRANSFER_FLAGS = ("from", "chown", "chmod", "checksum")
_BODY_LEXER = WordLexer("\\", skip_quotes=True)


@dataclass(frozen=True)
class Expanded:
    instruction: ast.Instruction
    used: frozenset[str]  # variable names referenced, set or not


def expand_word(word: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """One word with quotes removed and ``$`` references substituted."""
    return WordLexer(escape).process_word(word, env)


def expand_instruction(instr: ast.Instruction, env: Mapping[str, str], *,
                       escape: str = "\\", filename: str = "Dockerfile") -> Expanded:
    """``instr`` with its expandable fields expanded against ``env``.

    Instructions Docker does not expand come back unchanged (``used`` empty).
    A malformed reference (``${x``, ``${x:?unset}``) raises DockerfileError.
    """
    if instr.keyword not in EXPANDED:
        return Expanded(instr, frozenset())
    used: set[str] = set()
    lexer = WordLexer(escape)

    def word(text: str) -> str:
        return lexer.process_word(text, env, used)

    def body(text: str) -> str:
        return _BODY_LEXER.process_word(text, env, used)

    try:
        changes = _changes(instr, word, lambda t: lexer.process_words(t, env, used), body)
    except ShellWordError as err:
        raise DockerfileError(filename, instr.line, instr.original, str(err)) from None
    return Expanded(replace(instr, **changes), frozenset(used))


def _changes(instr: ast.Instruction, word: Any, words: Any, body: Any) -> dict[str, Any]:
    if isinstance(instr, ast.Env | ast.Label):
        return {"pairs": tuple((word(k), word(v)) for k, v in instr.pairs)}
    if isinstance(instr, ast.Arg):
        return {"args": tuple(ast.ArgSpec(word(a.name),
                                          None if a.default is None else word(a.default))
                              for a in instr.args)}
    if isinstance(instr, ast.From):
        flags = dict(instr.flags)
        platform = word(instr.platform) if instr.platform is not None else None
        if platform is not None:
            flags["platform"] = platform
        return {"image": word(instr.image), "platform": platform, "flags": flags}
    if isinstance(instr, ast.Copy | ast.Add):
        return _transfer_changes(instr, word, body)
    if isinstance(instr, ast.Expose):
        return {"ports": tuple(p for port in instr.ports for p in words(port))}
    if isinstance(instr, ast.Volume):
        return {"paths": tuple(word(p) for p in instr.paths)}
    if isinstance(instr, ast.Workdir):
        return {"path": word(instr.path)}
    if isinstance(instr, ast.User):
        return {"user": word(instr.user)}
    if isinstance(instr, ast.Stopsignal):
        return {"signal": word(instr.signal)}
    return {}


def _transfer_changes(instr: ast.Copy | ast.Add, word: Any, body: Any) -> dict[str, Any]:
    flags = dict(instr.flags)
    for name in _TRANSFER_FLAGS:
        value = flags.get(name)
        if isinstance(value, str):
            flags[name] = word(value)
    inline = dict(instr.inline_sources())
    names = {h.name for h in inline.values()}
    # Heredoc markers stay as written (they name a heredoc, not a path). Bodies
    # of unquoted-delimiter heredocs are expanded with quotes kept and the
    # backslash as escape, as BuildKit does (moby/buildkit#2442).
    sources = tuple(s if s in inline else word(s) for s in instr.sources)
    heredocs = tuple(replace(h, content=body(h.content))
                     if h.name in names and h.expand else h for h in instr.heredocs)
    return {"flags": flags, "sources": sources, "dest": word(instr.dest),
            "heredocs": heredocs}


def apply_env(env: Mapping[str, str], expanded: ast.Env) -> dict[str, str]:
    """The environment after an already expanded ENV (later pairs win)."""
    out = dict(env)
    out.update(expanded.pairs)
    return out
