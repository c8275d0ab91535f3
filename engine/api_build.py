"""The build half of the facade: ``images_build`` and ``builder_prune``.

Mixed into :class:`engine.api.Engine`. ``images_build`` returns an iterator of
:class:`engine.types_build.BuildEvent`; the last one has ``kind == "image"``
and the image ID. Errors (a bad Dockerfile, a failed step) are raised from the
iterator as :class:`engine.errors.EngineError`: ``DockerfileError`` or
``engine.build.failure.BuildFailed``, both naming the file and the line.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:  # imported where used: every CLI call imports this module
    from .config import EngineConfig
    from .events import EventLog
    from .images.store import ImageStore
    from .types_build import BuilderPruneReport, BuildEvent, BuildOptions

BuildContext = str | os.PathLike[str] | BinaryIO | None


class BuildMixin:
    config: EngineConfig
    images: ImageStore
    events: EventLog

    def images_build(self, context: BuildContext, opts: BuildOptions | None = None, *,
                     stop: Callable[[], bool] | None = None) -> Iterator[BuildEvent]:
        """Build ``context`` (a directory, a tar stream, or ``None`` with
        ``opts.dockerfile_text``) and stream the progress.

        ``stop`` lets a caller in another thread cancel a build that is silent (a
        long ``RUN``), when it cannot close the iterator: it is polled while no event
        comes, and once true the build is cancelled as if the iterator were closed.
        """
        from .build.session import run_build
        from .types_build import BuildOptions

        return run_build(self, context, opts or BuildOptions(),  # type: ignore[arg-type]
                         stop=stop)

    def builder_prune(self) -> BuilderPruneReport:
        """Drop every build cache entry and cache mount; collect the layers they kept."""
        from .build.cache import BuildCache, dir_size
        from .images import remove
        from .snapshots.store import remove_tree
        from .types_build import BuilderPruneReport

        cache = BuildCache(self.config.root, self.config.locks_dir)
        count, trash = cache.clear()
        freed = 0
        for path in trash:
            freed += dir_size(path)
            remove_tree(path)
        _, collected = remove.collect(self.images)
        report = BuilderPruneReport(count, len(trash), freed + collected)
        self.events.emit("builder", "prune", "", {"reclaimed": str(report.space_reclaimed)})
        return report
