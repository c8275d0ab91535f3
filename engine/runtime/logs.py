"""Container logs in docker's json-file format, shared by the monitor and the front ends.

The monitor writes with :class:`LogWriter` (``logs_write``); ``pydock logs`` and the
TUI read with :func:`read_logs` / :func:`follow_logs` (``logs_read``). One line per
entry, exactly as docker writes it::

    {"log":"hello\\n","stream":"stdout","time":"2026-11-27T21:13:33.123456789Z"}

so a ``ctr.log`` can be inspected with the same tools as docker's. Standard library
only (plus :mod:`engine.errors`): the monitor must start fast and stay small.
"""

from __future__ import annotations

from .logs_read import LogEntry, follow_logs, format_entry, parse_line, read_logs
from .logs_write import MAX_LINE, LogOptions, LogWriter, parse_log_opts, parse_size, rfc3339_nano

__all__ = [
    "MAX_LINE",
    "LogEntry",
    "LogOptions",
    "LogWriter",
    "follow_logs",
    "format_entry",
    "parse_line",
    "parse_log_opts",
    "parse_size",
    "read_logs",
    "rfc3339_nano",
]
