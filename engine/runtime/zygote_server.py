"""The monitor zygote of one engine root: imports once, forks a monitor per request.

``python -m engine.runtime.zygote_server ROOT --ready-fd N [room]`` (started by
:func:`.zygote.start`). Detached (its own session, SIGHUP ignored, cwd ``/``),
single-threaded, and it holds no lock: a forked monitor inherits nothing but
its ready fd. It exits

- after ``PYDOCK_ZYGOTE_IDLE`` seconds (default 300) without a request,
- at once when its root directory is removed or renamed (inotify), or on the
  next tick when the root or its socket are no longer the ones it started with,
- when a request comes from other code, or one of its own modules changed on
  disk (it answers "stale"; the front end starts a fresh zygote),
- when asked to (:func:`.zygote.stop`).

It answers "ok" before it forks and keeps its loop between forks small: a page
this process writes after a fork becomes a private copy in every monitor forked
before (an idle monitor's cost is its private pages).

Monitors are forked directly (SIGCHLD is ignored, so the kernel reaps them), one
ahead of its request: a *spare* child waits on a socket pair and takes the next
request and its ready fd. It closes its end once its container has started, and
only then does the zygote fork the next spare, so no start waits for a fork of
this process nor shares the CPUs with one. Each monitor restores SIGCHLD, takes
the requester's environment, directory and umask, names itself like a subprocess
monitor in ``ps`` and runs :func:`.monitor.detached` — never returning into this
loop. Unlike a subprocess monitor it stays in the zygote's cgroups, not the
requester's. Errors of the zygote itself go to ``<root>/zygote.log``.
"""

from __future__ import annotations

import codecs
import contextlib
import gc
import json
import os
import re
import select
import shutil  # noqa: F401 - preloaded: every --rm monitor removes trees (imported lazily)
import signal
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import Any, NoReturn

from .. import types_events as _types_events  # noqa: F401 - preloaded: every event uses it
from ..config import EngineConfig
from ..errors import EngineError
from ..sys import libc
from . import attach, monitor, seccomp_cache
from . import removal as _removal  # noqa: F401 - preloaded: every --rm monitor uses it
from . import start_builtin as _start_builtin  # noqa: F401 - preloaded: every starter uses it
from .zygote import SOCKET, identity
from .zygote_watch import CodeWatch

TICK = 2.0
SPARE_DELAY = 0.02  # after a start that found no spare: a quiet moment
HANDED_MAX = 2.0  # a start takes milliseconds; one still going after this is waiting
IDLE_ENV = "PYDOCK_ZYGOTE_IDLE"
_CID = re.compile(r"[0-9a-f]{64}")


class Zygote:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root_ino = os.stat(root).st_ino
        # Strings made once: the loop between forks should allocate as little as it can.
        self.root_str, self.sock_path = str(root), str(root / SOCKET)
        self.ident = identity()
        self.idle = float(os.environ.get(IDLE_ENV) or 300)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # Bind under a private name, then rename into place: a half-started
        # zygote is never reachable, and the last one started wins the name.
        tmp = root / f".zygote-{os.getpid()}.sock"
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        attach.bind(self.listener, str(tmp))
        os.chmod(tmp, 0o600)
        self.listener.listen(64)
        self.sock_ino = os.stat(tmp).st_ino
        os.rename(tmp, root / SOCKET)
        self.watch = libc.inotify_init1()
        self.code = CodeWatch(self.watch, identity()["engine"])
        libc.inotify_add_watch(self.watch, root, libc.IN_DELETE_SELF | libc.IN_MOVE_SELF
                               | libc.IN_DELETE)  # zygote.sock goes first in an rm -r
        # The bound socket pins the root's dentry, so its IN_DELETE_SELF comes only
        # once the socket is closed: the parent's entry events say it at once.
        with contextlib.suppress(OSError):
            libc.inotify_add_watch(self.watch, root.parent, libc.IN_DELETE | libc.IN_MOVED_FROM)
        self.last = time.monotonic()
        self.spare: socket.socket | None = None  # a monitor forked ahead: _spare_fork
        self.handed: socket.socket | None = None  # the last spare used, until it has started
        self.handed_at = 0.0

    def serve(self) -> None:
        while self._current():
            # The next spare is forked once the last one has started its container
            # (it closes its end of the pair), not while that start needs the CPUs;
            # after a start that found no spare (a burst of them), once no request
            # came for SPARE_DELAY.
            fds = [self.listener.fileno(), self.watch]
            if self.handed is not None:
                fds.append(self.handed.fileno())
            idle = self.spare is None and self.handed is None
            ready, _, _ = select.select(fds, [], [], SPARE_DELAY if idle else TICK)
            if self.handed is not None and (self.handed.fileno() in ready or
                                            time.monotonic() - self.handed_at > HANDED_MAX):
                # That start is over (or its monitor died, or it still waits for a
                # client that never came: then a spare must not wait on it forever).
                self.handed.close()
                self.handed = None
                if fds[2] in ready:
                    ready.remove(fds[2])
                idle = self.spare is None
            if idle and not ready:
                with contextlib.suppress(OSError):
                    self._spare_fork(None)
                continue
            if self.watch in ready:
                self.code.drain()  # the root's own changes are re-checked by _current()
                continue
            if self.listener.fileno() in ready:
                conn, _ = self.listener.accept()
                with conn:
                    try:
                        if not self._handle(conn):
                            return
                    except Exception:  # noqa: BLE001 - one bad request must not end it
                        traceback.print_exc()  # zygote.log
                self.last = time.monotonic()

    def _current(self) -> bool:
        if time.monotonic() - self.last > self.idle:
            return False
        try:
            return (os.stat(self.root_str).st_ino == self.root_ino
                    and os.stat(self.sock_path).st_ino == self.sock_ino)
        except OSError:
            return False

    def _handle(self, conn: socket.socket) -> bool:
        """Serve one request; False when this zygote must go."""
        conn.settimeout(5.0)
        fds: list[int] = []
        try:
            uid = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
            data, fds, _, _ = socket.recv_fds(conn, 1 << 20, 1)
            while data and not data.endswith(b"\n"):
                more = conn.recv(1 << 20)
                if not more:
                    break
                data += more
            req = json.loads(data)
            if int.from_bytes(uid[4:8], sys.byteorder) != os.geteuid():
                return _reply(conn, {"error": "not the zygote's user"})
            if req.get("quit"):
                self.close()
                _reply(conn, {"bye": os.getpid()})
                return False
            if any(req.get(k) != v for k, v in self.ident.items()) or self.code.changed():
                self.close()  # unlink first: the front end's next connect starts a new one
                _reply(conn, {"stale": True})
                return False
            if len(fds) != 1 or not _CID.fullmatch(str(req.get("cid"))):
                return _reply(conn, {"error": "bad request"})
            # Answered before the fork, with bytes made once: whatever this process
            # writes after a fork costs every monitor forked before a private copy
            # of the page. A failed fork closes the ready fd: the front end reads EOF.
            # (Answering after handing to a spare was measured slower: the spare
            # then competes with this process and the front end for the CPUs.)
            conn.sendall(OK_REPLY)
            if not self._hand_to_spare(data, fds[0]):
                with contextlib.suppress(OSError):
                    self._fork(req, fds[0], conn)
            os.close(fds.pop())  # before the next fork: only the monitor may hold it
            return True
        except (OSError, ValueError, TypeError, AttributeError):
            return True  # a broken client: it falls back or reads EOF on its ready pipe
        finally:
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)

    def _hand_to_spare(self, data: bytes, ready_fd: int) -> bool:
        """Give the request to the monitor forked ahead of it; False: none is waiting.

        The spare keeps its end of the pair until its container has started
        (Monitor.started_fd): its EOF tells :meth:`serve` to fork the next one.
        """
        spare, self.spare = self.spare, None
        if spare is None:
            return False
        try:
            socket.send_fds(spare, [data], [ready_fd])
        except OSError:
            spare.close()
            return False  # it died: fork as before
        if self.handed is not None:
            self.handed.close()  # a start still going: its successor is forked at the next
        self.handed, self.handed_at = spare, time.monotonic()
        return True

    def _spare_fork(self, conn: socket.socket | None) -> None:
        """Fork the next monitor now; it waits for its request (:meth:`_hand_to_spare`).

        A fork of this process takes 1-2 ms, which a start no longer waits for. The
        spare holds nothing but its end of a socket pair: when the zygote goes, it
        reads EOF and exits.
        """
        if self.spare is not None:
            return
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sys.stderr.flush()
        if os.fork() > 0:
            theirs.close()
            self.spare = ours
            return
        try:
            ours.close()
            for obj in (conn, self.listener):
                if obj is not None:
                    obj.close()
            os.close(self.watch)
            if self.handed is not None:
                self.handed.close()
            with contextlib.suppress(OSError):  # not a second zygote in `ps`
                libc.set_cmdline(f"{sys.executable} -m engine.runtime.monitor {self.root} "
                                 "(spare)")
            data, fds, _, _ = socket.recv_fds(theirs, 1 << 20, 1)
            if not data or len(fds) != 1:
                os._exit(0)  # the zygote went away
            req = json.loads(data)
        except BaseException:  # noqa: BLE001 - a spare never returns into the loop
            traceback.print_exc()  # zygote.log
            os._exit(0)
        self._become_monitor(req, fds[0], theirs.detach())

    def _fork(self, req: dict[str, Any], ready_fd: int, conn: socket.socket) -> None:
        sys.stderr.flush()
        if os.fork() > 0:
            return
        with contextlib.suppress(BaseException):
            for obj in (conn, self.listener):
                obj.close()
            os.close(self.watch)
            for pair in (self.spare, self.handed):
                if pair is not None:
                    pair.close()
        self._become_monitor(req, ready_fd)

    def _become_monitor(self, req: dict[str, Any], ready_fd: int,
                        started_fd: int = -1) -> NoReturn:
        code = 1
        try:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the monitor waits for its init
            os.set_inheritable(ready_fd, False)  # as subprocess monitors hold it: no leaks
            os.umask(int(req["umask"]))
            with contextlib.suppress(OSError):
                os.chdir(req["cwd"])
            with contextlib.suppress(OSError):
                libc.set_cmdline(f"{sys.executable} -m engine.runtime.monitor {self.root} "
                                 f"{req['cid']}")
            code = monitor.detached(self.root, req["cid"], ready_fd, bool(req["wait_attach"]),
                                    req["env"], started_fd)
        finally:
            with contextlib.suppress(BaseException):
                sys.stderr.flush()
            os._exit(code)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if os.stat(self.root / SOCKET).st_ino == self.sock_ino:
                os.unlink(self.root / SOCKET)
        self.listener.close()
        for pair in (self.spare, self.handed):
            if pair is not None:
                pair.close()  # a waiting spare reads EOF and exits
        self.spare = self.handed = None


OK_REPLY = b'{"ok": true}\n'


def _reply(conn: socket.socket, obj: dict[str, Any]) -> bool:
    with contextlib.suppress(OSError):
        conn.sendall(json.dumps(obj).encode() + b"\n")
    return True


def _warm() -> None:
    # Work every start would repeat: the seccomp key's host part (reads the
    # planning code, dlopens libseccomp for its version), the host's cgroup
    # layout, and what the first use of an import or a codec costs each
    # starter and each monitor's exit (cgroup files are read as ASCII; the
    # record's limits; events).
    from .. import types  # noqa: F401
    from ..cgroups import get_driver
    from . import resources  # noqa: F401

    with contextlib.suppress(OSError):
        seccomp_cache.static_key()
    with contextlib.suppress(EngineError, OSError):
        driver = get_driver(EngineConfig(root=Path("/")))
        driver.self_join_files(driver.handle("0" * 64))  # resolves its hierarchies once
    codecs.lookup("ascii")


def main(argv: list[str]) -> int:
    root = Path(argv[0])
    ready_fd = int(argv[argv.index("--ready-fd") + 1])
    if os.fork() > 0:
        os._exit(0)  # the starter waits only for this; the zygote is reparented
    os.setsid()
    os.chdir("/")
    for sig in (signal.SIGHUP, signal.SIGPIPE, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_IGN)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    # Forked monitors put their own monitor.log on fd 2 (monitor.detached).
    log = os.open(root / "zygote.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC,
                  0o600)
    os.dup2(log, 2)
    os.close(log)
    try:
        _warm()
        zyg = Zygote(root)
    except OSError:
        os.close(ready_fd)
        return 1
    # Everything imported so far lives as long as the zygote: keep the collector
    # off those pages so forked monitors keep sharing them.
    gc.freeze()
    libc.malloc_trim()  # pages freed by the imports: not shared, not counted
    os.write(ready_fd, b"ok\n")
    os.close(ready_fd)
    try:
        zyg.serve()
    finally:
        zyg.close()
        os.close(zyg.watch)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
