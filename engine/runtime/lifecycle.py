"""Container verbs that change state: start, stop, kill, pause, and reconciliation.

No daemon holds the truth: each call re-reads ``state.json``, checks that the
monitor it names is alive (PID plus start time), folds in what a dead monitor
left, then acts. Signals go through pidfds so a recycled PID is never hit.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from typing import Any

from ..config import EngineConfig
from ..errors import Conflict, EngineError, NotFound, Unavailable
from ..events import EventLog
from .state import ACTIVE, ContainerStore, alive
from .waiting import StartFailed, Waiting, wait_pid, wait_started

MONITOR = [sys.executable, "-m", "engine.runtime.monitor"]


class Lifecycle(Waiting):
    def __init__(self, cfg: EngineConfig, store: ContainerStore, events: EventLog) -> None:
        self.cfg = cfg
        self.store = store
        self.events = events

    def emit(self, action: str, rec: dict[str, Any], **extra: str) -> None:
        attrs = {"name": rec["name"], "image": rec["image"], **extra}
        attrs.update(rec["config"].get("Labels") or {})
        self.events.emit("container", action, rec["id"], attrs)

    # -- reconciliation -----------------------------------------------------
    def refresh(self, cid: str) -> dict[str, Any]:
        """The record, corrected if its monitor died without recording an exit."""
        rec = self.store.load(cid)
        st = rec["state"]
        if not st.get("monitor_pid") or alive(st["monitor_pid"], st.get("monitor_start", 0)):
            return rec
        with self.store.locked(cid):
            rec = self.store.load(cid)
            st = rec["state"]
            if not st.get("monitor_pid") or alive(st["monitor_pid"], st.get("monitor_start", 0)):
                return rec
            was_active = st.get("status") in ACTIVE
            if alive(st.get("pid", 0), st.get("pid_start", 0)):
                self._kill_cgroup(cid)
            exit_file = self.store.dir(cid) / "exit.json"
            folded = _read_exit(exit_file, st.get("started_at", 0))
            if folded is not None:
                st.update(status="exited", **folded)
            elif was_active:
                st.update(status="exited", exit_code=137, finished_at=time.time(),
                          error="the container's monitor exited unexpectedly; "
                                "the container was stopped")
            st.update(monitor_pid=0, monitor_start=0, pid=0, pid_start=0, paused=False)
            self.store.save(rec)
        from . import rootfs

        rootfs.unmount(self.store.dir(cid) / "merged")
        self._remove_cgroup(cid)
        from ..network import attach as netattach  # deferred: ps and inspect skip it

        netattach.released_by_refresh(self.cfg.root, rec)
        if was_active and folded is None:
            self.emit("die", rec, exitCode=str(st["exit_code"]))
        return rec

    # -- start ----------------------------------------------------------------
    def spawn_monitor(self, cid: str, *, wait_attach: bool) -> int:
        """Start the monitor; return the read end of its ready pipe (JSON lines)."""
        rec = self.refresh(cid)
        if rec["state"]["status"] in ACTIVE:
            raise Conflict(f"container {rec['name']} is already running")
        if rec["state"].get("manual_stop"):  # a stopped container's mark goes with its start
            with self.store.locked(cid):
                rec = self.store.load(cid)
                rec["state"].update(manual_stop=False)
                self.store.save(rec, sync="file")  # runtime state: see Monitor.update
        # Bridge networks are wired here, before the monitor (which never uses netlink).
        from ..network import attach as netattach

        netattach.before_monitor(self.cfg.root, rec, self.refresh)
        from . import zygote

        r, w = os.pipe()
        if zygote.spawn(self.cfg.root, cid, w, wait_attach=wait_attach):
            os.close(w)  # a fork of the root's zygote holds it now (zygote.py)
            return r
        import subprocess  # only here: the zygote path needs none of its ~3 ms of imports

        args = [*MONITOR, str(self.cfg.root), cid, "--ready-fd", str(w)]
        if wait_attach:
            args.append("--wait-attach")
        env = dict(os.environ, PYTHONPATH=_package_root())
        proc = subprocess.Popen(args, pass_fds=(w,), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True, close_fds=True, env=env)
        os.close(w)
        proc.wait()  # the first process exits at once; the monitor lives on
        return r

    def start(self, cid: str) -> None:
        r = self.spawn_monitor(cid, wait_attach=False)
        with os.fdopen(r, "rb") as ready:
            try:
                wait_started(ready)
            except StartFailed:
                ready.read()  # EOF once the monitor has cleaned up (ports, network, mounts)
                raise

    # -- stop, kill, pause -------------------------------------------------------
    def stop(self, cid: str, timeout: int | None = None) -> dict[str, Any]:
        import signal  # here: a plain run or ps never needs it (~0.5 ms)

        rec = self.refresh(cid)
        st = rec["state"]
        if st["status"] not in ACTIVE:
            if st.get("monitor_pid"):
                # A live monitor between a run and its restart decision (it records
                # "exited" before "restarting"): make the stop stick, let it end.
                self._mark_manual_stop(cid)
                with contextlib.suppress(Unavailable, NotFound):
                    self.wait(cid, 10.0)
                    rec = self.refresh(cid)
            return rec
        self._mark_manual_stop(cid)
        if st["status"] == "restarting":
            return self._wait_inactive(cid, 5.0)
        if st.get("paused"):
            self.unpause(cid)
        sig = _parse_signal(rec["config"].get("StopSignal") or "SIGTERM")
        t = rec["config"].get("StopTimeout")
        wait = float(timeout if timeout is not None else (t if t is not None else 10))
        self.emit("kill", rec, signal=str(int(sig)))  # docker's order: kill, die, stop
        self._signal(st, sig)
        if not wait_pid(st, wait):
            self.emit("kill", rec, signal=str(int(signal.SIGKILL)))
            self._kill_cgroup(cid)
        done = self._wait_inactive(cid, 10.0)
        # The monitor releases mounts, ports and addresses after recording the exit;
        # return once it has, so the next command (network rm, a start) sees them gone.
        with contextlib.suppress(Unavailable, NotFound):
            self.wait(cid, 10.0)
        self.emit("stop", rec)
        return done

    def kill(self, cid: str, sig_name: str = "SIGKILL") -> None:
        import signal  # here: a plain run or ps never needs it (~0.5 ms)

        sig = _parse_signal(sig_name)
        rec = self.refresh(cid)
        st = rec["state"]
        if st["status"] not in ("running", "paused"):
            raise Conflict(f"cannot kill container {rec['name']}: container is not running")
        if sig in (signal.SIGKILL, signal.SIGTERM):
            # docker: a killed container is not brought back by its restart policy.
            self._mark_manual_stop(cid)
        self.emit("kill", rec, signal=str(sig))
        self._signal(st, sig)
        if sig == signal.SIGKILL:
            if st.get("paused"):
                self.unpause(cid)
            wait_pid(st, 5.0)

    def pause(self, cid: str) -> None:
        rec = self._running(cid, "pause")
        if rec["state"].get("paused"):
            raise Conflict(f"container {rec['name']} is already paused")
        driver = _driver(self.cfg)
        driver.freeze(driver.handle(cid))
        self._set(cid, paused=True, status="paused")
        self.emit("pause", rec)

    def unpause(self, cid: str) -> None:
        rec = self.refresh(cid)
        if not rec["state"].get("paused"):
            raise Conflict(f"container {rec['name']} is not paused")
        driver = _driver(self.cfg)
        driver.thaw(driver.handle(cid))
        self._set(cid, paused=False, status="running")
        self.emit("unpause", rec)

    # -- helpers -----------------------------------------------------------------
    def _running(self, cid: str, verb: str) -> dict[str, Any]:
        rec = self.refresh(cid)
        if rec["state"]["status"] not in ("running", "paused"):
            raise Conflict(f"cannot {verb} container {rec['name']}: container is not running")
        return rec

    def _set(self, cid: str, **fields: Any) -> None:
        with self.store.locked(cid):
            rec = self.store.load(cid)
            rec["state"].update(fields)
            self.store.save(rec)

    def _mark_manual_stop(self, cid: str) -> None:
        self._set(cid, manual_stop=True)

    def _signal(self, st: dict[str, Any], sig: int) -> None:
        import signal  # here: a plain run or ps never needs it (~0.5 ms)

        if not alive(st.get("pid", 0), st.get("pid_start", 0)):
            return
        try:
            fd = os.pidfd_open(st["pid"])
        except ProcessLookupError:
            return
        try:
            if alive(st["pid"], st["pid_start"]):  # the fd now pins this very process
                signal.pidfd_send_signal(fd, sig)
        except ProcessLookupError:
            pass
        finally:
            os.close(fd)

    def _kill_cgroup(self, cid: str) -> None:
        import signal  # here: a plain run or ps never needs it (~0.5 ms)

        driver = _driver(self.cfg)
        h = driver.handle(cid)
        if driver.exists(h):
            with contextlib.suppress(EngineError):
                if driver.is_frozen(h):
                    driver.thaw(h)
            driver.kill_all(h, signal.SIGKILL)

    def _remove_cgroup(self, cid: str) -> None:
        driver = _driver(self.cfg)
        h = driver.handle(cid)
        if driver.exists(h):
            driver.remove(h)


# Deferred imports: `ps`, `inspect` and `logs` load this module but need neither
# the cgroup drivers nor the option parsers (tens of ms at every CLI call).
def _driver(cfg: EngineConfig) -> Any:
    from ..cgroups import get_driver

    return get_driver(cfg)


def _parse_signal(name: str) -> int:
    from .options import parse_signal

    return parse_signal(name)


def _read_exit(path: Any, started_at: float) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if data.get("finished_at", 0) < started_at:
        return None
    return {"exit_code": int(data["exit_code"]), "oom_killed": bool(data.get("oom_killed")),
            "finished_at": float(data["finished_at"])}


def _package_root() -> str:
    # The monitor runs `-m engine.runtime.monitor`; make sure it finds this engine.
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
