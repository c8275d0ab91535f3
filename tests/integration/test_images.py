"""The image store end to end: import, list, inspect, history, tag, remove, prune."""

from __future__ import annotations

import io
import json
import os
import threading
from pathlib import Path

import pytest

from engine import Engine, EngineConfig
from engine.errors import Conflict, ImageInUse, ImageNotFound, InvalidArgument, InvalidReference
from engine.images.model import chain_ids
from engine.types import ImportOptions
from tests.conftest import busybox_rootfs_tar

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def _import(engine: Engine, ref: str | None, data: bytes | None = None, **kw: object) -> str:
    opts = ImportOptions(reference=ref, created=1700000000.0, **kw)  # type: ignore[arg-type]
    return engine.images_import(io.BytesIO(data or busybox_rootfs_tar()), opts)


def test_import_lists_and_inspects(engine: Engine) -> None:
    changes = ("CMD [\"sh\"]", "ENV A=b")
    image_id = _import(engine, "busybox:local", changes=changes)
    rows = engine.images_list()
    assert [(r.repository, r.tag, r.id) for r in rows] == [("busybox", "local", image_id)]
    assert rows[0].size > 500_000  # static busybox
    info = engine.images_inspect("busybox:local")
    assert info["Id"] == image_id
    assert info["RepoTags"] == ["busybox:local"]
    assert info["Config"]["Cmd"] == ["sh"]
    assert info["Config"]["Env"] == ["A=b"]
    assert info["Os"] == "linux" and info["Architecture"] == "amd64"
    assert len(info["RootFS"]["Layers"]) == 1
    # Same content, same time: same ID (reproducible).
    assert _import(engine, None, changes=changes) == image_id
    # The snapshot holds the files, overlay-ready.
    lower = Path(info["GraphDriver"]["Data"]["LowerDir"])
    assert (lower / "bin" / "busybox").stat().st_mode & 0o111
    assert os.readlink(lower / "bin" / "sh") == "busybox"


def test_resolve_by_short_id_full_id_and_digest(engine: Engine) -> None:
    image_id = _import(engine, "a:1")
    digest = engine.images_inspect("a:1")["Descriptor"]["digest"]
    for name in (image_id, image_id[7:19], image_id[7:], f"a@{digest}"):
        assert engine.images_resolve(name) == image_id
    with pytest.raises(ImageNotFound):
        engine.images_resolve("nope:1")


def test_history_rows(engine: Engine) -> None:
    image_id = _import(engine, "h:1", message="from test")
    rows = engine.images_history("h:1")
    assert len(rows) == 1 and rows[0].id == image_id
    assert rows[0].comment == "from test" and rows[0].size > 0


def test_tag_and_untag_then_delete(engine: Engine) -> None:
    image_id = _import(engine, "one:1")
    engine.images_tag("one:1", "localhost:5000/team/two:2")
    tags = {(r.repository, r.tag) for r in engine.images_list()}
    assert tags == {("one", "1"), ("localhost:5000/team/two", "2")}
    # Removing by ID with two tags needs force; by tag only untags.
    rep = engine.images_remove([image_id[7:19]])[0]
    assert rep.error and "must be forced" in rep.error
    rep = engine.images_remove(["one:1"])[0]
    assert rep.untagged == ("one:1",) and rep.deleted == ()
    rep = engine.images_remove(["localhost:5000/team/two:2"])[0]
    assert rep.deleted[0] == image_id
    assert engine.images_list() == []
    assert list(engine.content.digests()) == []
    assert engine.snapshots.chain_ids() == []


def test_retag_moves_tag_and_leaves_dangling(engine: Engine) -> None:
    old = _import(engine, "app:latest")
    new = _import(engine, "app:latest", busybox_rootfs_tar({"etc/v2": b"2"}))
    assert old != new
    rows = engine.images_list()
    assert {(r.repository, r.tag, r.id) for r in rows} == {
        ("app", "latest", new), ("<none>", "<none>", old)}
    rep = engine.images_prune()
    assert rep.deleted == (old,) and rep.space_reclaimed > 0
    assert [r.id for r in engine.images_list()] == [new]
    # Shared nothing: the new image's blobs and snapshot are intact.
    assert engine.images_inspect("app")["Id"] == new


def test_prune_all_spares_images_in_use(engine: Engine, root: Path) -> None:
    used = _import(engine, "used:1")
    _import(engine, "unused:1", busybox_rootfs_tar({"x": b"x"}))
    chain = chain_ids(engine.images_inspect("used:1")["RootFS"]["Layers"])[-1]
    cdir = root / "containers" / "c1"
    cdir.mkdir(parents=True)
    (cdir / "state.json").write_text(json.dumps(
        {"name": "web", "image_id": used, "image_chain_id": chain}))
    rep = engine.images_prune(all_unused=True)
    assert len(rep.deleted) == 1 and used not in rep.deleted
    with pytest.raises(ImageInUse, match="web"):
        from engine.images import remove
        remove.remove(engine.images, "used:1")
    # Forced removal drops the image but keeps the snapshot the container runs on.
    assert engine.images_remove(["used:1"], force=True)[0].error is None
    assert engine.snapshots.exists(chain)


def test_bad_input_leaves_nothing(engine: Engine, root: Path) -> None:
    with pytest.raises(InvalidReference):
        _import(engine, "Bad:Ref")
    with pytest.raises(InvalidArgument):
        _import(engine, "ok:1", changes=("RUN rm -rf /",))
    with pytest.raises(InvalidArgument):
        _import(engine, "ok:1", b"this is not a tar archive at all" * 100)
    assert engine.images_list() == []
    assert list(engine.content.digests()) == []
    assert engine.snapshots.chain_ids() == []
    assert [p.name for p in (root / "snapshots").iterdir()] == []


def test_batch_remove_reports_each_item(engine: Engine) -> None:
    _import(engine, "x:1")
    reps = engine.images_remove(["nope:1", "x:1", "Bad:Ref"])
    assert [bool(r.error) for r in reps] == [True, False, True]
    assert "No such image" in (reps[0].error or "")


def test_ambiguous_short_id_is_a_conflict(engine: Engine) -> None:
    ids = {_import(engine, None, busybox_rootfs_tar({"n": str(i).encode()})) for i in range(20)}
    firsts = [i[7] for i in ids]
    dup = next((c for c in set(firsts) if firsts.count(c) > 1), None)
    if dup is None:
        pytest.skip("no shared first hex digit in this sample")
    with pytest.raises(Conflict, match="ambiguous"):
        engine.images_resolve(dup)


def test_two_processes_share_one_root(root: Path) -> None:
    """Concurrent imports and tags through separate engines never corrupt the store."""
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            e = Engine(EngineConfig(root=root))
            for i in range(3):
                _import(e, f"img{n}:{i}", busybox_rootfs_tar({"who": f"{n}-{i}".encode()}))
                e.images_tag(f"img{n}:{i}", f"shared:{n}{i}")
        except BaseException as err:  # noqa: BLE001 - surfaced below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = Engine(EngineConfig(root=root)).images_list()
    assert len({r.id for r in rows}) == 12 and len(rows) == 24
    index = json.loads((root / "content" / "index.json").read_text())
    assert len(index["manifests"]) == 24


def test_events_record_image_actions(engine: Engine) -> None:
    image_id = _import(engine, "ev:1")
    engine.images_tag("ev:1", "ev:2")
    engine.images_remove(["ev:1", "ev:2"])
    actions = [(e.action, e.actor_id == image_id) for e in engine.events_list()]
    assert actions == [("import", True), ("tag", True), ("untag", True), ("untag", True),
                       ("delete", True)]
