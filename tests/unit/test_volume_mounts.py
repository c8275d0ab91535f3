"""``-v``/``--mount``/``--tmpfs`` parsing, mount planning and the volume store (no root)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import InvalidArgument
from engine.volumes import plan
from engine.volumes.mounts import (
    MountRequest,
    parse_bytes,
    parse_mount,
    parse_tmpfs,
    parse_volume,
    parse_volumes_from,
)
from engine.volumes.store import VolumeInUse, VolumeNotFound, VolumeStore, dir_size


@pytest.mark.parametrize(("spec", "want"), [
    ("/data", MountRequest("volume", "", "/data")),
    ("/data:ro", MountRequest("volume", "", "/data", read_only=True, mode="ro")),
    ("db:/var/lib/db", MountRequest("volume", "db", "/var/lib/db")),
    ("db:/x/:ro,nocopy", MountRequest("volume", "db", "/x", read_only=True, nocopy=True,
                                      mode="ro,nocopy")),
    ("/srv:/srv:ro", MountRequest("bind", "/srv", "/srv", read_only=True, mode="ro",
                                  propagation="rprivate", create_host_path=True)),
    ("/a:/b:rshared,z", MountRequest("bind", "/a", "/b", mode="rshared,z",
                                     propagation="rshared", create_host_path=True)),
    ("./rel:/b", MountRequest("bind", "/work/rel", "/b", propagation="rprivate",
                              create_host_path=True)),
])
def test_parse_volume(spec: str, want: MountRequest) -> None:
    assert parse_volume(spec, cwd="/work") == want


@pytest.mark.parametrize("spec", [
    "db:relative", "db:/", ":/x", "a:/b:rx", "a:/b:ro,rw", "/a:/b:nocopy", "v:/b:rshared",
    "bad name:/x", "a:b:c:d", "x",
])
def test_parse_volume_rejects(spec: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_volume(spec, cwd="/")


def test_parse_mount() -> None:
    assert parse_mount("type=bind,source=/h,target=/c,readonly") == MountRequest(
        "bind", "/h", "/c", read_only=True, propagation="rprivate")
    assert parse_mount("src=vv,dst=/c,volume-nocopy,volume-label=a=b") == MountRequest(
        "volume", "vv", "/c", nocopy=True, labels=(("a", "b"),))
    assert parse_mount("type=volume,dst=/anon,ro=false") == MountRequest("volume", "", "/anon")
    assert parse_mount("type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1777").tmpfs_options == (
        "noexec", "nosuid", "nodev", f"size={64 << 20}", "mode=1777")
    assert parse_mount('"type=bind","src=/a,b",dst=/c').source == "/a,b"  # CSV quoting
    for bad in ("type=nfs,dst=/x", "type=bind,dst=/x", "type=tmpfs,src=x,dst=/t", "src=v",
                "type=volume,dst=/x,bogus=1", "type=bind,src=/a,dst=/b,bind-propagation=no",
                "type=tmpfs,dst=/t,tmpfs-mode=999", "type=volume,dst=/x,readonly=maybe"):
        with pytest.raises(InvalidArgument):
            parse_mount(bad)


def test_parse_tmpfs_and_sizes() -> None:
    r = parse_tmpfs("/run:rw,exec,size=1g,uid=1000")
    assert r == MountRequest("tmpfs", "", "/run", tmpfs_options=(
        "nosuid", "nodev", f"size={1 << 30}", "uid=1000"))
    assert parse_tmpfs("/ro:ro").read_only
    with pytest.raises(InvalidArgument):
        parse_tmpfs("/x:bogus")
    assert parse_bytes("4096") == 4096 and parse_bytes("1.5k") == 1536
    with pytest.raises(InvalidArgument):
        parse_bytes("lots")
    assert parse_volumes_from("c1:ro") == ("c1", "ro")
    with pytest.raises(InvalidArgument):
        parse_volumes_from("c1:rx")


def test_spec_mounts_parents_first_and_view_hides_private_keys() -> None:
    recs = [
        {"Type": "volume", "Name": "v", "Source": "/vol/v/_data", "Destination": "/data/sub",
         "RW": True, "Propagation": "", "_copy": True},
        {"Type": "bind", "Source": "/h", "Destination": "/data", "RW": False,
         "Propagation": "rprivate"},
        {"Type": "tmpfs", "Source": "", "Destination": "/t", "RW": True,
         "_options": ["nosuid"]},
    ]
    spec = plan.spec_mounts(recs)
    assert [m["destination"] for m in spec] == ["/data", "/t", "/data/sub"]
    assert spec[0] == {"destination": "/data", "type": "bind", "source": "/h",
                       "options": ["rbind", "rprivate", "ro"]}
    assert spec[1]["type"] == "tmpfs" and spec[1]["options"] == ["nosuid"]
    assert all(not k.startswith("_") for m in plan.view(recs) for k in m)


def test_volume_store(tmp_path: Path) -> None:
    store = VolumeStore(tmp_path / "volumes", tmp_path / "locks")
    meta, created = store.create("v1", labels={"a": "b"})
    assert created and meta["Labels"] == {"a": "b"} and Path(meta["Mountpoint"]).is_dir()
    assert store.create("v1") == (store.get("v1"), False)  # idempotent, as docker
    (store.data("v1") / "f").write_bytes(b"x" * 100)
    assert dir_size(store.data("v1")) == 100
    with pytest.raises(VolumeInUse, match=r"volume is in use - \[web\]"):
        store.remove("v1", lambda name: ["web"])
    store.remove("v1", lambda name: [])
    assert store.names() == []
    with pytest.raises(VolumeNotFound):
        store.get("v1")
    with pytest.raises(InvalidArgument):
        store.create("no/slash")
    with pytest.raises(InvalidArgument, match="driver options"):
        store.create("opt", options={"type": "nfs"})
    with store.lock():
        anon, _ = store.ensure(None, anonymous=True)
    assert len(anon["Name"]) == 64 and "com.docker.volume.anonymous" in anon["Labels"]
