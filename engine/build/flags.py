"""Instruction flags (``--from=build``, ``--link``, ``--mount=…``) checked and typed.

Each instruction declares the flags it accepts and their kind, as BuildKit
does: *string* flags need ``=value`` and may appear once, *bool* flags are
``--x``, ``--x=true`` or ``--x=false``, and *list* flags (``--mount``,
``--exclude``, ``--device``) may repeat and keep their order. Anything else is
an error naming the flag. HEALTHCHECK's flags are Go durations (``30s``,
``1m30s``, ``1.5h``), read by :func:`parse_go_duration`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from enum import Enum

from .ast import FlagValue


class Kind(Enum):
    STRING = "string"
    BOOL = "bool"
    LIST = "list"


S, B, L = Kind.STRING, Kind.BOOL, Kind.LIST

FLAG_SPECS: dict[str, dict[str, Kind]] = {
    "FROM": {"platform": S},
    "RUN": {"mount": L, "network": S, "security": S, "device": L},
    "COPY": {"from": S, "chown": S, "chmod": S, "link": B, "parents": B, "exclude": L},
    "ADD": {"chown": S, "chmod": S, "link": B, "keep-git-dir": B, "checksum": S,
            "exclude": L, "unpack": B},
    "HEALTHCHECK": {"interval": S, "timeout": S, "start-period": S, "start-interval": S,
                    "retries": S},
}


class FlagError(ValueError):
    pass


def parse_flags(raw: Sequence[str], spec: Mapping[str, Kind]) -> dict[str, FlagValue]:
    """``("--from=a", "--link")`` → ``{"from": "a", "link": True}`` against ``spec``."""
    out: dict[str, FlagValue] = {}
    lists: dict[str, list[str]] = {}
    for arg in raw:
        if not arg.startswith("--"):
            raise FlagError(f"arg should start with -- : {arg}")
        name, has_value, value = arg[2:].partition("=")
        kind = spec.get(name)
        if kind is None:
            import difflib  # only for an error: ~2 ms of imports

            hint = difflib.get_close_matches(name, list(spec), n=1, cutoff=0.6)
            allowed = ", ".join(f"--{f}" for f in spec) or "none"
            raise FlagError(f"unknown flag: --{name}"
                            + (f" (did you mean --{hint[0]}?)" if hint else "")
                            + f"; accepted: {allowed}")
        if kind is not Kind.LIST and name in out:
            raise FlagError(f"duplicate flag specified: --{name}")
        if kind is Kind.BOOL:
            if has_value and not value:
                raise FlagError(f"missing a value on flag: --{name}")
            if value.lower() not in ("", "true", "false"):
                raise FlagError(f"expecting boolean value for flag --{name}, not: {value}")
            out[name] = value.lower() != "false"
            continue
        if not has_value:
            raise FlagError(f"missing a value on flag: --{name} (use --{name}=<value>)")
        if kind is Kind.LIST:
            lists.setdefault(name, []).append(value)
            out[name] = ()  # keeps first-seen order; filled below
        else:
            out[name] = value
    for name, values in lists.items():
        out[name] = tuple(values)
    return out


_UNITS_NS = {"ns": 1, "us": 1_000, "\u00b5s": 1_000, "\u03bcs": 1_000, "ms": 1_000_000,
             "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}
_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)([a-z\u00b5\u03bc]+)")
MIN_DURATION_NS = 1_000_000


def parse_go_duration(text: str) -> int:
    """Go's time.ParseDuration, in nanoseconds (``"1m30s"`` → 90e9)."""
    s = text
    sign = -1 if s.startswith("-") else 1
    s = s[1:] if s[:1] in "+-" and s else s
    if s == "0":
        return 0
    if not s:
        raise ValueError(f"time: invalid duration {text!r}")
    total = 0.0
    pos = 0
    while pos < len(s):
        m = _PART.match(s, pos)
        if m is None or m[1] in ("", "."):
            raise ValueError(f"time: invalid duration {text!r}")
        unit = _UNITS_NS.get(m[2])
        if unit is None:
            raise ValueError(f"time: unknown unit {m[2]!r} in duration {text!r}")
        total += float(m[1]) * unit
        pos = m.end()
    return sign * int(round(total))
