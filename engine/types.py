"""Plain data crossing the facade: frozen ``*Options`` in, ``*Info``/``*Report`` out.

A leaf module: it imports nothing from the engine, so every subsystem and every
front end can use it without cycles. The dataclasses live in small modules by
subject and load on first use (``from engine.types import CreateOptions`` defines
only that group's classes): each one costs ~1 ms to create, which a CLI command
that needs two of twenty should not pay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .types_containers import ContainerReport, ContainerSummary
    from .types_create import CreateOptions, UpdateOptions
    from .types_events import EventRecord
    from .types_images import HistoryEntry, ImageSummary, ImportOptions, LoadReport, UnpackStats
    from .types_resources import (
        DiskUsage,
        NetworkCreateOptions,
        NetworkSummary,
        PruneReport,
        RemoveReport,
        VolumeCreateOptions,
        VolumeSummary,
    )
    from .types_stats import StatsSample

_WHERE = {
    **dict.fromkeys(("ImageSummary", "HistoryEntry", "ImportOptions", "LoadReport",
                     "UnpackStats"), ".types_images"),
    **dict.fromkeys(("ContainerSummary", "ContainerReport"), ".types_containers"),
    "StatsSample": ".types_stats",
    **dict.fromkeys(("CreateOptions", "UpdateOptions"), ".types_create"),
    "EventRecord": ".types_events",
    **dict.fromkeys(("RemoveReport", "PruneReport", "VolumeSummary", "VolumeCreateOptions",
                     "DiskUsage", "NetworkCreateOptions", "NetworkSummary"), ".types_resources"),
}

__all__ = ["ContainerReport", "ContainerSummary", "CreateOptions", "DiskUsage", "EventRecord",
           "HistoryEntry", "ImageSummary", "ImportOptions", "LoadReport", "NetworkCreateOptions",
           "NetworkSummary", "PruneReport", "RemoveReport", "StatsSample", "UnpackStats",
           "UpdateOptions", "VolumeCreateOptions", "VolumeSummary", "human_duration"]


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(where, __package__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def human_duration(seconds: float) -> str:
    """docker's units.HumanDuration: ``Less than a second``, ``3 minutes``, ``2 weeks``.

    Lives in this leaf module so the CLI (``ps``) and the TUI widgets word ages alike.
    """
    s = int(max(0, seconds))
    if s < 1:
        return "Less than a second"
    if s < 60:
        return f"{s} second{'s' if s != 1 else ''}"
    m = s // 60
    if m < 60:
        return "About a minute" if m == 1 else f"{m} minutes"
    h = m // 60
    if h < 48:
        return "About an hour" if h == 1 else f"{h} hours"
    d = h // 24
    return f"{d} days" if d < 14 else f"{d // 7} weeks"
