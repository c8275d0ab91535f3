"""The fake's containers: records shaped like ``state.json`` and the lifecycle verbs.

The state machine and the events follow ``engine/runtime/lifecycle.py`` and the
monitor (``session.py``): ``create``; ``start``; stop = ``kill`` (SIGTERM), another
``kill`` (SIGKILL) when the program ignores SIGTERM, ``die``, ``stop``; ``pause`` /
``unpause``; ``restart`` = stop + start + ``restart``; remove = (kill, die when forced)
+ ``destroy``; ``rename`` with ``oldName``. Batch verbs report per item and never raise.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.errors import AlreadyExists, Conflict, ContainerNotFound, EngineError, ImageNotFound
from engine.reference import parse
from engine.runtime.logs import LogEntry
from engine.runtime.options import check_name, parse_signal
from engine.runtime.waiting import StartFailed
from engine.types import ContainerReport, CreateOptions, PruneReport

from .fake_container_views import FakeContainerViewsMixin
from .fake_records import check_create, default_name, new_record
from .programs import Program

if TYPE_CHECKING:
    from engine.config import EngineConfig

    from .events import FakeEventLog

ACTIVE = ("running", "paused", "restarting")
SIGKILL, SIGTERM = 9, 15


class FakeContainersMixin(FakeContainerViewsMixin):
    config: EngineConfig
    events: FakeEventLog
    clock: Callable[[], float]
    _lock: threading.RLock
    _changed: threading.Condition

    if TYPE_CHECKING:
        def new_id(self, kind: str) -> str: ...
        def count(self, kind: str) -> int: ...
        def program_for(self, args: list[str]) -> Program: ...
        def _notify(self) -> None: ...
        def _image_for_create(self, ref: str) -> tuple[str, dict[str, Any]]: ...
        def _mounts_for_create(self, opts: CreateOptions,
                               img_cfg: dict[str, Any]) -> list[dict[str, Any]]: ...
        def _networks_for_create(self, opts: CreateOptions, rec: dict[str, Any]) -> None: ...
        def _attach_networks(self, rec: dict[str, Any]) -> None: ...
        def _detach_networks(self, rec: dict[str, Any]) -> None: ...
        def _release_anonymous(self, rec: dict[str, Any]) -> None: ...

    def _init_containers(self) -> None:
        self._containers: dict[str, dict[str, Any]] = {}
        self._probes: dict[str, int] = {"true": 0, "exit 0": 0, "false": 1, "exit 1": 1}

    # -- lookup ------------------------------------------------------------------------------
    def containers_resolve(self, ref: str) -> str:
        """Full ID, name, or unambiguous ID prefix, in docker's order."""
        ref = ref.lstrip("/")
        with self._lock:
            if not ref:
                raise ContainerNotFound(ref)
            if ref in self._containers:
                return ref
            for cid, rec in self._containers.items():
                if rec["name"] == ref:
                    return cid
            matches = [cid for cid in self._containers if cid.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise Conflict(f"multiple containers found with provided prefix: {ref}")
        raise ContainerNotFound(ref)

    def _rec(self, ref: str) -> dict[str, Any]:
        return self._containers[self.containers_resolve(ref)]

    def _emit(self, action: str, rec: dict[str, Any], **extra: str) -> None:
        attrs = {"name": rec["name"], "image": rec["image"], **extra}
        attrs.update(rec["config"].get("Labels") or {})
        self.events.emit("container", action, rec["id"], attrs)

    # -- create ------------------------------------------------------------------------------
    def containers_create(self, opts: CreateOptions) -> str:
        try:
            image_id, img_cfg = self._image_for_create(opts.image)
        except ImageNotFound:
            shown = opts.image
            try:
                shown = parse(opts.image).familiar
            except EngineError:
                pass
            raise ImageNotFound(shown) from None
        c = check_create(opts, img_cfg)  # every bad flag refused before anything changes
        with self._lock:
            taken = {r["name"]: cid for cid, r in self._containers.items()}
            name = c["name"]
            if name and name in taken:
                raise AlreadyExists(
                    f'Conflict. The container name "/{name}" is already in use by container '
                    f'"{taken[name]}". You have to remove (or rename) that container to be '
                    "able to reuse that name.")
            cid = self.new_id("container")
            rec = new_record(cid, name or default_name(self.count, set(taken)), opts,
                             image_id, img_cfg, c, self.clock(), self.count("container-seq"))
            self._networks_for_create(opts, rec)
            rec["mounts"] = self._mounts_for_create(opts, img_cfg)
            self._containers[cid] = rec
            self._emit("create", rec)
        return cid

    # -- start, exit -----------------------------------------------------------------------
    def containers_start(self, ref: str) -> None:
        with self._lock:
            rec = self._rec(ref)
            self._start(rec)

    def _start(self, rec: dict[str, Any]) -> None:
        st = rec["state"]
        if st["status"] in ACTIVE:
            raise Conflict(f"container {rec['name']} is already running")
        program = self.program_for(rec["args"])
        if program.start_error is not None:
            # The monitor records a start that never ran as "created", with the code.
            st.update(status="created", exit_code=127, error=program.start_error,
                      finished_at=self.clock(), pid=0)
            raise StartFailed(127, program.start_error)
        now = self.clock()
        st.update(status="running", pid=1000 + self.count("pid"), started_at=now,
                  exit_code=0, error="", oom_killed=False, paused=False)
        self._attach_networks(rec)
        self._emit("start", rec)
        for stream, text in program.output:
            self._log(rec, stream, text)
        self._start_health(rec)
        if program.exit_code is not None:
            self._exit(rec, program.exit_code)
        self._notify()

    def _log(self, rec: dict[str, Any], stream: str, text: str) -> None:
        data = text.encode() if text.endswith("\n") else (text + "\n").encode()
        rec["logs"].append(LogEntry(stream, data, int(round(self.clock() * 1e9))))
        self._notify()

    def _exit(self, rec: dict[str, Any], code: int) -> None:
        """The process ended: the monitor records it, says ``die``, cleans up."""
        rec["state"].update(status="exited", exit_code=code, finished_at=self.clock(), pid=0,
                            paused=False)
        if rec["state"].get("health"):
            rec["state"]["health"]["status"] = "unhealthy"  # docker's word once it ended
        self._detach_networks(rec)
        self._emit("die", rec, exitCode=str(code))
        if rec["host_config"].get("AutoRemove"):
            self._containers.pop(rec["id"], None)
            self._emit("destroy", rec)
        self._notify()

    # -- stop, kill, restart -----------------------------------------------------------------
    def _batch(self, refs: list[str], act: Callable[[dict[str, Any]], Any]
               ) -> list[ContainerReport]:
        out = []
        for ref in refs:
            try:
                with self._lock:
                    rec = self._rec(ref)
                    act(rec)
                out.append(ContainerReport(ref, rec["id"]))
            except EngineError as err:
                out.append(ContainerReport(ref, error=str(err)))
        return out

    def _stop(self, rec: dict[str, Any], timeout: int | None) -> None:
        if rec["state"]["status"] not in ACTIVE:
            return  # docker: stopping a stopped container succeeds and changes nothing
        if rec["state"]["paused"]:
            self._unpause(rec)
        program = self.program_for(rec["args"])
        self._emit("kill", rec, signal=str(SIGTERM))
        code = program.term_exit_code
        if code is None or timeout == 0:
            self._emit("kill", rec, signal=str(SIGKILL))
            code = 128 + SIGKILL
        self._exit(rec, code)
        self._emit("stop", rec)

    def containers_stop(self, refs: list[str], *, timeout: int | None = None
                        ) -> list[ContainerReport]:
        return self._batch(refs, lambda rec: self._stop(rec, timeout))

    def _kill(self, rec: dict[str, Any], signal: str) -> None:
        sig = parse_signal(signal)
        if rec["state"]["status"] not in ("running", "paused"):
            raise Conflict(f"cannot kill container {rec['name']}: container is not running")
        self._emit("kill", rec, signal=str(sig))
        program = self.program_for(rec["args"])
        if sig == SIGKILL:
            if rec["state"]["paused"]:
                self._unpause(rec)
            self._exit(rec, 128 + SIGKILL)
        elif sig == SIGTERM and program.term_exit_code is not None:
            self._exit(rec, program.term_exit_code)

    def containers_kill(self, refs: list[str], *, signal: str = "SIGKILL"
                        ) -> list[ContainerReport]:
        return self._batch(refs, lambda rec: self._kill(rec, signal))

    def containers_restart(self, refs: list[str], *, timeout: int | None = None
                           ) -> list[ContainerReport]:
        def restart(rec: dict[str, Any]) -> None:
            self._stop(rec, timeout)
            self._start(rec)
            self._emit("restart", rec)

        return self._batch(refs, restart)

    # -- pause -------------------------------------------------------------------------------
    def _pause(self, rec: dict[str, Any]) -> None:
        if rec["state"]["status"] not in ("running", "paused"):
            raise Conflict(f"cannot pause container {rec['name']}: container is not running")
        if rec["state"]["paused"]:
            raise Conflict(f"container {rec['name']} is already paused")
        rec["state"].update(paused=True, status="paused")
        self._emit("pause", rec)
        self._notify()

    def _unpause(self, rec: dict[str, Any]) -> None:
        if not rec["state"]["paused"]:
            raise Conflict(f"container {rec['name']} is not paused")
        rec["state"].update(paused=False, status="running")
        self._emit("unpause", rec)
        self._notify()

    def containers_pause(self, refs: list[str]) -> list[ContainerReport]:
        return self._batch(refs, self._pause)

    def containers_unpause(self, refs: list[str]) -> list[ContainerReport]:
        return self._batch(refs, self._unpause)

    # -- remove, rename, wait -------------------------------------------------------------------
    def containers_prune(self) -> PruneReport:
        gone = [cid for cid, rec in list(self._containers.items())
                if rec["state"]["status"] not in ACTIVE]
        for cid in gone:
            self.containers_remove([cid])
        return PruneReport(deleted=tuple(gone))

    def containers_remove(self, refs: list[str], *, force: bool = False,
                          volumes: bool = False) -> list[ContainerReport]:
        def rm(rec: dict[str, Any]) -> None:
            status = rec["state"]["status"]
            if status in ACTIVE:
                if not force:
                    raise Conflict(f"cannot remove container {rec['name']}: container is "
                                   f"{status}: stop the container before removing or force "
                                   "remove")
                self._kill(rec, "SIGKILL")
            del self._containers[rec["id"]]
            if volumes:
                self._release_anonymous(rec)
            self._emit("destroy", rec)
            self._notify()

        return self._batch(refs, rm)

    def containers_rename(self, ref: str, new_name: str) -> None:
        with self._lock:
            rec = self._rec(ref)
            new = check_name(new_name)
            for other in self._containers.values():
                if other["name"] == new and other["id"] != rec["id"]:
                    raise AlreadyExists(f'Conflict. The container name "/{new}" is already in '
                                        f'use by container "{other["id"]}".')
            old = rec["name"]
            rec["name"] = new
            self._emit("rename", rec, oldName="/" + old)
            self._notify()

    def containers_wait(self, ref: str) -> int:
        with self._changed:
            rec = self._rec(ref)
            while rec["state"]["status"] in ACTIVE:
                self._changed.wait(0.05)
            return int(rec["state"]["exit_code"])

    def containers_wait_removed(self, cid: str) -> None:
        return None  # an auto-removed fake container is gone the moment it exits

    def containers_warnings(self, ref: str) -> list[str]:
        with self._lock:
            self._rec(ref)
        return []

    # -- scripting for tests ---------------------------------------------------------------------
    def exit(self, ref: str, code: int) -> None:
        """The container's program exits by itself with ``code``."""
        with self._lock:
            rec = self._rec(ref)
            if rec["state"]["status"] in ACTIVE:
                self._exit(rec, code)

    def print(self, ref: str, *lines: str, stream: str = "stdout") -> None:
        """The container prints ``lines`` (each one log entry)."""
        with self._lock:
            rec = self._rec(ref)
            for line in lines:
                self._log(rec, stream, line)
