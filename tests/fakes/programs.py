"""What a fake container's command "does": scripted output, exit and processes.

The fake runs nothing. A test scripts a command's behaviour once
(``fake.script(("sh", "-c", "echo hi; sleep 1000"), Program(output=...))``) and every
container made with that command follows the script. Unscripted commands run until
stopped, print nothing and, like ``sleep`` as PID 1, ignore SIGTERM (a stop ends with
SIGKILL, exit code 137), which is what the real engine does with the test image.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Program:
    """A scripted command.

    Attributes:
        output: ``(stream, text)`` lines printed at every start (``text`` without newline).
        exit_code: exit at once with this code after printing; ``None``: keep running.
        term_exit_code: exit code on SIGTERM; ``None``: ignore it (``stop`` kills, 137).
        start_error: the start fails with this message (exit code 127, as a missing
            executable), and the container stays ``created``.
        processes: ``ps`` rows for ``top`` (CMD column); the command itself if empty.
    """

    output: tuple[tuple[str, str], ...] = ()
    exit_code: int | None = None
    term_exit_code: int | None = None
    start_error: str | None = None
    processes: tuple[str, ...] = field(default=())


RUNS_FOREVER = Program()
