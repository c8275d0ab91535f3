"""One container's monitor: a detached, single-threaded process that outlives front ends.

``python -m engine.runtime.monitor ROOT ID [--ready-fd N] [--wait-attach]``

It double-forks away from its caller, mounts the rootfs, creates the cgroup,
starts the container init (PID 1 of a new PID namespace), reports "running" or
the start error on the ready pipe, then pumps output into the json-file log and
to attached clients, records the exit (code, time, OOM) atomically, applies the
restart policy and cleans up. Standard library and small engine modules only.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

from ..config import EngineConfig, default_cgroup_parent
from ..events import EventLog
from ..sys import libc
from . import netvol, rootfs, seccomp_cache, session
from .state import ContainerStore


class Monitor:
    def __init__(self, root: Path, cid: str, ready_fd: int, wait_attach: bool,
                 env: dict[str, str] | None = None, started_fd: int = -1) -> None:
        # A zygote-forked monitor gets its front end's environment as ``env`` and
        # applies it only before work that reads it (apply_env): rewriting
        # os.environ costs an idle monitor a few hundred KB of private pages.
        self.env = env
        # Closed once the first start is over: the zygote forks its next spare monitor
        # then, not while this start needs the CPUs (zygote_server).
        self.started_fd = started_fd
        self.cfg = EngineConfig(root=root, cgroup_parent=default_cgroup_parent(env))
        self.store = ContainerStore(self.cfg.containers_dir, self.cfg.locks_dir)
        self.cid = cid
        self.cdir = self.store.dir(cid)
        self.ready_fd = ready_fd
        self.wait_attach = wait_attach
        self.events = EventLog(self.cfg.events_log, self.cfg.locks_dir / "events.lock")
        self.proxy: Any = None  # published ports (engine.network.proxy), bound at first start
        seccomp_cache.cache_dir = self.cfg.root / "cache" / "seccomp"  # read by the init

    def apply_env(self) -> None:
        if self.env is not None:
            os.environ.clear()
            os.environ.update(self.env)
            self.env = None

    def tell(self, obj: dict[str, Any]) -> None:
        """A line on the ready pipe for the front end that started us (if it still listens)."""
        if self.ready_fd < 0:
            return
        try:
            os.write(self.ready_fd, (json.dumps(obj) + "\n").encode())
        except OSError:
            self.ready_fd = -1

    def close_ready(self) -> None:
        if self.ready_fd >= 0:
            os.close(self.ready_fd)
            self.ready_fd = -1
        if self.started_fd >= 0:
            os.close(self.started_fd)
            self.started_fd = -1

    def update(self, **fields: Any) -> dict[str, Any]:
        # Runtime state only: after an OS crash the previous record is as valid
        # (every process is gone; readers reconcile), so skip the directory fsync.
        with self.store.locked(self.cid):
            rec = self.store.load(self.cid)
            rec["state"].update(fields)
            self.store.save(rec, sync="file")
        return rec

    def emit(self, action: str, rec: dict[str, Any], **extra: str) -> None:
        attrs = {"name": rec["name"], "image": rec["image"], **extra}
        attrs.update({k: v for k, v in (rec["config"].get("Labels") or {}).items()})
        self.events.emit("container", action, self.cid, attrs)

    def run(self) -> int:
        libc.prctl(libc.PR_SET_CHILD_SUBREAPER, 1)
        rec = self.store.load(self.cid)
        policy = rec["host_config"]["RestartPolicy"]
        listener = session.listen(self.cdir / "attach.sock")
        self.tell({"state": "listening"})
        first_client = listener.accept()[0] if self.wait_attach else None
        delay = 0.1
        restarts = int(rec["state"].get("restart_count", 0))
        try:
            while True:
                sess = session.Session(self, rec, listener, first_client)
                first_client = None
                started = time.time()
                result = sess.run()
                rec = self.store.load(self.cid)
                if result.start_error is not None:
                    self.tell({"state": "failed", **result.start_error})
                    break
                policy = rec["host_config"]["RestartPolicy"]  # `update --restart` may change it
                if not self._should_restart(rec, policy, result.exit_code, restarts):
                    break
                restarts += 1
                delay = 0.1 if time.time() - started > 10 else min(delay * 2, 60)
                self.update(status="restarting", restart_count=restarts)
                if self._sleep_unless_stopped(delay):
                    self.update(status="exited")
                    break
        finally:
            self._cleanup(listener)
        return 0

    def _should_restart(self, rec: dict[str, Any], policy: dict[str, Any], code: int,
                        restarts: int) -> bool:
        if rec["state"].get("manual_stop") or rec["host_config"].get("AutoRemove"):
            return False
        name = policy.get("Name") or "no"
        if name in ("always", "unless-stopped"):
            return True
        if name == "on-failure" and code != 0:
            limit = int(policy.get("MaximumRetryCount") or 0)
            return limit == 0 or restarts < limit
        return False

    def _sleep_unless_stopped(self, delay: float) -> bool:
        end = time.time() + delay
        while time.time() < end:
            time.sleep(min(0.05, max(0.0, end - time.time())))
            if self.store.load(self.cid)["state"].get("manual_stop"):
                return True
        return False

    def _cleanup(self, listener: socket.socket) -> None:
        listener.close()
        for name in ("attach.sock",):
            try:
                (self.cdir / name).unlink()
            except FileNotFoundError:
                pass
        self.apply_env()
        rootfs.unmount(self.cdir / "merged")
        netvol.after_monitor(self)  # ports, netns, addresses, hosts entries
        self.close_ready()
        rec = self.store.load(self.cid)
        if not rec["host_config"].get("AutoRemove"):
            rec = self.update(monitor_pid=0, monitor_start=0)
        else:  # the record goes next: no need to write it once more (if that fails,
            # the record names a dead monitor, which every reader reconciles)
            from . import removal

            with self.store.locked(self.cid):  # not between a front end's load and save
                removal.remove_files(self.cfg, self.cid)
            netvol.auto_remove(self, rec)
            self.emit("destroy", rec)


def main(argv: list[str]) -> int:
    root, cid = Path(argv[0]), argv[1]
    ready_fd = int(argv[argv.index("--ready-fd") + 1]) if "--ready-fd" in argv else -1
    wait_attach = "--wait-attach" in argv
    # Detach: the caller waits only for this first process; the monitor proper is
    # reparented to init (or the nearest subreaper) and survives every front end.
    if os.fork() > 0:
        os._exit(0)
    return detached(root, cid, ready_fd, wait_attach)


def detached(root: Path, cid: str, ready_fd: int, wait_attach: bool,
             env: dict[str, str] | None = None, started_fd: int = -1) -> int:
    """The monitor proper, once detached from its caller; zygote-forked monitors start here."""
    os.setsid()
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    devnull = os.open(os.devnull, os.O_RDWR)
    log = os.open(root / "containers" / cid / "monitor.log",
                  os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.dup2(log, 2)
    os.close(devnull)
    os.close(log)
    mon = Monitor(root, cid, ready_fd, wait_attach, env, started_fd)
    try:
        return mon.run()
    except BaseException as err:
        # Leave a reason behind for `inspect` and the waiting front end.
        import traceback

        traceback.print_exc()
        mon.apply_env()
        mon.tell({"state": "failed", "code": 125, "message": f"monitor: {err}"})
        try:
            mon.update(status="exited", exit_code=125, error=f"monitor: {err}",
                       finished_at=time.time(), monitor_pid=0)
        except BaseException:  # noqa: BLE001 - nothing more we can do
            pass
        rootfs.unmount(mon.cdir / "merged")
        netvol.after_monitor(mon)
        return 1


def write_exit(cdir: Path, code: int, oom: bool) -> None:
    """Covers a monitor killed before its next update (the page cache survives that).

    Written in place, not through a temp file and a rename: only a front end that
    found this monitor dead reads it (Lifecycle.refresh), so no reader races the
    write, and a torn file (an OS crash, or a kill mid-write) reads as absent.
    """
    data = json.dumps({"exit_code": code, "oom_killed": oom, "finished_at": time.time()})
    fd = os.open(cdir / "exit.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        os.write(fd, data.encode())
    finally:
        os.close(fd)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
