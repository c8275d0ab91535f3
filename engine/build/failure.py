"""The error a failed build step raises: file, line, instruction and what went wrong.

``str()`` is one line, ``Dockerfile:3: RUN make: process "/bin/sh -c make" did not
complete successfully: exit code: 2``; a RUN's last output lines travel in
``output`` so a quiet front end can still show them.
"""

from __future__ import annotations

from ..errors import EngineError


class Cancelled(EngineError):
    """The caller stopped the build (closed the event stream, Ctrl-C)."""

    default_title = "Build cancelled"


class BuildFailed(EngineError):
    default_title = "Build failed"

    def __init__(self, file: str, line: int, text: str, reason: str, *,
                 exit_code: int | None = None, output: tuple[str, ...] = ()) -> None:
        first = text.strip().splitlines()[0] if text.strip() else ""
        shown = first if len(first) <= 100 else first[:97] + "..."
        where = f"{file}:{line}: " if line else f"{file}: " if file else ""
        super().__init__(f"{where}{shown + ': ' if shown else ''}{reason}")
        self.file = file
        self.line = line
        self.text = text
        self.reason = reason
        self.exit_code = exit_code
        self.output = output
