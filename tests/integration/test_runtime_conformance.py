"""One conformance subset, run under every available runtime: pydock's own, runc, crun.

The same bundle (``config.json``) drives all three, so a difference here is a
bug in our init or in how we describe the container.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.runtime_helpers import IMAGE, import_busybox, pydock, remove_all

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
RUNTIMES = [pytest.param(r, marks=pytest.mark.skipif(
    r != "pydock" and shutil.which(r) is None, reason=f"{r} not installed"))
    for r in ("pydock", "runc", "crun")]


@pytest.fixture(scope="module")
def rt(test_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = test_base / f"conformance-{os.getpid()}"
    root.mkdir()
    import_busybox(root, tmp_path_factory.mktemp("img"))
    yield root
    remove_all(root)


@pytest.fixture(params=RUNTIMES)
def runtime(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def run(rt: Path, runtime: str, *args: str, input: bytes | None = None):  # noqa: A002
    return pydock(rt, "run", "--rm", "--runtime", runtime, *args, input=input)


@pytest.mark.parametrize(("cmd", "code"), [(["true"], 0), (["sh", "-c", "exit 3"], 3),
                                            (["nosuchcmd"], 127)])
def test_exit_codes(rt: Path, runtime: str, cmd: list[str], code: int) -> None:
    assert run(rt, runtime, IMAGE, *cmd).returncode == code


def test_security_defaults(rt: Path, runtime: str) -> None:
    r = run(rt, runtime, IMAGE, "sh", "-c",
            "grep -E 'CapEff|CapBnd|Seccomp:|NoNewPrivs' /proc/self/status; "
            "wc -c < /proc/timer_list; (echo x > /proc/sys/kernel/domainname) 2>&1; "
            "grep ' /sys ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1; ulimit -n")
    out = r.stdout
    assert "CapEff:\t00000000a80425fb" in out and "CapBnd:\t00000000a80425fb" in out
    assert "Seccomp:\t2" in out and "NoNewPrivs:\t0" in out
    lines = out.strip().splitlines()
    assert lines[4].strip() == "0"
    assert "Read-only" in lines[5]
    assert lines[6] == "ro" and lines[7] == "1024"


def test_identity_env_cwd_hostname(rt: Path, runtime: str) -> None:
    r = run(rt, runtime, "-u", "nobody", "-e", "A=b", "-w", "/tmp", "--hostname", "conf",
            IMAGE, "sh", "-c", "id -u; echo $A; pwd; hostname; echo $HOME")
    assert r.stdout.split() == ["65534", "b", "/tmp", "conf", "/nonexistent"]


def test_stdio(rt: Path, runtime: str) -> None:
    r = run(rt, runtime, "-i", IMAGE, "sh", "-c", "read x; echo out-$x; echo err >&2",
            input=b"in\n")
    assert r.stdout == "out-in\n" and r.stderr == "err\n"


def test_isolation(rt: Path, runtime: str) -> None:
    r = run(rt, runtime, IMAGE, "sh", "-c", "echo $$; ls /dev | wc -l; readlink /proc/1/ns/net")
    pid1, ndev, netns = r.stdout.split()
    assert pid1 == "1" and int(ndev) <= 16
    assert netns != os.readlink("/proc/self/ns/net")
