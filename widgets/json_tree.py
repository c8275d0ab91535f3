"""``JsonTree``: inspect output as a collapsible tree (``enter``/``space`` fold a node).

Labels are built as rich Text, never markup: inspect data holds user strings
(commands, env values) that may contain ``[``.
"""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

# Sections folded by default: long, and rarely what one looks for first.
FOLDED = frozenset({"GraphDriver", "HostConfig", "NetworkSettings"})


def scalar(value: Any) -> Text:
    """A leaf value coloured by JSON type, quoted like JSON."""
    style = {str: "green", bool: "magenta", type(None): "dim"}.get(type(value), "cyan")
    return Text(json.dumps(value), style=style)


class JsonTree(Tree[Any]):
    """Shows one JSON value; :meth:`show` replaces it (keeping the folds of same keys)."""

    DEFAULT_CSS = """
    JsonTree {
        height: 1fr;
        background: $surface;
    }
    """

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="tree.down"),
        Binding("k", "cursor_up", "Up", show=False, id="tree.up"),
    ]

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__("inspect", id=id)
        self.show_root = False
        self.data_value: Any = None
        self._folded: dict[str, bool] = {}

    def show(self, data: Any) -> None:
        # Remember which paths the user opened or closed, so a refresh keeps them.
        self._remember(self.root, "")
        self.data_value = data
        self.clear()
        self._add(self.root, data, "")
        self.root.expand()

    def _remember(self, node: TreeNode[Any], path: str) -> None:
        for child in node.children:
            key = f"{path}/{child.data}"
            if child.allow_expand:
                self._folded[key] = not child.is_expanded
                self._remember(child, key)

    def _add(self, node: TreeNode[Any], value: Any, path: str) -> None:
        items: list[tuple[str, Any]]
        if isinstance(value, dict):
            items = [(str(k), v) for k, v in value.items()]
        elif isinstance(value, list):
            items = [(str(i), v) for i, v in enumerate(value)]
        else:
            return
        for key, child in items:
            label = Text(key, style="bold")
            child_path = f"{path}/{key}"
            if isinstance(child, dict | list) and child:
                size = f" {{{len(child)}}}" if isinstance(child, dict) else f" [{len(child)}]"
                label.append(size, style="dim")
                branch = node.add(label, data=key)
                self._add(branch, child, child_path)
                folded = self._folded.get(child_path, key in FOLDED or path.count("/") >= 1)
                if not folded:
                    branch.expand()
            else:
                label.append(": ")
                label.append_text(scalar(child) if not isinstance(child, dict | list)
                                  else Text("{}" if isinstance(child, dict) else "[]", "dim"))
                node.add_leaf(label, data=key)

    def find(self, needle: str) -> bool:
        """True if any label in the tree (folded or not) contains ``needle``."""
        stack = [self.root]
        while stack:
            node = stack.pop()
            label = node.label
            if needle in (label if isinstance(label, str) else label.plain):
                return True
            stack.extend(node.children)
        return False
