"""The containers panel's widgets alone, fed plain values by hand: no engine, no refresh."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App, ComposeResult

from engine.runtime.logs_read import LogEntry, format_entry
from engine.runtime.views import status_text as engine_status_text
from engine.types import ContainerSummary, StatsSample
from tests.ui.conftest import FROZEN_NOW
from widgets import ContainerTable, JsonTree, LogLine, LogView, ProcessTable, StatsView
from widgets.container_table import status_text, usage_bar
from widgets.log_view import chop, clean, timestamp
from widgets.stats_view import binary_size, rates, spark

SIZE = (120, 36)


def summary(name: str, status: str = "running", *, created: float = 0.0,
            labels: dict[str, str] | None = None, **kw: Any) -> ContainerSummary:
    return ContainerSummary(id=name * 8, name=name, image="img", image_id="sha256:x",
                            command="sleep", created=created, status=status,
                            exit_code=kw.get("exit_code", 0),
                            started_at=kw.get("started_at", FROZEN_NOW - 180),
                            finished_at=kw.get("finished_at", 0.0), labels=labels or {})


@pytest.mark.parametrize(("status", "kw"), [
    ("running", {"started_at": FROZEN_NOW - 180}),
    ("running", {"started_at": FROZEN_NOW - 0.2}),
    ("paused", {"started_at": FROZEN_NOW - 7200}),
    ("exited", {"exit_code": 137, "finished_at": FROZEN_NOW - 90}),
    ("restarting", {"exit_code": 1, "finished_at": FROZEN_NOW - 3 * 86400}),
    ("created", {}),
    ("dead", {}),
])
def test_status_text_matches_the_engines(status: str, kw: dict[str, Any]) -> None:
    # The widget reimplements docker's wording (widgets import engine.types only);
    # this pins it to the CLI's, so `pydock ps` and the TUI never disagree.
    c = summary("a", status, **kw)
    st = {"status": status, "exit_code": c.exit_code, "started_at": c.started_at,
          "finished_at": c.finished_at}
    assert status_text(c, FROZEN_NOW) == engine_status_text(st, FROZEN_NOW)


def test_usage_bar_shows_a_dash_without_a_measurement() -> None:
    assert usage_bar(None) == "–"
    assert usage_bar(0.0) == "▁▁▁▁▁   0%"
    assert usage_bar(42.0) == "▆▆▁▁▁  42%"
    assert usage_bar(250.0).startswith("▆▆▆▆▆")  # several cores: the bar is full


class One(App[None]):
    def __init__(self, widget: Any) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


async def test_container_table_diff_marks_and_groups() -> None:
    table = ContainerTable(show_ids=False)
    app = One(table)
    async with app.run_test(size=SIZE) as pilot:
        a = summary("a", labels={"com.docker.compose.project": "p"})
        b = summary("b", "exited", exit_code=0, finished_at=FROZEN_NOW - 120)
        table.update_containers([b, a], FROZEN_NOW)
        await pilot.pause()
        assert [c.name for c in table.containers] == ["a", "b"]
        assert [str(x) for x in table.get_row(b.id)][:5] == [
            " ", "b", "img", "exited", "Exited (0) 2 minutes ago"]
        keys = list(table.rows)
        table.update_containers([b, a], FROZEN_NOW + 3600)
        assert list(table.rows) == keys  # updated in place
        assert str(table.get_row(a.id)[4]) == "Up About an hour"
        table.action_toggle_mark()
        assert table.marked == {a.id} and str(table.get_row(a.id)[0]) == "●"
        assert [c.name for c in table.targets] == ["a"]
        table.update_containers([b], FROZEN_NOW)  # a is gone: its mark too
        assert table.marked == set() and [c.name for c in table.targets] == ["b"]
        table.update_containers([a, b], FROZEN_NOW)
        table.action_toggle_group()
        assert [str(col.label) for col in table.columns.values()][:3] == [" ", "PROJECT", "NAME"]
        # Labelled groups first; the group's name on its first row only.
        assert [str(table.get_row(k)[1]) for k in (a.id, b.id)] == ["p", "–"]


async def test_log_view_search_wrap_timestamps() -> None:
    log = LogView()
    app = One(log)
    async with app.run_test(size=(40, 10)) as pilot:
        t0 = 1_700_000_000_123_456_789
        log.append([LogLine("stdout", f"line {i}\n", t0 + i) for i in range(30)] +
                   [LogLine("stderr", "x" * 100 + "\n", t0 + 30)])
        await pilot.pause()
        assert log.line_count == 31 and log.scroll_y == log.max_scroll_y  # follows the end
        log.search = "line 2"
        assert log.match_count == 11  # "line 2" and "line 20".."line 29"
        assert log.current == 10  # starts at the newest
        log.action_next_match(1)
        assert log.current == 0
        log.action_next_match(-1)
        assert log.current == 10
        rows = len(log._rows)
        log.wrap = True
        await pilot.pause()
        assert len(log._rows) > rows  # the 100-char line now takes several rows
        log.timestamps = True
        assert log.export().splitlines()[0] == "2023-11-14T22:13:20.123456789Z line 0"


def test_log_helpers_match_docker() -> None:
    e = LogEntry("stdout", b"hi\n", 1_700_000_000_000_000_001)
    assert format_entry(e, timestamps=True).decode() == f"{timestamp(e.time_ns)} hi\n"
    assert clean("\x1b[31mred\x1b[0m\tx\n") == "red     x"
    assert chop("abcdefg", 3) == [(0, 3), (3, 6), (6, 7)]
    assert chop("日本語", 4) == [(0, 2), (2, 3)]


async def test_log_view_drops_the_oldest_lines_past_its_cap() -> None:
    log = LogView(max_lines=100)
    app = One(log)
    async with app.run_test(size=(40, 10)):
        log.append([LogLine("stdout", f"{i}\n", i) for i in range(150)])
        assert log.line_count < 100 and log.export().splitlines()[-1] == "149"


async def test_json_tree_folds_and_finds() -> None:
    tree = JsonTree()
    app = One(tree)
    async with app.run_test(size=SIZE):
        tree.show({"Id": "abc", "State": {"Status": "running"}, "HostConfig": {"A": [1, "[x]"]},
                   "Args": []})
        assert tree.find('Id: "abc"') and tree.find('1: "[x]"') and tree.find("Args: []")
        top = {str(n.data): n for n in tree.root.children}
        assert top["State"].is_expanded and not top["HostConfig"].is_expanded
        top["HostConfig"].expand()
        tree.show({"Id": "abc", "HostConfig": {"A": [2]}})  # a refresh keeps the fold
        top = {str(n.data): n for n in tree.root.children}
        assert top["HostConfig"].is_expanded


async def test_process_table_updates_by_pid() -> None:
    table = ProcessTable()
    app = One(table)
    async with app.run_test(size=SIZE):
        titles = ["UID", "PID", "CMD"]
        table.update_processes(titles, [["root", "10", "sh"], ["root", "11", "sleep 1"]])
        table.move_cursor(row=1)
        table.update_processes(titles, [["root", "11", "sleep 1"], ["root", "12", "top"]])
        assert table.pids == ["11", "12"]
        assert str(table.get_row("11")[2]) == "sleep 1"


def sample(t: float, *, cpu: float = 10.0, rx: int = 0, read: int = 0) -> StatsSample:
    return StatsSample(id="a" * 64, name="a", read=t, cpu_percent=cpu, mem_usage=2 * 1024**2,
                       mem_limit=1024**3, mem_percent=0.2, net_rx=rx, net_tx=0,
                       block_read=read, block_write=0, pids=3)


async def test_stats_view_shows_values_rates_and_a_note() -> None:
    view = StatsView()
    app = One(view)
    async with app.run_test(size=SIZE) as pilot:
        view.show_note("web is exited: no stats.")
        await pilot.pause()
        assert str(view.query_one("#stats-note").render()) == "web is exited: no stats."
        samples = [sample(100.0), sample(102.0, cpu=50.0, rx=4000, read=2000)]
        view.show_samples("web", samples, 2.0)
        await pilot.pause()
        assert str(view.query_one("#cpu-value").render()) == "50.00%"
        assert str(view.query_one("#mem-value").render()) == "2MiB / 1GiB (0.20%)"
        assert str(view.query_one("#net-value").render()) == "4kB / 0B  (2kB/s)"
        assert rates(samples, "block") == [1000.0]
    assert binary_size(2_048_000) == "1.953MiB"  # as `pydock stats` prints it


def test_spark_scales_from_zero_not_from_the_minimum() -> None:
    assert spark([0.01, 0.03], 10, floor=1.0) == "▁▁"  # idle stays flat
    assert spark([0, 50, 100], 10) == "▁▅█"
    assert spark([0, 5, 10, 15, 20, 99], 5) == "▁▂▂▂█"  # the newest samples that fit
    assert spark([], 5) == ""
