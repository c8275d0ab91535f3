"""What a stage has built so far: layers, image config, history, ARG values.

Config changes follow Docker's rules (``dockerfile2llb``/``dispatchers.go``):
shell forms go through the current SHELL, ENTRYPOINT resets a CMD inherited
from the base (not one set in this stage), EXPOSE normalises to
``port/proto`` and expands ranges, ENV and ARG feed expansion with ENV
winning over an ARG of the same name, and ONBUILD triggers of the base are
consumed by the child.
"""

from __future__ import annotations

import copy
from typing import Any

from ..errors import InvalidArgument
from ..images.model import descriptor, rfc3339
from ..record import dataclass, field
from . import ast
from .cache import CacheResult

DEFAULT_SHELL = ["/bin/sh", "-c"]
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
HISTORY_COMMENT = "buildkit.dockerfile.v0"
# Usable without an ARG line, and never written to the history (Docker's list).
PROXY_ARGS = frozenset({"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
                        "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"})


@dataclass
class StageState:
    stage: ast.Stage
    label: str  # "build", "stage-1", or "" when the Dockerfile has one stage
    total: int = 1  # N of BuildKit's [n/N]: FROM plus the steps that touch files
    done: int = 0
    diff_ids: list[str] = field(default_factory=list)
    chain: list[str] = field(default_factory=list)
    layers: list[dict[str, Any]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    platform: dict[str, str] = field(default_factory=dict)
    args: dict[str, str] = field(default_factory=dict)  # declared ARGs that have a value
    cmd_set: bool = False
    author: str = ""
    created: float = 0.0  # of the newest layer: what metadata steps and the image inherit

    @property
    def top(self) -> str:
        return self.chain[-1] if self.chain else ""

    @property
    def env(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for item in self.config.get("Env") or []:
            k, _, v = item.partition("=")
            out[k] = v
        return out

    def expansion_env(self) -> dict[str, str]:
        return {**self.args, **self.env}

    def run_env(self, proxies: dict[str, str]) -> list[str]:
        """The RUN process environment: ENV, then ARG values ENV does not shadow."""
        env = list(self.config.get("Env") or [])
        names = set(self.env)
        env += [f"{k}={v}" for k, v in sorted({**proxies, **self.args}.items())
                if k not in names]
        return env

    @property
    def shell(self) -> list[str]:
        return list(self.config.get("Shell") or DEFAULT_SHELL)

    @property
    def workdir(self) -> str:
        return str(self.config.get("WorkingDir") or "/")

    def set_env(self, pairs: tuple[tuple[str, str], ...]) -> None:
        env = list(self.config.get("Env") or [])
        for key, value in pairs:
            env = [e for e in env if e.partition("=")[0] != key] + [f"{key}={value}"]
        self.config["Env"] = env

    def add_result(self, result: CacheResult) -> None:
        if not result.empty:
            self.diff_ids.append(result.diff_id)
            self.chain.append(result.chain_id)
            self.layers.append(descriptor(result.media_type, result.layer_digest,
                                          result.layer_size))
        if result.created:
            self.created = max(self.created, result.created)

    def add_history(self, created_by: str, empty: bool) -> None:
        entry: dict[str, Any] = {"created": rfc3339(self.created), "created_by": created_by,
                                 "comment": HISTORY_COMMENT}
        if empty:
            entry["empty_layer"] = True
        self.history.append(entry)


def from_image(st: StageState, image_config: dict[str, Any]) -> None:
    """Start ``st`` from a base image's config blob."""
    st.config = copy.deepcopy(image_config.get("config") or {})
    st.history = copy.deepcopy(image_config.get("history") or [])
    st.platform = {k: str(image_config[k]) for k in ("architecture", "os", "variant",
                                                    "os.version") if image_config.get(k)}
    st.diff_ids = list((image_config.get("rootfs") or {}).get("diff_ids") or [])
    if not st.config.get("Env"):
        st.config["Env"] = [f"PATH={DEFAULT_PATH}"]


def scratch(st: StageState, arch: str, os_: str) -> None:
    st.config = {"Env": [f"PATH={DEFAULT_PATH}"]}
    st.platform = {"architecture": arch, "os": os_}


def command(st: StageState, instr: ast.ShellOrExec) -> list[str]:
    """CMD/ENTRYPOINT/RUN argv: the exec form as is, the shell form through SHELL."""
    if instr.json:
        return list(instr.command)
    return [*st.shell, " ".join(instr.command)]


def set_cmd(st: StageState, instr: ast.Cmd) -> None:
    st.config["Cmd"] = command(st, instr)
    st.cmd_set = True


def set_entrypoint(st: StageState, instr: ast.Entrypoint) -> None:
    st.config["Entrypoint"] = command(st, instr)
    if not st.cmd_set:
        st.config["Cmd"] = None  # an inherited CMD makes no sense after a new ENTRYPOINT


def expose(st: StageState, ports: tuple[str, ...]) -> None:
    exposed = dict(st.config.get("ExposedPorts") or {})
    for p in ports:
        num, _, proto = p.partition("/")
        proto = (proto or "tcp").lower()
        lo, _, hi = num.partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()) or proto not in ("tcp", "udp", "sctp"):
            raise InvalidArgument(f"invalid port {p!r} in EXPOSE")
        first, last = int(lo), int(hi or lo)
        if not 0 < first <= last < 65536:
            raise InvalidArgument(f"invalid port {p!r} in EXPOSE")
        for n in range(first, last + 1):
            exposed[f"{n}/{proto}"] = {}
    st.config["ExposedPorts"] = exposed


def healthcheck(st: StageState, instr: ast.Healthcheck) -> None:
    hc: dict[str, Any] = {"Test": list(instr.test)}
    if instr.kind == "CMD" and not instr.json:
        hc["Test"] = ["CMD-SHELL", " ".join(instr.command)]
    for key, value in (("Interval", instr.interval), ("Timeout", instr.timeout),
                       ("StartPeriod", instr.start_period),
                       ("StartInterval", instr.start_interval), ("Retries", instr.retries)):
        if value:
            hc[key] = value
    st.config["Healthcheck"] = hc


def exposed_text(st: StageState) -> str:
    """``EXPOSE map[80/tcp:{}]``: how BuildKit writes EXPOSE into the history."""
    ports = " ".join(f"{p}:{{}}" for p in sorted(st.config.get("ExposedPorts") or {}))
    return f"EXPOSE map[{ports}]"
