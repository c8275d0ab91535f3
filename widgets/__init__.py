"""Reusable Textual widgets for pydock, one per module.

Widgets are fed plain :mod:`engine.types` dataclasses and never call the engine:
the screens in :mod:`app.tui` own every engine call.
"""

from __future__ import annotations

from .build_log import BuildLog
from .container_table import ContainerTable
from .first_run_hint import FirstRunHint
from .image_table import ImageTable
from .json_tree import JsonTree
from .layer_list import LayerList
from .layer_progress import LayerProgress
from .layer_tree import LayerTree
from .log_view import LogLine, LogView
from .monitor_table import MonitorTable
from .network_detail import NetworkDetail, NetworkEndpoint
from .network_table import NetworkTable
from .process_table import ProcessTable
from .stats_view import StatsView
from .volume_table import VolumeTable

__all__ = ["BuildLog", "ContainerTable", "FirstRunHint", "ImageTable", "JsonTree", "LayerList",
           "LayerProgress", "LayerTree", "LogLine", "LogView", "MonitorTable", "NetworkDetail",
           "NetworkEndpoint", "NetworkTable", "ProcessTable", "StatsView", "VolumeTable"]
