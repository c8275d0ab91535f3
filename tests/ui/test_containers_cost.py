"""What a stats tick and a cursor move cost the containers panel (issue 8's `make bench`
targets): only changed cells are touched and re-rendered, the detail pane follows the
cursor once it rests, hidden tabs are not drawn, start-up objects leave the collector."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from textual.widgets import DataTable

import app.tui.app as tui_app
from app.tui.container_detail import ContainerDetailScreen
from engine.types import ContainerSummary
from tests.fakes import FakeEngine
from tests.ui.conftest import FROZEN_NOW, settle
from tests.ui.test_container_widgets import SIZE, One, summary
from tests.ui.test_containers_fake import app_for, panel, seed_six, until
from widgets import ContainerTable, JsonTree


async def test_a_stats_tick_touches_and_renders_only_the_changed_cell(
        monkeypatch: pytest.MonkeyPatch) -> None:
    table = ContainerTable(show_ids=False)
    app = One(table)
    rows = [summary(n) for n in ("a", "b", "c")]
    updates: list[tuple[str, str]] = []
    renders: list[tuple[int, int]] = []
    real_update = table.update_cell
    real_render = DataTable._render_cell

    def update_cell(row: Any, col: Any, value: Any, **kw: Any) -> None:
        updates.append((str(row), str(col)))
        real_update(row, col, value, **kw)

    def render_cell(self: DataTable[Any], row: int, col: int, *a: Any, **kw: Any) -> Any:
        if row >= 0:
            renders.append((row, col))
        return real_render(self, row, col, *a, **kw)

    monkeypatch.setattr(table, "update_cell", update_cell)
    monkeypatch.setattr(DataTable, "_render_cell", render_cell)
    async with app.run_test(size=SIZE) as pilot:
        usage = {c.id: (1.0, 10.0) for c in rows}
        table.update_containers(rows, FROZEN_NOW, usage)
        await pilot.pause()
        assert renders  # the first frame drew every cell
        updates.clear()
        renders.clear()
        table.update_containers(rows, FROZEN_NOW, usage)  # the same numbers again
        await pilot.pause()
        assert updates == [] and renders == []
        usage[rows[1].id] = (42.0, 10.0)
        table.update_containers(rows, FROZEN_NOW, usage)
        await pilot.pause()
        assert updates == [(rows[1].id, "cpu")]
        cpu = [str(k.value) for k in table.columns].index("cpu")
        assert renders == [(1, cpu)]  # Textual alone would redraw all 3 x 9 cells
        assert "▆▆▁▁▁  42%" in table.render_line(2).text  # row b, under the header


async def test_the_detail_pane_follows_once_the_cursor_rests(
        fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_six(fake_engine)
    shown: list[str | None] = []
    real = ContainerDetailScreen.show_detail

    def show_detail(self: ContainerDetailScreen, c: ContainerSummary | None) -> None:
        shown.append(c.name if c else None)
        real(self, c)

    monkeypatch.setattr(ContainerDetailScreen, "show_detail", show_detail)
    # Long enough that three presses land within it on a loaded machine.
    monkeypatch.setattr(ContainerDetailScreen, "DETAIL_DELAY", 1.0)
    app = app_for(fake_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = panel(app)
        names = [c.name for c in screen.table.containers]
        first = screen.detail
        assert first is not None and first.name == names[0]
        shown.clear()
        await pilot.press("j", "j", "j")
        # The cursor is drawn on its new row at once; the pane has not moved yet.
        assert screen.table.selected_container is not None
        assert screen.table.selected_container.name == names[3]
        assert screen.detail is first
        await settle(pilot)  # waits out the rest (a worker, not a timer)
        assert shown == [names[3]]  # rows passed on the way were never loaded
        detail = screen.detail
        assert detail is not None and detail.name == names[3]
        header = screen.query_one("#log-header")
        await until(pilot, lambda: str(header.render()).startswith(f"{names[3]} · "))


async def test_the_inspect_tree_is_built_when_its_tab_opens(fake_engine: FakeEngine) -> None:
    ids = seed_six(fake_engine)
    app = app_for(fake_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = panel(app)
        tree = screen.query_one(JsonTree)
        await pilot.press("j")
        await settle(pilot)
        detail = screen.detail
        assert detail is not None and detail.id in ids.values()
        await until(pilot, lambda: screen.inspected.get("Id") == detail.id)
        assert tree.data_value is None  # the Logs tab is open: nothing built yet
        await pilot.press("i")
        await until(pilot, lambda: tree.find(f'Id: "{detail.id}"'))


async def test_start_up_objects_are_frozen_only_when_asked(
        fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_six(fake_engine)
    monkeypatch.setattr(tui_app, "FREEZE_AFTER", 0.05)
    assert gc.get_freeze_count() == 0
    try:
        async with app_for(fake_engine).run_test(size=SIZE) as pilot:  # tests: never
            await settle(pilot)
            await pilot.pause(0.2)
            assert gc.get_freeze_count() == 0
        frozen = tui_app.make_app(fake_engine, clock=lambda: FROZEN_NOW,  # type: ignore[arg-type]
                                  freeze_gc=True)
        async with frozen.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: gc.get_freeze_count() > 0, timeout=5)
    finally:
        gc.unfreeze()


async def test_a_frame_drawn_before_the_columns_widen_is_not_kept() -> None:
    # The first bars arrive wider than "–": Textual measures the column on idle, and a
    # frame drawn before that (a busy machine) used to stay cached with cut bars.
    table = ContainerTable(show_ids=False)
    app = One(table)
    async with app.run_test(size=SIZE) as pilot:
        row = summary("a")
        table.update_containers([row], FROZEN_NOW)
        await pilot.pause()
        assert "–" in table.render_line(1).text
        table.update_containers([row], FROZEN_NOW, {row.id: (42.0, 10.0)})
        table.render_line(1)  # drawn before the idle re-measure
        await pilot.pause()
        assert "▆▆▁▁▁  42%  ▁▁▁▁▁  10%" in table.render_line(1).text


async def test_a_cursor_move_redraws_only_the_two_rows_it_touches(
        monkeypatch: pytest.MonkeyPatch) -> None:
    table = ContainerTable(show_ids=False)
    app = One(table)
    drawn: list[int] = []
    real = DataTable._get_row_style  # runs once per row actually drawn (not cached)

    def row_style(self: DataTable[Any], row_index: int, base_style: Any) -> Any:
        if row_index >= 0:
            drawn.append(row_index)
        return real(self, row_index, base_style)

    monkeypatch.setattr(DataTable, "_get_row_style", row_style)
    async with app.run_test(size=SIZE) as pilot:
        table.update_containers([summary(n) for n in "abcde"], FROZEN_NOW)
        table.focus()
        table.move_cursor(row=4)
        await pilot.pause()
        plain = [table.render_line(y) for y in range(1, 5)]  # rows 0-3 without the cursor
        table.move_cursor(row=0)
        await pilot.pause()
        drawn.clear()
        await pilot.press("j", "j")
        lines = [table.render_line(y) for y in range(1, 5)]
        # Only rows the cursor entered are drawn; a row it left, or never touched, looks
        # as it did without the cursor and comes from the cache (Textual redrew all).
        assert 2 in drawn and not {3, 4} & set(drawn)
        assert lines[:2] == plain[:2]  # the cursor has left rows 0 and 1...
        assert lines[2] != plain[2] and lines[3] == plain[3]  # ...and is on row 2 only
