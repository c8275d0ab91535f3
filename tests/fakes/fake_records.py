"""A fake container's record, shaped like the real ``state.json`` (engine/runtime/create.py),
so the engine's own views (``engine.runtime.views``) read it unchanged.

The flags are checked with the engine's pure parsers, in the real order, so a bad
flag is refused with the real words before anything is made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.errors import InvalidArgument
from engine.runtime import healthcfg, resources
from engine.runtime.options import check_name, parse_env, parse_restart, parse_signal
from engine.types import CreateOptions

DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_ADJ = ("brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "keen")
_NOUN = ("turing", "hopper", "lovelace", "ritchie", "knuth", "dijkstra", "liskov", "pike")


def check_create(opts: CreateOptions, img_cfg: dict[str, Any]) -> dict[str, Any]:
    """Everything derived from the flags, or the engine's error for the first bad one."""
    restart = parse_restart(opts.restart)
    if opts.auto_remove and restart.name != "no":
        raise InvalidArgument("conflicting options: cannot specify both --restart and --rm")
    stop_signal = opts.stop_signal or img_cfg.get("StopSignal") or "SIGTERM"
    parse_signal(stop_signal)
    return {"restart": restart, "stop_signal": stop_signal,
            "args": command_args(img_cfg, opts.entrypoint, opts.command),
            "resources": resources.host_config(opts),
            "health": healthcfg.merge(opts, img_cfg.get("Healthcheck")),
            "name": check_name(opts.name) if opts.name else None}


def new_record(cid: str, name: str, opts: CreateOptions, image_id: str,
               img_cfg: dict[str, Any], c: dict[str, Any], created: float, seq: int
               ) -> dict[str, Any]:
    labels = dict(img_cfg.get("Labels") or {})
    labels.update(dict(opts.labels))
    hostname = opts.hostname or cid[:12]
    return {
        "id": cid, "name": name, "image": opts.image, "image_id": image_id,
        "created": created, "seq": seq, "args": c["args"], "logs": [], "stats": {},
        "config": {
            "Image": opts.image,
            "Cmd": list(opts.command) or (None if opts.entrypoint is not None
                                          else img_cfg.get("Cmd")),
            "Entrypoint": list(opts.entrypoint) if opts.entrypoint is not None
            else img_cfg.get("Entrypoint"),
            "User": opts.user if opts.user is not None else img_cfg.get("User", ""),
            "WorkingDir": opts.workdir or img_cfg.get("WorkingDir") or "",
            "Labels": labels, "Tty": opts.tty, "OpenStdin": opts.stdin_open,
            "StdinOnce": opts.stdin_open, "AttachStdin": opts.stdin_open,
            "StopSignal": c["stop_signal"], "StopTimeout": opts.stop_timeout,
            "ExposedPorts": img_cfg.get("ExposedPorts"), "Volumes": img_cfg.get("Volumes"),
            "Healthcheck": c["health"], "Hostname": hostname,
            "Env": env(img_cfg, opts.env, hostname, opts.tty),
        },
        "host_config": {
            "AutoRemove": opts.auto_remove, "RestartPolicy": c["restart"].to_json(),
            "NetworkMode": opts.network, "Privileged": opts.privileged,
            "ReadonlyRootfs": opts.read_only, "Init": opts.init, "Runtime": opts.runtime,
            "LogConfig": {"Type": "json-file", "Config": {}}, **c["resources"],
        },
        "state": {"status": "created", "exit_code": 0, "pid": 0, "started_at": 0.0,
                  "finished_at": 0.0, "error": "", "oom_killed": False, "restart_count": 0,
                  "paused": False},
    }


def default_name(count: Callable[[str], int], taken: set[str]) -> str:
    """docker's adjective_noun, from a counter rather than a random pick."""
    while True:
        n = count("container-name") - 1
        name = f"{_ADJ[n % len(_ADJ)]}_{_NOUN[(n // len(_ADJ)) % len(_NOUN)]}"
        if n >= len(_ADJ) * len(_NOUN):
            name += str(n)
        if name not in taken:
            return name


def command_args(img_cfg: dict[str, Any], entrypoint: tuple[str, ...] | None,
                 command: tuple[str, ...]) -> list[str]:
    """docker's ENTRYPOINT/CMD rule (engine.runtime.spec.command_args)."""
    if entrypoint is not None:
        args = list(entrypoint) + list(command)
    else:
        args = list(img_cfg.get("Entrypoint") or []) + (
            list(command) if command else list(img_cfg.get("Cmd") or []))
    if not args:
        raise InvalidArgument("no command specified")
    return args


def env(img_cfg: dict[str, Any], items: tuple[str, ...], hostname: str, tty: bool
        ) -> list[str]:
    """The image's environment, PATH and HOSTNAME first, then ``-e`` (spec.base_env)."""
    base = [e for e in img_cfg.get("Env") or [] if not e.startswith("HOSTNAME=")]
    keys = {e.partition("=")[0] for e in base}
    if "PATH" not in keys:
        base.insert(0, DEFAULT_PATH)
    base.insert(1 if "PATH" not in keys else 0, f"HOSTNAME={hostname}")
    if tty and "TERM" not in keys:
        base.append("TERM=xterm")
    return parse_env(items, base)
