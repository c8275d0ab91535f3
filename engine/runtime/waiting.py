"""Waiting on a container: for its start, its exit, and (``--rm``) its removal.

No daemon notifies anyone: a front end reads the monitor's ready pipe while it
starts a container, then polls the record (which the monitor updates) or, for a
container's PID 1, waits on a pidfd. A ``--rm`` container's monitor removes it as
it exits without recording the exit first, so here "gone" can mean "exited".
"""

from __future__ import annotations

import json
import os
import select
import time
from typing import TYPE_CHECKING, Any

from ..errors import EngineError, NotFound, Unavailable
from .state import ACTIVE, alive

if TYPE_CHECKING:
    from ..events import EventLog
    from .state import ContainerStore


class Waiting:
    """The waits of :class:`engine.runtime.lifecycle.Lifecycle` (a mixin: it needs
    ``refresh``, ``store`` and ``events``)."""

    store: ContainerStore
    events: EventLog

    def refresh(self, cid: str) -> dict[str, Any]:
        raise NotImplementedError

    def wait(self, cid: str, timeout: float | None = None) -> int:
        end = None if timeout is None else time.time() + timeout
        rec = None
        while True:
            try:
                rec = self.refresh(cid)
            except NotFound:
                if rec is None or not rec["host_config"].get("AutoRemove"):
                    raise
                # Removed by its monitor as it exited (--rm): the code is in its "die".
                dies = self.events.read(since=float(rec["state"].get("started_at") or 0),
                                        match=lambda e: e.actor_id == cid and
                                        e.action == "die")
                if not dies:
                    raise
                return int(dies[-1].attributes.get("exitCode", 0))
            st = rec["state"]
            if st["status"] not in ACTIVE and not st.get("monitor_pid"):
                return int(st.get("exit_code", 0))
            if end is not None and time.time() > end:
                raise Unavailable("timed out waiting for the container to stop")
            time.sleep(0.05)

    def wait_removed(self, cid: str, timeout: float = 10.0) -> None:
        """Once a ``--rm`` container has exited, return when its monitor has removed it.

        docker's ``run --rm`` waits for the "removed" condition, so the next command
        never sees it. The monitor does not record the exit of a container it is
        about to remove, so the record may still say "running" here. No-op for
        other containers; gives up if the monitor is gone without removing it
        (killed), or after ``timeout``. Returns once the monitor has exited: after
        the record it still deletes the container's files and anonymous volumes.
        """
        state = self.store.dir(cid) / "state.json"
        end = time.time() + timeout
        gone_since = None
        checked = 0.0
        monitor: dict[str, Any] | None = None
        while time.time() < end:
            # The monitor is a few ms from done: poll the record's presence (one
            # stat), and look at the monitor itself every 20 ms.
            if not state.exists():
                if monitor is not None:
                    # Gone from every listing; the monitor still deletes its files:
                    # once it has exited, nothing of the container is left.
                    wait_pid(monitor, max(0.0, end - time.time()))
                return
            if time.time() - checked > 0.02:
                checked = time.time()
                try:
                    rec = self.refresh(cid)
                except NotFound:
                    return
                if not rec["host_config"].get("AutoRemove"):
                    return
                st = rec["state"]
                if st.get("monitor_pid"):
                    monitor = {"pid": st["monitor_pid"], "pid_start": st.get("monitor_start", 0)}
                if not rec["state"].get("monitor_pid"):  # reconciled: it died
                    gone_since = gone_since or time.time()
                    if time.time() - gone_since > 1.0:
                        return
            time.sleep(0.0005)

    def _wait_inactive(self, cid: str, timeout: float) -> dict[str, Any]:
        end = time.time() + timeout
        rec = None
        while time.time() < end:
            try:
                rec = self.refresh(cid)
            except NotFound:
                if rec is None or not rec["host_config"].get("AutoRemove"):
                    raise
                # A --rm container's monitor removes it as it exits (without
                # recording the exit first): gone is stopped.
                rec["state"].update(status="exited", pid=0, monitor_pid=0)
                return rec
            if rec["state"]["status"] not in ACTIVE:
                return rec
            time.sleep(0.02)
        raise Unavailable("the container did not stop in time")


def wait_started(ready: Any) -> dict[str, Any]:
    """Read the monitor's ready lines until it says running or failed."""
    for line in ready:
        msg = json.loads(line)
        if msg["state"] == "running":
            return dict(msg)
        if msg["state"] == "failed":
            raise StartFailed(int(msg.get("code", 125)), str(msg.get("message", "")))
    raise StartFailed(125, "the container's monitor exited before starting it")


class StartFailed(EngineError):
    """The container could not be started; ``code`` is docker's exit code (125/126/127)."""

    default_title = "Start failed"

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def wait_pid(st: dict[str, Any], timeout: float) -> bool:
    """Wait for the container's PID 1 to exit; False on timeout."""
    if not alive(st.get("pid", 0), st.get("pid_start", 0)):
        return True
    try:
        fd = os.pidfd_open(st["pid"])
    except ProcessLookupError:
        return True
    try:
        if not alive(st["pid"], st["pid_start"]):
            return True
        ready, _, _ = select.select([fd], [], [], timeout)
        return bool(ready)
    finally:
        os.close(fd)
