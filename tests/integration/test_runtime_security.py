"""Docker's isolation and security defaults, each checked from inside a container."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.runtime_helpers import IMAGE, import_busybox, pydock, remove_all

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


@pytest.fixture(scope="module")
def rt(test_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = test_base / f"security-{os.getpid()}"
    root.mkdir()
    import_busybox(root, tmp_path_factory.mktemp("img"))
    yield root
    remove_all(root)


def sh(rt: Path, script: str, *flags: str) -> str:
    r = pydock(rt, "run", "--rm", *flags, IMAGE, "sh", "-c", script)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_default_capabilities(rt: Path) -> None:
    out = sh(rt, "grep Cap /proc/self/status")
    assert "CapEff:\t00000000a80425fb" in out and "CapBnd:\t00000000a80425fb" in out
    assert "CapInh:\t0000000000000000" in out and "CapAmb:\t0000000000000000" in out


def test_cap_add_drop_and_privileged(rt: Path) -> None:
    out = sh(rt, "grep CapEff /proc/self/status", "--cap-drop", "ALL", "--cap-add", "CHOWN")
    assert out.split()[1] == "0000000000000001"
    out = sh(rt, "grep CapEff /proc/self/status", "--cap-add", "SYS_ADMIN")
    assert int(out.split()[1], 16) & (1 << 21)
    out = sh(rt, "grep -E 'CapEff|Seccomp:' /proc/self/status; mount | grep ' /sys '",
             "--privileged")
    assert "Seccomp:\t0" in out and "(rw," in out


def test_non_root_user_has_no_effective_caps(rt: Path) -> None:
    out = sh(rt, "id -u; id -g; grep -E 'CapEff|CapBnd' /proc/self/status", "-u", "nobody")
    lines = out.split("\n")
    assert lines[0] == "65534" and lines[1] == "65534"
    assert "CapEff:\t0000000000000000" in out and "CapBnd:\t00000000a80425fb" in out
    assert sh(rt, "id -u; id -g", "-u", "1234:5678").split() == ["1234", "5678"]


def test_seccomp_default_and_unconfined(rt: Path) -> None:
    assert "Seccomp:\t2" in sh(rt, "grep Seccomp: /proc/self/status")
    # unshare is denied by the profile even with CAP_SYS_ADMIN missing anyway.
    r = pydock(rt, "run", "--rm", IMAGE, "sh", "-c", "unshare -m true")
    assert r.returncode != 0
    assert "Seccomp:\t0" in sh(rt, "grep Seccomp: /proc/self/status", "--security-opt",
                               "seccomp=unconfined")


def test_no_new_privileges_off_by_default(rt: Path) -> None:
    assert "NoNewPrivs:\t0" in sh(rt, "grep NoNewPrivs /proc/self/status")
    assert "NoNewPrivs:\t1" in sh(rt, "grep NoNewPrivs /proc/self/status", "--security-opt",
                                  "no-new-privileges")


def test_namespaces_differ_from_host(rt: Path) -> None:
    out = sh(rt, "for n in pid mnt uts ipc net; do readlink /proc/self/ns/$n; done")
    for line in out.split():
        kind = line.split(":")[0]
        assert line != os.readlink(f"/proc/self/ns/{kind}")
    assert sh(rt, "echo $$") == "1\n"
    pids = [int(p) for p in sh(rt, "ps -o pid | tail -n +2").split()]
    assert min(pids) == 1 and max(pids) < 20  # only this pipeline: no host process


def test_host_network_shares_netns(rt: Path) -> None:
    out = sh(rt, "readlink /proc/self/ns/net", "--network", "host")
    assert out.strip() == os.readlink("/proc/self/ns/net")
    # --network none: only loopback, and it is up.
    out = sh(rt, "cat /proc/net/dev | tail -n +3 | cut -d: -f1")
    assert out.split() == ["lo"]


def test_dev_has_only_default_devices(rt: Path) -> None:
    out = sh(rt, "ls /dev")
    assert set(out.split()) == {"core", "fd", "full", "mqueue", "null", "ptmx", "pts", "random",
                                "shm", "stderr", "stdin", "stdout", "tty", "urandom", "zero"}
    mounts = sh(rt, "cat /proc/mounts")
    assert "devpts /dev/pts devpts rw,nosuid,noexec" in mounts
    assert "shm /dev/shm tmpfs rw,nosuid,nodev,noexec,relatime,size=65536k" in mounts
    assert "mqueue /dev/mqueue mqueue" in mounts
    assert "sysfs /sys sysfs ro," in mounts
    assert "proc /proc proc rw,nosuid,nodev,noexec" in mounts


def test_masked_and_readonly_paths(rt: Path) -> None:
    assert sh(rt, "cat /proc/timer_list | wc -c").strip() == "0"  # masked: /dev/null
    assert sh(rt, "ls /sys/firmware | wc -l").strip() == "0"
    r = pydock(rt, "run", "--rm", IMAGE, "sh", "-c", "echo 1 > /proc/sys/kernel/domainname")
    assert r.returncode != 0 and "Read-only" in r.stderr


def test_read_only_rootfs(rt: Path) -> None:
    r = pydock(rt, "run", "--rm", "--read-only", IMAGE, "touch", "/x")
    assert r.returncode != 0 and "Read-only" in r.stderr
    assert sh(rt, "touch /dev/shm/ok && echo ok", "--read-only") == "ok\n"


def test_rlimits(rt: Path) -> None:
    soft, hard = sh(rt, "ulimit -n; ulimit -Hn").split()
    import resource

    host_hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    assert soft == "1024" and int(hard) == min(524288, host_hard)
    assert sh(rt, "ulimit -n", "--ulimit", "nofile=512:600") == "512\n"


def test_hostname_hosts_env_workdir(rt: Path) -> None:
    out = sh(rt, "hostname; echo $HOSTNAME; pwd; echo $A; echo $HOME; head -1 /etc/hosts",
             "--hostname", "box", "-w", "/srv/app", "-e", "A=1")
    assert out.split("\n")[:6] == ["box", "box", "/srv/app", "1", "/root", "127.0.0.1\tlocalhost"]
    cid_host = sh(rt, "hostname").strip()
    assert len(cid_host) == 12


def test_only_stdio_fds_are_open(rt: Path) -> None:
    out = sh(rt, "ls /proc/self/fd")
    assert out.split() == ["0", "1", "2", "3"]  # 3 is ls's own directory handle


def test_host_interpreter_is_unreachable(rt: Path) -> None:
    exe = os.path.realpath(sys.executable)
    r = pydock(rt, "run", "--rm", IMAGE, "sh", "-c", f"ls {exe} || ls /proc/1/root{exe}")
    assert r.returncode != 0
    # Our own PID 1 is the user's process, not the monitor or an interpreter.
    assert sh(rt, "cat /proc/1/comm; true") == "sh\n"


def test_entrypoint_and_cmd_rules(rt: Path) -> None:
    r = pydock(rt, "run", "--rm", "--entrypoint", "echo", IMAGE, "a", "b")
    assert r.stdout == "a b\n"
    r = pydock(rt, "run", "--rm", IMAGE)  # the image's CMD ["sh"] with stdin closed
    assert r.returncode == 0


def test_device_cgroup_blocks_host_devices(rt: Path) -> None:
    # CAP_MKNOD is in Docker's default set: the device cgroup is what keeps a
    # container from creating and opening a host disk.
    r = pydock(rt, "run", "--rm", IMAGE, "sh", "-c",
               "mknod /tmp/disk b 8 0 && head -c 1 /tmp/disk")
    assert r.returncode != 0 and "Operation not permitted" in r.stderr
    assert sh(rt, "mknod /tmp/n c 1 3 && echo x > /tmp/n && echo ok") == "ok\n"
