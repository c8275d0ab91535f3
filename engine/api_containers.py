"""The containers half of the facade (mixed into :class:`engine.api.Engine`)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .api_exec import ExecMixin
from .api_resources import ResourcesMixin
from .errors import Conflict, ContainerNotFound, EngineError, ImageNotFound, Unavailable

if TYPE_CHECKING:
    from .config import EngineConfig
    from .events import EventLog
    from .images.store import ImageStore
    from .runtime.lifecycle import Lifecycle
    from .runtime.logs_read import LogEntry
    from .runtime.state import ContainerStore
    from .types import ContainerReport, ContainerSummary, CreateOptions, PruneReport


# exec, top, diff, cp, export, commit: api_exec.py; update, stats: api_resources.py
class ContainersMixin(ExecMixin, ResourcesMixin):
    config: EngineConfig
    images: ImageStore
    events: EventLog

    @cached_property
    def containers(self) -> ContainerStore:
        from .runtime.state import ContainerStore

        return ContainerStore(self.config.containers_dir, self.config.locks_dir)

    @cached_property
    def lifecycle(self) -> Lifecycle:
        from .runtime.lifecycle import Lifecycle

        return Lifecycle(self.config, self.containers, self.events)

    def containers_resolve(self, ref: str) -> str:
        return self.containers.resolve(ref)

    def containers_create(self, opts: CreateOptions) -> str:
        from .runtime import create

        try:
            image_id = self.images.resolve(opts.image)
        except ImageNotFound:
            from .reference import parse

            shown = opts.image
            try:
                shown = parse(opts.image).familiar
            except EngineError:
                pass
            raise ImageNotFound(shown) from None
        image = self.images.record(image_id)
        rec = create.create(self.config, self.containers, opts, image, opts.image)
        self.lifecycle.emit("create", rec)
        return str(rec["id"])

    def containers_start(self, ref: str) -> None:
        self.lifecycle.start(self.containers.resolve(ref))

    def containers_spawn(self, ref: str, *, wait_attach: bool) -> int:
        """Start with a monitor that waits for the caller to attach; returns its ready fd."""
        return self.lifecycle.spawn_monitor(self.containers.resolve(ref), wait_attach=wait_attach)

    def containers_attach_path(self, ref: str) -> str:
        cid = self.containers.resolve(ref)
        rec = self.lifecycle.refresh(cid)
        if rec["state"]["status"] not in ("running", "paused"):
            raise Conflict("You cannot attach to a stopped container, start it first")
        return str(self.containers.dir(cid) / "attach.sock")

    def _batch(self, refs: list[str], act: Callable[[str], Any]) -> list[ContainerReport]:
        from .types import ContainerReport

        out = []
        for ref in refs:
            try:
                cid = self.containers.resolve(ref)
                act(cid)
                out.append(ContainerReport(ref, cid))
            except EngineError as err:
                out.append(ContainerReport(ref, error=str(err)))
        return out

    def containers_stop(self, refs: list[str], *, timeout: int | None = None
                        ) -> list[ContainerReport]:
        return self._batch(refs, lambda cid: self.lifecycle.stop(cid, timeout))

    def containers_kill(self, refs: list[str], *, signal: str = "SIGKILL"
                        ) -> list[ContainerReport]:
        return self._batch(refs, lambda cid: self.lifecycle.kill(cid, signal))

    def containers_restart(self, refs: list[str], *, timeout: int | None = None
                           ) -> list[ContainerReport]:
        def restart(cid: str) -> None:
            self.lifecycle.stop(cid, timeout)
            self.lifecycle.start(cid)
            self.lifecycle.emit("restart", self.containers.load(cid))

        return self._batch(refs, restart)

    def containers_pause(self, refs: list[str]) -> list[ContainerReport]:
        return self._batch(refs, self.lifecycle.pause)

    def containers_unpause(self, refs: list[str]) -> list[ContainerReport]:
        return self._batch(refs, self.lifecycle.unpause)

    def containers_remove(self, refs: list[str], *, force: bool = False,
                          volumes: bool = False) -> list[ContainerReport]:
        from .runtime import removal

        def rm(cid: str) -> None:
            rec = self.lifecycle.refresh(cid)
            if rec["state"]["status"] in ("running", "paused", "restarting"):
                if not force:
                    raise Conflict(f"cannot remove container {rec['name']}: container is "
                                   f"{rec['state']['status']}: stop the container before "
                                   "removing or force remove")
            try:
                if rec["state"]["status"] in ("running", "paused", "restarting"):
                    if rec["state"]["status"] != "restarting":
                        self.lifecycle.kill(cid, "SIGKILL")
                    self.lifecycle.stop(cid, 0)
                if rec["state"].get("monitor_pid"):
                    # A monitor still cleaning up after a failed start: let it finish.
                    with contextlib.suppress(Unavailable):
                        self.lifecycle.wait(cid, 10.0)
            except ContainerNotFound:
                if not rec["host_config"].get("AutoRemove"):
                    raise
                return  # a --rm container: its monitor removed it as it exited
            with self.containers.locked(cid):
                removal.remove_files(self.config, cid)
            if volumes:  # rm -v: anonymous volumes only; named ones always stay
                from .runtime.attachments import remove_anonymous

                remove_anonymous(self.config, rec)
            self.lifecycle.emit("destroy", rec)

        return self._batch(refs, rm)

    def containers_size(self, ref: str) -> tuple[int, int]:
        """docker's SizeRw and SizeRootFs: the writable layer, and it plus the image's."""
        from .volumes.store import dir_size

        cid = self.containers.resolve(ref)
        rec = self.containers.load(cid)
        rw = dir_size(self.containers.dir(cid) / "upper")
        snaps = self.images.snapshots
        return rw, rw + sum(snaps.size(c) for c in rec.get("image_chain_ids") or [])

    def containers_prune(self) -> PruneReport:
        """``container prune``: remove every container that is not running, paused or
        restarting; what one started meanwhile is refused by the removal and kept."""
        from .runtime.state import ACTIVE
        from .types import PruneReport
        from .volumes.store import dir_size

        deleted, space = [], 0
        for cid in self.containers.ids():
            try:
                rec = self.lifecycle.refresh(cid)
            except EngineError:
                continue  # removed meanwhile
            if rec["state"]["status"] in ACTIVE or rec["state"].get("monitor_pid"):
                continue
            size = dir_size(self.containers.dir(cid) / "upper")
            if self.containers_remove([cid])[0].error is None:
                deleted.append(cid)
                space += size
        self._sweep_leftovers()
        return PruneReport(deleted=tuple(deleted), space_reclaimed=space)

    def _sweep_leftovers(self) -> None:
        # What a crash can leave under containers/: never listed, so removed here.
        from .runtime import removal
        from .snapshots.store import remove_tree

        for name in self.containers.leftovers(older_than=60.0):
            with contextlib.suppress(EngineError, OSError):
                if name.startswith(".trash-"):
                    remove_tree(self.containers.dir(name))
                else:
                    removal.remove_files(self.config, name)

    def containers_rename(self, ref: str, new_name: str) -> None:
        from .runtime.options import check_name

        cid = self.containers.resolve(ref)
        old = self.containers.load(cid)["name"]
        self.containers.rename(cid, check_name(new_name))
        self.lifecycle.emit("rename", self.containers.load(cid), oldName="/" + old)

    def containers_wait_removed(self, cid: str) -> None:
        """``run --rm``: return once the exited container's monitor has removed it."""
        self.lifecycle.wait_removed(cid)

    def containers_wait(self, ref: str) -> int:
        return self.lifecycle.wait(self.containers.resolve(ref))

    def containers_list(self, *, all: bool = False) -> list[ContainerSummary]:  # noqa: A002
        from .runtime import views

        out = []
        for cid in self.containers.ids():
            try:
                rec = self.lifecycle.refresh(cid)
            except EngineError:
                continue  # removed while we looked
            if all or rec["state"]["status"] in ("running", "paused", "restarting"):
                out.append(views.summary(rec))
        out.sort(key=lambda c: -c.created)
        return out

    def containers_inspect(self, ref: str) -> dict[str, Any]:
        from .runtime import create, views

        cid = self.containers.resolve(ref)
        rec = self.lifecycle.refresh(cid)
        cdir = self.containers.dir(cid)
        return views.inspect(rec, str(cdir), create.load_spec(cdir))

    def containers_logs(self, ref: str, *, tail: int | None = None, since: float | None = None,
                        until: float | None = None, follow: bool = False,
                        stop: Callable[[], bool] | None = None) -> Iterator[LogEntry]:
        """``stop`` (follow only) ends the stream early, e.g. when a TUI switches away:
        without it a follower of a quiet container blocks until the container exits."""
        from .runtime import logs_read

        cid = self.containers.resolve(ref)
        path = self.containers.dir(cid) / "ctr.log"
        if not follow:
            return logs_read.read_logs(path, tail=tail, since=since, until=until)

        def stopped() -> bool:
            st = self.lifecycle.refresh(cid)["state"]
            return (stop is not None and stop()) or st["status"] not in (
                "running", "paused", "restarting") or (
                until is not None and __import__("time").time() > until)

        return logs_read.follow_logs(path, since=since, tail=tail, stop=stopped)
