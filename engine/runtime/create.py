"""``docker create``: check every flag, then write the record, the spec and the /etc files.

Nothing is written until all input is validated, and a failure while writing
removes the half-made directory, so bad input leaves nothing behind.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ..cgroups import get_driver
from ..cgroups.detect import mode as cgroup_mode
from ..config import EngineConfig
from ..errors import EngineError, InvalidArgument
from ..fsutil import atomic_write_bytes, atomic_write_json
from ..images.store import ImageRecord
from ..types import CreateOptions
from . import attachments, healthcfg, resources
from . import caps as capmod
from . import spec as specmod
from .options import (
    check_hostname,
    check_name,
    parse_env,
    parse_restart,
    parse_security_opts,
    parse_signal,
    parse_ulimit,
)
from .state import ContainerStore

HOSTS = """127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::\tip6-localnet
ff00::\tip6-mcastprefix
ff02::1\tip6-allnodes
ff02::2\tip6-allrouters
"""
TINI = (Path("/usr/bin/tini-static"), Path("/usr/bin/docker-init"), Path("/usr/bin/tini"))


def _checked(opts: CreateOptions, image: ImageRecord) -> dict[str, Any]:
    """Everything derived from the flags, or InvalidArgument on the first bad one."""
    img_cfg = image.config.get("config") or {}
    if opts.runtime not in ("pydock", "runc", "crun"):
        raise InvalidArgument(f"unknown or invalid runtime name: {opts.runtime}")
    if opts.runtime != "pydock":
        import shutil  # here, not at the top: it pulls bz2 and lzma (~2 ms) into every run

        if not shutil.which(opts.runtime):
            raise InvalidArgument(f"runtime {opts.runtime} is not installed")
    restart = parse_restart(opts.restart)
    if opts.auto_remove and restart.name != "no":
        raise InvalidArgument("conflicting options: cannot specify both --restart and --rm")
    security = parse_security_opts(opts.security_opt)
    if security.seccomp not in ("default", "unconfined"):
        from .seccomp import load_profile  # only a profile file needs the planner

        load_profile(security.seccomp)  # a bad file is reported now, not at start
    for u in opts.ulimits:
        parse_ulimit(u)
    capmod.resolve_caps(list(opts.cap_add), list(opts.cap_drop), opts.privileged)
    stop_signal = opts.stop_signal or img_cfg.get("StopSignal") or "SIGTERM"
    parse_signal(stop_signal)
    log_opts = [o for o in opts.log_opts]
    if log_opts:
        from .logs import parse_log_opts  # the defaults need no check

        parse_log_opts(log_opts)
    init_bin = None
    if opts.init:
        init_bin = next((p for p in TINI if p.exists()), None)
        if init_bin is None:
            raise InvalidArgument("--init needs tini (apt install tini)")
    args = specmod.command_args(img_cfg, opts.entrypoint, opts.command)
    res = resources.host_config(opts)
    health = healthcfg.merge(opts, img_cfg.get("Healthcheck"))
    return {"resources": res, "limits": resources.limits_from_host_config(res),
            "healthcheck": health, "restart": restart, "security": security,
            "stop_signal": stop_signal,
            "init_bin": init_bin, "args": args, "img_cfg": img_cfg,
            "log_config": dict(o.split("=", 1) for o in log_opts)}


def create(cfg: EngineConfig, store: ContainerStore, opts: CreateOptions, image: ImageRecord,
           image_ref: str) -> dict[str, Any]:
    c = _checked(opts, image)
    c["att"] = attachments.check(cfg, store, opts, c["img_cfg"])  # volumes, networks
    name = check_name(opts.name) if opts.name else None
    if opts.hostname:
        check_hostname(opts.hostname)
    img_cfg = c["img_cfg"]
    labels = dict(img_cfg.get("Labels") or {})
    labels.update(dict(opts.labels))
    rec: dict[str, Any] = {
        "image": image_ref,
        "image_id": image.id,
        "image_chain_id": image.top_chain_id,
        "image_chain_ids": image.chain_ids,
        "created": time.time(),
        "runtime": opts.runtime,
        "config": {
            "Image": image_ref, "Cmd": list(opts.command) or (None if opts.entrypoint is not None
                                                               else img_cfg.get("Cmd")),
            "Entrypoint": list(opts.entrypoint) if opts.entrypoint is not None
            else img_cfg.get("Entrypoint"),
            "User": opts.user if opts.user is not None else img_cfg.get("User", ""),
            "WorkingDir": opts.workdir or img_cfg.get("WorkingDir") or "",
            "Labels": labels, "Tty": opts.tty, "OpenStdin": opts.stdin_open,
            "StdinOnce": opts.stdin_open, "AttachStdin": opts.stdin_open,
            "StopSignal": c["stop_signal"], "StopTimeout": opts.stop_timeout,
            "ExposedPorts": img_cfg.get("ExposedPorts"), "Volumes": img_cfg.get("Volumes"),
            "Healthcheck": c["healthcheck"],
        },
        "host_config": {
            "AutoRemove": opts.auto_remove, "RestartPolicy": c["restart"].to_json(),
            "NetworkMode": opts.network, "Privileged": opts.privileged,
            "ReadonlyRootfs": opts.read_only, "CapAdd": list(opts.cap_add) or None,
            "CapDrop": list(opts.cap_drop) or None, "SecurityOpt": list(opts.security_opt)
            or None, "Ulimits": [_ulimit_json(u) for u in opts.ulimits] or None,
            "Init": opts.init, "Runtime": opts.runtime, "GroupAdd": list(opts.group_add) or None,
            "LogConfig": {"Type": "json-file", "Config": c["log_config"]},
            **c["resources"],
        },
        "state": {"status": "created", "exit_code": 0, "pid": 0, "started_at": 0.0,
                  "finished_at": 0.0, "error": "", "oom_killed": False, "restart_count": 0,
                  "paused": False, "manual_stop": False, "monitor_pid": 0},
    }
    rec["id"] = store.new_dir()
    try:
        # The bundle first, the record last: one write of it (and its fsyncs) makes
        # the container exist, with every file it needs already in place.
        return attachments.create_record(
            cfg, store, rec, name, c["att"], opts,
            lambda r: _write_bundle(cfg, store, r, opts, c))
    except BaseException:
        import shutil  # only on failure (create_record has dropped new volumes itself)

        shutil.rmtree(store.dir(rec["id"]), ignore_errors=True)
        raise


def _write_bundle(cfg: EngineConfig, store: ContainerStore, rec: dict[str, Any],
                  opts: CreateOptions, c: dict[str, Any]) -> None:
    cid = rec["id"]
    cdir = store.dir(cid)
    hostname = opts.hostname or cid[:12]
    rec["config"]["Hostname"] = hostname
    env = parse_env(opts.env, specmod.base_env(c["img_cfg"], hostname, opts.tty))
    rec["config"]["Env"] = env
    args = c["args"]
    if c["init_bin"] is not None:
        args = [specmod.INIT_PATH, "--", *args]
    # sync="file" here: the record's save (sync="all") fsyncs cdir, which makes
    # every rename in it durable at once (4 directory fsyncs fewer, same guarantee).
    atomic_write_bytes(cdir / "hostname", f"{hostname}\n".encode(), sync="file")
    hosts = attachments.hosts_text(rec, HOSTS, _host_file("/etc/hosts", HOSTS))
    atomic_write_bytes(cdir / "hosts", hosts.encode(), sync="file")
    atomic_write_bytes(cdir / "resolv.conf",
                       attachments.resolv_text(_resolv_conf(), opts).encode(), sync="file")
    spec = specmod.build(specmod.SpecInput(
        container_id=cid, rootfs=cdir / "merged", args=args, env=env,
        cwd=rec["config"]["WorkingDir"] or "/", user=rec["config"]["User"] or "",
        hostname=hostname, tty=opts.tty, read_only=opts.read_only,
        privileged=opts.privileged, cap_add=opts.cap_add, cap_drop=_cap_drop(cfg, opts),
        security=c["security"], ulimits=opts.ulimits, network=opts.network,
        cgroup_ns=cgroup_mode(cfg.cgroup_root) == "v2",
        etc_files={"/etc/hostname": cdir / "hostname", "/etc/hosts": cdir / "hosts",
                   "/etc/resolv.conf": cdir / "resolv.conf"},
        init_binary=c["init_bin"], cgroups_path=f"/{cfg.cgroup_parent}/{cid}",
        **attachments.spec_fields(cfg, rec)))
    if opts.group_add:
        spec["annotations"]["io.pydock.group_add"] = ",".join(opts.group_add)
    spec["linux"]["resources"].update(resources.spec_resources(c["limits"]))
    rec["warnings"] = resources.unsupported(get_driver(cfg), c["limits"])
    atomic_write_json(cdir / "config.json", spec, sync="file")
    for d in ("upper", "work", "merged"):
        (cdir / d).mkdir(mode=0o755, exist_ok=True)


def _cap_drop(cfg: EngineConfig, opts: CreateOptions) -> tuple[str, ...]:
    """On cgroup v2 pydock writes no device rules (that needs eBPF), so CAP_MKNOD is
    dropped unless asked for: without it a container cannot make a host disk node."""
    wants_mknod = any(c.upper().removeprefix("CAP_") in ("MKNOD", "ALL") for c in opts.cap_add)
    if cgroup_mode(cfg.cgroup_root) == "v2" and not opts.privileged and not wants_mknod:
        return (*opts.cap_drop, "MKNOD")
    return opts.cap_drop


def _ulimit_json(u: str) -> dict[str, Any]:
    name, soft, hard = parse_ulimit(u)
    return {"Name": u.partition("=")[0], "Soft": soft, "Hard": hard}


def _host_file(path: str, fallback: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return fallback


def _resolv_conf() -> str:
    """The host's resolv.conf minus loopback servers (they mean nothing in a netns)."""
    text = _host_file("/etc/resolv.conf", "")
    if "127.0.0.53" in text:
        text = _host_file("/run/systemd/resolve/resolv.conf", text)
    lines = [ln for ln in text.splitlines()
             if not (ln.startswith("nameserver") and (ln.split()[1:2] or [""])[0].startswith(
                 ("127.", "::1")))]
    if not any(ln.startswith("nameserver") for ln in lines):
        lines += ["nameserver 8.8.8.8", "nameserver 8.8.4.4"]
    return "\n".join(lines) + "\n"


def load_spec(cdir: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((cdir / "config.json").read_text()))
    except (OSError, ValueError) as err:
        raise EngineError(f"container bundle is damaged: {err}") from err
