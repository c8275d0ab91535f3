"""``pydock-tui``: the Textual front end over the in-process engine.

The names are loaded lazily: ``python -m app.tui.main`` imports this package
first, and the root check in :func:`app.tui.main.main` must fail fast, before
Textual is imported.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["ContainersScreen", "ImagesScreen", "PydockApp", "main", "make_app"]

_WHERE = {
    "ContainersScreen": ".containers_screen",
    "ImagesScreen": ".images_screen",
    "PydockApp": ".app",
    "make_app": ".app",
    "main": ".main",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name], __name__), name)
