"""One raw node → one typed instruction, with the checks BuildKit makes.

Known keywords (with a "did you mean" for typos), the flags each accepts
(:mod:`.flags`), argument counts, FROM's ``AS name``, JSON-only SHELL,
HEALTHCHECK options, COPY/ADD destinations, and the triggers ONBUILD refuses.
Raises :class:`Reject` with the reason; the caller adds file, line and text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from . import ast
from .flags import FLAG_SPECS, MIN_DURATION_NS, FlagError, parse_flags, parse_go_duration
from .heredoc import parse_marker
from .nodes import KEYWORDS, Node

_STAGE_NAME = re.compile(r"[a-z][a-z0-9-_.]*\Z")
_ONBUILD_PREFIX = re.compile(r"^\s*ONBUILD\s*", re.IGNORECASE)
_INT = re.compile(r"[+-]?[0-9]+\Z")


class Reject(Exception):
    """A semantic error in one node."""


def build_instruction(node: Node, warnings: list[ast.ParseWarning]) -> ast.Instruction:
    """One node → its typed instruction; raises Reject with a reason."""
    keyword = node.keyword.upper()
    builder = _BUILDERS.get(keyword)
    if builder is None:
        import difflib  # only for an error: ~2 ms of imports

        hint = difflib.get_close_matches(keyword, sorted(KEYWORDS), n=1, cutoff=0.6)
        raise Reject(f"unknown instruction: {node.keyword}"
                      + (f" (did you mean {hint[0]}?)" if hint else ""))
    try:
        flags = parse_flags(node.flags, FLAG_SPECS.get(keyword, {}))
    except FlagError as err:
        raise Reject(str(err)) from None
    common = {"line": node.start_line, "end_line": node.end_line,
              "original": node.original, "flags": flags}
    if keyword in ("RUN", "CMD", "ENTRYPOINT") and not node.json and node.rest.startswith("["):
        warnings.append(ast.ParseWarning(node.start_line, f"{keyword} argument looks like "
                                         "JSON but is not valid JSON: using the shell form"))
    if keyword == "MAINTAINER":
        warnings.append(ast.ParseWarning(node.start_line,
                                         "MAINTAINER is deprecated: use a LABEL"))
    return builder(node, common, warnings)


Common = dict[str, Any]  # line, end_line, original, flags
Builder = Callable[[Node, Common, list[ast.ParseWarning]], ast.Instruction]


def _need(node: Node, count: int, exact: bool = False) -> None:
    n = len(node.args)
    kw = node.keyword.upper()
    if exact and n != count:
        raise Reject(f"{kw} requires exactly one argument")
    if n < count:
        raise Reject(f"{kw} requires at least one argument")


def _from(node: Node, c: Common, w: list[ast.ParseWarning]) -> ast.Instruction:
    args = node.args
    if len(args) not in (1, 3) or (len(args) == 3 and args[1].lower() != "as"):
        raise Reject("FROM requires either one or three arguments: FROM <image> [AS <name>]")
    name = None
    if len(args) == 3:
        name = args[2].lower()
        if not _STAGE_NAME.match(name):
            raise Reject(f"invalid name for build stage: {args[2]!r}, name can't start "
                          "with a number or contain symbols")
    platform = c["flags"].get("platform")
    return ast.From(**c, image=args[0], name=name, platform=platform)


def _arg(node: Node, c: Common, w: list[ast.ParseWarning]) -> ast.Instruction:
    if not node.args:
        raise Reject("ARG requires at least one argument: ARG <name>[=<default>]")
    specs = []
    for word in node.args:
        name, sep, default = word.partition("=")
        if not name:
            raise Reject("ARG names can not be blank")
        specs.append(ast.ArgSpec(name, default if sep else None))
    return ast.Arg(**c, args=tuple(specs))


def _pairs(node: Node) -> tuple[tuple[str, str], ...]:
    kw = node.keyword.upper()
    if not node.args:
        raise Reject(f"{kw} requires at least one argument")
    keys, values = node.args[0::2], node.args[1::2]
    if any(not k for k in keys):
        raise Reject(f"{kw} names can not be blank")
    return tuple(zip(keys, values, strict=True))


def _env(node: Node, c: Common, w: list[ast.ParseWarning]) -> ast.Instruction:
    return ast.Env(**c, pairs=_pairs(node), legacy=node.legacy)


def _label(node: Node, c: Common, w: list[ast.ParseWarning]) -> ast.Instruction:
    return ast.Label(**c, pairs=_pairs(node), legacy=node.legacy)


def _shell_or_exec(cls: type[ast.ShellOrExec]) -> Builder:
    def build(node: Node, c: Common, w: list[ast.ParseWarning]) -> ast.Instruction:
        if cls is ast.Run:
            if not node.args and not node.json:
                raise Reject("RUN requires at least one argument")
            return ast.Run(**c, command=node.args, json=node.json,
                           heredocs=tuple(node.heredocs))
        return cls(**c, command=node.args, json=node.json)
    return build


def _shell(node: Node, c: Common, w: list[ast.ParseWarning]) -> ast.Instruction:
    if node.args and not node.json:
        raise Reject('SHELL requires the arguments to be in JSON form: SHELL ["exe", "arg"]')
    if not node.args:
        raise Reject("SHELL requires at least one argument")
    return ast.Shell(**c, shell=node.args)


def _transfer(cls: type[ast.Copy] | type[ast.Add]) -> Builder:
    def build(node: Node, c: Common, w: list[ast.ParseWarning]) -> ast.Instruction:
        kw = cls.keyword
        if len(node.args) < 2:
            raise Reject(f"{kw} requires at least two arguments, but only "
                          f"{len(node.args) or 'none'} provided: the destination is missing")
        if not node.json and parse_marker(node.args[-1]) is not None:
            raise Reject(f"{kw} cannot accept a heredoc as a destination")
        return cls(**c, sources=node.args[:-1], dest=node.args[-1],
                   json=node.json, heredocs=tuple(node.heredocs))
    return build


def _single(cls: type[ast.Instruction], attr: str) -> Builder:
    def build(node: Node, c: Common, w: list[ast.ParseWarning]) -> ast.Instruction:
        _need(node, 1, exact=True)
        fields: dict[str, Any] = {**c, attr: node.args[0]}
        return cls(**fields)
    return build


def _expose(node: Node, c: Common, w: list[ast.ParseWarning]) -> ast.Instruction:
    _need(node, 1)
    return ast.Expose(**c, ports=node.args)


def _volume(node: Node, c: Common, w: list[ast.ParseWarning]) -> ast.Instruction:
    _need(node, 1)
    if any(not p.strip() for p in node.args):
        raise Reject("VOLUME specified can not be an empty string")
    return ast.Volume(**c, paths=node.args, json=node.json)


def _interval(flags: dict[str, Any], name: str) -> int | None:
    value = flags.get(name)
    if not value:
        return None
    try:
        ns = parse_go_duration(value)
    except ValueError as err:
        raise Reject(f"--{name}: {err}") from None
    if ns != 0 and ns < MIN_DURATION_NS:
        raise Reject(f"Interval {name!r} cannot be less than 1ms")
    return ns


def _healthcheck(node: Node, c: Common, w: list[ast.ParseWarning]) -> ast.Instruction:
    # HEALTHCHECK NONE | [--interval --timeout --start-period --start-interval
    # --retries] CMD …; durations in nanoseconds, 0 meaning "inherit".
    if not node.args:
        raise Reject("HEALTHCHECK requires an argument: NONE or CMD <command>")
    kind = node.args[0].upper()
    command = node.args[1:]
    if kind == "NONE":
        if command:
            raise Reject("HEALTHCHECK NONE takes no arguments")
        return ast.Healthcheck(**c, kind="NONE")
    if kind != "CMD":
        raise Reject(f"Unknown type {node.args[0]!r} in HEALTHCHECK (try CMD)")
    if not command:
        raise Reject("Missing command after HEALTHCHECK CMD")
    flags = c["flags"]
    retries = None
    if flags.get("retries"):
        if not _INT.match(flags["retries"]):
            raise Reject(f"--retries: invalid number {flags['retries']!r}")
        retries = int(flags["retries"])
        if retries < 0:
            raise Reject(f"--retries cannot be negative ({retries})")
    return ast.Healthcheck(
        **c, kind="CMD", command=command, json=node.json,
        interval=_interval(flags, "interval"), timeout=_interval(flags, "timeout"),
        start_period=_interval(flags, "start-period"),
        start_interval=_interval(flags, "start-interval"), retries=retries)


def _onbuild(node: Node, c: Common, w: list[ast.ParseWarning]) -> ast.Instruction:
    sub = node.sub
    if sub is None:
        raise Reject("ONBUILD requires at least one argument")
    kw = sub.keyword.upper()
    if kw == "ONBUILD":
        raise Reject("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
    if kw in ("FROM", "MAINTAINER"):
        raise Reject(f"{kw} isn't allowed as an ONBUILD trigger")
    # The trigger shares the outer line numbers and owns the heredocs read for it.
    sub.start_line, sub.end_line, sub.heredocs = node.start_line, node.end_line, node.heredocs
    trigger = build_instruction(sub, w)
    expression = _ONBUILD_PREFIX.sub("", node.original, count=1)
    return ast.Onbuild(**c, expression=expression, trigger=trigger)


_BUILDERS: dict[str, Builder] = {
    "FROM": _from, "ARG": _arg, "ENV": _env, "LABEL": _label,
    "RUN": _shell_or_exec(ast.Run), "CMD": _shell_or_exec(ast.Cmd),
    "ENTRYPOINT": _shell_or_exec(ast.Entrypoint), "SHELL": _shell,
    "COPY": _transfer(ast.Copy), "ADD": _transfer(ast.Add),
    "WORKDIR": _single(ast.Workdir, "path"), "USER": _single(ast.User, "user"),
    "STOPSIGNAL": _single(ast.Stopsignal, "signal"),
    "MAINTAINER": _single(ast.Maintainer, "maintainer"),
    "EXPOSE": _expose, "VOLUME": _volume, "HEALTHCHECK": _healthcheck, "ONBUILD": _onbuild,
}
