"""The fake's container reads and tweaks: ps, inspect, logs, stats, top, update, commit,
health. Views reuse the engine's pure record-to-view functions (``engine.runtime.views``),
so a fake record shows exactly as a real ``state.json`` would."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from engine.errors import Conflict, EngineError, InvalidArgument
from engine.runtime import healthcfg, resources, views
from engine.runtime.logs import LogEntry
from engine.runtime.options import parse_restart
from engine.types import ContainerReport, ContainerSummary, StatsSample, UpdateOptions

if TYPE_CHECKING:
    from engine.config import EngineConfig
    from engine.types_tools import CommitOptions

    from .events import FakeEventLog
    from .programs import Program

ACTIVE = ("running", "paused", "restarting")
RUNNING = ("running", "paused")
MiB = 1 << 20
# What a running fake container measures unless a test says otherwise (set_stats).
DEFAULT_STATS: dict[str, Any] = {
    "cpu_percent": 0.5, "mem_usage": 4 * MiB, "mem_limit": 1024 * MiB, "net_rx": 0,
    "net_tx": 0, "block_read": 0, "block_write": 0, "pids": 1, "pids_limit": 0}
TOP_TITLES = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]


class FakeContainerViewsMixin:
    config: EngineConfig
    events: FakeEventLog
    clock: Callable[[], float]
    _lock: threading.RLock
    _changed: threading.Condition
    _containers: dict[str, dict[str, Any]]
    _probes: dict[str, int]

    if TYPE_CHECKING:
        def containers_resolve(self, ref: str) -> str: ...
        def _rec(self, ref: str) -> dict[str, Any]: ...
        def _emit(self, action: str, rec: dict[str, Any], **extra: str) -> None: ...
        def _notify(self) -> None: ...
        def _pause(self, rec: dict[str, Any]) -> None: ...
        def _unpause(self, rec: dict[str, Any]) -> None: ...
        def _commit_image(self, rec: dict[str, Any], opts: CommitOptions) -> str: ...
        def program_for(self, args: list[str]) -> Program: ...

    # -- ps, inspect ---------------------------------------------------------------------------
    def containers_list(self, *, all: bool = False) -> list[ContainerSummary]:  # noqa: A002
        with self._lock:
            recs = sorted(self._containers.values(), key=lambda r: (-r["created"], -r["seq"]))
            return [views.summary(r) for r in recs
                    if all or r["state"]["status"] in ACTIVE]

    def containers_inspect(self, ref: str) -> dict[str, Any]:
        with self._lock:
            rec = self._rec(ref)
            spec = {"process": {"args": list(rec["args"])}}
            return views.inspect(rec, str(self.config.containers_dir / rec["id"]), spec)

    # -- logs ------------------------------------------------------------------------------------
    def containers_logs(self, ref: str, *, tail: int | None = None, since: float | None = None,
                        until: float | None = None, follow: bool = False,
                        stop: Callable[[], bool] | None = None) -> Iterator[LogEntry]:
        with self._lock:
            rec = self._rec(ref)  # NotFound now, not at the first next(), as the real one
        return self._read_logs(rec, tail, since, until, follow, stop)

    def _read_logs(self, rec: dict[str, Any], tail: int | None, since: float | None,
                   until: float | None, follow: bool, stop: Callable[[], bool] | None
                   ) -> Iterator[LogEntry]:
        def keep(e: LogEntry) -> bool:
            return (since is None or e.time_ns >= since * 1e9) and (
                until is None or e.time_ns <= until * 1e9)

        with self._lock:
            logs = rec["logs"]
            seen = len(logs)
            past = [e for e in logs[:seen] if keep(e)]
        if tail is not None and tail >= 0:
            past = past[-tail:] if tail else []
        yield from past
        if not follow:
            return
        while True:
            with self._changed:
                if len(logs) == seen:
                    if (stop is not None and stop()) or rec["state"]["status"] not in ACTIVE \
                            or (until is not None and self.clock() > until):
                        return
                    self._changed.wait(0.05)
                fresh, seen = logs[seen:], len(logs)
            yield from (e for e in fresh if keep(e))

    # -- stats, top ------------------------------------------------------------------------------
    def set_stats(self, ref: str, **values: Any) -> None:
        """What ``containers_stats`` reports for this container from now on (StatsSample
        fields; ``mem_percent`` follows from usage and limit unless given)."""
        unknown = set(values) - set(DEFAULT_STATS) - {"cpu_percent", "mem_percent"}
        if unknown:
            raise TypeError(f"not StatsSample fields: {sorted(unknown)}")
        with self._lock:
            self._rec(ref)["stats"].update(values)

    def containers_stats(self, refs: list[str] | None = None) -> list[StatsSample]:
        with self._lock:
            if refs is None:
                recs = sorted(self._containers.values(), key=lambda r: r["seq"])
                recs = [r for r in recs if r["state"]["status"] in RUNNING]
            else:
                recs = [self._rec(r) for r in refs]
            return [self._sample(r) for r in recs]

    def _sample(self, rec: dict[str, Any]) -> StatsSample:
        now = self.clock()
        if rec["state"]["status"] not in RUNNING:
            return StatsSample(id=rec["id"], name=rec["name"], read=now, cpu_percent=0.0,
                               mem_usage=0, mem_limit=0, mem_percent=0.0, net_rx=0, net_tx=0,
                               block_read=0, block_write=0, pids=0)
        v = {**DEFAULT_STATS, **rec["stats"]}
        if rec["state"]["status"] == "paused":
            v["cpu_percent"] = 0.0  # a frozen cgroup uses no CPU
        limit = int(rec["host_config"].get("Memory") or 0) or int(v["mem_limit"])
        pct = v.get("mem_percent", v["mem_usage"] / limit * 100 if limit else 0.0)
        return StatsSample(id=rec["id"], name=rec["name"], read=now,
                           cpu_percent=float(v["cpu_percent"]), mem_usage=int(v["mem_usage"]),
                           mem_limit=limit, mem_percent=float(pct), net_rx=int(v["net_rx"]),
                           net_tx=int(v["net_tx"]), block_read=int(v["block_read"]),
                           block_write=int(v["block_write"]), pids=int(v["pids"]),
                           pids_limit=int(rec["host_config"].get("PidsLimit") or 0))

    def containers_top(self, ref: str, ps_args: str | list[str] = ""
                       ) -> tuple[list[str], list[list[str]]]:
        with self._lock:
            rec = self._rec(ref)
            st = rec["state"]
            if st["status"] not in RUNNING:
                raise Conflict(f"container {rec['name']} is not running")
            program = self.program_for(rec["args"])
            cmds = list(program.processes) or [" ".join(rec["args"])]
            stime = time.strftime("%H:%M", time.gmtime(st["started_at"]))
            rows = [["root", str(st["pid"] + i), str(st["pid"] if i else 0), "0", stime, "?",
                     "00:00:00", cmd] for i, cmd in enumerate(cmds)]
        return list(TOP_TITLES), rows

    def containers_port(self, ref: str) -> dict[str, list[dict[str, str]]]:
        with self._lock:
            rec = self._rec(ref)
            return dict((rec.get("network_settings") or {}).get("Ports") or {})

    # -- update, commit ---------------------------------------------------------------------------
    def containers_update(self, refs: list[str], opts: UpdateOptions) -> list[ContainerReport]:
        out = []
        for ref in refs:
            try:
                with self._lock:
                    rec = self._rec(ref)
                    hc = resources.updated_host_config(rec["host_config"], opts)
                    if opts.restart is not None:
                        if hc.get("AutoRemove") and parse_restart(opts.restart).name != "no":
                            raise InvalidArgument("Restart policy cannot be updated because "
                                                  "AutoRemove is enabled for the container")
                        hc["RestartPolicy"] = parse_restart(opts.restart).to_json()
                    rec["host_config"] = hc
                    self._emit("update", rec)
                out.append(ContainerReport(ref, rec["id"]))
            except EngineError as err:
                out.append(ContainerReport(ref, error=f"Cannot update container {ref}: {err}"))
        return out

    def containers_commit(self, ref: str, opts: CommitOptions) -> str:
        with self._lock:
            rec = self._rec(ref)
            paused_here = opts.pause and rec["state"]["status"] == "running"
            if paused_here:
                self._pause(rec)
            try:
                return self._commit_image(rec, opts)
            finally:
                if paused_here:
                    self._unpause(rec)

    def containers_diff(self, ref: str) -> list[Any]:
        with self._lock:
            self._rec(ref)
        return []  # a fake container writes nothing to its layer

    # -- health ----------------------------------------------------------------------------
    def script_probe(self, command: str, exit_code: int) -> None:
        """The health check ``command`` (the CMD-SHELL string or the CMD words joined)
        exits with ``exit_code``. Defaults: ``true``/``exit 0`` pass, others fail."""
        with self._lock:
            self._probes[command] = exit_code

    def _start_health(self, rec: dict[str, Any]) -> None:
        probe = healthcfg.probe(rec["config"].get("Healthcheck"))
        if probe is None:
            return
        rec["state"]["health"] = {"status": "starting", "failing_streak": 0, "log": []}
        # One probe at once: the fake has no interval to wait out.
        test = rec["config"]["Healthcheck"]["Test"]
        command = " ".join(test[1:])
        code = self._probes.get(command, 1)
        now = self.clock()
        h = rec["state"]["health"]
        h["log"] = [{"start": now, "end": now, "exit_code": code, "output": ""}]
        if code == 0:
            self.set_health(rec["id"], "healthy")
        else:
            h["failing_streak"] = 1
            if h["failing_streak"] >= probe.retries:
                self.set_health(rec["id"], "unhealthy")

    def set_health(self, ref: str, status: str) -> None:
        """The health check now says ``status`` (``starting``/``healthy``/``unhealthy``);
        a change is announced as ``health_status: <status>``, as the monitor does."""
        with self._lock:
            rec = self._rec(ref)
            h = rec["state"].setdefault("health", {"status": "starting", "failing_streak": 0,
                                                   "log": []})
            if h["status"] != status:
                h["status"] = status
                if status == "healthy":
                    h["failing_streak"] = 0
                self._emit(f"health_status: {status}", rec)
                self._notify()
