"""The container tools half of the facade: exec, top, diff, cp, export, commit.

Mixed into :class:`engine.api.Engine` (through :class:`engine.api_containers.ContainersMixin`).
``containers_exec*`` fork the calling process, so call them from a single-threaded
front end (the CLI); a threaded one (the TUI) runs ``pydock exec`` in a subprocess.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

from .errors import Conflict

if TYPE_CHECKING:  # annotations only: every CLI call imports this module
    from .config import EngineConfig
    from .content.store import ContentStore
    from .events import EventLog
    from .images.store import ImageStore
    from .runtime.exec import ExecProcess
    from .runtime.lifecycle import Lifecycle
    from .runtime.rwlayer import Scan
    from .runtime.state import ContainerStore
    from .snapshots.store import SnapshotStore
    from .types_tools import CommitOptions, ContainerChange, ExecOptions

Dest = str | os.PathLike[str] | BinaryIO


class ExecMixin:
    config: EngineConfig
    images: ImageStore
    content: ContentStore
    snapshots: SnapshotStore
    events: EventLog

    if TYPE_CHECKING:
        @property
        def containers(self) -> ContainerStore: ...

        @property
        def lifecycle(self) -> Lifecycle: ...

        def _emit_image(self, action: str, image_id: str,
                        attrs: dict[str, str] | None = None) -> None: ...

    # -- exec ------------------------------------------------------------------
    def containers_exec_start(self, ref: str, opts: ExecOptions) -> ExecProcess:
        """Start ``opts.command`` in the running container; with ``tty`` the caller relays
        ``.master``. Raises ``ExecFailed`` (code 126/127) when it cannot start."""
        from .cgroups import get_driver
        from .runtime import create
        from .runtime import exec as execmod

        cid = self.containers.resolve(ref)
        rec = self.lifecycle.refresh(cid)
        target = execmod.plan(rec, create.load_spec(self.containers.dir(cid)), opts)
        driver = get_driver(self.config)
        handle = driver.handle(cid)
        exec_id = os.urandom(32).hex()
        command = " ".join(opts.command)
        self.lifecycle.emit("exec_create", rec, execID=exec_id, execCommand=command)
        try:
            proc = execmod.start(target, opts, lambda pid: driver.add_pid(handle, pid))
        except execmod.ExecFailed as err:
            self.lifecycle.emit("exec_die", rec, execID=exec_id, exitCode=str(err.code))
            raise
        self.lifecycle.emit("exec_start", rec, execID=exec_id, execCommand=command)
        proc.on_exit = lambda code: self.lifecycle.emit(
            "exec_die", rec, execID=exec_id, exitCode=str(code))
        return proc

    def containers_exec(self, ref: str, opts: ExecOptions) -> int:
        """Run and wait (``detach``: until it runs); the program's exit code."""
        return self.containers_exec_start(ref, opts).wait()

    # -- top, diff ---------------------------------------------------------------
    def containers_top(self, ref: str, ps_args: str | list[str] = ""
                       ) -> tuple[list[str], list[list[str]]]:
        from .cgroups import get_driver
        from .runtime import top

        cols = top.parse_args([ps_args] if isinstance(ps_args, str) else ps_args)
        cid = self.containers.resolve(ref)
        rec = self.lifecycle.refresh(cid)
        if rec["state"]["status"] not in ("running", "paused"):
            raise Conflict(f"container {rec['name']} is not running")
        driver = get_driver(self.config)
        return top.table(driver.pids(driver.handle(cid)), cols, self.config.proc_root)

    def containers_diff(self, ref: str) -> list[ContainerChange]:
        with self._scan(self.containers.resolve(ref)) as scan:
            return scan.changes()

    @contextlib.contextmanager
    def _scan(self, cid: str) -> Iterator[Scan]:
        from .runtime import create, rwlayer

        rec = self.containers.load(cid)
        cdir = self.containers.dir(cid)
        stubs = {tuple(p for p in m["destination"].split("/") if p)
                 for m in create.load_spec(cdir).get("mounts", [])}
        lowers = rwlayer.Lowers(self.snapshots.diff_dir(c)
                                for c in reversed(rec.get("image_chain_ids") or []))
        try:
            yield rwlayer.Scan(cdir / "upper", lowers, stubs)
        finally:
            lowers.close()

    # -- cp, export ----------------------------------------------------------------
    def containers_copy_from(self, ref: str, path: str, dest: Dest, *, follow_link: bool = False,
                             archive: bool = False) -> None:
        """``docker cp CONTAINER:path dest``; a binary stream ``dest`` receives a tar."""
        from .runtime import copy

        copy.copy_from(self.config, self.lifecycle, self.containers.resolve(ref), path, dest,
                       follow=follow_link, archive=archive)

    def containers_copy_to(self, ref: str, path: str, src: Dest, *, follow_link: bool = False,
                           archive: bool = False) -> None:
        """``docker cp src CONTAINER:path``; a binary stream ``src`` is a tar to extract."""
        from .runtime import copy

        copy.copy_to(self.config, self.lifecycle, self.containers.resolve(ref), src, path,
                     follow=follow_link, archive=archive)

    def containers_export(self, ref: str, dst: BinaryIO) -> None:
        from .runtime import copy

        cid = self.containers.resolve(ref)
        copy.export(self.config, self.lifecycle, cid, dst)
        self.lifecycle.emit("export", self.containers.load(cid))

    # -- commit ----------------------------------------------------------------------
    def containers_commit(self, ref: str, opts: CommitOptions) -> str:
        """A new image from the container's changes; returns its ID."""
        from .images import commit

        cid = self.containers.resolve(ref)
        tags = commit.validate(self.images, opts)
        rec = self.lifecycle.refresh(cid)
        image = self.images.record(rec["image_id"])
        paused_here = False
        if opts.pause and rec["state"]["status"] == "running":
            self.lifecycle.pause(cid)
            paused_here = True
        try:
            with self._scan(cid) as scan:
                image_id = commit.commit(self.images, image, rec, scan, opts, tags)
        finally:
            if paused_here:
                with contextlib.suppress(Conflict):  # stopped meanwhile: nothing to thaw
                    self.lifecycle.unpause(cid)
        self._emit_image("commit", image_id, {"name": opts.reference or "",
                                              "container": cid, "comment": opts.message})
        return image_id

