"""``FilterPanelScreen``: a panel whose table is narrowed by a filter box (``/``).

The box (an ``Input`` with id ``filter``, hidden until ``/``) filters as you type;
``enter`` keeps the filter and hands the keys back to the table (an empty box
hides itself); :meth:`clear_filter` empties and hides it. The subclass composes the
box and exposes ``table``, a widget with ``set_filter(text)``.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.widgets import Input

from .panel import PanelScreen


class FilterPanelScreen(PanelScreen):
    """PanelScreen plus the filter box's behaviour, shared by the list panels."""

    @property
    def table(self) -> Any:
        raise NotImplementedError

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("-active")
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        box = self.query_one("#filter", Input)
        if not box.value.strip():
            box.remove_class("-active")
        self.table.focus()

    def clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.remove_class("-active")
        self.table.set_filter("")
