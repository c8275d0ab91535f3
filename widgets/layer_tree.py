"""``LayerTree``: one layer's files (or the filesystem up to it) as a collapsible tree.

Fed :class:`engine.types_layers.LayerFile` rows through :func:`build_model`, which
is pure and meant for a thread worker: a layer can hold tens of thousands of
entries. Tree nodes are created lazily, when a directory is first expanded
(dive's slowness on big images is a recurring complaint), and only directories
holding changes open by themselves, within a budget of nodes.

Marks, as dive colours them: ``+`` added (green), ``~`` modified (yellow), ``-``
removed (red). A directory the layer did not add or remove itself shows ``~`` when
something below it changed.
"""

from __future__ import annotations

import stat
from collections.abc import Iterable
from dataclasses import dataclass, field

import humanize
from rich.text import Text
from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from engine.types_layers import ADDED, MODIFIED, REMOVED, UNCHANGED, LayerFile

SIGNS = {ADDED: "+", MODIFIED: "~", REMOVED: "-", UNCHANGED: " "}
STYLES = {ADDED: "green", MODIFIED: "yellow", REMOVED: "red", UNCHANGED: ""}
_TYPE_BITS = {"file": stat.S_IFREG, "hardlink": stat.S_IFREG, "dir": stat.S_IFDIR,
              "symlink": stat.S_IFLNK, "char": stat.S_IFCHR, "block": stat.S_IFBLK,
              "fifo": stat.S_IFIFO}
# Nodes created up front when a view is shown; the rest wait for an expand.
AUTO_OPEN_BUDGET = 400


@dataclass
class FileNode:
    """A path in the tree. ``entry`` is ``None`` for a directory the layer did not list
    (it exists below and only its contents changed)."""

    name: str
    path: str
    entry: LayerFile | None = None
    children: dict[str, FileNode] = field(default_factory=dict)
    mark: str = UNCHANGED  # the entry's change, or what a directory's contents say

    @property
    def is_dir(self) -> bool:
        return self.entry is None or self.entry.is_dir or bool(self.children)


def build_model(files: Iterable[LayerFile]) -> FileNode:
    """The root of a tree of ``files`` with every node's mark worked out."""
    root = FileNode("/", "/")
    nodes = {"/": root}
    for f in files:
        parent = root
        parts = f.path.strip("/").split("/")
        for depth, part in enumerate(parts[:-1]):
            path = "/" + "/".join(parts[: depth + 1])
            node = nodes.get(path)
            if node is None:
                node = nodes[path] = parent.children[part] = FileNode(part, path)
            parent = node
        node = nodes.get(f.path)
        if node is None:
            node = nodes[f.path] = parent.children[parts[-1]] = FileNode(parts[-1], f.path)
        node.entry = f
    # Deepest first (no recursion: a hostile image may nest thousands of levels).
    for path in sorted(nodes, key=lambda p: -p.count("/")):
        node = nodes[path]
        own = node.entry.change if node.entry is not None else UNCHANGED
        if own in (ADDED, REMOVED):
            node.mark = own
        elif any(c.mark != UNCHANGED for c in node.children.values()):
            node.mark = MODIFIED
        else:
            node.mark = own
    return root


def mode_string(f: LayerFile) -> str:
    return stat.filemode(_TYPE_BITS.get(f.kind, 0) | f.mode)


def describe(node: FileNode) -> str:
    """One line about a node, for the details bar under the tree."""
    f = node.entry
    if f is None:
        return f"{node.path}  directory (from a lower layer; contents changed)"
    text = f"{f.path}  {mode_string(f)}  {f.uid}:{f.gid}"
    if f.kind == "file":
        text += f"  {humanize.naturalsize(f.size)}"
    if f.link:
        text += f"  → {f.link}"
    verb = {ADDED: "added", MODIFIED: "modified", REMOVED: "removed", UNCHANGED: "from"}
    return f"{text}  · {verb[f.change]} in layer {f.layer}"


def label(node: FileNode) -> Text:
    style = STYLES[node.mark]
    text = Text(f"{SIGNS[node.mark]} ", style=style)
    text.append(node.name + ("/" if node.is_dir and node.path != "/" else ""), style=style)
    f = node.entry
    if f is not None and f.kind in ("symlink", "hardlink"):
        text.append(f" → {f.link}", style="dim")
    elif f is not None and f.kind == "file":
        text.append(f"  {humanize.naturalsize(f.size)}", style="dim")
    return text


class LayerTree(Tree[FileNode]):
    """The file tree of the layer explorer; :meth:`show` replaces what it shows."""

    DEFAULT_CSS = """
    LayerTree {
        height: 1fr;
        background: $surface;
    }
    """

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="layers.tree_down"),
        Binding("k", "cursor_up", "Up", show=False, id="layers.tree_up"),
    ]

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__("/", id=id)
        self.show_root = False
        self.guide_depth = 3
        self._filled: set[int] = set()

    def show(self, model: FileNode) -> None:
        """Show ``model``'s children; directories with changes open, within a budget."""
        self.clear()
        self._filled = set()
        self.root.data = model
        self._fill(self.root)
        self.root.expand()
        budget = AUTO_OPEN_BUDGET - len(self.root.children)
        todo = list(self.root.children)
        while todo and budget > 0:
            node = todo.pop(0)
            data = node.data
            if data is None or not data.children or data.mark == UNCHANGED:
                continue
            budget -= self._fill(node)
            node.expand()
            todo.extend(node.children)

    def _fill(self, node: TreeNode[FileNode]) -> int:
        """Create ``node``'s children once; returns how many were made."""
        if node.id in self._filled or node.data is None:
            return 0
        self._filled.add(node.id)
        children = sorted(node.data.children.values(), key=lambda n: n.name)
        for child in children:
            if child.children:
                node.add(label(child), data=child)
            else:
                node.add_leaf(label(child), data=child)
        return len(children)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[FileNode]) -> None:
        self._fill(event.node)

    @property
    def selected_file(self) -> FileNode | None:
        node = self.cursor_node
        return None if node is None or node is self.root else node.data
