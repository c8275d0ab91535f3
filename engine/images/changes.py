"""``--change`` instructions (``docker import``/``commit``) applied to an image config."""

from __future__ import annotations

import json
import shlex
from typing import Any

from ..errors import InvalidArgument

SUPPORTED = ("CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD", "STOPSIGNAL",
             "USER", "VOLUME", "WORKDIR")


def apply_changes(config: dict[str, Any], changes: tuple[str, ...] | list[str]) -> None:
    """Apply each instruction to ``config`` (the image's ``config`` object) in order."""
    for line in changes:
        line = line.strip()
        if not line:
            continue
        word, _, rest = line.partition(" ")
        instr = word.upper()
        rest = rest.strip()
        if instr not in SUPPORTED:
            raise InvalidArgument(f"{word} is not a valid change command "
                                  f"(supported: {', '.join(SUPPORTED)})")
        if not rest and instr not in ("CMD", "ENTRYPOINT"):
            raise InvalidArgument(f"{instr} requires at least one argument")
        _APPLY[instr](config, rest)


def _command(rest: str) -> list[str]:
    if rest.startswith("["):
        try:
            value = json.loads(rest)
        except ValueError:
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
    # Shell form, as Dockerfile: run through /bin/sh -c.
    return ["/bin/sh", "-c", rest]


def _pairs(instr: str, rest: str) -> list[tuple[str, str]]:
    try:
        words = shlex.split(rest)
    except ValueError as err:
        raise InvalidArgument(f"{instr} {rest!r}: {err}") from err
    if words and "=" not in words[0]:
        # Legacy form: ENV key value with spaces
        key, _, value = rest.partition(" ")
        return [(key, value.strip())]
    out = []
    for w in words:
        key, eq, value = w.partition("=")
        if not eq or not key:
            raise InvalidArgument(f"{instr} {rest!r}: expected key=value, got {w!r}")
        out.append((key, value))
    return out


def _cmd(c: dict[str, Any], rest: str) -> None:
    c["Cmd"] = _command(rest) if rest else None


def _entrypoint(c: dict[str, Any], rest: str) -> None:
    c["Entrypoint"] = _command(rest) if rest else None


def _env(c: dict[str, Any], rest: str) -> None:
    env = list(c.get("Env") or [])
    for key, value in _pairs("ENV", rest):
        env = [e for e in env if e.partition("=")[0] != key] + [f"{key}={value}"]
    c["Env"] = env


def _label(c: dict[str, Any], rest: str) -> None:
    labels = dict(c.get("Labels") or {})
    labels.update(_pairs("LABEL", rest))
    c["Labels"] = labels


def _expose(c: dict[str, Any], rest: str) -> None:
    ports = dict(c.get("ExposedPorts") or {})
    for p in rest.split():
        num, _, proto = p.partition("/")
        if not num.isdigit() or not 0 < int(num) < 65536 or proto not in ("", "tcp", "udp", "sctp"):
            raise InvalidArgument(f"EXPOSE: invalid port {p!r}")
        ports[f"{int(num)}/{proto or 'tcp'}"] = {}
    c["ExposedPorts"] = ports


def _volume(c: dict[str, Any], rest: str) -> None:
    vols = dict(c.get("Volumes") or {})
    paths = _command(rest) if rest.startswith("[") else rest.split()
    if paths[:2] == ["/bin/sh", "-c"]:
        paths = rest.split()
    for p in paths:
        vols[p] = {}
    c["Volumes"] = vols


def _set(key: str) -> Any:
    def apply(c: dict[str, Any], rest: str) -> None:
        c[key] = rest
    return apply


def _onbuild(c: dict[str, Any], rest: str) -> None:
    c["OnBuild"] = list(c.get("OnBuild") or []) + [rest]


_APPLY = {
    "CMD": _cmd, "ENTRYPOINT": _entrypoint, "ENV": _env, "EXPOSE": _expose,
    "LABEL": _label, "ONBUILD": _onbuild, "STOPSIGNAL": _set("StopSignal"),
    "USER": _set("User"), "VOLUME": _volume, "WORKDIR": _set("WorkingDir"),
}
