"""Docker's default seccomp profile: shape, counts, per-capability rules, compile (no root)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

from engine.errors import InvalidArgument
from engine.runtime import seccomp
from engine.runtime.caps import DOCKER_DEFAULT

ALLOW = 0x7FFF0000
ERRNO = 0x00050000
EPERM, ENOSYS = 1, 38
MASKED_EQ = 7


@pytest.fixture(scope="module")
def profile() -> dict[str, Any]:
    return seccomp.load_profile(None)


def names(plan: seccomp.Plan) -> set[str]:
    return {r.name for r in plan.rules}


def plan_for(profile: dict[str, Any], caps: list[str] | tuple[str, ...] = DOCKER_DEFAULT,
             machine: str = "x86_64", kernel: str = "6.18.0") -> seccomp.Plan:
    return seccomp.plan(profile, caps, machine=machine, kernel_release=kernel)


def allowed(plan: seccomp.Plan, name: str, args: tuple[int, ...]) -> bool:
    """Evaluate the plan like the kernel would for one call (any matching ALLOW rule)."""
    def holds(cond: tuple[int, int, int, int]) -> bool:
        index, op, a, b = cond
        v = args[index]
        return {1: v != a, 2: v < a, 3: v <= a, 4: v == a, 5: v >= a, 6: v > a,
                7: v & a == b}[op]
    return any(r.action == ALLOW and all(holds(c) for c in r.args)
               for r in plan.rules if r.name == name)


def test_shape(profile: dict[str, Any]) -> None:
    assert profile["defaultAction"] == "SCMP_ACT_ERRNO"
    assert profile["defaultErrnoRet"] == 1
    arch_map = {a["architecture"]: a["subArchitectures"] for a in profile["archMap"]}
    assert arch_map["SCMP_ARCH_X86_64"] == ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    assert arch_map["SCMP_ARCH_AARCH64"] == ["SCMP_ARCH_ARM"]


def test_unconditional_allow_list(profile: dict[str, Any]) -> None:
    first = profile["syscalls"][0]
    assert first["action"] == "SCMP_ACT_ALLOW" and "args" not in first and "includes" not in first
    allow = first["names"]
    assert len(allow) == len(set(allow)) == 361
    common = {"read", "write", "openat", "close", "execve", "mmap", "brk", "futex", "epoll_wait",
              "accept4", "connect", "getpid", "rt_sigaction", "clock_gettime", "statx", "fork",
              "vfork", "wait4", "prctl", "capset", "setuid", "setgroups", "prlimit64",
              "close_range", "seccomp", "io_setup"}
    assert common <= set(allow)
    forbidden = {"mount", "umount2", "unshare", "setns", "clone", "clone3", "bpf", "ptrace",
                 "keyctl", "add_key", "request_key", "kexec_load", "reboot", "init_module",
                 "open_by_handle_at", "pivot_root", "swapon", "chroot", "acct", "settimeofday",
                 "personality", "socket", "userfaultfd", "io_uring_setup", "perf_event_open"}
    assert not forbidden & set(allow)


def test_default_caps_plan(profile: dict[str, Any]) -> None:
    plan = plan_for(profile)
    assert plan.default_action == ERRNO | EPERM
    assert plan.arches == ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32")
    got = names(plan)
    assert {"mount", "umount2", "unshare", "setns", "bpf", "reboot", "kcmp", "iopl",
            "syslog", "settimeofday", "set_tls", "open_by_handle_at"}.isdisjoint(got)
    # ptrace itself comes with kernel >= 4.8; chroot with CAP_SYS_CHROOT (a default)
    assert {"ptrace", "process_vm_readv", "chroot", "arch_prctl", "modify_ldt"} <= got
    clone = [r for r in plan.rules if r.name == "clone"]
    assert clone == [seccomp.Rule("clone", ALLOW, ((0, MASKED_EQ, 0x7E020000, 0),))]
    assert [r.action for r in plan.rules if r.name == "clone3"] == [ERRNO | ENOSYS]


def test_clone_flags(profile: dict[str, Any]) -> None:
    plan = plan_for(profile)
    fork_flags = 0x01200011  # CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD
    thread_flags = 0x003D0F00
    assert allowed(plan, "clone", (fork_flags,)) and allowed(plan, "clone", (thread_flags,))
    for ns in (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000,
               0x40000000):
        assert not allowed(plan, "clone", (fork_flags | ns,))


def test_old_kernel_loses_ptrace(profile: dict[str, Any]) -> None:
    assert "ptrace" not in names(plan_for(profile, kernel="4.4.0-210-generic"))
    assert "ptrace" in names(plan_for(profile, kernel="4.8.0"))


def test_sys_admin_unlocks(profile: dict[str, Any]) -> None:
    plan = plan_for(profile, [*DOCKER_DEFAULT, "CAP_SYS_ADMIN"])
    assert {"mount", "umount2", "unshare", "setns", "clone3", "bpf", "fsopen",
            "sethostname"} <= names(plan)
    assert [r.args for r in plan.rules if r.name == "clone"] == [()]
    assert all(r.action == ALLOW for r in plan.rules if r.name == "clone3")


@pytest.mark.parametrize("cap, calls", [
    ("CAP_SYS_PTRACE", {"kcmp", "pidfd_getfd", "process_madvise"}),
    ("CAP_SYS_BOOT", {"reboot"}),
    ("CAP_SYS_MODULE", {"init_module", "finit_module", "delete_module"}),
    ("CAP_SYS_PACCT", {"acct"}),
    ("CAP_SYS_NICE", {"mbind", "set_mempolicy", "get_mempolicy"}),
    ("CAP_SYS_RAWIO", {"iopl", "ioperm"}),
    ("CAP_SYS_TIME", {"settimeofday", "clock_settime", "stime"}),
    ("CAP_SYS_TTY_CONFIG", {"vhangup"}),
    ("CAP_SYSLOG", {"syslog"}),
    ("CAP_BPF", {"bpf"}),
    ("CAP_PERFMON", {"perf_event_open"}),
    ("CAP_DAC_READ_SEARCH", {"open_by_handle_at"}),
])
def test_capability_rules(profile: dict[str, Any], cap: str, calls: set[str]) -> None:
    assert not calls & names(plan_for(profile))
    assert calls <= names(plan_for(profile, [*DOCKER_DEFAULT, cap]))


def test_caps_accept_short_names(profile: dict[str, Any]) -> None:
    assert "mount" in names(plan_for(profile, ["sys_admin"]))


def test_socket_families(profile: dict[str, Any]) -> None:
    plan = plan_for(profile)
    for family in range(46):
        assert allowed(plan, "socket", (family,)) == (family not in (38, 40)), family
    # the kernel truncates the int family: a high word must not smuggle 38/40 in
    for family in (38, 40, 41):
        assert not allowed(plan, "socket", ((1 << 32) | family,))


def test_personality_values(profile: dict[str, Any]) -> None:
    plan = plan_for(profile)
    ok = {v for v in (0, 8, 0x20000, 0x20008, 0xFFFFFFFF, 0x40000, 1, 0x0020)
          if allowed(plan, "personality", (v,))}
    assert ok == {0, 8, 0x20000, 0x20008, 0xFFFFFFFF}


def test_aarch64_plan(profile: dict[str, Any]) -> None:
    plan = plan_for(profile, machine="aarch64")
    assert plan.arches == ("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM")
    assert "set_tls" in names(plan) and "arch_prctl" not in names(plan)


def test_same_argument_conditions_become_or_rules() -> None:
    prof = seccomp.validate({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_EQ"},
                  {"index": 0, "value": 5, "op": "SCMP_CMP_EQ"}]},
        {"name": "kill", "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_GT"},
                  {"index": 1, "value": 9, "op": "SCMP_CMP_NE"}]},
        {"names": ["read"], "action": "SCMP_ACT_ERRNO"},  # same as default: skipped
        {"names": ["write"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5},
    ]})
    plan = plan_for(prof)
    assert [r.args for r in plan.rules if r.name == "personality"] == [
        ((0, 4, 3, 0),), ((0, 4, 5, 0),)]
    assert [r.args for r in plan.rules if r.name == "kill"] == [((0, 6, 1, 0), (1, 1, 9, 0))]
    assert "read" not in names(plan)
    assert [r.action for r in plan.rules if r.name == "write"] == [ERRNO | 5]


def _write(tmp_path: Path, body: Any) -> Path:
    path = tmp_path / "profile.json"
    path.write_text(body if isinstance(body, str) else json.dumps(body))
    return path


@pytest.mark.parametrize("body, why", [
    ("{not json", "not valid JSON"),
    ({"defaultAction": "SCMP_ACT_NOPE"}, "unknown action 'SCMP_ACT_NOPE'"),
    ({"defaultAction": "SCMP_ACT_ERRNO",
      "syscalls": [{"names": ["read"], "action": "SCMP_ACT_MAYBE"}]}, "SCMP_ACT_MAYBE"),
    ({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"],
      "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_XX"}]}]},
     "unknown operator"),
    ({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"],
      "action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]},
     "index 6"),
    ({"defaultAction": "SCMP_ACT_NOTIFY"}, "seccomp agent"),
    ({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86"],
      "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}, "not both"),
    ({"defaultAction": "SCMP_ACT_ERRNO",
      "syscalls": [{"name": "read", "names": ["write"], "action": "SCMP_ACT_ALLOW"}]},
     "both 'name' and 'names'"),
    ([1, 2], "JSON object"),
])
def test_bad_profiles_name_the_file(tmp_path: Path, body: Any, why: str) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(InvalidArgument) as err:
        seccomp.load_profile(path)
    assert str(path) in str(err.value) and why in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="nope.json"):
        seccomp.load_profile(tmp_path / "nope.json")


def _pfc(filt: Any) -> str:
    with tempfile.TemporaryFile("w+") as out:
        filt.export_pfc(out)
        out.seek(0)
        return out.read()


def test_compile_default(profile: dict[str, Any]) -> None:
    pfc = _pfc(seccomp.compile_filter(profile, DOCKER_DEFAULT))
    assert "filter for arch x86_64" in pfc and "filter for arch x86 " in pfc
    assert 'syscall "clone3"' in pfc and "ERRNO(38)" in pfc
    assert 'syscall "mount"' not in pfc and 'syscall "unshare"' not in pfc
    privileged = _pfc(seccomp.compile_filter(profile, [*DOCKER_DEFAULT, "CAP_SYS_ADMIN"]))
    assert 'syscall "mount"' in privileged and "ERRNO(38)" not in privileged


def test_unknown_syscalls_are_skipped(tmp_path: Path) -> None:
    prof = seccomp.load_profile(_write(tmp_path, {
        "defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_LOG"],
        "syscalls": [{"names": ["no_such_syscall_xyz", "read"], "action": "SCMP_ACT_ALLOW"}]}))
    pfc = _pfc(seccomp.compile_filter(prof, []))
    assert 'syscall "read"' in pfc and "no_such_syscall_xyz" not in pfc
