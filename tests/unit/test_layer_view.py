"""The layer explorer's engine half: per-layer marks, dive's wasted bytes and score,
history matching, the cache, and extracting one file safely.

Images are hand-made layer tars (tests/layer_images.py) loaded as a docker-archive.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine import Engine
from engine.errors import AlreadyExists, EngineError, ImageNotFound, InvalidArgument, NotFound
from engine.types_layers import ADDED, MODIFIED, REMOVED, UNCHANGED, ImageLayers
from tests.layer_images import (
    DIR,
    FILE,
    HELLO,
    MAIN_PY,
    PASSWD_0,
    PASSWD_1,
    SAMPLE_HISTORY,
    WHITEOUT,
    load_image,
    load_sample,
)


def marks(layers: ImageLayers, index: int) -> dict[str, str]:
    return {f.path: f.change for f in layers.layers[index].files}


@pytest.fixture
def sample(engine: Engine) -> ImageLayers:
    load_sample(engine)
    return engine.images_layers("layers:1.0")


def test_base_layer_is_all_added(sample: ImageLayers) -> None:
    assert marks(sample, 0) == {p: ADDED for p in (
        "/bin", "/bin/hello", "/etc", "/etc/motd", "/etc/passwd", "/var", "/var/cache",
        "/var/cache/a.bin", "/var/cache/b.bin")}
    hello = next(f for f in sample.layers[0].files if f.path == "/bin/hello")
    assert (hello.kind, hello.size, hello.mode, hello.layer) == ("file", len(HELLO), 0o755, 0)


def test_added_modified_and_whiteout_removed(sample: ImageLayers) -> None:
    assert marks(sample, 1) == {
        "/app": ADDED, "/app/main.py": ADDED,
        "/etc": UNCHANGED,  # listed again with the same metadata
        "/etc/passwd": MODIFIED,
        "/etc/motd": REMOVED,  # etc/.wh.motd
    }
    motd = next(f for f in sample.layers[1].files if f.path == "/etc/motd")
    # A removed entry describes what went away, and says which layer removed it.
    assert (motd.kind, motd.size, motd.layer) == ("file", 50, 1)


def test_opaque_directory_removes_what_is_below(sample: ImageLayers) -> None:
    assert marks(sample, 2) == {
        "/bin/link": ADDED, "/var/cache": UNCHANGED, "/var/cache/new.txt": ADDED,
        "/var/cache/a.bin": REMOVED, "/var/cache/b.bin": REMOVED,
    }
    link = next(f for f in sample.layers[2].files if f.path == "/bin/link")
    assert (link.kind, link.link, link.size) == ("symlink", "hello", 0)


def test_created_by_skips_empty_layer_steps(sample: ImageLayers) -> None:
    steps = [h["created_by"] for h in SAMPLE_HISTORY if not h.get("empty_layer")]
    assert [layer.created_by for layer in sample.layers] == steps
    assert "ENV" not in sample.layers[1].created_by  # the empty step right before it


def test_layer_metadata(engine: Engine, sample: ImageLayers) -> None:
    inspect = engine.images_inspect("layers:1.0")
    assert [layer.diff_id for layer in sample.layers] == inspect["RootFS"]["Layers"]
    assert sample.tags == ("layers:1.0",)
    assert sample.image_id == inspect["Id"]
    # Layer 1 is stored gzipped (the archive had it so): the blob is not the tar.
    assert sample.layers[1].blob_size < 10240 <= sample.layers[0].blob_size
    assert [layer.size for layer in sample.layers] == [
        len(HELLO) + 50 + len(PASSWD_0) + 200 + 300, len(MAIN_PY) + len(PASSWD_1), 10]
    assert sample.size == sum(layer.size for layer in sample.layers)


def test_wasted_bytes_and_efficiency_as_dive(sample: ImageLayers) -> None:
    # dive counts every layer's copy of a path touched by two layers or more
    # (a removal weighs 0), and scores min-per-path over sum-per-path.
    passwd = len(PASSWD_0) + len(PASSWD_1)  # written twice
    motd, a_bin, b_bin = 50, 200, 300  # written, then removed
    assert sample.wasted == passwd + motd + a_bin + b_bin
    assert [(w.path, w.count, w.size) for w in sample.wasted_paths] == [
        ("/var/cache/b.bin", 2, 300), ("/var/cache/a.bin", 2, 200),
        ("/etc/passwd", 2, passwd), ("/etc/motd", 2, 50)]
    total = len(HELLO) + passwd + motd + a_bin + b_bin + len(MAIN_PY) + 10
    smallest = len(HELLO) + len(PASSWD_0) + 0 + 0 + 0 + len(MAIN_PY) + 10
    assert sample.efficiency == pytest.approx(smallest / total)


def test_single_layer_image_is_fully_efficient(engine: Engine) -> None:
    load_image(engine, "one:1", [[("f", FILE, b"x" * 10), ("d", DIR, None)]])
    res = engine.images_layers("one:1")
    assert (res.wasted, res.efficiency, res.wasted_paths) == (0, 1.0, ())


def test_removed_directory_wastes_every_file_under_it(engine: Engine) -> None:
    load_image(engine, "rmdir:1", [
        [("d", DIR, None), ("d/x", FILE, b"x" * 10), ("d/sub", DIR, None),
         ("d/sub/y", FILE, b"y" * 20), ("keep", FILE, b"k" * 5)],
        [(".wh.d", WHITEOUT, None)],
    ])
    res = engine.images_layers("rmdir:1")
    assert marks(res, 1) == {p: REMOVED for p in ("/d", "/d/x", "/d/sub", "/d/sub/y")}
    assert res.wasted == 30
    assert res.efficiency == pytest.approx(5 / 35)
    assert [f.path for f in res.aggregated(1) if f.change != REMOVED] == ["/keep"]


def test_identical_rewrite_is_unchanged_but_still_wasted(engine: Engine) -> None:
    load_image(engine, "same:1", [[("f", FILE, b"hello")], [("f", FILE, b"hello")],
                                  [("f", FILE, b"HELLO")]])
    res = engine.images_layers("same:1")
    assert marks(res, 1) == {"/f": UNCHANGED}
    assert marks(res, 2) == {"/f": MODIFIED}  # same size, other bytes
    assert res.wasted == 15
    assert res.efficiency == pytest.approx(5 / 15)


def test_implicit_parent_directories_are_added(engine: Engine) -> None:
    load_image(engine, "deep:1", [[("a/b/c", FILE, b"c")]])
    res = engine.images_layers("deep:1")
    assert marks(res, 0) == {"/a": ADDED, "/a/b": ADDED, "/a/b/c": ADDED}


def test_aggregated_view(sample: ImageLayers) -> None:
    agg = {f.path: f for f in sample.aggregated(1)}
    assert {p: f.change for p, f in agg.items()} == {
        "/app": ADDED, "/app/main.py": ADDED, "/bin": UNCHANGED, "/bin/hello": UNCHANGED,
        "/etc": UNCHANGED, "/etc/motd": REMOVED, "/etc/passwd": MODIFIED, "/var": UNCHANGED,
        "/var/cache": UNCHANGED, "/var/cache/a.bin": UNCHANGED, "/var/cache/b.bin": UNCHANGED}
    # Where each version lives, for extraction.
    assert agg["/bin/hello"].layer == 0 and agg["/etc/passwd"].layer == 1
    top = {f.path: f.change for f in sample.aggregated(2)}
    assert "/etc/motd" not in top  # removed below: gone, not re-listed
    assert top["/var/cache/a.bin"] == REMOVED and top["/etc/passwd"] == UNCHANGED
    with pytest.raises(IndexError):
        sample.aggregated(3)


def test_result_is_cached_per_image_id(engine: Engine, sample: ImageLayers) -> None:
    engine.images_tag("layers:1.0", "other:2")
    assert engine.images_layers("layers:1.0") is sample
    assert engine.images_layers("other:2") is sample  # same image ID, same entry
    with pytest.raises(ImageNotFound):
        engine.images_layers("nope:1")


def test_extract_file_from_a_layer(engine: Engine, tmp_path: Path) -> None:
    load_sample(engine)
    out = engine.images_extract_file("layers:1.0", 0, "/etc/passwd", tmp_path / "p0")
    assert out == tmp_path / "p0" and out.read_bytes() == PASSWD_0
    assert engine.images_extract_file("layers:1.0", 1, "etc/passwd", tmp_path / "p1") \
        .read_bytes() == PASSWD_1
    # A directory as destination keeps the name; only the permission bits are kept.
    out = engine.images_extract_file("layers:1.0", 0, "/bin/hello", tmp_path)
    assert out == tmp_path / "hello" and out.read_bytes() == HELLO
    assert os.stat(out).st_mode & 0o7777 == 0o755


@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/../etc/passwd", "etc/passwd/..",
                                  "/", "", "etc/pa\0sswd"])
def test_extract_refuses_traversal(engine: Engine, tmp_path: Path, path: str) -> None:
    load_sample(engine)
    with pytest.raises(InvalidArgument):
        engine.images_extract_file("layers:1.0", 0, path, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_extract_refuses_what_is_not_a_regular_file(engine: Engine, tmp_path: Path) -> None:
    load_sample(engine)
    with pytest.raises(InvalidArgument, match="dir"):
        engine.images_extract_file("layers:1.0", 0, "/etc", tmp_path / "x")
    with pytest.raises(InvalidArgument, match="symlink"):
        engine.images_extract_file("layers:1.0", 2, "/bin/link", tmp_path / "x")
    with pytest.raises(NotFound):  # removed by layer 1's whiteout: not in its tar
        engine.images_extract_file("layers:1.0", 1, "/etc/motd", tmp_path / "x")
    with pytest.raises(InvalidArgument, match="no layer 7"):
        engine.images_extract_file("layers:1.0", 7, "/etc/passwd", tmp_path / "x")
    with pytest.raises(InvalidArgument, match="not a directory"):
        engine.images_extract_file("layers:1.0", 0, "/etc/passwd", tmp_path / "no" / "x")
    assert list(tmp_path.iterdir()) == []


def test_extract_never_writes_through_an_existing_path(engine: Engine, tmp_path: Path) -> None:
    load_sample(engine)
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    dest = tmp_path / "dest"
    dest.symlink_to(victim)
    with pytest.raises(AlreadyExists):
        engine.images_extract_file("layers:1.0", 0, "/etc/passwd", dest)
    # With overwrite the symlink itself is replaced; its target is untouched.
    engine.images_extract_file("layers:1.0", 0, "/etc/passwd", dest, overwrite=True)
    assert not dest.is_symlink() and dest.read_bytes() == PASSWD_0
    assert victim.read_bytes() == b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest", "victim"]  # no temp left


def test_a_damaged_layer_blob_is_an_engine_error(engine: Engine, tmp_path: Path) -> None:
    load_sample(engine)
    digest = engine.images_inspect("layers:1.0")["Id"]
    rec = engine.images.record(digest)
    gz = rec.manifest["layers"][1]["digest"]  # the gzipped layer
    blob = engine.content.path(gz)
    blob.write_bytes(blob.read_bytes()[:40])  # truncated mid-stream
    with pytest.raises(EngineError, match="cannot read layer") as info:
        engine.images_layers("layers:1.0")
    assert info.value.title == "Bad layer"
    with pytest.raises(EngineError, match="cannot read layer"):
        engine.images_extract_file("layers:1.0", 1, "/etc/passwd", tmp_path / "p")
    assert list(tmp_path.iterdir()) == []
