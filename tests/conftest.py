"""Session-wide guards and shared fixtures.

Every test root lives under one directory keyed by this run, and stale roots
from a run that died are cleaned first (idempotent). At the end of the session
the run fails loudly if it left mounts, processes, network namespaces, veth
devices or cgroups that mention a test root or pydock.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

TEST_BASE = Path(os.environ.get("PYDOCK_TEST_BASE", "/var/tmp/pydock-tests"))
BUSYBOX = Path("/bin/busybox")


def _mounts_under(base: Path) -> list[str]:
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            target = line.split()[4]
            if target.startswith(str(base)):
                out.append(target)
    return out


def _unmount_all(base: Path) -> None:
    for target in sorted(_mounts_under(base), key=len, reverse=True):
        if target.startswith(str(base)):
            subprocess.run(["umount", "-l", target], check=False, capture_output=True)


# Containers started by this run live under their own cgroup parent (the engine and
# every CLI subprocess read it from the environment), never under real containers'.
CGROUP_PARENT = f"pydock-test-{os.getpid()}"
os.environ["PYDOCK_CGROUP_PARENT"] = CGROUP_PARENT
# Safety interlock: the engine (and every CLI/helper subprocess) refuses to load NAT
# rules or switch on forwarding; NAT tests check the plan and inject the runner.
os.environ["PYDOCK_NO_NAT"] = "1"


def _container_cgroups() -> set[str]:
    """This run's per-container cgroups, in every hierarchy (v1 and v2)."""
    root = Path("/sys/fs/cgroup")
    return {str(p) for pattern in (f"*/{CGROUP_PARENT}/*", f"{CGROUP_PARENT}/*")
            for p in root.glob(pattern) if p.is_dir()}


def _remove_parent_cgroups() -> None:
    root = Path("/sys/fs/cgroup")
    for p in [*root.glob(f"*/{CGROUP_PARENT}"), *root.glob(CGROUP_PARENT)]:
        try:
            p.rmdir()
        except OSError:
            pass  # not empty: reported as a leak below


def _remove_stale_parent_cgroups() -> None:
    """Parents left by test runs that died (their pytest PID is gone): empty ones go.

    A cgroup with processes in it refuses rmdir and stays, for the leak report of
    whoever looks next; nothing here signals anything.
    """
    root = Path("/sys/fs/cgroup")
    for parent in [*root.glob("*/pydock-test-*"), *root.glob("pydock-test-*")]:
        pid = parent.name.removeprefix("pydock-test-")
        if not pid.isdigit() or Path(f"/proc/{pid}").exists():
            continue
        for child in sorted(parent.glob("*/"), reverse=True):
            if (child / "cgroup.procs").exists():
                try:
                    child.rmdir()
                except OSError:
                    pass
        try:
            parent.rmdir()
        except OSError:
            pass


def _stop_zygotes(base: Path) -> None:
    """Roots that live until the end of the run (module fixtures) still have their
    monitor zygote (engine/runtime/zygote.py); it is not a leak, so stop it first."""
    from engine.runtime import zygote

    for sock in base.glob("*/zygote.sock"):
        zygote.stop(sock.parent)
    # The zygotes of roots already removed exit by themselves within moments;
    # one still here after 5 s is reported as a leak.
    end = time.monotonic() + 5
    while time.monotonic() < end and any("engine.runtime.zygote_server" in leak
                                         or "(spare)" in leak for leak in _leaks(base)):
        time.sleep(0.05)


def _leaks(base: Path) -> list[str]:
    leaks = [f"mount {m}" for m in _mounts_under(base)]
    leaks += [f"cgroup {cg}" for cg in sorted(_container_cgroups())]
    try:
        names = os.listdir("/run/netns")
    except FileNotFoundError:
        names = []
    leaks += [f"netns {n}" for n in names if n.startswith("pydock")]
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(base) in cmd and int(pid) != os.getpid():
            leaks.append(f"process {pid}: {cmd[:100]}")
    return leaks


@pytest.fixture(scope="session")
def test_base() -> Iterator[Path]:
    """A per-run directory; stale ones from dead runs are removed first."""
    TEST_BASE.mkdir(parents=True, exist_ok=True)
    for stale in TEST_BASE.iterdir():
        # Only runs whose pytest is gone: a concurrent run keeps its roots.
        pid = stale.name.removeprefix("run-")
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            _unmount_all(stale)
            shutil.rmtree(stale, ignore_errors=True)
    _remove_stale_parent_cgroups()
    run_dir = TEST_BASE / f"run-{os.getpid()}"
    run_dir.mkdir()
    yield run_dir
    _stop_zygotes(run_dir)
    leaks = _leaks(run_dir)
    _unmount_all(run_dir)
    _remove_parent_cgroups()
    shutil.rmtree(run_dir, ignore_errors=True)
    if leaks:
        pytest.fail("the test run leaked:\n  " + "\n  ".join(leaks), pytrace=False)


@pytest.fixture(autouse=True, scope="session")
def _leak_guard(test_base: Path) -> Iterator[None]:
    yield


@pytest.fixture
def root(test_base: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    """A fresh engine root for one test."""
    safe = "".join(c if c.isalnum() else "-" for c in request.node.name)[:60]
    d = test_base / f"{safe}-{os.urandom(3).hex()}"
    d.mkdir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def engine(root: Path):  # type: ignore[no-untyped-def]
    from engine import Engine, EngineConfig

    return Engine(EngineConfig(root=root))


def busybox_rootfs_tar(extra: dict[str, bytes] | None = None, *, mtime: int = 1700000000) -> bytes:
    """A minimal root filesystem: static busybox, its applet links, passwd and group."""
    if not BUSYBOX.exists():
        pytest.skip("busybox-static is not installed")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        def add_dir(name: str, mode: int = 0o755) -> None:
            ti = tarfile.TarInfo(name)
            ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, mode, mtime
            tf.addfile(ti)

        def add_file(name: str, data: bytes, mode: int = 0o644) -> None:
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), mode, mtime
            tf.addfile(ti, io.BytesIO(data))

        for d in ("bin", "etc", "tmp", "root", "proc", "sys", "dev", "usr", "usr/bin", "var"):
            add_dir(d, 0o1777 if d == "tmp" else 0o755)
        add_file("bin/busybox", BUSYBOX.read_bytes(), 0o755)
        for applet in ("sh", "ls", "cat", "echo", "true", "false", "sleep", "id", "ps", "env",
                       "touch", "mkdir", "rm", "grep", "head", "tail", "wc", "hostname",
                       "mount", "readlink", "pwd", "unshare", "stat", "tty", "top", "kill"):
            ti = tarfile.TarInfo(f"bin/{applet}")
            ti.type, ti.linkname, ti.mtime = tarfile.SYMTYPE, "busybox", mtime
            tf.addfile(ti)
        add_file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"
                               b"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
        add_file("etc/group", b"root:x:0:\nnogroup:x:65534:\n")
        for name, data in (extra or {}).items():
            add_file(name, data)
    return buf.getvalue()


@pytest.fixture(scope="session")
def busybox_tar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("rootfs") / "busybox.tar"
    p.write_bytes(busybox_rootfs_tar())
    return p
