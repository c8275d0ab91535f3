"""The front end's side of the monitor zygote: ask it for a monitor, start it when absent.

A monitor started as ``python -m engine.runtime.monitor`` pays the interpreter's
start and ~75 ms of imports on every container start, and each idle monitor
keeps private copies of everything it imported. The zygote
(:mod:`.zygote_server`, one per engine root) has imported the monitor's modules
once; on request it forks, and the child runs :func:`.monitor.detached`, exactly
what a subprocess monitor runs after its own detaching fork. Its children share
its pages copy-on-write.

    front end ─ connect <root>/zygote.sock ─ request line + ready fd (SCM_RIGHTS) ─► zygote
              ◄──────────── {"ok": true} | {"stale": true} | {"error": …} ── then fork ─► monitor

Fallback: whatever goes wrong *before* the request (and its fd) reached the
zygote, or an explicit "not forked" answer, makes :func:`spawn` return False and
the caller starts the subprocess monitor as before. Once the fd was delivered
the answer no longer matters: the ready pipe tells the truth (a zygote that
died before forking closes its copy, the front end reads EOF, a start error),
so a container is never started twice.

The request carries what a subprocess monitor would inherit from its front end
(environment, working directory, umask), and the identity of the code (engine
directory, interpreter): a zygote running other code answers "stale" and exits.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from ..sys.usock import UnixSocket, send_fds
from . import attach
from .state import proc_start_time

SOCKET = "zygote.sock"
ENGINE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE_ROOT = os.path.dirname(ENGINE_DIR)
DISABLE_ENV = "PYDOCK_ZYGOTE"  # "0": always use subprocess monitors
# The zygote's argv reserves room so a forked monitor can show
# "python -m engine.runtime.monitor ROOT ID" in ps (libc.set_cmdline).
TITLE_ROOM = " " * 96
ANSWER_TIMEOUT = 30.0


def identity() -> dict[str, Any]:
    """What must match for a zygote's monitors to be the ones this process would start.

    The same code, and the same network and mount namespaces: a monitor binds
    published ports and mounts the rootfs where it runs, so a zygote started from
    another namespace would put them where this front end cannot see them.
    """
    return {"engine": ENGINE_DIR, "python": sys.executable, "hexversion": sys.hexversion,
            "netns": _ns("net"), "mntns": _ns("mnt")}


def _ns(kind: str) -> int:
    try:
        return os.stat(f"/proc/self/ns/{kind}").st_ino
    except OSError:
        return 0


def spawn(root: Path, cid: str, ready_w: int, *, wait_attach: bool) -> bool:
    """Have ``root``'s zygote fork the monitor of ``cid``; False: start it the old way.

    ``ready_w`` stays the caller's to close. True means the zygote has (or had)
    the ready pipe: from then on the pipe reports the start, success or not.
    """
    if os.environ.get(DISABLE_ENV) == "0":
        return False
    root = Path(os.path.abspath(root))  # the zygote works from "/"
    req = dict(identity(), cid=cid, wait_attach=wait_attach, env=_child_env(),
               cwd=_cwd(), umask=_umask())
    line = json.dumps(req).encode() + b"\n"
    started = stale = False
    while True:
        sock = connect(root)
        if sock is None:
            if started or not start(root):
                return False
            started = True
            continue
        with sock:
            try:
                send_fds(sock, [line], [ready_w])
            except OSError:
                return False  # nothing delivered: fall back
            answer = _answer(sock)
        if answer is None or answer.get("ok"):
            return True  # forked, or unknown after delivery: the ready pipe decides
        if not answer.get("stale") or stale:
            return False  # refused without forking
        stale = True  # that zygote ran other code and has gone: start a fresh one


def stop(root: Path, timeout: float = 5.0) -> bool:
    """Ask ``root``'s zygote to exit and wait until it has; True if none is left.

    For whoever is about to tear a root down while keeping its directory (test
    fixtures, tools); the zygote otherwise goes when idle or when the root goes.
    Monitors it forked are separate processes and keep running.
    """
    sock = connect(Path(os.path.abspath(root)))
    if sock is None:
        return True
    with sock:
        try:
            sock.sendall(b'{"quit": true}\n')
            answer = _answer(sock) or {}
        except OSError:
            return False
    pid = int(answer.get("bye") or 0)
    end = time.monotonic() + timeout
    while pid and time.monotonic() < end:
        if proc_start_time(pid) == 0:  # gone (or a zombie about to be reaped)
            return True
        time.sleep(0.01)
    return not pid


def connect(root: Path) -> UnixSocket | None:
    try:
        return attach.connect(str(root / SOCKET), timeout=2.0)
    except OSError:
        return None  # absent, refused (a dead zygote's file), or root gone


def start(root: Path, timeout: float = 30.0) -> bool:
    """Start the zygote of ``root`` unless one answers; True once one listens.

    A lock makes concurrent front ends start one zygote, not four; it is held
    only here, only by the starter, and the zygote never inherits it.
    """
    import subprocess  # here: only a start needs it, each run --rm would pay ~3 ms

    from ..fsutil import file_lock

    root = Path(os.path.abspath(root))
    try:
        with file_lock(root / "locks" / "zygote.lock"):
            sock = connect(root)
            if sock is not None:
                sock.close()
                return True
            r, w = os.pipe()
            try:
                argv = [sys.executable, "-m", "engine.runtime.zygote_server", str(root),
                        "--ready-fd", str(w), TITLE_ROOM]
                proc = subprocess.Popen(argv, pass_fds=(w,), stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True, close_fds=True, cwd="/",
                                        env=_child_env())
                os.close(w)
                w = -1
                proc.wait(timeout)  # the first process exits at once; the zygote lives on
                return _read_ready(r, timeout)
            finally:
                os.close(r)
                if w >= 0:
                    os.close(w)
    except (OSError, subprocess.SubprocessError):
        return False


def _read_ready(fd: int, timeout: float) -> bool:
    import select

    if not select.select([fd], [], [], timeout)[0]:
        return False
    return os.read(fd, 16).startswith(b"ok")


def _answer(sock: UnixSocket) -> dict[str, Any] | None:
    sock.settimeout(ANSWER_TIMEOUT)
    data = b""
    try:
        while not data.endswith(b"\n"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        return dict(json.loads(data)) if data else None
    except (OSError, ValueError):
        return None


def _child_env() -> dict[str, str]:
    # What lifecycle's subprocess monitor gets: the caller's environment, this engine first.
    return dict(os.environ, PYTHONPATH=PACKAGE_ROOT)


def _cwd() -> str:
    try:
        return os.getcwd()
    except OSError:
        return "/"


def _umask() -> int:
    # Read, not set-and-restore: the TUI has threads, and umask is per process.
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    return 0o022
