"""Capabilities, identity and the default seccomp filter applied in a forked child (root).

Each test forks; the child applies what the container init would, probes the
kernel, writes a JSON report to a pipe and always leaves with ``os._exit``.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import socket
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.errors import PermissionDenied
from engine.runtime import caps, seccomp
from engine.sys import libc

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (capabilities, seccomp)"),
]

DOCKER_MASK = "00000000a80425fb"
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
NR_CLONE, NR_SOCKET, NR_CLONE3 = 56, 41, 435
CLONE_NEWUSER, SIGCHLD = 0x10000000, 17


def run_child(body: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        code = 0
        try:
            os.close(r)
            out = json.dumps(body())
        except BaseException:
            out, code = json.dumps({"error": traceback.format_exc()}), 1
        try:
            os.write(w, out.encode())
        finally:
            os._exit(code)
    os.close(w)
    chunks = []
    while data := os.read(r, 65536):
        chunks.append(data)
    os.close(r)
    os.waitpid(pid, 0)
    report: dict[str, Any] = json.loads(b"".join(chunks))
    assert "error" not in report, report.get("error")
    return report


def status() -> dict[str, str]:
    fields = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp")
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in fields:
            out[key] = value.strip()
    return out


def errno_of(call: Callable[[], object]) -> int | None:
    try:
        result = call()
    except OSError as err:
        return err.errno
    if isinstance(result, socket.socket):
        result.close()
    return None


def raw(nr: int, *args: int) -> int | None:
    """A raw syscall; returns the errno or None. A child from clone() exits at once."""
    rc = _libc.syscall(ctypes.c_long(nr), *(ctypes.c_long(a) for a in args))
    if rc == 0 and nr == NR_CLONE:
        os._exit(0)
    if rc < 0:
        return ctypes.get_errno()
    if nr == NR_CLONE:
        os.waitpid(rc, 0)
    elif nr == NR_SOCKET:
        os.close(rc)
    return None


def probe() -> dict[str, Any]:
    report: dict[str, Any] = dict(status())
    report["unshare_ns"] = errno_of(lambda: os.unshare(os.CLONE_NEWNS))
    report["unshare_user"] = errno_of(lambda: os.unshare(os.CLONE_NEWUSER))
    report["clone3"] = raw(NR_CLONE3, 0, 0)
    report["clone_newuser"] = raw(NR_CLONE, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)
    report["vsock"] = errno_of(lambda: socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM))
    report["vsock_high_word"] = raw(NR_SOCKET, (1 << 32) | socket.AF_VSOCK, 1, 0)
    report["alg"] = errno_of(lambda: socket.socket(socket.AF_ALG, socket.SOCK_SEQPACKET))
    report["inet"] = errno_of(lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    report["netlink"] = errno_of(lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW))
    report["pid_ok"] = os.getpid() > 1
    # the target does not exist: EPERM means seccomp/caps refused, ENOENT that the
    # kernel got as far as the path, and nothing can ever be mounted
    report["mount"] = errno_of(lambda: libc.mount("none", "/nonexistent-pydock-probe", "tmpfs"))
    fd = os.open("/proc/self/status", os.O_RDONLY)
    report["read_ok"] = os.read(fd, 5) == b"Name:"
    os.close(fd)
    r, w = os.pipe()
    report["pipe_ok"] = os.write(w, b"x") == 1 and os.read(r, 1) == b"x"
    pid = os.fork()  # glibc fork = clone without namespace flags: allowed
    if pid == 0:
        os._exit(7)
    report["fork_status"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    # posix_spawn tries clone3 first and falls back to clone on ENOSYS
    spawned = os.posix_spawn("/bin/true", ["true"], {})
    report["spawn_status"] = os.waitstatus_to_exitcode(os.waitpid(spawned, 0)[1])
    report["uid"], report["gid"], report["groups"] = os.getuid(), os.getgid(), os.getgroups()
    return report


@pytest.fixture(scope="module")
def default_filter() -> Any:
    # compiled in the parent, as the monitor does before forking the init
    return seccomp.compile_filter(seccomp.load_profile(None), caps.DOCKER_DEFAULT)


def test_unfiltered_baseline() -> None:
    # what the probes return without our confinement, so the tests below prove something
    report = run_child(probe)
    assert report["clone3"] == errno.EINVAL  # NULL args: the kernel's own refusal
    assert report["unshare_user"] is None
    assert report["vsock"] is None or report["vsock"] == errno.EAFNOSUPPORT


def test_root_default_runc_order(default_filter: Any) -> None:
    def body() -> dict[str, Any]:
        seccomp.apply_filter(default_filter)  # no NNP: load while CAP_SYS_ADMIN is held
        caps.apply_identity_and_caps(0, 0, [], caps.DOCKER_DEFAULT)
        return probe()

    report = run_child(body)
    assert report["CapEff"] == report["CapPrm"] == report["CapBnd"] == DOCKER_MASK
    assert report["CapInh"] == report["CapAmb"] == "0000000000000000"
    assert report["NoNewPrivs"] == "0" and report["Seccomp"] == "2"
    assert report["unshare_ns"] == errno.EPERM
    assert report["unshare_user"] == errno.EPERM
    assert report["clone3"] == errno.ENOSYS
    assert report["clone_newuser"] == errno.EPERM
    assert report["vsock"] == errno.EPERM
    assert report["vsock_high_word"] == errno.EPERM
    assert report["alg"] == errno.EPERM
    assert report["inet"] is None and report["netlink"] is None
    assert report["mount"] == errno.EPERM
    assert report["pid_ok"] and report["read_ok"] and report["pipe_ok"]
    assert report["fork_status"] == 7 and report["spawn_status"] == 0
    assert (report["uid"], report["gid"], report["groups"]) == (0, 0, [])


def test_root_with_no_new_privs(default_filter: Any) -> None:
    def body() -> dict[str, Any]:
        libc.prctl(libc.PR_SET_NO_NEW_PRIVS, 1)
        caps.apply_identity_and_caps(0, 0, [0, 10], caps.DOCKER_DEFAULT)
        seccomp.apply_filter(default_filter)  # caps already dropped: NNP makes it legal
        return probe()

    report = run_child(body)
    assert report["NoNewPrivs"] == "1" and report["Seccomp"] == "2"
    assert report["CapEff"] == report["CapBnd"] == DOCKER_MASK
    assert report["clone3"] == errno.ENOSYS and report["unshare_ns"] == errno.EPERM
    assert sorted(report["groups"]) == [0, 10]


def test_non_root_user_keeps_only_bounding(default_filter: Any) -> None:
    def body() -> dict[str, Any]:
        seccomp.apply_filter(default_filter)
        caps.apply_identity_and_caps(65534, 65534, [65534], caps.DOCKER_DEFAULT)
        return probe()

    report = run_child(body)
    assert report["CapEff"] == report["CapPrm"] == "0000000000000000"
    assert report["CapInh"] == report["CapAmb"] == "0000000000000000"
    assert report["CapBnd"] == DOCKER_MASK
    assert (report["uid"], report["gid"], report["groups"]) == (65534, 65534, [65534])
    assert report["unshare_ns"] == errno.EPERM and report["clone3"] == errno.ENOSYS
    assert report["read_ok"] and report["fork_status"] == 7


def test_seccomp_without_nnp_or_sys_admin_is_refused(default_filter: Any) -> None:
    def body() -> dict[str, Any]:
        caps.apply_identity_and_caps(0, 0, [], caps.DOCKER_DEFAULT)
        try:
            seccomp.apply_filter(default_filter)
        except PermissionDenied as err:
            return {"refused": str(err), **status()}
        return {"refused": None}

    report = run_child(body)
    assert report["refused"] and "no_new_privs" in report["refused"]
    assert report["Seccomp"] == "0"


def test_apply_caps_small_set_and_privileged() -> None:
    def small() -> dict[str, Any]:
        caps.apply_caps(["CAP_CHOWN", "kill"])
        return status()

    report = run_child(small)
    assert report["CapEff"] == report["CapPrm"] == report["CapBnd"] == "0000000000000021"

    engine_bounding = status()["CapBnd"]

    def privileged() -> dict[str, Any]:
        caps.apply_caps(caps.resolve_caps([], [], True))
        return status()

    report = run_child(privileged)
    # everything the kernel knows, limited to what this engine itself holds
    assert report["CapEff"] == report["CapPrm"] == report["CapBnd"] == engine_bounding
