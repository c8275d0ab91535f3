"""The part of Go's text/template that docker's ``--format`` and ``inspect -f`` use.

Scripts written for docker pass templates such as ``{{.State.Pid}}``,
``{{json .Config.Labels}}``, ``{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}``
or ``table {{.ID}}\\t{{.Names}}``. Supported: fields and chains on mappings (and a
callable field with arguments, as docker's ``.Label "key"``), ``$`` and variables,
pipelines, ``if``/``else if``/``else``, ``range`` (with ``$k, $v :=``), ``with``,
``{{-``/``-}}`` trimming, string, number and boolean literals, and the functions of
:mod:`.gotemplate_funcs`. Anything else is one clear error, never silently ignored
output.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .gotemplate_funcs import FUNCS, TemplateError, go_str, truth

_TOKEN = re.compile(r'''\s*(?:
    (?P<str>"(?:[^"\\]|\\.)*") | (?P<raw>`[^`]*`) | (?P<num>-?\d+(?:\.\d+)?(?![\w.])) |
    (?P<decl>:=) | (?P<op>[|(),]) | (?P<var>\$\w*(?:\.\w+)*) | (?P<field>(?:\.\w+)+|\.) |
    (?P<ident>[A-Za-z_]\w*) )''', re.X)
_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)


class Template:
    """A parsed template; :meth:`render` it once per object."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._parts = _split(text)
        self._pos = 0
        self.nodes = self._block(top=True)

    def render(self, data: Any) -> str:
        out: list[str] = []
        _run(self.nodes, data, {"$": data}, out)
        return "".join(out)

    # -- parsing: a tree of ("text", s) / ("out", pipe) / ("if"|"range"|"with", ...) --
    def _block(self, top: bool = False) -> list[Any]:
        nodes: list[Any] = []
        while self._pos < len(self._parts):
            kind, value = self._parts[self._pos]
            self._pos += 1
            if kind == "text":
                nodes.append(("text", value))
                continue
            word = value.split(None, 1)[0] if value.split() else ""
            rest = value[len(word):].strip()
            if word in ("end", "else"):
                if top:
                    raise TemplateError(f"template: unexpected {{{{{word}}}}}")
                self._pos -= 1
                return nodes
            if word in ("if", "with", "range"):
                nodes.append(self._control(word, rest))
            elif not value.strip() or value.strip().startswith("/*"):
                continue  # {{/* a comment */}}
            else:
                nodes.append(("out", _pipeline(value)))
        if not top:
            raise TemplateError("template: unexpected EOF (an {{end}} is missing)")
        return nodes

    def _control(self, word: str, rest: str) -> tuple[Any, ...]:
        names: list[str] = []
        if word == "range" and ":=" in rest:
            lhs, rest = rest.split(":=", 1)
            names = [n.strip() for n in lhs.split(",")]
        pipe = _pipeline(rest)
        body = self._block()
        alt: list[Any] = []
        closing = self._parts[self._pos][1].strip()  # {{end}} or {{else ...}}: _block stops there
        self._pos += 1
        if closing.startswith("else"):
            tail = closing[4:].strip()
            if tail.split(None, 1)[0:1] in (["if"], ["with"]):
                # {{else if x}}: an if inside the else, ending at the same {{end}}.
                inner, _, inner_rest = tail.partition(" ")
                alt = [self._control(inner, inner_rest)]
            else:
                alt = self._block()
                if self._parts[self._pos][1].strip() != "end":
                    raise TemplateError("template: expected {{end}} after {{else}}")
                self._pos += 1
        return (word, pipe, body, alt, names)


def _split(text: str) -> list[tuple[str, str]]:
    parts: list[tuple[str, str]] = []
    at = 0
    for m in _ACTION.finditer(text):
        lit = text[at:m.start()]
        if m.group(1) and lit:
            lit = lit.rstrip()
        if parts and parts[-1][0] == "trim":
            parts.pop()
            lit = lit.lstrip()
        if lit:
            parts.append(("text", lit))
        parts.append(("action", m.group(2)))
        if m.group(3):
            parts.append(("trim", ""))
        at = m.end()
    lit = text[at:]
    if parts and parts[-1][0] == "trim":
        parts.pop()
        lit = lit.lstrip()
    if "{{" in lit or "}}" in lit:
        raise TemplateError(f"template: unclosed action in {text!r}")
    if lit:
        parts.append(("text", lit))
    return parts


def _pipeline(src: str) -> list[list[tuple[str, Any]]]:
    tokens, pos = [], 0
    src = src.strip()
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if not m or m.end() == pos:
            raise TemplateError(f"template: cannot parse {src[pos:]!r}")
        kind = m.lastgroup or ""
        text = m.group(kind)
        if kind == "str":
            tokens.append(("lit", json.loads(text)))
        elif kind == "raw":
            tokens.append(("lit", text[1:-1]))
        elif kind == "num":
            tokens.append(("lit", float(text) if "." in text else int(text)))
        elif kind == "ident" and text in ("true", "false", "nil"):
            tokens.append(("lit", {"true": True, "false": False, "nil": None}[text]))
        elif kind == "ident" and text not in FUNCS:
            raise TemplateError(f'template: function "{text}" not defined')
        else:
            tokens.append((kind, text))
        pos = m.end()
    cmds: list[list[tuple[str, Any]]] = [[]]
    for tok in tokens:
        if tok == ("op", "|"):
            cmds.append([])
            continue
        if tok[0] == "op" and tok[1] in "()":
            raise TemplateError("template: parenthesised pipelines are not supported")
        cmds[-1].append(tok)
    if any(not c for c in cmds):
        raise TemplateError(f"template: missing value in {src!r}")
    return cmds


def _lookup(v: Any, chain: str, what: str) -> Any:
    for name in chain.split(".")[1:]:
        if not name:
            continue
        if isinstance(v, Mapping):
            if name not in v:
                if not name[:1].isupper():
                    # A map key (labels, event attributes), not a struct field: Go gives
                    # the zero value of docker's map[string]string.
                    return ""
                raise TemplateError(f"template: can't evaluate field {name} in {what}")
            v = v[name]
        elif v is None:
            return None
        else:
            raise TemplateError(f"template: can't evaluate field {name} in {go_str(v)!r}")
    return v


def _value(tok: tuple[str, Any], dot: Any, env: dict[str, Any]) -> Any:
    kind, text = tok
    if kind == "lit":
        return text
    if kind == "field":
        return dot if text == "." else _lookup(dot, text, "the current object")
    if kind == "var":
        name, _, chain = text.partition(".")
        if name not in env:
            raise TemplateError(f"template: undefined variable {name}")
        return _lookup(env[name], "." + chain if chain else "", name)
    raise TemplateError(f"template: unexpected {text!r}")


def _eval(pipe: list[list[tuple[str, Any]]], dot: Any, env: dict[str, Any]) -> Any:
    prev: list[Any] = []
    for cmd in pipe:
        head, args = cmd[0], [_value(t, dot, env) for t in cmd[1:]] + prev
        if head[0] == "ident":
            result = FUNCS[head[1]](*args)
        else:
            result = _value(head, dot, env)
            if callable(result):
                result = result(*args)
            elif args:
                raise TemplateError(f"template: {head[1]} is not a method but has arguments")
        prev = [result]
    return prev[0]


def _run(nodes: list[Any], dot: Any, env: dict[str, Any], out: list[str]) -> None:
    for node in nodes:
        kind = node[0]
        if kind == "text":
            out.append(node[1])
        elif kind == "out":
            out.append(go_str(_eval(node[1], dot, env)))
        else:
            _, pipe, body, alt, names = node
            value = _eval(pipe, dot, env)
            if kind == "if":
                _run(body if truth(value) else alt, dot, env, out)
            elif kind == "with":
                _run(body, value, env, out) if truth(value) else _run(alt, dot, env, out)
            else:
                _range(value, body, alt, names, env, out)


def _range(value: Any, body: list[Any], alt: list[Any], names: list[str],
           env: dict[str, Any], out: list[str]) -> None:
    if isinstance(value, Mapping):
        items = [(k, value[k]) for k in sorted(value)]
    elif isinstance(value, (list, tuple)):
        items = list(enumerate(value))
    elif value is None:
        items = []
    else:
        raise TemplateError(f"template: range can't iterate over {go_str(value)}")
    if not items:
        _run(alt, None, env, out)
    for k, v in items:
        scope = dict(env)
        if len(names) == 2:
            scope[names[0]], scope[names[1]] = k, v
        elif len(names) == 1:
            scope[names[0]] = v
        _run(body, v, scope, out)


def from_flag(fmt: str) -> Template:
    """The template a ``--format``/``-f`` flag gives: ``\\t`` and ``\\n`` typed in a shell
    are a tab and a newline, as docker's CLI reads them."""
    return Template(fmt.replace("\\t", "\t").replace("\\n", "\n"))
