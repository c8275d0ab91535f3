"""Options and progress events of ``images_build`` and ``builder_prune``.

A leaf module like :mod:`engine.types`: front ends build the options and read
the events without importing the builder itself.
"""

from __future__ import annotations

from typing import Literal

from engine.record import dataclass

BuildEventKind = Literal["step", "cached", "output", "done", "error", "warning", "image"]


@dataclass(frozen=True)
class BuildOptions:
    """``docker build`` flags.

    Attributes:
        dockerfile: ``-f``: a host path (absolute, or relative to the caller's
            working directory for a directory context; inside the archive for a
            tar context). ``None`` means ``Dockerfile`` in the context.
        dockerfile_text: the Dockerfile itself, when it does not come from a file.
        tags: ``-t`` references, each ``name[:tag]``.
        build_args: ``--build-arg`` as ``(name, value)``; ``None`` means "take it
            from the caller's environment" (``--build-arg NAME``), resolved by the
            front end, or left unset.
        labels: ``--label`` pairs added to the image config.
        target: ``--target``: the stage to build; stages it does not need are skipped.
        no_cache: ``--no-cache``: run every step (results are still stored).
        pull: ``--pull``: fetch base images again even when present.
        network: the default network of RUN steps (``host`` or ``none``).
        platform: ``--platform`` (only the host's platform can run RUN steps).
        parallel: build independent stages at the same time.
    """

    dockerfile: str | None = None
    dockerfile_text: bytes | None = None
    tags: tuple[str, ...] = ()
    build_args: tuple[tuple[str, str | None], ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    target: str | None = None
    no_cache: bool = False
    pull: bool = False
    network: str = "host"
    platform: str | None = None
    parallel: bool = True


@dataclass(frozen=True)
class BuildEvent:
    """One line of build progress, shaped after BuildKit's plain output.

    Attributes:
        kind: ``step`` a vertex started; ``cached`` it was found in the cache;
            ``output`` a line it printed; ``done`` it finished (``duration``);
            ``error`` it failed (``text`` says why); ``warning`` a build-wide
            note (``vertex`` 0); ``image`` the result (``image_id``, the last event).
        vertex: BuildKit's ``#N``: every step and internal action has one.
        name: ``[2/5] RUN apk add curl``, ``[build 1/3] FROM busybox``, ``exporting to image``.
        text: the output line, the error or the warning.
        duration: seconds the vertex took (``done``), or since it started (``output``).
        image_id: the built image (``image``).
        stage: the stage the vertex belongs to ("" for internal ones).
        line: the Dockerfile line of the instruction (0 for internal vertices).
    """

    kind: BuildEventKind
    vertex: int = 0
    name: str = ""
    text: str = ""
    duration: float = 0.0
    image_id: str = ""
    stage: str = ""
    line: int = 0


@dataclass(frozen=True)
class BuilderPruneReport:
    """What ``builder prune`` removed: cache entries, cache mounts, bytes freed."""

    entries: int = 0
    mounts: int = 0
    space_reclaimed: int = 0
