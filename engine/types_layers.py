"""Results of the layer explorer (``Engine.images_layers``): what each layer of an image changes.

A leaf module like :mod:`engine.types`: plain frozen data, no engine imports. The
marks and the two image totals follow dive (github.com/wagoodman/dive), so the
numbers can be compared with it.
"""

from __future__ import annotations

from engine.record import dataclass, replace

ADDED = "added"
MODIFIED = "modified"
REMOVED = "removed"
UNCHANGED = "unchanged"


@dataclass(frozen=True)
class LayerFile:
    """One entry of a layer's tar, or one entry that a layer removes.

    Attributes:
        path: absolute path inside the image (``/etc/passwd``).
        kind: ``file``, ``dir``, ``symlink``, ``hardlink``, ``char``, ``block`` or ``fifo``.
        size: bytes of a regular file's content (0 for everything else).
        mode: permission bits (``0o7777`` at most).
        uid, gid: the owner recorded in the tar.
        link: a symlink's target, or a hard link's target path (``/bin/busybox``).
        change: ``added`` (nothing there below), ``modified`` (replaces an entry of a
            lower layer with different content or metadata), ``unchanged`` (rewritten
            identically, or a lower layer's entry in the aggregated view) or
            ``removed`` (a whiteout, an opaque directory or a replaced directory hid it;
            the other fields then describe what was removed).
        layer: the layer whose tar holds this version of the entry; for a removed
            entry, the layer that removed it.
    """

    path: str
    kind: str
    size: int
    mode: int
    uid: int
    gid: int
    link: str
    change: str
    layer: int

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def is_dir(self) -> bool:
        return self.kind == "dir"


@dataclass(frozen=True)
class LayerInfo:
    """One layer: where it is stored, the build step that made it, and its changes.

    Attributes:
        index: 0 for the base layer.
        digest: the (usually compressed) blob in the content store.
        diff_id: the sha256 of the uncompressed tar.
        blob_size: bytes of the blob as stored.
        size: bytes of the regular files in the layer (dive's layer size).
        created_by: the history step that made the layer (``empty_layer`` steps skipped).
        created: that step's time, seconds since the epoch (0 if unknown).
        comment: that step's comment.
        files: this layer's changes, sorted by path (removed entries included).
    """

    index: int
    digest: str
    diff_id: str
    blob_size: int
    size: int
    created_by: str
    created: float
    comment: str
    files: tuple[LayerFile, ...]


@dataclass(frozen=True)
class WastedPath:
    """A path written by more than one layer (or written, then removed): dive's "inefficiency".

    ``size`` is the sum over every layer that touched the path, the kept copy
    included, as dive counts it; ``count`` is how many layers touched it.
    """

    path: str
    count: int
    size: int


@dataclass(frozen=True)
class ImageLayers:
    """The layer explorer's view of one image.

    Attributes:
        image_id: the image ID (config digest).
        tags: the image's names (``busybox:latest``), familiar form.
        layers: base layer first.
        size: the sum of the layers' ``size``.
        wasted: dive's wasted bytes: the sum of :attr:`wasted_paths` sizes.
        efficiency: dive's score in [0, 1]: for every path, the smallest size any
            layer gave it (0 once removed) over the sum of every size layers gave it.
        wasted_paths: biggest first; paths whose total is 0 bytes are left out.
    """

    image_id: str
    tags: tuple[str, ...]
    layers: tuple[LayerInfo, ...]
    size: int
    wasted: int
    efficiency: float
    wasted_paths: tuple[WastedPath, ...]

    def aggregated(self, index: int) -> tuple[LayerFile, ...]:
        """The filesystem as it is with layers ``0..index`` applied, sorted by path.

        Entries the layer ``index`` changed keep its marks (removed ones stay in the
        list, marked removed, as dive shows them); everything from below is
        ``unchanged``.
        """
        if not 0 <= index < len(self.layers):
            raise IndexError(f"no layer {index} (the image has {len(self.layers)})")
        state: dict[str, LayerFile] = {}
        for layer in self.layers[:index]:
            for f in layer.files:
                if f.change == REMOVED:
                    state.pop(f.path, None)
                elif f.change == UNCHANGED and f.path in state:
                    continue  # keeps the layer that really holds this content
                else:
                    state[f.path] = replace(f, change=UNCHANGED)
        for f in self.layers[index].files:
            state[f.path] = f
        return tuple(state[p] for p in sorted(state))
