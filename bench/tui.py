"""pydock-tui with 200 containers: idle CPU, key-to-screen latency and RSS.

Issue 8's targets, with 200 containers (100 running ``sleep 3600`` with
``--network none``, 100 created or exited): idle CPU at most 5 % of one core at a
1 Hz refresh, p95 key-to-screen latency at most 50 ms, RSS at most 150 MB.

The real ``pydock-tui`` runs in tmux (a private server socket) at 120x36 with a
settings file of its own (``--config``, ``refresh_seconds = 1``: the 1 Hz of the
target, whatever the default becomes), so a user's keymap or refresh cannot change
the figures. Idle CPU comes from ``psutil`` CPU times of the TUI process (every
thread: the event follower and the stats sampler are in it).

Latency: ``tmux send-keys j`` (or ``k``), then ``capture-pane -e`` is polled until
the table's cursor row (known by its colour) is drawn on the next container; how
long the detail pane below takes to follow is reported beside it. The figures
include tmux's own round trip; one poll's cost is reported as the resolution.

lazydocker and ctop talk to a Docker daemon, not to pydock's root: they cannot
watch these containers, so their CPU is not a like-for-like comparison. When one is
installed it is reported as such, never as a figure.

    BENCH_TUI_CONTAINERS=40 BENCH_TUI_IDLE_S=10 python -m bench.tui   # a quick check
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from bench.containers import REPO, _prepare

N = int(os.environ.get("BENCH_TUI_CONTAINERS", "200"))
IDLE_S = float(os.environ.get("BENCH_TUI_IDLE_S", "30"))
KEYS = int(os.environ.get("BENCH_TUI_KEYS", "50"))
WARMUP_S = 5.0  # first list, first stats pass and the first log follow settle
SIZE = ("120", "36")
IMAGE = "busybox:local"
HEADER = re.compile(r"^\s*(\S+) · tail \d+ · ", re.MULTILINE)
SGR = re.compile(r"\x1b\[[0-9;]*m")
LEAD = re.compile(r"^(?:\x1b\[[0-9;]*m)+")
BG = re.compile(r"48;5;\d+|48;2;\d+;\d+;\d+|\[4[0-7]m|\[10[0-7]m")
TARGETS = {"cpu": 5.0, "latency": 50.0, "rss": 150.0}


def _tui_argv(root: Path, config: Path) -> list[str]:
    script = Path(sys.executable).parent / "pydock-tui"
    base = [str(script)] if script.exists() else [sys.executable, "-m", "app.tui.main"]
    return [*base, "--root", str(root), "--config", str(config)]


class Tmux:
    """One private tmux server running one TUI; everything it started dies with it."""

    def __init__(self, socket: Path, session: str = "bench") -> None:
        self.socket = str(socket)
        self.session = session

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["tmux", "-S", self.socket, *args], capture_output=True,
                              text=True, timeout=10, check=False)

    def start(self, argv: list[str]) -> int:
        env = {**os.environ, "TERM": "xterm-256color"}
        env.pop("TMUX", None)
        # exec: the pane's process is the TUI itself, so its PID is the one to measure.
        subprocess.run(["tmux", "-S", self.socket, "-f", "/dev/null", "new-session", "-d",
                        "-s", self.session, "-x", SIZE[0], "-y", SIZE[1], "-c", str(REPO),
                        f"exec {shlex.join(argv)}"], env=env, check=True, timeout=10)
        return int(self("display-message", "-p", "-t", self.session,
                        "#{pane_pid}").stdout.strip())

    def pane(self) -> str:
        return self("capture-pane", "-p", "-t", self.session).stdout

    def keys(self, *keys: str) -> None:
        self("send-keys", "-t", self.session, *keys)

    def stop(self) -> None:
        self("kill-server")


def seed(root: Path, count: int) -> list[str]:
    """``count`` containers: half running ``sleep 3600``, a quarter created, a quarter exited."""
    from engine import Engine, EngineConfig
    from engine.types import CreateOptions

    eng = Engine(EngineConfig(root=root))
    running = count // 2
    made = []
    for i in range(count):
        kind = "up" if i < running else "new" if i < running + (count - running) // 2 else "done"
        cmd = ("sleep", "3600") if kind != "done" else ("true",)
        cid = eng.containers_create(CreateOptions(image=IMAGE, name=f"{kind}-{i:03d}",
                                                  command=cmd, network="none", stop_timeout=1))
        made.append(cid)
        if kind != "new":
            eng.containers_start(cid)
            if kind == "done":
                eng.containers_wait(cid)
    return made


def _wait(pred: Any, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _cpu_percent(proc: psutil.Process, seconds: float) -> float:
    t0, c0 = time.monotonic(), proc.cpu_times()
    time.sleep(seconds)
    t1, c1 = time.monotonic(), proc.cpu_times()
    used = (c1.user - c0.user) + (c1.system - c0.system)
    return 100.0 * used / (t1 - t0)


def _selected(tmux: Tmux) -> str | None:
    """The container the detail pane's header names (plain text)."""
    m = HEADER.search(tmux.pane())
    return m.group(1) if m else None


def _plain(text: str) -> str:
    return SGR.sub("", text)


def _row_bg(line: str) -> str | None:
    """The background a table row starts with (tmux emits SGR only where it changes)."""
    lead = LEAD.match(line)
    found = BG.findall(lead.group(0)) if lead else []
    return found[-1] if found else None


def _cursor_row(styled: str, cursor_bg: str) -> str | None:
    """The name in the container table's row drawn with the cursor's background."""
    for line in styled.splitlines():
        words = _plain(line).split()
        if IMAGE in words and _row_bg(line) == cursor_bg:
            return words[words.index(IMAGE) - 1]
    return None


def _latencies(tmux: Tmux, presses: int) -> dict[str, float]:
    """Milliseconds from send-keys to the cursor drawn on the next row, and to the
    detail pane's header naming that row; plus one poll's cost (the resolution).

    The cursor row is recognised by its background colour, learnt from the row the
    header names: refresh ticks redraw bars and uptimes but never move that colour,
    so they cannot pass for a key's effect.
    """
    def styled() -> str:
        return tmux("capture-pane", "-e", "-p", "-t", tmux.session).stdout

    first = _selected(tmux)
    line = next((ln for ln in styled().splitlines()
                 if IMAGE in _plain(ln).split() and f" {first} " in _plain(ln)), "")
    cursor_bg = _row_bg(line)
    if cursor_bg is None:
        raise RuntimeError(f"cannot find the cursor row of {first!r}")
    polls = []
    for _ in range(10):
        t0 = time.perf_counter()
        styled()
        polls.append(time.perf_counter() - t0)
    cursor_ms, detail_ms = [], []
    half = presses // 2
    for key in ["j"] * half + ["k"] * (presses - half):
        screen = styled()
        before = _cursor_row(screen, cursor_bg)
        t0 = time.perf_counter()
        tmux.keys(key)
        moved = None
        while True:
            screen = styled()
            now = time.perf_counter()
            row = _cursor_row(screen, cursor_bg)
            if moved is None and row not in (before, None):
                moved = now
            header = HEADER.search(_plain(screen))
            if moved is not None and header and header.group(1) == row:
                break
            if now - t0 > 5:
                raise RuntimeError(f"key {key!r}: no new row on screen within 5 s")
        cursor_ms.append((moved - t0) * 1000)
        detail_ms.append((now - t0) * 1000)
        time.sleep(0.1)  # one key at a time: no typeahead folding two moves into one frame
    return {"p50": statistics.median(cursor_ms), "p95": _p95(cursor_ms),
            "max": max(cursor_ms), "detail_p50": statistics.median(detail_ms),
            "detail_p95": _p95(detail_ms), "resolution": statistics.median(polls) * 1000}


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def _session(root: Path, work: Path, refresh: float) -> dict[str, float]:
    """Start the TUI, let it settle, measure; always stops its tmux server."""
    config = work / "tui.toml"
    config.write_text(f"refresh_seconds = {refresh}\n")
    tmux = Tmux(work / "tmux.sock")
    t0 = time.monotonic()
    try:
        pid = tmux.start(_tui_argv(root, config))
        proc = psutil.Process(pid)
        _wait(lambda: _selected(tmux) is not None, 60, "the first screen with a selection")
        out = {"startup_s": time.monotonic() - t0}
        time.sleep(WARMUP_S)
        out["cpu"] = _cpu_percent(proc, IDLE_S)
        rss = proc.memory_info().rss
        out |= _latencies(tmux, KEYS)
        out["rss"] = max(rss, proc.memory_info().rss) / 2**20
        tmux.keys("q")
        try:
            proc.wait(10)
        except psutil.TimeoutExpired:
            proc.kill()  # ours: started above, by PID
        return out
    finally:
        tmux.stop()


def _peers() -> str:
    found = [name for name in ("lazydocker", "ctop") if shutil.which(name)]
    if not found:
        return "lazydocker and ctop not installed: no peer figure"
    return (f"{', '.join(found)} installed, but talks to Docker, not to a pydock root: "
            "not comparable on these containers")


def run(report: list[dict[str, Any]]) -> dict[str, float]:
    if shutil.which("tmux") is None:
        report.append({"name": "pydock-tui", "pydock_s": None, "peer": "", "peer_s": None,
                       "ratio": None, "note": "tmux not installed"})
        return {}
    root = Path(tempfile.mkdtemp(prefix="pydock-bench-tui-", dir="/var/tmp"))
    work = Path(tempfile.mkdtemp(prefix="pydock-bench-tui-work-"))
    load_before = os.getloadavg()[0]
    try:
        _prepare(root)
        t0 = time.monotonic()
        seed(root, N)
        seeded_s = time.monotonic() - t0
        got = _session(root, work, 1.0)
    finally:
        _cleanup(root)
        shutil.rmtree(work, ignore_errors=True)
    load = f"load average {load_before:.2f} -> {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs"
    label = f"{N} containers ({N // 2} running)"
    peers = _peers()
    rows = [
        (f"TUI idle CPU % of a core, {label}, 1 Hz", got["cpu"], "cpu",
         f"over {IDLE_S:.0f} s, refresh_seconds = 1; {peers}"),
        (f"TUI key-to-screen p95 ms, {label}", got["p95"], "latency",
         f"{KEYS} j/k presses via tmux, until the cursor row is redrawn; p50 "
         f"{got['p50']:.1f} ms, max {got['max']:.1f} ms; detail pane follows "
         f"at p50 {got['detail_p50']:.1f} / p95 {got['detail_p95']:.1f} ms; "
         f"poll resolution {got['resolution']:.1f} ms (one capture-pane)"),
        (f"TUI RSS MB, {label}", got["rss"], "rss",
         f"after the idle and key runs; startup to first screen {got['startup_s']:.1f} s"),
    ]
    for name, value, target, note in rows:
        ok = "ok" if value <= TARGETS[target] else "OVER TARGET"
        report.append({"name": name, "pydock_s": round(value, 1), "peer": "target",
                       "peer_s": TARGETS[target], "ratio": round(value / TARGETS[target], 2),
                       "note": f"{ok}; {note}; seeding took {seeded_s:.0f} s; {load}"})
    return {"idle_cpu_1hz": got["cpu"], "p95_ms": got["p95"], "p50_ms": got["p50"],
            "detail_p95_ms": got["detail_p95"], "rss_mb": got["rss"], "containers": N}


def _cleanup(root: Path) -> None:
    from engine import Engine, EngineConfig, EngineError
    from engine.runtime import zygote

    eng = Engine(EngineConfig(root=root))
    try:
        ids = [c.id for c in eng.containers_list(all=True)]
        if ids:
            eng.containers_remove(ids, force=True)
    except EngineError as err:
        print(f"cleanup: {err}", file=sys.stderr)
    zygote.stop(root)
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    from bench.__main__ import _print_table

    results: list[dict[str, Any]] = []
    figures = run(results)
    _print_table(results)
    for r in results:
        print(f"{r['name']}: {r['note']}")
    print(figures)
