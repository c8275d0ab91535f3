"""Docker-format seccomp profiles: load, plan for one container, compile, load.

Three steps, so that most of the logic is tested without libseccomp or root:

- :func:`load_profile` reads Docker's JSON (the bundled default, or a
  ``--security-opt seccomp=<file>``) and checks every action, operator and
  argument index, naming the file in the error;
- :func:`plan` keeps the rules that apply to this container (``includes`` /
  ``excludes`` by capability, native architecture and kernel version, exactly
  as moby's ``setupSeccomp``) and turns them into plain :class:`Rule` data;
- :func:`compile_filter` feeds the plan to libseccomp (pyseccomp) the way runc
  does, and :func:`apply_filter` loads it in the container init.

runc details we copy: a syscall this libseccomp does not know is skipped, not
fatal; a rule whose action equals the default action is skipped (libseccomp
refuses it); several conditions on the *same* argument become separate rules
(OR), since libseccomp cannot AND them; ``no_new_privs`` is left to the caller.

Imported by the per-container monitor: standard library, ``pyseccomp`` (loaded
on first compile) and ``engine.errors`` only.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterable, Sequence
from typing import Any

from engine.errors import InvalidArgument, PermissionDenied
from engine.record import dataclass

DEFAULT_PROFILE = os.path.join(os.path.dirname(__file__), "seccomp_default.json")

# Kernel SECCOMP_RET_* values, which libseccomp uses as its action codes.
_ACTIONS = {
    "SCMP_ACT_KILL": 0x00000000,
    "SCMP_ACT_KILL_THREAD": 0x00000000,
    "SCMP_ACT_KILL_PROCESS": 0x80000000,
    "SCMP_ACT_TRAP": 0x00030000,
    "SCMP_ACT_ERRNO": 0x00050000,
    "SCMP_ACT_TRACE": 0x7FF00000,
    "SCMP_ACT_LOG": 0x7FFC0000,
    "SCMP_ACT_ALLOW": 0x7FFF0000,
}
_WITH_RET = ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE")  # the low 16 bits carry errnoRet
_EPERM = 1
# libseccomp's enum scmp_compare
_OPS = {"SCMP_CMP_NE": 1, "SCMP_CMP_LT": 2, "SCMP_CMP_LE": 3, "SCMP_CMP_EQ": 4,
        "SCMP_CMP_GE": 5, "SCMP_CMP_GT": 6, "SCMP_CMP_MASKED_EQ": 7}
# profile "flags" -> libseccomp filter attribute (TSYNC is moot: the init is single-threaded)
_FLAGS = {"SECCOMP_FILTER_FLAG_TSYNC": None, "SECCOMP_FILTER_FLAG_LOG": "CTL_LOG",
          "SECCOMP_FILTER_FLAG_SPEC_ALLOW": "CTL_SSB"}
# uname machine -> (moby's arch name used in includes/excludes, libseccomp arch)
_MACHINES = {
    "x86_64": ("amd64", "SCMP_ARCH_X86_64"), "aarch64": ("arm64", "SCMP_ARCH_AARCH64"),
    "i686": ("x86", "SCMP_ARCH_X86"), "armv7l": ("arm", "SCMP_ARCH_ARM"),
    "ppc64le": ("ppc64le", "SCMP_ARCH_PPC64LE"), "s390x": ("s390x", "SCMP_ARCH_S390X"),
    "riscv64": ("riscv64", "SCMP_ARCH_RISCV64"),
}


@dataclass(frozen=True, slots=True)
class Rule:
    """One libseccomp rule: ``args`` holds (index, op, value, value_two) comparisons."""

    name: str
    action: int
    args: tuple[tuple[int, int, int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    default_action: int
    arches: tuple[str, ...]  # SCMP_ARCH_* names: the native one first
    rules: tuple[Rule, ...]
    attrs: tuple[str, ...] = ()  # pyseccomp Attr names to switch on


def _bad(source: str, why: str) -> InvalidArgument:
    return InvalidArgument(f"invalid seccomp profile {source}: {why}",
                           title="Invalid seccomp profile")


def _action(name: Any, ret: Any, default_ret: int, source: str) -> int:
    if name == "SCMP_ACT_NOTIFY":
        raise _bad(source, "SCMP_ACT_NOTIFY needs a seccomp agent, which is not supported")
    if name not in _ACTIONS:
        raise _bad(source, f"unknown action {name!r}")
    if name not in _WITH_RET:
        return _ACTIONS[name]
    ret = default_ret if ret is None else ret
    if not isinstance(ret, int) or not 0 <= ret <= 0xFFFF:
        raise _bad(source, f"errnoRet {ret!r} is not an errno")
    return _ACTIONS[name] | ret


def _names(entry: dict[str, Any], source: str) -> list[str]:
    if entry.get("name") and entry.get("names"):
        raise _bad(source, "both 'name' and 'names' are set in one rule")
    names = [entry["name"]] if entry.get("name") else entry.get("names") or []
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise _bad(source, f"'names' must be a list of syscall names, got {names!r}")
    return names


def _conditions(entry: dict[str, Any], source: str) -> list[tuple[int, int, int, int]]:
    out = []
    for arg in entry.get("args") or []:
        index, op = arg.get("index"), arg.get("op")
        value, two = arg.get("value", 0), arg.get("valueTwo", 0)
        if op not in _OPS:
            raise _bad(source, f"unknown operator {op!r}")
        if not isinstance(index, int) or not 0 <= index <= 5:
            raise _bad(source, f"argument index {index!r} is not 0..5")
        for v in (value, two):
            if not isinstance(v, int) or not 0 <= v < 1 << 64:
                raise _bad(source, f"argument value {v!r} is not a 64-bit unsigned number")
        out.append((index, _OPS[op], value, two))
    return out


def validate(profile: Any, source: str = "<profile>") -> dict[str, Any]:
    """Check a parsed profile completely (rules that would be skipped too)."""
    if not isinstance(profile, dict):
        raise _bad(source, "the top level must be a JSON object")
    if profile.get("architectures") and profile.get("archMap"):
        raise _bad(source, "use either 'architectures' or 'archMap', not both")
    if profile.get("listenerPath"):
        raise _bad(source, "listenerPath (seccomp notify) is not supported")
    for flag in profile.get("flags") or []:
        if flag not in _FLAGS:
            raise _bad(source, f"unknown flag {flag!r}")
    default_ret = profile.get("defaultErrnoRet", _EPERM)
    _action(profile.get("defaultAction"), default_ret, _EPERM, source)
    syscalls = profile.get("syscalls") or []
    if not isinstance(syscalls, list):
        raise _bad(source, "'syscalls' must be a list")
    for entry in syscalls:
        if not isinstance(entry, dict):
            raise _bad(source, f"syscall rule {entry!r} is not an object")
        _names(entry, source)
        _action(entry.get("action"), entry.get("errnoRet"), _EPERM, source)
        _conditions(entry, source)
    return profile


def load_profile(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Read and validate a Docker-format profile; ``None`` is Docker's default."""
    where = os.fspath(path) if path is not None else DEFAULT_PROFILE
    try:
        with open(where, "rb") as f:
            profile = json.load(f)
    except OSError as err:
        raise InvalidArgument(f"opening seccomp profile {where}: {err.strerror}") from err
    except ValueError as err:  # JSONDecodeError and UnicodeDecodeError
        raise _bad(where, f"not valid JSON ({err})") from err
    return validate(profile, where)


def native_arch(machine: str | None = None) -> tuple[str, str]:
    """(moby arch name, libseccomp arch name), e.g. ("amd64", "SCMP_ARCH_X86_64")."""
    import platform  # here: create only validates profiles, and platform costs ~1 ms

    machine = machine or platform.machine()
    try:
        return _MACHINES[machine]
    except KeyError:
        raise InvalidArgument(f"seccomp: unsupported machine {machine!r}") from None


def _version(text: str) -> tuple[int, int]:
    parts = (text.split("-", 1)[0].split(".") + ["0"])[:2]
    digits = ["".join(ch for ch in p if ch.isdigit()) or "0" for p in parts]
    return int(digits[0]), int(digits[1])


def _selected(entry: dict[str, Any], caps: set[str], arch: str,
              kernel: tuple[int, int]) -> bool:
    # moby setupSeccomp: any excluded cap/arch drops the rule; every included
    # cap, and one of the included arches, are required.
    exc, inc = entry.get("excludes") or {}, entry.get("includes") or {}
    if arch in (exc.get("arches") or []) or caps & set(exc.get("caps") or []):
        return False
    if exc.get("minKernel") and kernel >= _version(exc["minKernel"]):
        return False
    if inc.get("arches") and arch not in inc["arches"]:
        return False
    if not set(inc.get("caps") or []) <= caps:
        return False
    return not (inc.get("minKernel") and kernel < _version(inc["minKernel"]))


def plan(profile: dict[str, Any], caps: Iterable[str], *, machine: str | None = None,
         kernel_release: str | None = None) -> Plan:
    """The rules of ``profile`` that apply to a container holding ``caps`` on this host."""
    arch, scmp_arch = native_arch(machine)
    kernel = _version(kernel_release or os.uname().release)
    held = {c.upper() if c.upper().startswith("CAP_") else "CAP_" + c.upper() for c in caps}
    default = _action(profile.get("defaultAction"), profile.get("defaultErrnoRet"), _EPERM,
                      "<profile>")
    arches = [scmp_arch]
    if profile.get("architectures"):  # old format: a flat list, taken as is (like runc)
        arches += [a for a in profile["architectures"] if a != scmp_arch]
    for entry in profile.get("archMap") or []:
        if entry.get("architecture") == scmp_arch:
            arches += entry.get("subArchitectures") or []
    rules: list[Rule] = []
    for entry in profile.get("syscalls") or []:
        if not _selected(entry, held, arch, kernel):
            continue
        action = _action(entry.get("action"), entry.get("errnoRet"), _EPERM, "<profile>")
        if action == default:
            continue  # libseccomp rejects a rule that repeats the default
        conds = _conditions(entry, "<profile>")
        indexes = [c[0] for c in conds]
        # Same-argument conditions cannot be ANDed by libseccomp: runc adds one
        # rule per condition (OR), and profiles are written for that.
        groups = [(c,) for c in conds] if len(set(indexes)) < len(indexes) else [tuple(conds)]
        rules += [Rule(name, action, g) for name in _names(entry, "<profile>") for g in groups]
    attrs = tuple(a for f in profile.get("flags") or [] if (a := _FLAGS.get(f)))
    return Plan(default, tuple(dict.fromkeys(arches)), tuple(rules), attrs)


_syscall_numbers: dict[str, int] = {}


def compile_filter(profile: dict[str, Any], caps: Sequence[str] | Iterable[str]) -> Any:
    """Build (not load) a ``pyseccomp.SyscallFilter`` for a container holding ``caps``.

    Cheap enough to run on every start; do it in the monitor before forking so
    a bad profile fails before the container exists, and load it in the init.
    """
    import pyseccomp  # deferred: its import runs find_library (≈20 ms)

    p = plan(profile, caps)
    filt = pyseccomp.SyscallFilter(p.default_action)
    # libseccomp sets no_new_privs on load by default; Docker does not (runc
    # turns it off too), so the init decides.
    filt.set_attr(pyseccomp.Attr.CTL_NNP, 0)
    try:  # kernel errno from load instead of ECANCELED (libseccomp >= 2.5)
        filt.set_attr(pyseccomp.Attr.API_SYSRAWRC, 1)
    except OSError:
        pass
    try:
        # A binary tree over the syscall numbers instead of libseccomp's default
        # linear list: the same verdicts, O(log n) per syscall, and the kernel
        # checks and JITs the Docker profile's program in half the time (≈0.6 ms
        # instead of 1.2 on every container start).
        filt.set_attr(pyseccomp.Attr.CTL_OPTIMIZE, 2)
    except OSError:
        pass  # libseccomp < 2.5
    for attr in p.attrs:
        filt.set_attr(getattr(pyseccomp.Attr, attr), 1)
    for name in p.arches[1:]:
        arch = getattr(pyseccomp.Arch, name.removeprefix("SCMP_ARCH_"), None)
        if arch is None:
            raise InvalidArgument(f"seccomp: unknown architecture {name!r}")
        filt.add_arch(arch)
    for rule in p.rules:
        nr = _syscall_numbers.get(rule.name)
        if nr is None:
            nr = _syscall_numbers[rule.name] = pyseccomp.resolve_syscall(
                pyseccomp.Arch.NATIVE, rule.name)
        if nr == -1:  # __NR_SCMP_ERROR: this libseccomp does not know the name
            continue
        try:
            filt.add_rule(rule.action, nr, *(pyseccomp.Arg(*c) for c in rule.args))
        except OSError as err:
            raise InvalidArgument(
                f"seccomp: cannot add the rule for {rule.name}: {err.strerror}") from err
    return filt


def apply_filter(filt: Any) -> None:
    """Load a compiled filter into this process (the container init, just before exec).

    The kernel accepts it only if no_new_privs is set or the process holds
    CAP_SYS_ADMIN. So, like runc: when ``--security-opt no-new-privileges`` is
    on, set ``PR_SET_NO_NEW_PRIVS`` and load the filter last; otherwise load it
    *before* dropping capabilities (:func:`engine.runtime.caps.apply_identity_and_caps`),
    which means the profile must allow the syscalls the init makes afterwards
    (capset, prctl, setgroups/setgid/setuid, prlimit64, close_range, execve;
    Docker's default profile does).
    """
    try:
        filt.load()
    except OSError as err:
        if err.errno == errno.EACCES:
            raise PermissionDenied(
                "loading the seccomp filter needs no_new_privs or CAP_SYS_ADMIN") from err
        raise
