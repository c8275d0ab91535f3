"""``LayerExplorer``: dive's view of one image, pushed from the Images panel (``x``).

Left, the layers and the paths that waste space; right, the selected layer's file
tree, either only what that layer changed or the whole filesystem up to it
(``a`` toggles, dive's ``ctrl+a``/``ctrl+l`` pick one). ``e`` extracts the file under
the cursor. The analysis, every view's tree model and every extraction run in
thread workers and come back as Messages.
"""

from __future__ import annotations

import os
from pathlib import Path

import humanize
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Label, Static, Tree
from textual.worker import Worker, WorkerState, get_current_worker

from engine import Engine, EngineError
from engine.errors import AlreadyExists
from engine.types_layers import REMOVED, ImageLayers
from widgets import LayerList, LayerTree
from widgets.layer_tree import FileNode, build_model, describe

from .confirm_screen import ConfirmScreen
from .prompt_screen import PromptScreen

_KEEP_MODELS = 8  # views kept built: flipping between two layers stays instant


class PathPrompt(PromptScreen):
    """A prompt that also accepts its suggested value as it is."""

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        event.prevent_default()  # not PromptScreen's handler, which drops an unchanged value
        self.dismiss(event.value.strip() or None)


def summary(name: str, result: ImageLayers) -> Text:
    text = Text()
    text.append(name, style="bold")
    text.append(f"  {result.image_id.removeprefix('sha256:')[:12]}", style="dim")
    for key, value in (("Layers", str(len(result.layers))),
                       ("Total", humanize.naturalsize(result.size)),
                       ("Wasted", humanize.naturalsize(result.wasted)),
                       ("Efficiency", f"{result.efficiency * 100:.1f} %")):
        text.append(f"   {key} ", style="dim")
        text.append(value, style="bold")
    return text


class LayerExplorer(Screen[None]):
    """Layers, wasted space and file trees of one image; ``escape`` goes back."""

    AUTO_FOCUS = "#layer-list"

    DEFAULT_CSS = """
    LayerExplorer #summary {
        height: 1;
        padding: 0 1;
        background: $primary-muted;
    }
    LayerExplorer #left {
        width: 52;
        border-right: solid $primary 50%;
    }
    LayerExplorer .pane-title {
        width: 1fr;
        padding: 0 1;
        text-style: bold;
        color: $text-accent;
    }
    LayerExplorer #wasted {
        height: 10;
    }
    LayerExplorer #details {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    """

    BINDINGS = [
        Binding("escape", "close", "Back", id="layers.close"),
        Binding("a", "toggle_view", "Aggregated/layer", id="layers.toggle_view"),
        Binding("ctrl+a", "set_view(True)", "Aggregated", show=False, id="layers.aggregated"),
        Binding("ctrl+l", "set_view(False)", "Layer changes", show=False, id="layers.changes"),
        Binding("e", "extract", "Extract file", id="layers.extract"),
    ]

    class Loaded(Message):
        def __init__(self, result: ImageLayers) -> None:
            super().__init__()
            self.result = result

    class ViewReady(Message):
        """The tree model of layer ``index`` (aggregated or not) is built."""

        def __init__(self, key: tuple[int, bool], model: FileNode) -> None:
            super().__init__()
            self.key = key
            self.model = model

    class Extracted(Message):
        def __init__(self, path: str, layer: int, dest: Path) -> None:
            super().__init__()
            self.path, self.layer, self.dest = path, layer, dest

    class ExtractExists(Message):
        """The destination exists: ask before replacing it."""

        def __init__(self, path: str, layer: int, dest: str) -> None:
            super().__init__()
            self.path, self.layer, self.dest = path, layer, dest

    def __init__(self, engine: Engine, image: str, name: str) -> None:
        """``image`` is what the engine is asked about (an ID); ``name`` what is shown."""
        super().__init__()
        self.engine = engine
        self.image = image
        self.image_label = name
        self.result: ImageLayers | None = None
        self.aggregated = False
        self.layer_index = 0
        self._models: dict[tuple[int, bool], FileNode] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(f"{self.image_label}  reading layers…"), id="summary")
        with Horizontal():
            with Vertical(id="left"):
                yield Label("Layers", classes="pane-title")
                yield LayerList(id="layer-list")
                yield Label("Wasted space", classes="pane-title")
                yield DataTable(id="wasted", show_cursor=False, zebra_stripes=True)
            with Vertical(id="right"):
                yield Label("", id="tree-title", classes="pane-title")
                yield LayerTree(id="files")
                yield Static("", id="details", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"Layers of {self.image_label}"
        wasted = self.query_one("#wasted", DataTable)
        # Tab goes between the layers and the tree, as in dive; the mouse still scrolls it.
        wasted.can_focus = False
        wasted.add_column("COUNT", key="count")
        wasted.add_column("SPACE", key="space")
        wasted.add_column("PATH", key="path")
        self.query_one(LayerList).loading = True
        self.load()

    @property
    def files(self) -> LayerTree:
        return self.query_one(LayerTree)

    # -- engine calls and heavy lifting (thread workers) ---------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="layers-load")
    def load(self) -> None:
        try:
            result = self.engine.images_layers(self.image)
        except EngineError as err:
            self.app.notify(str(err), title=err.title, severity="error", markup=False)
            self.app.call_from_thread(self._failed, str(err))
            return
        self.post_message(self.Loaded(result))

    @work(thread=True, exclusive=True, exit_on_error=False, group="layers-view")
    def build_view(self, result: ImageLayers, key: tuple[int, bool]) -> None:
        index, aggregated = key
        files = result.aggregated(index) if aggregated else result.layers[index].files
        model = build_model(files)
        # A newer view was asked for meanwhile (exclusive): this one is not wanted.
        if not get_current_worker().is_cancelled:
            self.post_message(self.ViewReady(key, model))

    @work(thread=True, exit_on_error=False, group="layers-extract")
    def extract(self, path: str, layer: int, dest: str, overwrite: bool = False) -> None:
        try:
            out = self.engine.images_extract_file(self.image, layer, path, dest,
                                                  overwrite=overwrite)
        except AlreadyExists:
            self.post_message(self.ExtractExists(path, layer, dest))
            return
        except EngineError as err:
            self.app.notify(str(err), title=err.title, severity="error", markup=False)
            return
        self.post_message(self.Extracted(path, layer, out))

    # -- results (main thread) ------------------------------------------------------
    def _failed(self, message: str) -> None:
        self.query_one(LayerList).loading = False
        self.query_one("#summary", Static).update(
            Text(f"{self.image_label}: {message}", style="red"))

    def on_layer_explorer_loaded(self, message: LayerExplorer.Loaded) -> None:
        result = self.result = message.result
        self.query_one("#summary", Static).update(summary(self.image_label, result))
        layers = self.query_one(LayerList)
        layers.loading = False
        layers.show_layers(result.layers)
        wasted = self.query_one("#wasted", DataTable)
        with self.app.batch_update():
            for w in result.wasted_paths:
                wasted.add_row(str(w.count), humanize.naturalsize(w.size), w.path)
        self._show_view()

    def on_layer_explorer_view_ready(self, message: LayerExplorer.ViewReady) -> None:
        self._models[message.key] = message.model
        while len(self._models) > _KEEP_MODELS:
            del self._models[next(iter(self._models))]
        if message.key == (self.layer_index, self.aggregated):
            self.files.show(message.model)
            self._update_details()

    def on_layer_explorer_extracted(self, message: LayerExplorer.Extracted) -> None:
        self.notify(f"{message.path} (layer {message.layer}) → {message.dest}",
                    title="Extracted", markup=False)

    def on_layer_explorer_extract_exists(self, message: LayerExplorer.ExtractExists) -> None:
        def confirmed(yes: bool | None) -> None:
            if yes:
                self.extract(message.path, message.layer, message.dest, True)

        self.app.push_screen(ConfirmScreen(f"{message.dest} exists. Replace it?"), confirmed)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            err = event.worker.error
            self.notify(f"{type(err).__name__}: {err}", title="Unexpected error",
                        severity="error", markup=False)

    @on(LayerList.Highlighted)
    def _layer_highlighted(self, message: LayerList.Highlighted) -> None:
        self.layer_index = message.index
        self._show_view()

    @on(Tree.NodeHighlighted, "#files")
    def _file_highlighted(self) -> None:
        self._update_details()

    def _show_view(self) -> None:
        """Show the current (layer, mode) view: at once if built, else once it is."""
        result = self.result
        if result is None or not result.layers:
            return
        index = min(self.layer_index, len(result.layers) - 1)
        key = (index, self.aggregated)
        layer = result.layers[index]
        title = (f"Filesystem up to layer {index}" if self.aggregated
                 else f"Layer {index}: {len(layer.files)} changes")
        self.query_one("#tree-title", Label).update(title)
        model = self._models.get(key)
        if model is not None:
            self.files.show(model)
            self._update_details()
        else:
            self.build_view(result, key)

    def _update_details(self) -> None:
        node = self.files.selected_file
        self.query_one("#details", Static).update("" if node is None else describe(node))

    # -- actions -----------------------------------------------------------------------
    def action_close(self) -> None:
        self.app.pop_screen()

    def action_toggle_view(self) -> None:
        self.action_set_view(not self.aggregated)

    def action_set_view(self, aggregated: bool) -> None:
        if aggregated != self.aggregated:
            self.aggregated = aggregated
            self._show_view()

    def action_extract(self) -> None:
        node = self.files.selected_file
        f = node.entry if node is not None else None
        if f is None or f.kind != "file" or f.change == REMOVED:
            what = "a removed file" if f is not None and f.change == REMOVED else "that"
            self.notify(f"Only regular files can be extracted, not {what}",
                        severity="warning", markup=False)
            return
        suggested = str(Path.cwd() / f.name)

        def chosen(dest: str | None) -> None:
            if dest:
                self.extract(f.path, f.layer, os.path.expanduser(dest))

        self.app.push_screen(PathPrompt(f"Extract {f.path} (layer {f.layer}) to:", suggested),
                             chosen)
