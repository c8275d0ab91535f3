"""The start of one container run, done by a short-lived child of the monitor.

An idle monitor costs what it has written since the zygote forked it: every page
it touches becomes its own copy. Creating the cgroup, mounting the rootfs,
parsing the OCI spec and forking the init touch a few MB of the interpreter's
pages, so that work runs in this child (the *starter*), which exits once the
container runs. The monitor keeps only its pump loop's pages.

The init still ends up as the monitor's child: its parent, this starter (which
unshares the PID namespace, so the monitor can start the next run), exits once
the container runs, and the monitor, a child subreaper, is its nearest ancestor
that reaps (the starter is not one: the attribute is not inherited across fork).

    monitor ─ fork ─► starter: overlay, volumes, init (its cgroup meanwhile), "running",
                               tell the front end
            ◄── report {pid, oom_before, streams} + fds (outputs, pty, stdin) ──┘
                               then, off the start path, the late cgroup join; exit

On a start failure the starter cleans up the cgroup and records the failure
itself, and reports the error; the monitor tells the front end and unmounts.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import sys
import time
import traceback
from typing import TYPE_CHECKING, Any

from ..cgroups import get_driver
from ..errors import EngineError
from . import netvol, rootfs
from .state import proc_start_time

if TYPE_CHECKING:
    from .session import Session

REPORT_MAX = 65536
MAX_FDS = 4  # stdout, stderr, stdin; or the pty master (and stdin when not a tty)


class Report:
    """What the starter tells the monitor: the init's PID, or the start error."""

    def __init__(self, msg: dict[str, Any], fds: list[int]) -> None:
        self.pid = int(msg.get("pid") or 0)
        self.oom_before = int(msg.get("oom_before") or 0)
        self.error: dict[str, Any] | None = msg.get("error")
        self.msg = msg
        self.fds = fds


def launch(sess: Session) -> Report:
    """Fork the starter and wait for its report (the monitor's side)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        ours.close()
        if sess.mon.started_fd >= 0:
            os.close(sess.mon.started_fd)  # the monitor's to close (Monitor.close_ready)
        code = 1
        try:
            sess.mon.apply_env()
            _start(sess, theirs)
            code = 0
        except BaseException:  # noqa: BLE001 - the monitor reads "no report" as a failure
            traceback.print_exc()
        finally:
            with contextlib.suppress(BaseException):
                sys.stderr.flush()
            os._exit(code)
    theirs.close()
    try:
        raw, fds, _, _ = socket.recv_fds(ours, REPORT_MAX, MAX_FDS)
    except OSError:
        raw, fds = b"", []
    finally:
        ours.close()
    # The starter ends with the late cgroup join (a few writes): short to wait for.
    os.waitpid(pid, 0)
    if not raw:
        return Report({"error": {"code": 125, "message": "the container's starter failed "
                                                         "(see monitor.log)"},
                       "crashed": True}, fds)
    return Report(json.loads(raw), fds)


def _report(sock: socket.socket, msg: dict[str, Any], fds: list[int]) -> None:
    socket.send_fds(sock, [json.dumps(msg).encode()], fds)
    sock.close()


def _start(sess: Session, sock: socket.socket) -> None:
    from .session import StartError, cleanup_cgroup

    mon, cdir = sess.mon, sess.mon.cdir
    monitor = os.getppid()
    # Recorded here with "running" rather than by the monitor, which would pay for
    # the JSON round trip in private pages for as long as the container runs.
    # Until then the record says "created" (or "restarting"): no reader looks for
    # a monitor before "running".
    ours: dict[str, Any] = {}
    if sess.rec["state"].get("monitor_pid") != monitor:
        ours = {"monitor_pid": monitor, "monitor_start": proc_start_time(monitor)}
    spec = json.loads((cdir / "config.json").read_text())
    driver = get_driver(mon.cfg)
    runtime = sess.rec.get("runtime", "pydock")

    def make_cgroup() -> Any:
        # The record's HostConfig is the truth: `update` may have changed it.
        cg = driver.create(mon.cid, _limits(sess.rec))
        warnings = list(cg.warnings)
        if runtime == "pydock":  # runc/crun write the device rules from the same spec
            warnings += driver.set_devices(
                cg, spec["linux"].get("resources", {}).get("devices", []))
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)  # monitor.log
        oom_before.append(driver.oom_killed_count(cg))  # before anything of ours runs
        return cg

    # On v1 the built-in init joins its cgroup itself, after its mounts: the cgroup
    # is made meanwhile (start_builtin). Otherwise it must exist before the fork.
    early = runtime == "pydock" and driver.version == "v1"
    oom_before: list[int] = []
    cg = None
    if not early:
        try:
            cg = make_cgroup()
        except EngineError as err:
            cleanup_cgroup(driver, driver.handle(mon.cid))
            sess.record_exit(125, False, error=str(err), started=False)
            _report(sock, {"error": {"code": 125, "message": str(err)}}, [])
            return
    rootfs.mount_overlay(mon.cfg.snapshots_dir, sess.rec["image_chain_ids"], cdir,
                         volatile=bool(sess.rec["host_config"].get("AutoRemove")))
    pid = 0
    try:
        netvol.populate_volumes(sess)
        if runtime == "pydock":
            from .start_builtin import start_builtin

            pid, pidfd, cg = start_builtin(sess, spec, driver, cg, make_cgroup)
        else:
            from . import session_oci

            pid, pidfd = session_oci.start(sess, spec, runtime)
    except StartError as err:
        sess.close_io()
        cleanup_cgroup(driver, cg if cg is not None else driver.handle(mon.cid))
        sess.record_exit(err.code, False, error=str(err), started=False)
        _report(sock, {"error": {"code": err.code, "message": str(err)}, "pid": err.pid}, [])
        return
    rec = mon.update(status="running", pid=pid, pid_start=proc_start_time(pid),
                     started_at=time.time(), exit_code=0, error="", oom_killed=False,
                     paused=False, **ours)
    mon.emit("start", rec)
    mon.tell({"state": "running", "pid": pid})
    streams, fds = sess.handover()
    _report(sock, {"pid": pid, "oom_before": oom_before[0], "streams": streams}, fds)
    if sess.late_join and not select.select([pidfd], [], [], 0)[0]:
        _join_rest(driver, cg, pid)  # (pointless once the container has exited)


def _join_rest(driver: Any, cg: Any, pid: int) -> None:
    # After "running", off the start path: on a hybrid host this is the v2 mount,
    # which only backs cgroup.kill and a freezer fallback; kill_all also sweeps
    # the v1 hierarchies the init joined before exec, so nothing forked meanwhile
    # escapes a kill.
    try:
        driver.add_pid_rest(cg, pid)
    except EngineError as err:
        print(f"warning: {err}", file=sys.stderr)  # monitor.log


def _limits(rec: dict[str, Any]) -> Any:
    from .resources import limits_from_host_config

    limits = limits_from_host_config(rec.get("host_config") or {})
    return None if limits.is_empty() else limits
