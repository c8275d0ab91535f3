"""Parsing docker's container flags into checked values (pure, no I/O).

Everything a user types is validated here before anything is created, so bad
input is one clear :class:`InvalidArgument` and leaves nothing behind.
"""

from __future__ import annotations

import re
import resource

from ..errors import InvalidArgument
from ..record import dataclass

_RLIMITS = {
    "as": "RLIMIT_AS", "core": "RLIMIT_CORE", "cpu": "RLIMIT_CPU", "data": "RLIMIT_DATA",
    "fsize": "RLIMIT_FSIZE", "locks": "RLIMIT_LOCKS", "memlock": "RLIMIT_MEMLOCK",
    "msgqueue": "RLIMIT_MSGQUEUE", "nice": "RLIMIT_NICE", "nofile": "RLIMIT_NOFILE",
    "nproc": "RLIMIT_NPROC", "rss": "RLIMIT_RSS", "rtprio": "RLIMIT_RTPRIO",
    "rttime": "RLIMIT_RTTIME", "sigpending": "RLIMIT_SIGPENDING", "stack": "RLIMIT_STACK",
}
UNLIMITED = 2**64 - 1
DEFAULT_NOFILE = (1024, 524288)
_LABEL = r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
_HOSTNAME = re.compile(rf"{_LABEL}(\.{_LABEL})*\Z")
_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*\Z")


@dataclass(frozen=True)
class RestartPolicy:
    name: str  # "no", "on-failure", "always", "unless-stopped"
    max_retries: int = 0

    def to_json(self) -> dict[str, object]:
        return {"Name": "" if self.name == "no" else self.name,
                "MaximumRetryCount": self.max_retries}


def parse_restart(value: str) -> RestartPolicy:
    name, _, count = (value or "no").partition(":")
    if name not in ("no", "on-failure", "always", "unless-stopped"):
        raise InvalidArgument(f"invalid restart policy {value!r} "
                              "(no, on-failure[:max-retries], always, unless-stopped)")
    if count:
        if name != "on-failure":
            raise InvalidArgument(f"maximum retry count cannot be used with restart policy "
                                  f"{name!r}")
        if not count.isdigit():
            raise InvalidArgument(f"invalid restart policy {value!r}: bad retry count")
    return RestartPolicy(name, int(count or 0))


# The same number on every Linux architecture; the default STOPSIGNAL of every
# create, so a plain `run` skips importing signal (~0.5 ms) for it.
_PORTABLE = {"SIGHUP": 1, "SIGINT": 2, "SIGQUIT": 3, "SIGKILL": 9, "SIGTERM": 15}


def parse_signal(value: str) -> int:
    """``SIGTERM``, ``TERM``, ``term`` or ``15`` → 15."""
    v = value.strip()
    name = v.upper()
    name = name if name.startswith("SIG") else "SIG" + name
    if name in _PORTABLE:
        return _PORTABLE[name]
    import signal

    if v.isdigit():
        n = int(v)
        if 0 < n < signal.NSIG:
            return n
    else:
        sig = getattr(signal.Signals, name, None) if name in signal.Signals.__members__ else None
        if sig is not None:
            return int(sig)
    raise InvalidArgument(f"invalid signal: {value}")


def parse_ulimit(value: str) -> tuple[str, int, int]:
    """``nofile=1024:4096`` → (``RLIMIT_NOFILE``, soft, hard); ``-1`` is unlimited."""
    name, eq, limits = value.partition("=")
    if not eq or name not in _RLIMITS:
        raise InvalidArgument(f"invalid ulimit {value!r} (want name=soft[:hard], names: "
                              f"{', '.join(sorted(_RLIMITS))})")
    soft_s, _, hard_s = limits.partition(":")
    try:
        soft = UNLIMITED if soft_s == "-1" else int(soft_s)
        hard = soft if not hard_s else UNLIMITED if hard_s == "-1" else int(hard_s)
    except ValueError:
        raise InvalidArgument(f"invalid ulimit {value!r}: values must be integers") from None
    if soft > hard:
        raise InvalidArgument(f"invalid ulimit {value!r}: soft limit exceeds hard limit")
    if soft < 0 or hard < 0:
        raise InvalidArgument(f"invalid ulimit {value!r}: negative limit")
    return _RLIMITS[name], soft, hard


def default_rlimits() -> list[tuple[str, int, int]]:
    """nofile 1024:524288, clamped to what this host lets a root process set."""
    _, host_hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    hard = DEFAULT_NOFILE[1] if host_hard == resource.RLIM_INFINITY else min(
        DEFAULT_NOFILE[1], host_hard)
    return [("RLIMIT_NOFILE", min(DEFAULT_NOFILE[0], hard), hard)]


@dataclass(frozen=True)
class SecurityOpts:
    seccomp: str  # "default", "unconfined" or a file path
    no_new_privileges: bool


def parse_security_opts(values: tuple[str, ...]) -> SecurityOpts:
    seccomp = "default"
    nnp = False
    for v in values:
        key, sep, val = v.partition("=" if "=" in v else ":")
        if key == "seccomp" and sep:
            seccomp = val if val else "default"
        elif key == "no-new-privileges":
            if val not in ("", "true", "false"):
                raise InvalidArgument(f"invalid --security-opt {v!r}: want true or false")
            nnp = val != "false"
        elif key in ("label", "apparmor") and sep:
            continue  # accepted and ignored: no LSM is configured on these hosts
        else:
            raise InvalidArgument(f"invalid --security-opt {v!r} "
                                  "(seccomp=unconfined|<file>, no-new-privileges)")
    return SecurityOpts(seccomp, nnp)


def check_hostname(value: str) -> str:
    if len(value) > 64 or not _HOSTNAME.match(value):
        raise InvalidArgument(f"invalid hostname {value!r}")
    return value


def check_name(value: str) -> str:
    name = value.lstrip("/")
    if not _NAME.match(name):
        raise InvalidArgument(f"invalid container name {value!r}, only [a-zA-Z0-9][a-zA-Z0-9_.-] "
                              "are allowed")
    return name


def parse_env(items: tuple[str, ...], base: list[str]) -> list[str]:
    """Merge ``KEY=VALUE`` items over ``base``; a bare ``KEY`` copies the caller's value."""
    import os

    env = {e.partition("=")[0]: e for e in base}
    for item in items:
        key, eq, _ = item.partition("=")
        if not key:
            raise InvalidArgument(f"invalid environment variable {item!r}")
        if not eq:
            if key in os.environ:
                env[key] = f"{key}={os.environ[key]}"
            continue
        env[key] = item
    return list(env.values())


def parse_env_file(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as err:
        raise InvalidArgument(f"open {path}: {err.strerror}") from err
    out = []
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            if " " in line.partition("=")[0] or line.startswith("="):
                raise InvalidArgument(f"{path}: invalid variable {line.partition('=')[0]!r}")
            out.append(line)
    return out
