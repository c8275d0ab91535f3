"""The start and delete halves of a session when runc or crun runs the bundle."""

from __future__ import annotations

import contextlib
import json
import os
import socket
from typing import TYPE_CHECKING, Any

from ..fsutil import atomic_write_json
from . import attach, oci_runtime
from .session import StartError

if TYPE_CHECKING:
    from .session import Session


def _base(sess: Session, runtime: str) -> list[str]:
    state = sess.mon.cfg.root / "runtime" / runtime
    state.mkdir(parents=True, exist_ok=True)
    return oci_runtime.command(runtime, state, _log(sess))


def _log(sess: Session) -> Any:
    return sess.mon.cdir / "oci" / "runtime.log"


def start(sess: Session, spec: dict[str, Any], runtime: str) -> tuple[int, int]:
    cdir, cid, cfg = sess.mon.cdir, sess.mon.cid, sess.mon.cfg
    bundle = cdir / "oci"
    bundle.mkdir(exist_ok=True)
    try:
        concrete = oci_runtime.concrete_spec(spec)
    except Exception as err:  # noqa: BLE001 - any failure here is a start failure
        raise StartError(125, str(err)) from err
    atomic_write_json(bundle / "config.json", concrete)
    base = _base(sess, runtime)
    oci_runtime.run([*base, "delete", "-f", cid])  # a leftover from a crashed run
    tty = bool(spec["process"].get("terminal"))
    pid_file = bundle / "pid"
    with contextlib.suppress(FileNotFoundError):
        pid_file.unlink()
    argv = [*base, "create", "--bundle", str(bundle), "--pid-file", str(pid_file)]
    console = None
    if tty:
        console = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        attach.bind(console, str(bundle / "console.sock"))
        console.listen(1)
        argv += ["--console-socket", str(bundle / "console.sock")]
    argv.append(cid)
    ends: list[int] = []
    stdio = sess.stdio(tty, ends)
    kw: dict[str, Any] = {}
    if not tty:
        kw = {"stdin": stdio[0], "stdout": stdio[1], "stderr": stdio[2]}
    with contextlib.suppress(FileNotFoundError):
        _log(sess).unlink()
    proc = oci_runtime.run(oci_runtime.wrap_for_hybrid(argv, runtime, cfg.cgroup_root), **kw)
    for fd in ends:
        os.close(fd)
    if proc.returncode != 0:
        if console is not None:
            console.close()
        text = oci_runtime.last_error(_log(sess)) or f"{runtime} create failed"
        raise StartError(oci_runtime.exit_code_for(text), _clean(text))
    if console is not None:
        conn, _ = console.accept()
        console.close()
        sess.take_console(conn, ack=False)
    pid = int(pid_file.read_text())
    pidfd = os.pidfd_open(pid)
    started = oci_runtime.run(oci_runtime.wrap_for_hybrid([*base, "start", cid], runtime,
                                                          cfg.cgroup_root))
    if started.returncode != 0:
        os.close(pidfd)
        delete(sess, runtime)
        text = oci_runtime.last_error(_log(sess)) or f"{runtime} start failed"
        raise StartError(oci_runtime.exit_code_for(text), _clean(text))
    return pid, pidfd


def delete(sess: Session, runtime: str) -> None:
    oci_runtime.run(oci_runtime.wrap_for_hybrid([*_base(sess, runtime), "delete", "-f",
                                                 sess.mon.cid], runtime,
                                                sess.mon.cfg.cgroup_root))


def _clean(text: str) -> str:
    # runc logs JSON-ish lines: keep the human part.
    try:
        return str(json.loads(text).get("msg", text))
    except ValueError:
        return text.removeprefix("time=").strip()
