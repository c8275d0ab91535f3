"""Options and results of the container tools verbs: exec, top, diff, cp, export, commit.

Kept apart from :mod:`engine.types` so the runtime modules that need them
(``engine.runtime.exec`` is imported before a ``setns``) pull in nothing else.
"""

from __future__ import annotations

from engine.record import dataclass

# docker's ContainerChange kinds (API ``Kind``: 0 modified, 1 added, 2 deleted)
CHANGE_KINDS = {"C": 0, "A": 1, "D": 2}


@dataclass(frozen=True)
class ExecOptions:
    """``docker exec`` flags.

    Attributes:
        command: the program and its arguments, looked up in the container's PATH.
        user: ``-u``; ``None`` keeps the container's user.
        workdir: ``-w``; ``None`` keeps the container's working directory.
        env: ``-e KEY=VALUE`` items over the container's environment.
        tty: ``-t``: a pty is allocated inside the container.
        stdin: ``-i``: the caller's stdin is passed (otherwise /dev/null).
        detach: ``-d``: return once the program runs; its stdio is /dev/null.
        privileged: every capability, like ``docker exec --privileged``.
        console_size: (rows, cols) given to the pty before the program starts.
        stdio: fds to pass as 0, 1, 2 when not a tty; ``None`` passes the caller's own.
    """

    command: tuple[str, ...]
    user: str | None = None
    workdir: str | None = None
    env: tuple[str, ...] = ()
    tty: bool = False
    stdin: bool = False
    detach: bool = False
    privileged: bool = False
    console_size: tuple[int, int] | None = None
    stdio: tuple[int, int, int] | None = None


@dataclass(frozen=True)
class ContainerChange:
    """One line of ``docker diff``: ``kind`` is ``C``, ``A`` or ``D``; ``path`` is absolute."""

    kind: str
    path: str

    def __str__(self) -> str:
        return f"{self.kind} {self.path}"


@dataclass(frozen=True)
class CommitOptions:
    """``docker commit`` flags.

    Attributes:
        reference: ``REPO[:TAG]`` to tag the new image with; ``None`` leaves it untagged.
        changes: ``-c`` Dockerfile instructions (CMD, ENV, LABEL, ...) applied last.
        message: ``-m``, the history comment.
        author: ``-a``, the image's author.
        pause: pause a running container while its layer is read (docker's default).
    """

    reference: str | None = None
    changes: tuple[str, ...] = ()
    message: str = ""
    author: str = ""
    pause: bool = True

