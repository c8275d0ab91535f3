"""The fake's layer explorer: ``images_layers`` and ``images_extract_file``.

The fake keeps every layer tar it was given (imports) or made (pulls, builds, commits:
small generated tars), so the engine's own analysis (``engine.images.layer_view``,
pure over a content store and an image record) runs on them unchanged through two
small adapters. The numbers are then dive's, exactly as the real engine reports them.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from engine.images import layer_view
from engine.reference import parse
from engine.types_layers import ImageLayers

if TYPE_CHECKING:
    from engine.content.store import ContentStore
    from engine.images.store import ImageRecord


@dataclass
class _Content:
    """What ``layer_view`` reads of a ``ContentStore``: blobs by digest."""

    blobs: dict[str, tuple[bytes, int]]

    def open(self, digest: str) -> BinaryIO:
        return io.BytesIO(self.blobs[digest][0])

    def size(self, digest: str) -> int:
        return len(self.blobs[digest][0])


@dataclass
class _Record:
    """What ``layer_view`` reads of an ``ImageRecord``."""

    id: str
    config: dict[str, Any]
    manifest: dict[str, Any]
    tags: list[str] = field(default_factory=list)

    @property
    def diff_ids(self) -> list[str]:
        return list((self.config.get("rootfs") or {}).get("diff_ids") or [])


class FakeLayersMixin:
    _lock: threading.RLock
    _images: dict[str, dict[str, Any]]
    _blobs: dict[str, tuple[bytes, int]]

    if TYPE_CHECKING:
        def images_resolve(self, name: str) -> str: ...
        def _tags_of(self, image_id: str) -> list[str]: ...

    def _layer_inputs(self, name: str) -> tuple[ContentStore, ImageRecord]:
        with self._lock:
            image_id = self.images_resolve(name)
            img = self._images[image_id]
            layers = [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d,
                       "size": len(self._blobs[d][0])} for d in img["layers"]]
            rec = _Record(image_id, img["config"], {"layers": layers},
                          [str(parse(t)) for t in self._tags_of(image_id)])
            content = _Content(dict(self._blobs))
        return content, rec  # type: ignore[return-value]  # duck-typed for layer_view

    def images_layers(self, name: str) -> ImageLayers:
        content, rec = self._layer_inputs(name)
        return layer_view.analyse(content, rec)

    def images_extract_file(self, name: str, layer_index: int, path: str, dest: str | Path,
                            *, overwrite: bool = False) -> Path:
        content, rec = self._layer_inputs(name)
        return layer_view.extract_file(content, rec, layer_index, path, Path(dest),
                                       overwrite=overwrite)
