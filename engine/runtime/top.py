"""``docker top``: the processes of a container's cgroup, formatted like ``ps``.

Docker runs the host's ``ps`` and keeps the rows whose PID is in the
container; we read the same facts with psutil (front-end side only, never in
the monitor) and format the common ``ps`` option sets: none (``-ef``), ``aux``
and ``-o col,col``. PIDs are the host's, as in docker.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import InvalidArgument

DEFAULT = ["uid", "pid", "ppid", "c", "stime", "tty", "time", "cmd"]
AUX = ["user", "pid", "%cpu", "%mem", "vsz", "rss", "tty", "stat", "start", "time", "command"]
HEADERS = {
    "uid": "UID", "user": "USER", "pid": "PID", "ppid": "PPID", "c": "C", "stime": "STIME",
    "start": "START", "tty": "TTY", "time": "TIME", "cmd": "CMD", "command": "COMMAND",
    "args": "COMMAND", "comm": "COMMAND", "%cpu": "%CPU", "pcpu": "%CPU", "%mem": "%MEM",
    "pmem": "%MEM", "rss": "RSS", "vsz": "VSZ", "etime": "ELAPSED", "stat": "STAT",
    "pgid": "PGID", "sid": "SID", "nlwp": "NLWP", "ni": "NI",
}
_STATE = {"running": "R", "sleeping": "S", "disk-sleep": "D", "stopped": "T",
          "tracing-stop": "t", "zombie": "Z", "dead": "X", "idle": "I", "parked": "P"}


def parse_args(args: Sequence[str]) -> list[str]:
    """The columns that ``ps ARGS`` would print, for the option sets we support."""
    words = [w for a in args for w in a.split()]
    cols: list[str] = []
    bsd_u = False
    i = 0
    while i < len(words):
        w = words[i]
        if w in ("-o", "o", "-eo", "eo", "--format", "-O"):
            if i + 1 >= len(words):
                raise InvalidArgument(f"ps: option {w} needs a list of columns")
            cols += _columns(words[i + 1])
            i += 2
            continue
        if w.startswith(("-o", "--format=")) and len(w) > 2:
            cols += _columns(w.split("=", 1)[1] if w.startswith("--") else w[2:])
        elif w.lstrip("-") and set(w.lstrip("-")) <= set("aux"):
            bsd_u = bsd_u or "u" in w
        elif w.lstrip("-") and set(w.lstrip("-")) <= set("efAlw"):
            pass  # -e/-A: every process (we show the container's anyway); -f is the default
        else:
            raise InvalidArgument(f"ps: unsupported option {w!r} (supported: -ef, aux, -o LIST)")
        i += 1
    if cols:
        if "pid" not in cols:
            # docker needs the PID column to pick the container's rows.
            raise InvalidArgument("Couldn't find PID field in ps output")
        return cols
    return AUX if bsd_u else DEFAULT


def _columns(spec: str) -> list[str]:
    out = []
    for raw in spec.replace(" ", ",").split(","):
        name = raw.split("=", 1)[0].strip().lower()
        if not name:
            continue
        if name not in HEADERS:
            raise InvalidArgument(f"ps: unknown column {raw!r} (known: {', '.join(HEADERS)})")
        out.append(name)
    return out


def table(pids: list[int], cols: list[str], proc_root: Path = Path("/proc"),
          now: float | None = None) -> tuple[list[str], list[list[str]]]:
    """Titles and rows for ``pids`` (processes that vanished meanwhile are skipped)."""
    import psutil

    now = time.time() if now is None else now
    total_mem = psutil.virtual_memory().total
    rows = []
    for pid in sorted(pids):
        try:
            p = psutil.Process(pid)
            with p.oneshot():
                facts = _facts(p, proc_root, now, total_mem)
                rows.append([_CELLS[c](facts) for c in cols])
        except (psutil.NoSuchProcess, psutil.ZombieProcess, FileNotFoundError):
            continue
    return [HEADERS[c] for c in cols], rows


def _facts(p: Any, proc_root: Path, now: float, total_mem: int) -> dict[str, Any]:
    times = p.cpu_times()
    cpu = times.user + times.system
    started = p.create_time()
    mem = p.memory_info()
    stat = (proc_root / str(p.pid) / "stat").read_bytes()
    fields = stat[stat.rfind(b")") + 2:].split()
    cmdline = p.cmdline()
    term = p.terminal()
    return {
        "pid": p.pid, "ppid": p.ppid(), "user": p.username(), "cpu": cpu,
        "pcpu": 100.0 * cpu / max(now - started, 1e-6), "pmem": 100.0 * mem.rss / total_mem,
        "rss": mem.rss // 1024, "vsz": mem.vms // 1024, "start": started,
        "elapsed": now - started, "tty": term.removeprefix("/dev/") if term else "?",
        "comm": p.name(), "args": " ".join(cmdline) if cmdline else f"[{p.name()}]",
        "state": _STATE.get(p.status(), "?"), "pgid": int(fields[2]), "sid": int(fields[3]),
        "tpgid": int(fields[5]), "nice": int(fields[16]), "threads": int(fields[17]),
        "now": now,
    }


def _stat(f: dict[str, Any]) -> str:
    s = f["state"]
    s += "<" if f["nice"] < 0 else "N" if f["nice"] > 0 else ""
    s += "s" if f["sid"] == f["pid"] else ""
    s += "l" if f["threads"] > 1 else ""
    return s + ("+" if f["tpgid"] == f["pgid"] else "")


def _clock(seconds: float) -> str:
    """``[DD-]HH:MM:SS`` (ps TIME)."""
    s = int(seconds)
    d, s = divmod(s, 86400)
    text = f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"
    return f"{d}-{text}" if d else text


def _elapsed(seconds: float) -> str:
    """``[[DD-]HH:]MM:SS`` (ps ELAPSED)."""
    s = int(seconds)
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    text = f"{s // 60:02d}:{s % 60:02d}"
    if d:
        return f"{d}-{h:02d}:{text}"
    return f"{h:02d}:{text}" if h else text


def _started(ts: float, now: float) -> str:
    """``HH:MM`` today, ``MonDD`` this year, else the year (ps STIME/START)."""
    if now - ts < 86400:
        return time.strftime("%H:%M", time.localtime(ts))
    if time.localtime(ts).tm_year == time.localtime(now).tm_year:
        return time.strftime("%b%d", time.localtime(ts))
    return time.strftime("%Y", time.localtime(ts))


_CELLS: dict[str, Callable[[dict[str, Any]], str]] = {
    "uid": lambda f: f["user"], "user": lambda f: f["user"], "pid": lambda f: str(f["pid"]),
    "ppid": lambda f: str(f["ppid"]), "c": lambda f: str(int(f["pcpu"])),
    "stime": lambda f: _started(f["start"], f["now"]),
    "start": lambda f: _started(f["start"], f["now"]), "tty": lambda f: f["tty"],
    "time": lambda f: _clock(f["cpu"]), "cmd": lambda f: f["args"],
    "command": lambda f: f["args"], "args": lambda f: f["args"], "comm": lambda f: f["comm"],
    "%cpu": lambda f: f"{f['pcpu']:.1f}", "pcpu": lambda f: f"{f['pcpu']:.1f}",
    "%mem": lambda f: f"{f['pmem']:.1f}", "pmem": lambda f: f"{f['pmem']:.1f}",
    "rss": lambda f: str(f["rss"]), "vsz": lambda f: str(f["vsz"]),
    "etime": lambda f: _elapsed(f["elapsed"]), "stat": _stat, "pgid": lambda f: str(f["pgid"]),
    "sid": lambda f: str(f["sid"]), "nlwp": lambda f: str(f["threads"]),
    "ni": lambda f: str(f["nice"]),
}
