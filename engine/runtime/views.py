"""Docker-shaped views of container records: ``inspect`` JSON and ``ps`` rows."""

from __future__ import annotations

import time
from typing import Any

from ..types import ContainerSummary, human_duration

ZERO_TIME = "0001-01-01T00:00:00Z"


def _time(ts: float) -> str:
    from ..images.model import rfc3339

    return rfc3339(ts) if ts else ZERO_TIME


def status_text(st: dict[str, Any], now: float | None = None) -> str:
    """``Up 3 minutes``, ``Exited (0) 2 seconds ago``, ``Created``: docker's STATUS column."""
    now = time.time() if now is None else now
    status = st.get("status", "created")
    if status == "running":
        health = st.get("health")
        health = health.get("status", "") if isinstance(health, dict) else health
        suffix = {"": "", "starting": " (health: starting)"}.get(health or "", f" ({health})")
        return f"Up {_ago(now - st.get('started_at', now))}{suffix}"
    if status == "paused":
        return f"Up {_ago(now - st.get('started_at', now))} (Paused)"
    if status == "restarting":
        return f"Restarting ({st.get('exit_code', 0)}) {_ago(now - st.get('finished_at', now))} ago"
    if status == "exited":
        return f"Exited ({st.get('exit_code', 0)}) {_ago(now - st.get('finished_at', now))} ago"
    return status.capitalize()


_ago = human_duration


def summary(rec: dict[str, Any]) -> ContainerSummary:
    cfg, st = rec["config"], rec["state"]
    cmd = [*(cfg.get("Entrypoint") or []), *(cfg.get("Cmd") or [])]
    return ContainerSummary(
        id=rec["id"], name=rec["name"], image=rec["image"], image_id=rec["image_id"],
        command=" ".join(cmd), created=rec["created"], status=st.get("status", "created"),
        exit_code=int(st.get("exit_code", 0)), started_at=float(st.get("started_at", 0)),
        finished_at=float(st.get("finished_at", 0)), labels=dict(cfg.get("Labels") or {}),
        pid=int(st.get("pid", 0)), health=_health_status(rec), ports=_ports(rec))


def _ports(rec: dict[str, Any]) -> str:
    ports = (rec.get("network_settings") or {}).get("Ports")
    if not ports:
        return ""  # most containers: no import at all
    from ..network.ports import format_ports

    return format_ports(ports)


def inspect(rec: dict[str, Any], cdir: str, spec: dict[str, Any]) -> dict[str, Any]:
    # Deferred: `ps` loads this module for summary() and needs none of these.
    from ..network.views import settings as network_settings
    from ..volumes.plan import view as volume_view

    cfg, st, hc = rec["config"], rec["state"], rec["host_config"]
    status = st.get("status", "created")
    args = spec.get("process", {}).get("args", [])
    return {
        "Id": rec["id"],
        "Created": _time(rec["created"]),
        "Path": args[0] if args else "",
        "Args": args[1:],
        "State": {
            "Status": status,
            "Running": status in ("running", "paused"),
            "Paused": status == "paused",
            "Restarting": status == "restarting",
            "OOMKilled": bool(st.get("oom_killed")),
            "Dead": status == "dead",
            "Pid": int(st.get("pid", 0)) if status in ("running", "paused") else 0,
            "ExitCode": int(st.get("exit_code", 0)),
            "Error": st.get("error", ""),
            "StartedAt": _time(st.get("started_at", 0)),
            "FinishedAt": _time(st.get("finished_at", 0)),
            **_health_json(rec),
        },
        "Image": rec["image_id"],
        "ResolvConfPath": f"{cdir}/resolv.conf",
        "HostnamePath": f"{cdir}/hostname",
        "HostsPath": f"{cdir}/hosts",
        "LogPath": f"{cdir}/ctr.log",
        "Name": "/" + rec["name"],
        "RestartCount": int(st.get("restart_count", 0)),
        "Driver": "overlay2",
        "Platform": "linux",
        "HostConfig": hc,
        "GraphDriver": {"Name": "overlay2", "Data": {
            "MergedDir": f"{cdir}/merged", "UpperDir": f"{cdir}/upper",
            "WorkDir": f"{cdir}/work"}},
        "Mounts": volume_view(rec.get("mounts") or []),
        "Config": {**cfg, "Env": cfg.get("Env")},
        "NetworkSettings": network_settings(rec),
    }


def _health_status(rec: dict[str, Any]) -> str:
    """starting/healthy/unhealthy while running with a health check, else ""."""
    st = rec["state"]
    if st.get("status") not in ("running", "paused") or not st.get("health"):
        return ""
    return str(st["health"].get("status", ""))


def _health_json(rec: dict[str, Any]) -> dict[str, Any]:
    """docker's ``State.Health``, present once a container with a health check ran."""
    h = rec["state"].get("health")
    if not h:
        return {}
    return {"Health": {"Status": h.get("status", ""), "FailingStreak": h.get("failing_streak", 0),
                       "Log": [{"Start": _nano(e["start"]), "End": _nano(e["end"]),
                                "ExitCode": e["exit_code"], "Output": e["output"]}
                               for e in h.get("log") or []]}}


def _nano(ts: float) -> str:
    # RFC 3339 with nanoseconds, as Go marshals time.Time.
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts))
    return f"{base}.{int(ts % 1 * 1e9):09d}Z"
