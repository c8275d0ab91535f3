"""Values and functions of docker's Go templates (:mod:`app.cli.gotemplate`): Go's %v,
encoding/json, and the functions docker's CLI adds (json, join, split, upper, ...)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from engine.errors import InvalidArgument


class TemplateError(InvalidArgument):
    pass


def go_str(v: Any) -> str:
    """A value as Go's fmt prints it with %v (maps sorted, as Go does)."""
    if v is None:
        return "<no value>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e21:
        return str(int(v))
    if isinstance(v, Mapping):
        return "map[" + " ".join(f"{go_str(k)}:{go_str(v[k])}" for k in sorted(v)) + "]"
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(go_str(x) for x in v) + "]"
    return str(v)


def go_json(v: Any) -> str:
    # encoding/json: compact, and <, > and & escaped as the Go encoder does.
    if isinstance(v, Mapping):  # method fields (.Label) are not data
        v = {k: x for k, x in v.items() if not callable(x)}
    text = json.dumps(v, separators=(",", ":"), ensure_ascii=False, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def truth(v: Any) -> bool:
    return bool(v) if not isinstance(v, float) else v != 0.0


def _index(v: Any, *keys: Any) -> Any:
    for k in keys:
        try:
            v = v[k]
        except (KeyError, IndexError, TypeError) as err:
            if isinstance(v, Mapping):
                return ""  # the zero value of docker's map[string]string
            raise TemplateError(f"template: error calling index: {k!r} not in {go_str(v)}"
                                ) from err
    return v


_VERB = re.compile(r"%([-+ 0#]*\d*(?:\.\d+)?)([vsdqfxX%])")


def _printf(fmt: str, *args: Any) -> str:
    rest = list(args)

    def one(m: re.Match[str]) -> str:
        flags, verb = m.groups()
        if verb == "%":
            return "%"
        if not rest:
            return f"%!{verb}(MISSING)"
        a = rest.pop(0)
        if verb in "vs":
            return ("%" + flags + "s") % go_str(a)
        if verb == "q":
            return ("%" + flags + "s") % json.dumps(go_str(a))
        return ("%" + flags + verb) % a

    return _VERB.sub(one, fmt)


FUNCS: dict[str, Callable[..., Any]] = {
    "json": go_json, "lower": lambda s: go_str(s).lower(), "upper": lambda s: go_str(s).upper(),
    "title": lambda s: go_str(s).title(), "split": lambda s, sep: go_str(s).split(sep),
    "join": lambda xs, sep: sep.join(go_str(x) for x in xs), "index": _index,
    "len": len, "print": lambda *a: "".join(go_str(x) for x in a),
    "println": lambda *a: " ".join(go_str(x) for x in a) + "\n", "printf": _printf,
    "truncate": lambda s, n: go_str(s)[:int(n)],
    "pad": lambda s, left, right: " " * int(left) + go_str(s) + " " * int(right),
    "eq": lambda a, *bs: any(a == b for b in bs), "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b, "le": lambda a, b: a <= b, "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b, "not": lambda a: not truth(a),
    "and": lambda *a: next((x for x in a if not truth(x)), a[-1]),
    "or": lambda *a: next((x for x in a if truth(x)), a[-1]),
}
