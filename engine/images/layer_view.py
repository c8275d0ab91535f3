"""The layer explorer's engine half: each layer's changes, dive's wasted bytes and score.

Layers are read from the content store as tar streams (decompressed by
:mod:`engine.compression`), never unpacked: the snapshots already on disk are
the merged result of whiteouts and no longer say which layer wrote what.

dive's measures, as its ``filetree/efficiency.go`` defines them: every layer
contributes one "node" per path it leaves as a leaf (a file, a link, an empty
directory) and one per path it removes. A path's nodes are weighed by size
(0 for a removal); the score is, over all paths, the sum of the smallest node
over the sum of all nodes, and the wasted bytes are the sums of the paths with
two nodes or more. Where dive weighs a removed directory as one node at the
directory, we give each leaf below it a removal node (and treat an opaque
directory the same way): a file deleted with its directory is then waste too,
which is what dive's own documentation says it measures.
"""

from __future__ import annotations

import contextlib
import functools
import os
import tarfile
import tempfile
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import IO, BinaryIO

from ..compression import open_layer_stream
from ..content.store import ContentStore
from ..errors import AlreadyExists, EngineError, InvalidArgument, InvalidLayer, NotFound
from ..record import dataclass
from ..reference import parse
from ..snapshots._paths import Kind, split_name, whiteout_kind
from ..types_layers import (
    ADDED,
    MODIFIED,
    REMOVED,
    UNCHANGED,
    ImageLayers,
    LayerFile,
    LayerInfo,
    WastedPath,
)
from .model import parse_rfc3339
from .store import ImageRecord

try:  # ISA-L's crc32 is several times zlib's; the same function otherwise
    from isal.isal_zlib import crc32 as _crc32
except ImportError:  # pragma: no cover - isal is a dependency
    _crc32 = zlib.crc32

_CHUNK = 1 << 20
_KINDS = {tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.CONTTYPE: "file",
          tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "symlink", tarfile.LNKTYPE: "hardlink",
          tarfile.CHRTYPE: "char", tarfile.BLKTYPE: "block", tarfile.FIFOTYPE: "fifo"}
MAX_WASTED_ROWS = 500


@dataclass(frozen=True)
class _Node:
    """An entry as the comparison needs it: ``crc`` tells identical rewrites apart."""

    kind: str
    size: int
    mode: int
    uid: int
    gid: int
    link: str
    crc: int
    layer: int

    def same(self, other: _Node) -> bool:
        return (self.kind, self.size, self.mode, self.uid, self.gid, self.link, self.crc) == (
            other.kind, other.size, other.mode, other.uid, other.gid, other.link, other.crc)

    def public(self, key: str, change: str, layer: int) -> LayerFile:
        return LayerFile("/" + key, self.kind, self.size, self.mode, self.uid, self.gid,
                         self.link, change, layer)


@dataclass
class _LayerTar:
    """One tar's entries by path (last one wins, in tar order) and its whiteouts."""

    entries: dict[str, _Node]
    whiteouts: list[str]
    opaques: list[str]


def _read_layer(content: ContentStore, digest: str, index: int) -> _LayerTar:
    out = _LayerTar({}, [], [])
    with content.open(digest) as blob, _tar(blob, digest) as tar:
        while (m := tar.next()) is not None:
            tar.members.clear()  # type: ignore[attr-defined]  # stream mode keeps them all
            parts = split_name(m.name)
            kind, hidden = whiteout_kind(m.name, parts)
            if kind is Kind.OPAQUE:
                out.opaques.append("/".join(parts[:-1]))
            elif kind is Kind.WHITEOUT:
                out.whiteouts.append("/".join((*parts[:-1], hidden)))
            elif kind is Kind.ENTRY and parts:
                out.entries["/".join(parts)] = _node(tar, m, index)
    return out


@functools.cache
def _read_errors() -> tuple[type[BaseException], ...]:
    """What a damaged blob raises while read: tarfile's, the decompressors', the OS's."""
    errors: list[type[BaseException]] = [tarfile.TarError, EOFError, OSError, ValueError,
                                         zlib.error]
    with contextlib.suppress(ImportError):
        from isal import isal_zlib

        errors.append(isal_zlib.error)  # type: ignore[arg-type]  # a class, typed wrongly
    with contextlib.suppress(ImportError):
        import zstandard

        errors.append(zstandard.ZstdError)
    return tuple(errors)


@contextlib.contextmanager
def _tar(blob: BinaryIO, digest: str) -> Iterator[tarfile.TarFile]:
    try:
        # Names decoded as the unpacker does, but shown to people: no lone surrogates.
        with tarfile.open(fileobj=open_layer_stream(blob), mode="r|", encoding="utf-8",
                          errors="replace") as tar:
            yield tar
    except Exception as err:
        if isinstance(err, EngineError) or not isinstance(err, _read_errors()):
            raise
        raise EngineError(f"cannot read layer {digest}: {err}", title="Bad layer") from err


def _node(tar: tarfile.TarFile, m: tarfile.TarInfo, index: int) -> _Node:
    kind = _KINDS.get(m.type, "file")
    link, crc, size = "", 0, 0
    if m.issym():
        link = m.linkname
    elif m.islnk():
        link = "/" + "/".join(split_name(m.linkname.lstrip("/")))
    elif m.isreg():
        size = m.size
        f = tar.extractfile(m)
        if f is not None:
            while chunk := f.read(_CHUNK):
                crc = _crc32(chunk, crc)
    return _Node(kind, size, m.mode & 0o7777, m.uid, m.gid, link, crc, index)


class _Tree:
    """The merged filesystem below the layer being compared, with a children index."""

    def __init__(self) -> None:
        self.nodes: dict[str, _Node] = {}
        self.children: dict[str, set[str]] = {}

    def descendants(self, key: str) -> Iterator[str]:
        todo = list(self.children.get(key, ()))
        while todo:
            k = todo.pop()
            yield k
            todo.extend(self.children.get(k, ()))

    def is_leaf(self, key: str) -> bool:
        return not self.children.get(key)

    def put(self, key: str, node: _Node) -> None:
        if key not in self.nodes:
            self.children.setdefault(key.rpartition("/")[0], set()).add(key)
        self.nodes[key] = node

    def drop(self, key: str) -> None:
        if self.nodes.pop(key, None) is not None:
            self.children.get(key.rpartition("/")[0], set()).discard(key)
            self.children.pop(key, None)


def _parents(key: str) -> Iterator[str]:
    while "/" in key:
        key = key.rpartition("/")[0]
        yield key


class _Efficiency:
    """dive's per-path accounting: count, cumulative size, smallest size."""

    def __init__(self) -> None:
        self.paths: dict[str, list[int]] = {}

    def add(self, key: str, size: int) -> None:
        row = self.paths.get(key)
        if row is None:
            self.paths[key] = [1, size, size]
        else:
            row[0] += 1
            row[1] += size
            row[2] = min(row[2], size)

    def result(self) -> tuple[float, int, tuple[WastedPath, ...]]:
        total = sum(r[1] for r in self.paths.values())
        smallest = sum(r[2] for r in self.paths.values())
        score = 1.0 if total == 0 else smallest / total
        rows = [WastedPath("/" + k, r[0], r[1]) for k, r in self.paths.items()
                if r[0] >= 2 and r[1] > 0]
        rows.sort(key=lambda w: (-w.size, w.path))
        return score, sum(w.size for w in rows), tuple(rows[:MAX_WASTED_ROWS])


def _compare(tree: _Tree, tar: _LayerTar, index: int, eff: _Efficiency) -> list[LayerFile]:
    """This layer's changes against ``tree``, which is then updated to include them."""
    entries = dict(tar.entries)
    for key in list(entries):  # parents a tar leaves out, which the unpacker makes
        for parent in _parents(key):
            if parent in entries or parent in tree.nodes:
                break
            entries[parent] = _Node("dir", 0, 0o755, 0, 0, "", 0, index)
    removed: set[str] = set()
    for d in tar.opaques:
        removed.update(tree.descendants(d))
    for key in tar.whiteouts:
        if key in tree.nodes:
            removed.add(key)
            removed.update(tree.descendants(key))
    for key, node in entries.items():
        old = tree.nodes.get(key)
        if old is not None and old.kind == "dir" and node.kind != "dir":
            removed.update(tree.descendants(key))
    # Whiteouts hide lower layers only: what this layer writes again stays.
    removed.difference_update(entries)

    out: list[LayerFile] = []
    for key in removed:
        if tree.is_leaf(key):
            eff.add(key, 0)
        out.append(tree.nodes[key].public(key, REMOVED, index))
    inner = {p for key in entries for p in _parents(key)}
    for key, node in entries.items():
        if key not in inner:
            eff.add(key, node.size)
        out.append(node.public(key, _change(tree.nodes.get(key), node), index))
    # Deepest first, so a directory's children go before the directory itself.
    for key in sorted(removed, key=lambda k: -k.count("/")):
        tree.drop(key)
    for key, node in entries.items():
        tree.put(key, node)
    out.sort(key=lambda f: f.path)
    return out


def _change(old: _Node | None, new: _Node) -> str:
    if old is None:
        return ADDED
    if old.kind == "dir" and new.kind == "dir":
        # A directory is listed again whenever something in it changes: that alone
        # is no change of the directory.
        same = (old.mode, old.uid, old.gid) == (new.mode, new.uid, new.gid)
    else:
        same = old.same(new)
    return UNCHANGED if same else MODIFIED


def _steps(rec: ImageRecord) -> list[tuple[str, float, str]]:
    """(created_by, created, comment) of each layer-making history step, in layer order."""
    steps = []
    for h in rec.config.get("history") or []:
        if not h.get("empty_layer"):
            steps.append((str(h.get("created_by", "")), parse_rfc3339(str(h.get("created", ""))),
                          str(h.get("comment", ""))))
    return steps


def analyse(content: ContentStore, rec: ImageRecord) -> ImageLayers:
    """Read every layer of ``rec`` and compare each with the ones below it."""
    descs = rec.manifest.get("layers") or []
    diff_ids = rec.diff_ids
    steps = _steps(rec)
    tree, eff = _Tree(), _Efficiency()
    layers = []
    for i, desc in enumerate(descs):
        files = _compare(tree, _read_layer(content, desc["digest"], i), i, eff)
        created_by, created, comment = steps[i] if i < len(steps) else ("", 0.0, "")
        layers.append(LayerInfo(
            index=i, digest=desc["digest"], diff_id=diff_ids[i] if i < len(diff_ids) else "",
            blob_size=int(desc.get("size") or content.size(desc["digest"])),
            size=sum(f.size for f in files if f.change != REMOVED and f.kind == "file"),
            created_by=created_by, created=created, comment=comment, files=tuple(files)))
    score, wasted, rows = eff.result()
    return ImageLayers(rec.id, tuple(parse(t).familiar for t in rec.tags), tuple(layers),
                       sum(layer.size for layer in layers), wasted, score, rows)


class LayersCache:
    """The last few analyses by image ID. An image ID is a digest of its config, which
    names every layer's DiffID: an entry can never go stale, only out of use."""

    def __init__(self, capacity: int = 4) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, ImageLayers] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, image_id: str) -> ImageLayers | None:
        with self._lock:
            item = self._items.get(image_id)
            if item is not None:
                self._items.move_to_end(image_id)
            return item

    def put(self, item: ImageLayers) -> None:
        with self._lock:
            self._items[item.image_id] = item
            self._items.move_to_end(item.image_id)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)


def image_path(path: str) -> tuple[str, ...]:
    """Components of a path inside the image; ``..`` and NUL are refused, not cleaned."""
    try:
        parts = split_name(path.lstrip("/"))
    except InvalidLayer as err:
        raise InvalidArgument(f"bad path {path!r} inside the image: {err.reason}") from None
    if not parts:
        raise InvalidArgument("no file named: the image root is a directory")
    return parts


def extract_file(content: ContentStore, rec: ImageRecord, layer_index: int, path: str,
                 dest: Path, *, overwrite: bool = False) -> Path:
    """Copy regular file ``path`` of layer ``layer_index``'s tar to the host path ``dest``.

    ``dest`` may be a directory (the file keeps its name). The copy lands in a
    temporary file next to ``dest`` that is then renamed over it, so a symlink at
    ``dest`` is replaced, never written through. Only the permission bits are
    kept (no setuid, setgid or sticky bit); the caller owns the copy.
    """
    descs = rec.manifest.get("layers") or []
    if not 0 <= layer_index < len(descs):
        raise InvalidArgument(f"no layer {layer_index}: the image has {len(descs)}")
    parts = image_path(path)
    want = "/".join(parts)
    target = Path(dest)
    if target.is_dir():
        target = target / parts[-1]
    if not target.parent.is_dir():
        raise InvalidArgument(f"cannot extract to {target}: {target.parent} is not a directory")
    if not overwrite and os.path.lexists(target):
        raise AlreadyExists(f"{target} already exists")
    digest = descs[layer_index]["digest"]
    with content.open(digest) as blob, _tar(blob, digest) as tar:
        for m in tar:
            if "/".join(split_name(m.name)) != want:
                continue
            # The first entry of that name: duplicate names are not made by any
            # layer writer we know, and reading on would cost the rest of the layer.
            if not m.isreg():
                what = _KINDS.get(m.type, "special file")
                raise InvalidArgument(f"/{want} is a {what} in layer {layer_index}: "
                                      f"only regular files can be extracted")
            src = tar.extractfile(m)
            assert src is not None
            _write(src, target, m.mode & 0o777)
            return target
    raise NotFound(f"/{want} is not in layer {layer_index}")


def _write(src: IO[bytes], target: Path, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.pydock-")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := src.read(_CHUNK):
                out.write(chunk)
            os.fchmod(out.fileno(), mode)
        os.replace(tmp, target)
    except BaseException as err:  # a damaged layer too: no half-written file is left
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(err, OSError):
            raise EngineError(f"cannot write {target}: {err.strerror or err}",
                              title="Extract failed") from err
        raise
