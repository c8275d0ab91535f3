"""Reusable Textual widgets for pydock, one per module.

Widgets are fed plain :mod:`engine.types` dataclasses and never call the engine:
the screens in :mod:`app.tui` own every engine call.
"""

from __future__ import annotations

from .first_run_hint import FirstRunHint
from .image_table import ImageTable

__all__ = ["FirstRunHint", "ImageTable"]
