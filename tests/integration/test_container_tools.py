"""exec, top, diff, cp, export and commit against real containers (root).

Each test gets its own engine root with the busybox image and one running
container ``c1`` (``sleep 1000``); every container is removed in a finally,
and no mount may be left under the root afterwards.
"""

from __future__ import annotations

import io
import os
import pty
import re
import select
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.errors import Conflict
from engine.runtime.exec import ExecFailed
from engine.types import CreateOptions, ImportOptions
from engine.types_tools import ExecOptions
from tests.conftest import busybox_rootfs_tar
from tests.integration.runtime_helpers import PYDOCK, REPO, mounts_under, pydock

pytestmark = [pytest.mark.root,
              pytest.mark.skipif(os.geteuid() != 0, reason="needs root (namespaces, mounts)")]
DOCKER_CAPS = "00000000a80425fb"


@pytest.fixture
def ctr(engine: Any, root: Path) -> Iterator[tuple[Any, str]]:
    engine.images_import(io.BytesIO(busybox_rootfs_tar()),
                         ImportOptions(reference="busybox:local", changes=('CMD ["sh"]',)))
    try:
        cid = engine.containers_create(CreateOptions(image="busybox:local", name="c1",
                                                     command=("sleep", "1000")))
        engine.containers_start(cid)
        yield engine, cid
    finally:
        ids = [c.id for c in engine.containers_list(all=True)]
        reports = engine.containers_remove(ids, force=True)
        assert [r.error for r in reports if r.error] == []
        assert mounts_under(root) == []


def ex(engine: Any, *cmd: str, **kw: Any) -> tuple[int, str]:
    """Exec through the facade with stdout+stderr captured on a pipe."""
    r, w = os.pipe()
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        code = engine.containers_exec("c1", ExecOptions(command=cmd, stdio=(null, w, w), **kw))
    finally:
        os.close(w)
        os.close(null)
    with os.fdopen(r, "rb") as f:
        return code, f.read().decode()


def test_exec_exit_codes_identity_and_confinement(ctr: tuple[Any, str], root: Path) -> None:
    engine, cid = ctr
    assert ex(engine, "true") == (0, "")
    assert ex(engine, "sh", "-c", "exit 3")[0] == 3
    with pytest.raises(ExecFailed) as nf:
        ex(engine, "nope")
    assert nf.value.code == 127 and "executable file not found" in str(nf.value)
    with pytest.raises(ExecFailed) as nx:
        ex(engine, "/etc/passwd")
    assert nx.value.code == 126
    for args, code in ((["true"], 0), (["sh", "-c", "exit 3"], 3), (["nope"], 127),
                       (["/etc/passwd"], 126)):
        assert pydock(root, "exec", "c1", *args).returncode == code
    assert ex(engine, "hostname") == (0, cid[:12] + "\n")
    code, env = ex(engine, "env", env=("A=1",))
    assert code == 0 and f"HOSTNAME={cid[:12]}" in env.split() and "A=1" in env.split()
    status = dict(line.split(":\t", 1) for line in ex(engine, "cat", "/proc/self/status")[1]
                  .splitlines() if ":\t" in line)
    assert status["CapEff"] == DOCKER_CAPS and status["CapBnd"] == DOCKER_CAPS
    assert status["Seccomp"] == "2"
    ps = ex(engine, "ps")[1].splitlines()
    assert re.match(r"\s*1\s+root\s+sleep 1000$", ps[1]), ps  # the container's PID namespace
    assert cid in ex(engine, "cat", "/proc/self/cgroup")[1]
    assert ex(engine, "id", "-u", user="nobody") == (0, "65534\n")
    assert ex(engine, "pwd", workdir="/tmp") == (0, "/tmp\n")
    actions = [e.action for e in engine.events_list() if e.actor_id == cid]
    assert {"exec_create", "exec_start", "exec_die"} <= set(actions)


def test_exec_needs_a_running_container(ctr: tuple[Any, str], root: Path) -> None:
    engine, cid = ctr
    engine.containers_stop(["c1"], timeout=1)
    with pytest.raises(Conflict, match="is not running"):
        ex(engine, "true")
    r = pydock(root, "exec", "c1", "true")
    assert r.returncode == 1 and "is not running" in r.stderr


def test_exec_tty_and_detach(ctr: tuple[Any, str], root: Path) -> None:
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(REPO)
        os.execv(PYDOCK[0], [*PYDOCK, "--root", str(root), "exec", "-it", "c1", "sh"])
    status = None
    try:
        buf = _read_until(fd, b"# ")  # the shell's prompt
        os.write(fd, b"tty; exit 5\r")
        buf += _read_until(fd, None)
        for _ in range(100):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.1)
    finally:
        os.close(fd)
        if status is None or not done:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
    assert re.search(rb"/dev/pts/\d+", buf), buf
    assert os.waitstatus_to_exitcode(status) == 5
    r = pydock(root, "exec", "-d", "c1", "sleep", "321")
    assert r.returncode == 0 and r.stdout == ""
    assert "sleep 321" in pydock(root, "top", "c1").stdout


def _read_until(fd: int, needle: bytes | None, timeout: float = 20) -> bytes:
    """Read the pty until ``needle`` (or EOF when None) appears; never hangs."""
    buf, end = b"", time.time() + timeout
    while time.time() < end and (needle is None or needle not in buf):
        if select.select([fd], [], [], 0.5)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the CLI exited and the pty closed
                break
            if not chunk:
                break
            buf += chunk
    return buf


def test_top_formats(ctr: tuple[Any, str], root: Path) -> None:
    engine, _ = ctr
    out = pydock(root, "top", "c1").stdout.splitlines()
    assert out[0].split() == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert any(line.endswith("sleep 1000") for line in out[1:])
    titles, rows = engine.containers_top("c1", "-o pid,comm,stat")
    assert titles == ["PID", "COMMAND", "STAT"] and ["sleep"] == [r[1] for r in rows]
    titles, rows = engine.containers_top("c1", "aux")
    assert titles[:3] == ["USER", "PID", "%CPU"] and rows[0][-1] == "sleep 1000"


def test_diff(ctr: tuple[Any, str], root: Path) -> None:
    engine, _ = ctr
    assert engine.containers_diff("c1") == []  # mount-point stubs are not changes
    assert ex(engine, "sh", "-c", "touch /tmp/x; rm /etc/group")[0] == 0
    assert pydock(root, "diff", "c1").stdout.splitlines() == [
        "C /etc", "D /etc/group", "C /tmp", "A /tmp/x"]


def test_cp_both_ways(ctr: tuple[Any, str], root: Path, tmp_path: Path) -> None:
    engine, cid = ctr
    t = str(tmp_path)
    assert pydock(root, "cp", "c1:/etc/hostname", f"{t}/x").returncode == 0
    assert (tmp_path / "x").read_text() == cid[:12] + "\n"  # the bind-mounted file's content
    assert pydock(root, "cp", "c1:/etc", f"{t}/out").returncode == 0
    assert (tmp_path / "out/passwd").read_text().startswith("root:")
    (tmp_path / "into").mkdir()
    assert pydock(root, "cp", "c1:/etc/.", f"{t}/into").returncode == 0
    assert (tmp_path / "into/group").exists() and not (tmp_path / "into/etc").exists()
    assert pydock(root, "cp", "c1:/etc", f"{t}/into").returncode == 0
    assert (tmp_path / "into/etc/group").exists()  # a directory goes into a directory
    buf = io.BytesIO()
    engine.containers_copy_from("c1", "/etc/passwd", buf)
    assert tarfile.open(fileobj=io.BytesIO(buf.getvalue())).getnames() == ["passwd"]
    (tmp_path / "d/sub").mkdir(parents=True)
    (tmp_path / "d/sub/f").write_text("data")
    os.chown(tmp_path / "d/sub/f", 1234, 1234)
    assert pydock(root, "cp", f"{t}/d", "c1:/tmp/").returncode == 0
    assert ex(engine, "cat", "/tmp/d/sub/f") == (0, "data")
    assert ex(engine, "ls", "-n", "/tmp/d/sub/f")[1].split()[2:4] == ["0", "0"]
    assert pydock(root, "cp", "-a", f"{t}/d/sub/f", "c1:/tmp/kept").returncode == 0
    assert ex(engine, "ls", "-n", "/tmp/kept")[1].split()[2:4] == ["1234", "1234"]
    tar_in = io.BytesIO()
    with tarfile.open(fileobj=tar_in, mode="w") as tf:
        ti = tarfile.TarInfo("fromtar.txt")
        ti.size = 3
        tf.addfile(ti, io.BytesIO(b"tar"))
    r = pydock(root, "cp", "-", "c1:/tmp", input=tar_in.getvalue())
    assert r.returncode == 0, r.stderr
    assert ex(engine, "cat", "/tmp/fromtar.txt") == (0, "tar")
    assert "Could not find" in pydock(root, "cp", "c1:/nope", f"{t}/n").stderr


def test_cp_never_follows_symlinks_out(ctr: tuple[Any, str], root: Path, tmp_path: Path) -> None:
    engine, _ = ctr
    assert ex(engine, "busybox", "ln", "-s", "/", "/evil-link")[0] == 0
    assert ex(engine, "busybox", "ln", "-s", "../../..", "/evil2")[0] == 0
    name = f"pydock-cp-escape-{os.getpid()}"
    (tmp_path / "boom").write_text("boom")
    try:
        for dest in (f"c1:/evil-link/{name}", f"c1:/evil2/tmp/{name}", "c1:/evil-link/"):
            r = pydock(root, "cp", str(tmp_path / "boom"), dest)
            assert r.returncode == 0, r.stderr
        assert ex(engine, "cat", f"/{name}", f"/tmp/{name}", "/boom") == (0, "boom" * 3)
        assert not Path("/", name).exists() and not Path("/tmp", name).exists()
        assert not Path("/boom").exists()
        r = pydock(root, "cp", "c1:/evil2/etc/passwd", str(tmp_path / "p"))
        assert r.returncode == 0
        assert (tmp_path / "p").read_text() == ex(engine, "cat", "/etc/passwd")[1]
    finally:
        for p in (Path("/", name), Path("/tmp", name)):
            if p.exists():
                p.unlink()


def test_cp_and_export_of_a_stopped_container(ctr: tuple[Any, str], root: Path,
                                              tmp_path: Path) -> None:
    engine, _ = ctr
    assert ex(engine, "sh", "-c", "echo hi > /tmp/x; rm /etc/group")[0] == 0
    engine.containers_stop(["c1"], timeout=1)
    assert pydock(root, "cp", "c1:/tmp/x", str(tmp_path / "x")).returncode == 0
    assert (tmp_path / "x").read_text() == "hi\n"
    assert pydock(root, "cp", str(tmp_path / "x"), "c1:/tmp/y").returncode == 0
    out = tmp_path / "c1.tar"
    assert pydock(root, "export", "-o", str(out), "c1").returncode == 0
    names = tarfile.open(out).getnames()
    assert {"bin/busybox", "tmp/x", "tmp/y", "etc/passwd"} <= set(names)
    assert "etc/group" not in names
    assert mounts_under(root) == []  # the temporary overlay mount is gone


def test_export_running(ctr: tuple[Any, str], root: Path) -> None:
    engine, _ = ctr
    assert ex(engine, "sh", "-c", "echo x > /root/new")[0] == 0
    buf = io.BytesIO()
    engine.containers_export("c1", buf)
    with tarfile.open(fileobj=io.BytesIO(buf.getvalue())) as tf:
        assert tf.getmember("bin/busybox").size == Path("/bin/busybox").stat().st_size
        assert tf.extractfile("root/new").read() == b"x\n"  # type: ignore[union-attr]


def test_commit(ctr: tuple[Any, str], root: Path) -> None:
    engine, _ = ctr
    assert ex(engine, "sh", "-c", "echo hello > /root/hello; rm /etc/group")[0] == 0
    r = pydock(root, "commit", "-m", "my change", "-a", "me", "c1", "committed:v1")
    assert r.returncode == 0, r.stderr
    image_id = r.stdout.strip()
    assert image_id.startswith("sha256:")
    assert engine.containers_inspect("c1")["State"]["Status"] == "running"  # unpaused
    rec = engine.images.record(image_id)
    with engine.content.open(rec.manifest["layers"][-1]["digest"]) as blob:
        names = tarfile.open(fileobj=blob).getnames()
    assert {"root/hello", "etc/.wh.group"} <= set(names)
    assert not any(n.startswith("etc/host") or n == "etc/resolv.conf" for n in names)
    run = pydock(root, "run", "--rm", "committed:v1", "sh", "-c",
                 "cat /root/hello; test -e /etc/group || echo gone")
    assert run.stdout == "hello\ngone\n", run.stderr
    hist = engine.images_history("committed:v1")
    assert hist[0].comment == "my change" and hist[0].created_by == "sleep 1000"
    r = pydock(root, "commit", "-c", 'CMD ["echo","hi"]', "c1", "committed:v2")
    assert r.returncode == 0, r.stderr
    assert engine.images_inspect("committed:v2")["Config"]["Cmd"] == ["echo", "hi"]
    assert pydock(root, "run", "--rm", "committed:v2").stdout == "hi\n"
    assert any(e.action == "commit" for e in engine.events_list() if e.type == "image")
