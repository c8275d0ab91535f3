"""``StatsView``: one container's CPU, memory, network and block I/O over the last minutes.

Fed the :class:`engine.types.StatsSample` history the screen keeps (one sample per
refresh); it never calls the engine. Network and block I/O are counters, so the
graphs show their rate between samples. Numbers are worded as ``pydock stats``
prints them; with no samples it says why instead of drawing zeros.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.widgets import Label, Static

from engine.types import StatsSample

# (key, label): one row each, a value and a sparkline.
METRICS = (("cpu", "CPU"), ("mem", "MEM"), ("net", "NET I/O"), ("block", "BLOCK I/O"),
           ("pids", "PIDS"))
BARS = "▁▂▃▄▅▆▇█"


def spark(data: Sequence[float], width: int, floor: float = 0.0) -> str:
    """One bar per sample, newest on the right, scaled from zero to the peak (at least
    ``floor``). Textual's Sparkline scales min..max, which turns 0.05 % vs 0.08 % CPU
    into a full-height jump; from zero the height means what it says."""
    data = list(data)[-width:] if width > 0 else []
    top = max([floor, *data]) or 1.0
    return "".join(BARS[min(len(BARS) - 1, int(v / top * (len(BARS) - 1) + 0.5))]
                   for v in data)


def binary_size(n: float) -> str:
    """docker's units.BytesSize: ``1.953MiB``."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
    size, i = float(n), 0
    while size >= 1024 and i < len(units) - 1:
        size /= 1024
        i += 1
    return f"{size:.4g}{units[i]}"


def decimal_size(n: float) -> str:
    """docker's units.HumanSize: ``4.26MB`` (net and block I/O)."""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000:
            return f"{size:.3g}{unit}"
        size /= 1000
    return f"{size:.3g}PB"


def rates(samples: Sequence[StatsSample], attr: str) -> list[float]:
    """Bytes per second between consecutive samples of a counter (``net``/``block``)."""
    def total(s: StatsSample) -> int:
        return s.net_rx + s.net_tx if attr == "net" else s.block_read + s.block_write

    out = []
    for a, b in zip(samples, samples[1:], strict=False):
        dt = b.read - a.read
        out.append(max(0.0, (total(b) - total(a)) / dt) if dt > 0 else 0.0)
    return out


def values(s: StatsSample, samples: Sequence[StatsSample]) -> dict[str, str]:
    net, block = rates(samples, "net")[-1:], rates(samples, "block")[-1:]
    return {
        "cpu": f"{s.cpu_percent:.2f}%",
        "mem": f"{binary_size(s.mem_usage)} / {binary_size(s.mem_limit)} "
               f"({s.mem_percent:.2f}%)",
        "net": f"{decimal_size(s.net_rx)} / {decimal_size(s.net_tx)}"
               + (f"  ({decimal_size(net[0])}/s)" if net else ""),
        "block": f"{decimal_size(s.block_read)} / {decimal_size(s.block_write)}"
                 + (f"  ({decimal_size(block[0])}/s)" if block else ""),
        "pids": str(s.pids) + (f" / {s.pids_limit}" if s.pids_limit else ""),
    }


class StatsView(Vertical):
    """A note line, then per metric: label, current value, sparkline of the history."""

    DEFAULT_CSS = """
    StatsView {
        height: 1fr;
        padding: 0 1;
    }
    StatsView #stats-note {
        color: $text-muted;
        height: auto;
    }
    StatsView Grid {
        grid-size: 3;
        grid-columns: 10 36 1fr;
        grid-rows: 2;
        height: auto;
    }
    StatsView Label {
        text-style: bold;
    }
    StatsView .spark {
        color: $accent;
        height: 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(id=id)
        self._last: tuple[str, list[StatsSample], float] | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="stats-note", markup=False)
        with Grid():
            for key, label in METRICS:
                yield Label(label)
                yield Static("", id=f"{key}-value", markup=False)
                yield Static("", id=f"{key}-spark", classes="spark", markup=False)

    def show_note(self, text: str) -> None:
        """No numbers to show (not running, no engine support): say so, hide the grid."""
        self._last = None
        self.query_one("#stats-note", Static).update(text)
        self.query_one(Grid).display = False

    def show_samples(self, name: str, samples: Sequence[StatsSample], seconds: float) -> None:
        """``samples`` oldest first; ``seconds`` is the refresh interval (for the caption)."""
        if not samples:
            self.show_note(f"{name}: waiting for the first sample…")
            return
        span = samples[-1].read - samples[0].read
        self.query_one("#stats-note", Static).update(
            f"{name} · {len(samples)} samples every {seconds:g} s · graphs cover the last "
            f"{span / 60:.1f} min")
        self.query_one(Grid).display = True
        for key, text in values(samples[-1], samples).items():
            self.query_one(f"#{key}-value", Static).update(text)
        self._last = (name, list(samples), seconds)
        self._draw_sparks(samples)

    def _draw_sparks(self, samples: Sequence[StatsSample]) -> None:
        series = {
            "cpu": [s.cpu_percent for s in samples], "mem": [s.mem_percent for s in samples],
            "net": rates(samples, "net"), "block": rates(samples, "block"),
            "pids": [float(s.pids) for s in samples],
        }
        for key, data in series.items():
            widget = self.query_one(f"#{key}-spark", Static)
            # A floor of 1 (%, B/s, process): an idle container draws a flat line.
            widget.update(spark(data, widget.size.width, floor=1.0))

    def on_resize(self) -> None:
        # Hidden (an inactive tab) the sparks had no width: draw them once shown.
        if self._last is not None:
            self.call_after_refresh(self._draw_sparks, self._last[1])
