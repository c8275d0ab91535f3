"""The layer explorer half of the facade (mixed into :class:`engine.api.Engine`)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .content.store import ContentStore
    from .images.layer_view import LayersCache
    from .images.store import ImageStore
    from .types_layers import ImageLayers


class LayersMixin:
    content: ContentStore
    images: ImageStore

    @cached_property
    def _layers_cache(self) -> LayersCache:
        from .images.layer_view import LayersCache

        return LayersCache()

    def images_layers(self, name: str) -> ImageLayers:
        """Each layer of image ``name`` with its file changes, plus dive's wasted bytes
        and efficiency score. Reads every layer once; later calls come from a cache."""
        from .images import layer_view

        image_id = self.images.resolve(name)
        cached = self._layers_cache.get(image_id)
        if cached is not None:
            return cached
        result = layer_view.analyse(self.content, self.images.record(image_id))
        self._layers_cache.put(result)
        return result

    def images_extract_file(self, name: str, layer_index: int, path: str, dest: str | Path,
                            *, overwrite: bool = False) -> Path:
        """Copy the regular file ``path`` as layer ``layer_index`` (0 = base) of image
        ``name`` holds it to the host path ``dest`` (a directory keeps the file's
        name); returns the path written. ``..`` in ``path`` is refused."""
        from .images import layer_view

        rec = self.images.record(self.images.resolve(name))
        return layer_view.extract_file(self.content, rec, layer_index, path, Path(dest),
                                       overwrite=overwrite)
