"""pydock's headless container engine: a library, no daemon.

Front ends import :class:`Engine`, :class:`EngineConfig`, the dataclasses in
:mod:`engine.types` and the errors in :mod:`engine.errors`; nothing deeper.
"""

from __future__ import annotations

from .api import Engine, require_root
from .config import EngineConfig
from .errors import EngineError

__all__ = ["Engine", "EngineConfig", "EngineError", "require_root"]
