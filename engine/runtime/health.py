"""Health checks, run by the monitor from its selector loop (standard library only).

Each probe is an ``exec`` into the container (:mod:`engine.runtime.exec`: the
caller forks A, which joins the namespaces and forks B, the probe, which the
monitor puts into the container's cgroup, so probes count against its limits as
in docker). Nothing blocks: the probe's output pipe and A's pidfd sit in the
monitor's selector, and ``timeout()`` tells the loop when the next probe or a
probe's deadline is due. Results follow moby's ``handleProbeResult``: a success
makes the container healthy; failures count only after the start period (or
once it was healthy) and ``retries`` of them in a row make it unhealthy. Each
status change is a ``health_status: <status>`` event.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import time
from typing import TYPE_CHECKING, Any

from ..cgroups import get_driver
from ..errors import Conflict, EngineError
from ..types_tools import ExecOptions
from . import exec as execmod
from .healthcfg import MAX_LOG, MAX_OUTPUT, SECOND, Probe, go_duration, probe

if TYPE_CHECKING:
    from .session import Session

OUT, EXIT = "health-out", "health-exit"


def start(sess: Session, sel: selectors.BaseSelector, started_at: float) -> Checker | None:
    """A checker for this run when the container has a health check, else None."""
    p = probe(sess.cfg.get("Healthcheck"))
    return Checker(sess, p, started_at) if p is not None else None


class _Run:
    """One probe in flight."""

    def __init__(self, proc: execmod.ExecProcess, out: int, deadline: float) -> None:
        self.proc = proc
        self.out = out
        self.deadline = deadline
        self.start = time.time()
        self.output = b""
        self.probe_fd = -1  # pidfd of B, the probe itself (A is proc.pid)
        self.exit_fd = proc.pidfd  # kept: proc.wait() closes and forgets it


class Checker:
    def __init__(self, sess: Session, p: Probe, started_at: float) -> None:
        self.sess = sess
        self.mon = sess.mon
        self.probe = p
        self.started_at = started_at
        self.status = "starting"
        self.streak = 0
        old = self.mon.store.load(self.mon.cid)["state"].get("health") or {}
        self.log: list[dict[str, Any]] = list(old.get("log") or [])[-MAX_LOG:]
        self.run: _Run | None = None
        self.target: execmod.Target | None = None
        self.driver = get_driver(self.mon.cfg)
        self.spec = json.loads((self.mon.cdir / "config.json").read_text())
        self.next_at = time.monotonic() + self._interval() / SECOND
        self._save()

    # -- the loop's side ---------------------------------------------------------------
    def timeout(self) -> float:
        due = self.run.deadline if self.run is not None else self.next_at
        return max(0.0, due - time.monotonic())

    def tick(self, sel: selectors.BaseSelector) -> None:
        now = time.monotonic()
        if self.run is not None and now >= self.run.deadline:
            self._expire(sel)
        elif self.run is None and now >= self.next_at:
            self._start(sel)

    def on_ready(self, sel: selectors.BaseSelector, key: selectors.SelectorKey) -> None:
        run = self.run
        if run is None:
            return
        if key.data == OUT:
            self._read(run, sel)
        elif key.data == EXIT:
            self._unregister(sel, run)  # before wait(), which closes the pidfd
            code = run.proc.wait()  # A has exited: no wait here
            self._read(run, sel)
            self._finish(sel, code, run.output.decode(errors="replace"))

    def close(self, sel: selectors.BaseSelector) -> None:
        """The container ended: stop a probe in flight; docker then reports unhealthy."""
        if self.run is not None:
            self._unregister(sel, self.run)
            self._kill(self.run)
            self._drop(sel, self.run)
            self.run = None
        self.status = "unhealthy"
        self._save()

    # -- probes ------------------------------------------------------------------------
    def _interval(self) -> int:
        # moby: probes come every start_interval while still starting inside the start period.
        p = self.probe
        in_start = time.time() - self.started_at < p.start_period / SECOND
        return p.start_interval if in_start and self.status == "starting" else p.interval

    def _start(self, sel: selectors.BaseSelector) -> None:
        rec = self.mon.store.load(self.mon.cid)
        if rec["state"].get("paused"):
            self.next_at = time.monotonic() + self._interval() / SECOND
            return
        began = time.time()
        r, w = os.pipe()
        devnull = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        holder: list[int] = []
        try:
            if self.target is None or self.target.pid != rec["state"].get("pid"):
                self.target = execmod.plan(rec, self.spec, ExecOptions(command=self.probe.args))
            handle = self.driver.handle(self.mon.cid)

            def join(pid: int) -> None:
                # B waits for us here, alive: its pidfd can never name a recycled PID.
                holder.append(os.pidfd_open(pid))
                self.driver.add_pid(handle, pid)

            proc = execmod.start(self.target, ExecOptions(command=self.probe.args,
                                                          stdio=(devnull, w, w)), join)
        except execmod.ExecFailed as err:
            _close(r, *holder)
            self._record(began, err.code, str(err))
            return
        except Conflict:
            # Stopping or paused meanwhile: the loop sees the exit; no result to record.
            _close(r, *holder)
            self.next_at = time.monotonic() + self._interval() / SECOND
            return
        except EngineError as err:
            _close(r, *holder)
            self._record(began, -1, str(err))
            return
        finally:
            _close(w, devnull)
        os.set_blocking(r, False)
        run = _Run(proc, r, time.monotonic() + self.probe.timeout / SECOND)
        run.start = began
        run.probe_fd = holder[0] if holder else -1
        self.run = run
        sel.register(r, selectors.EVENT_READ, OUT)
        sel.register(proc.pidfd, selectors.EVENT_READ, EXIT)

    def _read(self, run: _Run, sel: selectors.BaseSelector) -> None:
        while True:
            try:
                chunk = os.read(run.out, 65536)
            except BlockingIOError:
                return
            if not chunk:
                with contextlib.suppress(KeyError, ValueError):
                    sel.unregister(run.out)
                return
            run.output = (run.output + chunk)[:MAX_OUTPUT]

    def _expire(self, sel: selectors.BaseSelector) -> None:
        run = self.run
        assert run is not None
        self._unregister(sel, run)
        self._kill(run)
        self._finish(sel, -1, f"Health check exceeded timeout ({go_duration(self.probe.timeout)})")

    def _kill(self, run: _Run) -> None:
        # Killing B ends A too (A only waits for B); A is killed as well in case B is
        # not there yet. Children the probe left behind stay, as in docker.
        for fd in (run.probe_fd, run.proc.pidfd):
            if fd >= 0:
                with contextlib.suppress(ProcessLookupError):
                    signal.pidfd_send_signal(fd, signal.SIGKILL)
        run.proc.wait()

    def _unregister(self, sel: selectors.BaseSelector, run: _Run) -> None:
        for fd in (run.out, run.exit_fd):
            with contextlib.suppress(KeyError, ValueError):
                sel.unregister(fd)

    def _drop(self, sel: selectors.BaseSelector, run: _Run) -> None:
        self._unregister(sel, run)
        _close(run.out, run.probe_fd)
        run.probe_fd = -1
        run.proc.close()

    def _finish(self, sel: selectors.BaseSelector, code: int, output: str) -> None:
        run = self.run
        assert run is not None
        self._drop(sel, run)
        self.run = None
        self._record(run.start, code, output)

    def _record(self, began: float, code: int, output: str) -> None:
        self.log = [*self.log, {"start": began, "end": time.time(), "exit_code": code,
                                "output": output}][-MAX_LOG:]
        old = self.status
        if code == 0:
            self.status, self.streak = "healthy", 0
        else:
            in_start = self.status == "starting" and \
                began - self.started_at < self.probe.start_period / SECOND
            if not in_start:
                self.streak += 1
                if self.streak >= self.probe.retries:
                    self.status = "unhealthy"
        rec = self._save()
        if self.status != old:
            self.mon.emit(f"health_status: {self.status}", rec)
        self.next_at = time.monotonic() + self._interval() / SECOND

    def _save(self) -> dict[str, Any]:
        return self.mon.update(health={"status": self.status, "failing_streak": self.streak,
                                       "log": self.log})


def _close(*fds: int) -> None:
    for fd in fds:
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
