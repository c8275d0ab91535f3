"""Running a bundle with an external OCI runtime (``--runtime runc|crun``).

The same ``config.json`` the built-in init reads, made concrete for a runtime
that knows nothing of pydock: the user resolved to numbers, Docker's seccomp
profile filtered for the container's capabilities and written in the runtime
spec's own format. The monitor then drives ``create``/``start``/``delete``;
the container's PID 1 is reparented to the monitor (a subreaper), so it waits
on it exactly as on its own init.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from . import seccomp, users

_DROP = ("includes", "excludes", "comment")


def oci_seccomp(profile: dict[str, Any], caps: list[str]) -> dict[str, Any]:
    arch, scmp_arch = seccomp.native_arch()
    kernel = seccomp._version(os.uname().release)
    held = {c if c.startswith("CAP_") else "CAP_" + c for c in caps}
    arches = [scmp_arch]
    for entry in profile.get("archMap") or []:
        if entry.get("architecture") == scmp_arch:
            arches += entry.get("subArchitectures") or []
    syscalls = [{k: v for k, v in e.items() if k not in _DROP}
                for e in profile.get("syscalls") or []
                if seccomp._selected(e, held, arch, kernel)]
    out: dict[str, Any] = {"defaultAction": profile.get("defaultAction", "SCMP_ACT_ERRNO"),
                           "architectures": arches, "syscalls": syscalls}
    if "defaultErrnoRet" in profile:
        out["defaultErrnoRet"] = profile["defaultErrnoRet"]
    return out


def concrete_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with pydock's annotations turned into what runc/crun expect."""
    spec = dict(spec)
    ann = spec.get("annotations", {})
    ident = users.identity_for(spec, spec["root"]["path"])
    proc = dict(spec["process"])
    proc["user"] = {"uid": ident.uid, "gid": ident.gid,
                    "additionalGids": list(ident.additional_gids)}
    if not any(e.startswith("HOME=") for e in proc["env"]):
        proc["env"] = [*proc["env"], f"HOME={ident.home or '/'}"]
    if ident.uid != 0:
        caps = proc["capabilities"]
        proc["capabilities"] = {"bounding": caps["bounding"]}
    spec["process"] = proc
    linux = dict(spec["linux"])
    mode = ann.get("io.pydock.seccomp", "default")
    if mode != "unconfined":
        profile = seccomp.load_profile(None if mode == "default" else mode)
        linux["seccomp"] = oci_seccomp(profile, spec["process"]["capabilities"]["bounding"])
    # runc manages cgroups itself; our own cgroup stays the parent's business.
    spec["linux"] = linux
    return spec


def command(runtime: str, state_root: Path, log: Path) -> list[str]:
    # The runtime's own errors go to a log file: its stderr is the container's.
    log_flag = ["--log", str(log), "--log-format", "json"] if runtime == "runc" \
        else [f"--log=file:{log}"]
    return [runtime, "--root", str(state_root), *log_flag]


def last_error(log: Path) -> str:
    try:
        lines = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        try:
            rec = json.loads(line)
        except ValueError:
            if line.strip():
                return line.strip()
            continue
        if rec.get("level") in ("error", "fatal") or "msg" in rec:
            return str(rec.get("msg", line))
    return ""


def wrap_for_hybrid(argv: list[str], runtime: str, cgroup_root: Path) -> list[str]:
    """crun refuses hybrid cgroup hosts; hide the v2 mount in a private mount namespace."""
    unified = cgroup_root / "unified"
    if runtime != "crun" or not (unified / "cgroup.controllers").exists():
        return argv
    script = f'mount --make-rslave / && umount "{unified}" && exec "$@"'
    return ["unshare", "-m", "sh", "-c", script, "sh", *argv]


def run(argv: list[str], **kw: Any) -> subprocess.CompletedProcess[bytes]:
    kw.setdefault("stdin", subprocess.DEVNULL)
    kw.setdefault("stdout", subprocess.DEVNULL)
    kw.setdefault("stderr", subprocess.DEVNULL)
    return subprocess.run(argv, **kw)


def exit_code_for(stderr: str) -> int:
    """docker's mapping of a runtime's start error to run's exit code."""
    low = stderr.lower()
    if "executable file not found" in low or "not found in $path" in low or \
            "no such file or directory" in low:
        return 127
    if "permission denied" in low:
        return 126
    return 125
