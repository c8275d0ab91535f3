"""Import argparse bound to a gettext that returns each message as it is.

argparse asks gettext for a translation of every message as it builds a parser;
CPython ships no catalogue for argparse's domain, so every answer is the message
itself. Importing gettext compiles a regex, and its first lookup imports locale:
~2 ms on every ``pydock`` command. Only argparse's own import sees the stand-in;
a later importer of gettext gets the real module.
"""

from __future__ import annotations

import sys
import types


def untranslated(message: str) -> str:
    return message


def untranslated_n(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


if "argparse" not in sys.modules and "gettext" not in sys.modules:
    _stub = types.ModuleType("gettext")
    _stub.gettext = untranslated  # type: ignore[attr-defined]
    _stub.ngettext = untranslated_n  # type: ignore[attr-defined]
    sys.modules["gettext"] = _stub
    try:
        import argparse
    finally:
        del sys.modules["gettext"]
else:
    import argparse

# Also when argparse came first (tests, the TUI): no catalogue lookups either way.
argparse._ = untranslated  # type: ignore[attr-defined]
argparse.ngettext = untranslated_n  # type: ignore[attr-defined]
