"""The monitor zygote: reused across starts, falls back when it cannot help, never lingers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.runtime import attach, zygote
from engine.runtime.state import proc_start_time
from tests.integration.runtime_helpers import (
    IMAGE,
    eventually,
    import_busybox,
    inspect,
    pydock,
    remove_all,
)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


@pytest.fixture
def zroot(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.delenv(zygote.DISABLE_ENV, raising=False)  # on by default
    import_busybox(root, tmp_path)
    yield root
    remove_all(root)
    zygote.stop(root)


def _pids_with(root: Path, *words: bytes) -> list[int]:
    """Processes whose command line has ``root`` and every one of ``words`` as arguments."""
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if all(w in cmd for w in (str(root).encode(), *words)):
                out.append(int(pid))
    return out


def _zygote_pids(root: Path) -> list[int]:
    return _pids_with(root, b"engine.runtime.zygote_server")


def _status(pid: int, key: str) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return line.split(":", 1)[1].strip()
    raise KeyError(key)


def _gone(pid: int) -> bool:
    return proc_start_time(pid) == 0


def test_zygote_is_started_once_and_reused(zroot: Path) -> None:
    for name in ("z1", "z2"):
        r = pydock(zroot, "run", "-d", "--name", name, IMAGE, "sleep", "60")
        assert r.returncode == 0, r.stderr
    zpids = _zygote_pids(zroot)
    assert len(zpids) == 1
    zpid = zpids[0]
    for name in ("z1", "z2"):
        state = inspect(zroot, name)
        mon = _monitor_pid(zroot, state["Id"])
        assert int(_status(mon, "PPid")) == zpid
        cmd = Path(f"/proc/{mon}/cmdline").read_bytes().replace(b"\0", b" ")
        assert f"engine.runtime.monitor {zroot} {state['Id']}".encode() in cmd
    # Detached and deaf to hangups; it holds no lock file open.
    assert os.getsid(zpid) == zpid
    assert int(_status(zpid, "SigIgn"), 16) & (1 << (signal.SIGHUP - 1))
    fds = [os.readlink(f"/proc/{zpid}/fd/{fd}") for fd in os.listdir(f"/proc/{zpid}/fd")]
    assert not [f for f in fds if "/locks/" in f]
    # Each monitor serves its own container, and stop/rm work as before.
    assert pydock(zroot, "exec", "z1", "true").returncode == 0
    assert pydock(zroot, "rm", "-f", "z1", "z2").returncode == 0


def _monitor_pid(root: Path, cid: str) -> int:
    import json

    return int(json.loads((root / "containers" / cid / "state.json").read_text())
               ["state"]["monitor_pid"])


def test_output_exit_code_and_attach_through_zygote(zroot: Path) -> None:
    r = pydock(zroot, "run", "--rm", IMAGE, "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (r.returncode, r.stdout, r.stderr) == (3, "out\n", "err\n")
    r = pydock(zroot, "run", "--rm", "-i", IMAGE, "cat", input=b"hello\n")
    assert r.stdout == "hello\n"
    assert _zygote_pids(zroot)


def test_falls_back_when_disabled(zroot: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(zygote.DISABLE_ENV, "0")
    r = pydock(zroot, "run", "--rm", IMAGE, "echo", "plain")
    assert r.returncode == 0 and r.stdout == "plain\n"
    assert not (zroot / zygote.SOCKET).exists() and not _zygote_pids(zroot)


def test_replaces_a_dead_zygotes_socket(zroot: Path) -> None:
    # A socket file nobody listens on (a zygote killed with -9): connect is refused.
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    attach.bind(dead, str(zroot / zygote.SOCKET))
    dead.close()
    r = pydock(zroot, "run", "--rm", IMAGE, "true")
    assert r.returncode == 0, r.stderr
    assert len(_zygote_pids(zroot)) == 1


def test_stale_zygote_answers_and_exits_then_caller_falls_back(
        zroot: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert zygote.start(zroot)
    (old,) = _zygote_pids(zroot)
    # A front end whose engine lives elsewhere: that zygote must not serve it.
    other = dict(zygote.identity(), engine="/elsewhere/engine")
    monkeypatch.setattr(zygote, "identity", lambda: other)
    r, w = os.pipe()
    try:
        assert zygote.spawn(zroot, "0" * 64, w, wait_attach=False) is False
    finally:
        os.close(w)
    # Nothing was forked: we held the only write end, so the pipe is at EOF now.
    assert os.read(r, 10) == b""
    os.close(r)
    eventually(lambda: _gone(old), 5, "the stale zygote to exit")


def test_module_change_makes_it_stale(root: Path) -> None:
    # Seen through inotify: a touched module (its mtime restored afterwards, so
    # its bytecode cache stays valid) marks the zygote stale.
    from engine.runtime import zygote_server

    zyg = zygote_server.Zygote(root)
    path = next(p for p in zyg.code.stamps if p.endswith("errors.py"))
    st = os.stat(path)
    try:
        assert zyg.code.wds and not zyg.code.changed()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
        assert zyg.code.changed()
    finally:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        zyg.close()
        os.close(zyg.watch)


def test_module_change_without_inotify_falls_back_to_stats(root: Path) -> None:
    from engine.runtime import zygote_server

    zyg = zygote_server.Zygote(root)
    try:
        zyg.code.wds = None  # as on a filesystem where a watch cannot be added
        assert not zyg.code.changed()
        path = next(iter(zyg.code.stamps))
        zyg.code.stamps[path] = (0, 0, 0)
        assert zyg.code.changed()
    finally:
        zyg.close()
        os.close(zyg.watch)


def test_exits_when_root_removed(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gone = root.parent / (root.name + "-z")
    gone.mkdir()
    (gone / "locks").mkdir()
    assert zygote.start(gone)
    (pid,) = _zygote_pids(gone)
    subprocess.run(["rm", "-rf", str(gone)], check=True)
    eventually(lambda: _gone(pid), 3, "the zygote to notice its root is gone")


def test_exits_when_idle(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYDOCK_ZYGOTE_IDLE", "0.5")
    (root / "locks").mkdir()
    assert zygote.start(root)
    (pid,) = _zygote_pids(root)
    t0 = time.monotonic()
    eventually(lambda: _gone(pid), 6, "the idle zygote to exit")
    assert time.monotonic() - t0 < 5
    assert not (root / zygote.SOCKET).exists()


def test_stop(root: Path) -> None:
    (root / "locks").mkdir()
    assert zygote.start(root)
    (pid,) = _zygote_pids(root)
    assert zygote.stop(root)
    assert _gone(pid) and not (root / zygote.SOCKET).exists()
    assert zygote.stop(root)  # none running: nothing to do


def test_survives_its_front_end(zroot: Path) -> None:
    # Start through a CLI process that is gone right after: the container and the
    # zygote live on, and a later front end uses the same zygote.
    code = ("import sys; from app.cli.main import main; "
            f"sys.exit(main(['--root', {str(zroot)!r}, 'run', '-d', '--name', 'bg', "
            f"{IMAGE!r}, 'sleep', '60']))")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                   env=dict(os.environ), start_new_session=True)
    (zpid,) = _zygote_pids(zroot)
    assert inspect(zroot, "bg")["State"]["Running"]
    assert pydock(zroot, "run", "--rm", IMAGE, "true").returncode == 0
    assert _zygote_pids(zroot) == [zpid]


def _spare_pids(root: Path) -> list[int]:
    return _pids_with(root, b"engine.runtime.monitor", b"(spare)")


def test_a_spare_monitor_takes_the_next_start_and_leaves_with_the_zygote(zroot: Path) -> None:
    assert pydock(zroot, "run", "-d", "--name", "s1", IMAGE, "sleep", "60").returncode == 0
    (zpid,) = _zygote_pids(zroot)
    eventually(lambda: len(_spare_pids(zroot)) == 1, timeout=5)  # forked once idle
    (spare,) = _spare_pids(zroot)
    assert int(_status(spare, "PPid")) == zpid
    # The next start is served by that very process, and a new spare waits.
    assert pydock(zroot, "run", "-d", "--name", "s2", IMAGE, "sleep", "60").returncode == 0
    assert _monitor_pid(zroot, inspect(zroot, "s2")["Id"]) == spare
    eventually(lambda: len(_spare_pids(zroot)) == 1, timeout=5)
    (second,) = _spare_pids(zroot)
    assert second != spare
    # It holds no other start's ready pipe (a failing start still ends at once).
    fds = [os.readlink(f"/proc/{second}/fd/{fd}") for fd in os.listdir(f"/proc/{second}/fd")]
    assert not [f for f in fds if f.startswith("pipe:")], fds
    r = pydock(zroot, "run", "--rm", IMAGE, "/no/such/program")
    assert r.returncode == 127, r.stderr
    assert pydock(zroot, "rm", "-f", "s1", "s2").returncode == 0
    spares = _spare_pids(zroot)
    assert zygote.stop(zroot)
    eventually(lambda: all(_gone(p) for p in spares), timeout=5)
