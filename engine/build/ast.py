"""The typed Dockerfile tree the builder consumes.

Values are kept exactly as written (quotes included, variables unexpanded):
expansion needs the environment of the moment the step runs, so it happens in
:mod:`engine.build.expand`, the way BuildKit expands each command just before
dispatching it. Every instruction carries its 1-based ``line``/``end_line``, the
``original`` logical line (continuations joined, heredoc bodies not included)
and its parsed ``flags``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import ClassVar

from ..record import dataclass, field
from .heredoc import parse_marker

#: ``--link`` → True, ``--from=x`` → "x", repeatable ``--mount`` → ("a", "b").
FlagValue = str | bool | tuple[str, ...]

_LEADING_TABS = re.compile(r"^\t+", re.MULTILINE)


@dataclass(frozen=True)
class Heredoc:
    """One ``<<NAME`` document: its raw body and how to treat it."""

    name: str
    content: str  # raw lines, each with its newline, terminator excluded
    expand: bool = True  # False when any part of the delimiter was quoted
    chomp: bool = False  # ``<<-``: leading tabs are stripped from the body
    fd: int = 0  # ``3<<EOF`` feeds file descriptor 3

    @property
    def body(self) -> str:
        """The content as the command sees it (tabs stripped for ``<<-``)."""
        return _LEADING_TABS.sub("", self.content) if self.chomp else self.content


@dataclass(frozen=True)
class ParseWarning:
    line: int
    message: str


@dataclass(frozen=True, kw_only=True)
class Instruction:
    keyword: ClassVar[str] = ""
    line: int
    end_line: int
    original: str
    # Excluded from the hash: a frozen dataclass must stay hashable.
    flags: Mapping[str, FlagValue] = field(default_factory=dict, hash=False)

    def flag(self, name: str) -> str | None:
        value = self.flags.get(name)
        return value if isinstance(value, str) else None

    def flag_bool(self, name: str) -> bool:
        return self.flags.get(name) is True

    def flag_list(self, name: str) -> tuple[str, ...]:
        value = self.flags.get(name)
        return value if isinstance(value, tuple) else ()


@dataclass(frozen=True, kw_only=True)
class ShellOrExec(Instruction):
    """RUN, CMD and ENTRYPOINT: a JSON array (exec form) or one shell string."""

    command: tuple[str, ...]  # exec form: argv; shell form: (cmdline,)
    json: bool = False

    @property
    def shell_form(self) -> bool:
        return not self.json


@dataclass(frozen=True, kw_only=True)
class From(Instruction):
    keyword = "FROM"
    image: str
    name: str | None = None  # stage name, lowercased as BuildKit does
    platform: str | None = None


@dataclass(frozen=True)
class ArgSpec:
    name: str
    default: str | None = None  # None: ``ARG x`` (no default), "" for ``ARG x=``


@dataclass(frozen=True, kw_only=True)
class Arg(Instruction):
    keyword = "ARG"
    args: tuple[ArgSpec, ...]


@dataclass(frozen=True, kw_only=True)
class Env(Instruction):
    keyword = "ENV"
    pairs: tuple[tuple[str, str], ...]
    legacy: bool = False  # ``ENV key the value``: one pair, value is the rest of the line


@dataclass(frozen=True, kw_only=True)
class Label(Instruction):
    keyword = "LABEL"
    pairs: tuple[tuple[str, str], ...]
    legacy: bool = False


@dataclass(frozen=True, kw_only=True)
class Run(ShellOrExec):
    keyword = "RUN"
    heredocs: tuple[Heredoc, ...] = ()

    @property
    def mounts(self) -> tuple[str, ...]:
        return self.flag_list("mount")

    @property
    def network(self) -> str | None:
        return self.flag("network")


@dataclass(frozen=True, kw_only=True)
class Cmd(ShellOrExec):
    keyword = "CMD"


@dataclass(frozen=True, kw_only=True)
class Entrypoint(ShellOrExec):
    keyword = "ENTRYPOINT"


@dataclass(frozen=True, kw_only=True)
class Shell(Instruction):
    keyword = "SHELL"
    shell: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class _Transfer(Instruction):
    """COPY and ADD. ``sources`` keeps heredoc markers (``<<EOF``) in place."""

    sources: tuple[str, ...]
    dest: str
    json: bool = False
    heredocs: tuple[Heredoc, ...] = ()

    def inline_sources(self) -> Iterator[tuple[str, Heredoc]]:
        """``(marker, heredoc)`` for each source written as ``<<NAME``."""
        by_name = {h.name: h for h in self.heredocs}
        for src in self.sources:
            marker = parse_marker(src)
            if marker is not None and marker.name in by_name:
                yield src, by_name[marker.name]

    def path_sources(self) -> tuple[str, ...]:
        return tuple(s for s in self.sources if parse_marker(s) is None)


@dataclass(frozen=True, kw_only=True)
class Copy(_Transfer):
    keyword = "COPY"


@dataclass(frozen=True, kw_only=True)
class Add(_Transfer):
    keyword = "ADD"


@dataclass(frozen=True, kw_only=True)
class Workdir(Instruction):
    keyword = "WORKDIR"
    path: str


@dataclass(frozen=True, kw_only=True)
class User(Instruction):
    keyword = "USER"
    user: str  # ``name``, ``uid``, ``name:group``


@dataclass(frozen=True, kw_only=True)
class Volume(Instruction):
    keyword = "VOLUME"
    paths: tuple[str, ...]
    json: bool = False


@dataclass(frozen=True, kw_only=True)
class Expose(Instruction):
    keyword = "EXPOSE"
    ports: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Stopsignal(Instruction):
    keyword = "STOPSIGNAL"
    signal: str


@dataclass(frozen=True, kw_only=True)
class Maintainer(Instruction):
    keyword = "MAINTAINER"
    maintainer: str


@dataclass(frozen=True, kw_only=True)
class Healthcheck(Instruction):
    """``HEALTHCHECK NONE`` or ``HEALTHCHECK [opts] CMD …``; durations in nanoseconds."""

    keyword = "HEALTHCHECK"
    kind: str  # "NONE" or "CMD"
    command: tuple[str, ...] = ()
    json: bool = False
    interval: int | None = None
    timeout: int | None = None
    start_period: int | None = None
    start_interval: int | None = None
    retries: int | None = None

    @property
    def test(self) -> tuple[str, ...]:
        """The image config's ``Healthcheck.Test``."""
        if self.kind == "NONE":
            return ("NONE",)
        if self.json:
            return ("CMD", *self.command)
        return ("CMD-SHELL", *self.command)


@dataclass(frozen=True, kw_only=True)
class Onbuild(Instruction):
    keyword = "ONBUILD"
    expression: str  # the trigger as written, stored verbatim in the image config
    trigger: Instruction


@dataclass(frozen=True)
class Stage:
    """One ``FROM`` and the instructions up to the next one."""

    index: int
    base: str  # the image as written (``$VARIANT`` left for expansion)
    name: str | None
    platform: str | None
    from_: From
    instructions: tuple[Instruction, ...]


@dataclass(frozen=True)
class Directives:
    escape: str = "\\"
    syntax: str | None = None
    check: str | None = None


@dataclass(frozen=True)
class Dockerfile:
    filename: str
    directives: Directives
    args_before_from: tuple[Arg, ...]
    stages: tuple[Stage, ...]
    warnings: tuple[ParseWarning, ...] = ()

    @property
    def escape(self) -> str:
        return self.directives.escape

    def instructions(self) -> Iterator[Instruction]:
        """Every instruction in file order, FROMs included."""
        yield from self.args_before_from
        for stage in self.stages:
            yield stage.from_
            yield from stage.instructions

    def stage(self, name_or_index: str | int) -> Stage | None:
        """A stage by name or index; ``"1"`` is an index, as in ``COPY --from=1``."""
        key: str | int = name_or_index.lower() if isinstance(name_or_index, str) else name_or_index
        if isinstance(key, str) and key.isdigit():
            key = int(key)
        for stage in self.stages:
            if key in (stage.index, stage.name):
                return stage
        return None
