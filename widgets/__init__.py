"""Reusable Textual widgets for pydock, one per module.

Widgets are fed plain :mod:`engine.types` dataclasses and never call the engine:
the screens in :mod:`app.tui` own every engine call.
"""

from __future__ import annotations

from .container_table import ContainerTable
from .first_run_hint import FirstRunHint
from .image_table import ImageTable
from .json_tree import JsonTree
from .log_view import LogLine, LogView
from .process_table import ProcessTable
from .stats_view import StatsView

__all__ = ["ContainerTable", "FirstRunHint", "ImageTable", "JsonTree", "LogLine", "LogView",
           "ProcessTable", "StatsView"]
