"""pydock's headless container engine: a library, no daemon.

Front ends import :class:`Engine`, :class:`EngineConfig`, the dataclasses in
:mod:`engine.types` and the errors in :mod:`engine.errors`; nothing deeper.
Names load lazily, so a container monitor importing ``engine.runtime`` does not
pay for the image store, the registry client or anything else it never uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import Engine, require_root
    from .config import EngineConfig
    from .errors import EngineError

__all__ = ["Engine", "EngineConfig", "EngineError", "require_root"]

_WHERE = {"Engine": ".api", "require_root": ".api", "EngineConfig": ".config",
          "EngineError": ".errors"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
