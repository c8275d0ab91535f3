"""Volumes, binds and tmpfs end to end through the CLI (root; no network needed)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import busybox_rootfs_tar
from tests.integration.runtime_helpers import mounts_under, pydock, remove_all

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

IMAGE = "busybox:vol"


@pytest.fixture
def vr(root: Path, tmp_path: Path) -> Iterator[Path]:
    """A root with an image that declares ``VOLUME /data`` holding a seed file owned by 1000."""
    tar = tmp_path / "bb.tar"
    tar.write_bytes(busybox_rootfs_tar({"data/seed.txt": b"from the image\n",
                                        "srv/www/index.html": b"<h1>hi</h1>\n"}))
    r = pydock(root, "import", "-c", 'CMD ["sh"]', "-c", "VOLUME /data", str(tar), IMAGE)
    assert r.returncode == 0, r.stderr
    yield root
    remove_all(root)
    assert mounts_under(root) == []


def ok(r: object) -> str:
    assert r.returncode == 0, (r.stdout, r.stderr)  # type: ignore[attr-defined]
    return str(r.stdout)  # type: ignore[attr-defined]


def volumes(root: Path) -> list[str]:
    return ok(pydock(root, "volume", "ls", "-q")).split()


def test_named_volume_outlives_its_containers(vr: Path) -> None:
    ok(pydock(vr, "volume", "create", "--label", "team=a", "keep"))
    ok(pydock(vr, "run", "--name", "w", "-v", "keep:/store", IMAGE, "sh", "-c",
              "echo written-by-w > /store/note"))
    ok(pydock(vr, "rm", "-v", "w"))  # -v: anonymous volumes only
    assert "keep" in volumes(vr)
    assert ok(pydock(vr, "run", "--rm", "-v", "keep:/other", IMAGE, "cat",
                     "/other/note")) == "written-by-w\n"
    meta = json.loads(ok(pydock(vr, "volume", "inspect", "keep")))[0]
    assert meta["Labels"] == {"team": "a"} and meta["Driver"] == "local"
    assert Path(meta["Mountpoint"], "note").read_text() == "written-by-w\n"
    assert ok(pydock(vr, "volume", "ls", "-q", "--filter", "label=team=a")).split() == ["keep"]


def test_new_volume_is_filled_from_the_image_once(vr: Path) -> None:
    out = ok(pydock(vr, "run", "--rm", "-v", "site:/srv/www", IMAGE, "sh", "-c",
                    "cat /srv/www/index.html; echo changed > /srv/www/index.html"))
    assert out == "<h1>hi</h1>\n"
    # Not empty any more: a second container sees the data, not a fresh copy.
    assert ok(pydock(vr, "run", "--rm", "-v", "site:/srv/www", IMAGE, "cat",
                     "/srv/www/index.html")) == "changed\n"
    # nocopy, and a path the image does not have, start empty.
    assert ok(pydock(vr, "run", "--rm", "-v", "bare:/srv/www:nocopy", IMAGE, "ls",
                     "/srv/www")) == ""
    assert ok(pydock(vr, "run", "--rm", "-v", "fresh:/nothing/here", IMAGE, "ls", "-A",
                     "/nothing/here")) == ""


def test_read_only_mounts_refuse_writes(vr: Path, tmp_path: Path) -> None:
    host = tmp_path / "share"
    host.mkdir()
    (host / "f").write_text("host data\n")
    for flag in (["-v", "ro1:/m:ro"], ["--mount", "type=volume,src=ro2,dst=/m,readonly"],
                 ["-v", f"{host}:/m:ro"], ["--mount", f"type=bind,src={host},dst=/m,ro=true"]):
        r = pydock(vr, "run", "--rm", *flag, IMAGE, "sh", "-c", "touch /m/x")
        assert r.returncode == 1 and "Read-only file system" in r.stderr, flag
    assert not (host / "x").exists()


def test_bind_mounts(vr: Path, tmp_path: Path) -> None:
    host = tmp_path / "src"
    host.mkdir()
    (host / "in").write_text("from host\n")
    out = ok(pydock(vr, "run", "--rm", "-v", f"{host}:/mnt/h", IMAGE, "sh", "-c",
                    "cat /mnt/h/in; echo from container > /mnt/h/out"))
    assert out == "from host\n" and (host / "out").read_text() == "from container\n"
    # -v creates a missing source directory (docker's legacy rule); --mount refuses it.
    made = tmp_path / "made" / "here"
    ok(pydock(vr, "run", "--rm", "-v", f"{made}:/x", IMAGE, "true"))
    assert made.is_dir()
    r = pydock(vr, "run", "--rm", "--mount", f"type=bind,src={tmp_path / 'nope'},dst=/x",
               IMAGE, "true")
    assert r.returncode == 125 and "bind source path does not exist" in r.stderr
    assert not (tmp_path / "nope").exists()
    # A single file, and the inspect record.
    ok(pydock(vr, "create", "--name", "fb", "-v", f"{host / 'in'}:/etc/motd:ro", IMAGE,
              "cat", "/etc/motd"))
    mounts = json.loads(ok(pydock(vr, "inspect", "fb")))[0]["Mounts"]
    assert mounts == [{"Type": "bind", "Source": str(host / "in"), "Destination": "/etc/motd",
                       "Mode": "ro", "RW": False, "Propagation": "rprivate"},
                      {"Type": "volume", "Name": mounts[1]["Name"],
                       "Source": mounts[1]["Source"], "Destination": "/data", "Driver": "local",
                       "Mode": "", "RW": True, "Propagation": ""}]
    assert ok(pydock(vr, "start", "-a", "fb")) == "from host\n"


def test_tmpfs_mounts(vr: Path) -> None:
    out = ok(pydock(vr, "run", "--rm", "--tmpfs", "/scratch:size=1m,mode=1770",
                    "--mount", "type=tmpfs,dst=/t2,tmpfs-size=2m", IMAGE, "sh", "-c",
                    "grep -E ' /(scratch|t2) ' /proc/mounts; stat -c %a /scratch; "
                    "dd if=/dev/zero of=/scratch/big bs=1k count=2048 2>&1; true"))
    assert "tmpfs /scratch tmpfs rw,nosuid,nodev,noexec" in out and "size=1024k" in out
    assert "tmpfs /t2 tmpfs" in out and "size=2048k" in out
    assert "1770" in out and "No space left on device" in out
    r = pydock(vr, "run", "--rm", "--tmpfs", "/x:bogus", IMAGE, "true")
    assert r.returncode == 125 and "invalid tmpfs option" in r.stderr


def test_volumes_from(vr: Path, tmp_path: Path) -> None:
    host = tmp_path / "h"
    host.mkdir()
    ok(pydock(vr, "create", "--name", "src", "-v", "shared:/shared", "-v", f"{host}:/h",
              IMAGE, "true"))
    ok(pydock(vr, "run", "--rm", "-v", "shared:/shared", IMAGE, "sh", "-c",
              "echo 42 > /shared/answer"))
    out = ok(pydock(vr, "run", "--rm", "--volumes-from", "src", IMAGE, "sh", "-c",
                    "cat /shared/answer; touch /h/ok; ls /data"))
    assert out.startswith("42\n") and (host / "ok").exists()
    r = pydock(vr, "run", "--rm", "--volumes-from", "src:ro", IMAGE, "touch", "/shared/no")
    assert r.returncode == 1 and "Read-only" in r.stderr


def test_anonymous_volumes_go_with_rm_v_only(vr: Path) -> None:
    before = set(volumes(vr))
    ok(pydock(vr, "run", "--name", "a1", "-v", "/anon2", IMAGE, "true"))
    anon = set(volumes(vr)) - before
    assert len(anon) == 2 and all(len(n) == 64 for n in anon)  # VOLUME /data and -v /anon2
    ok(pydock(vr, "run", "--name", "a2", "-v", "named:/data", IMAGE, "true"))
    ok(pydock(vr, "rm", "a1"))  # plain rm keeps them (docker)
    assert anon <= set(volumes(vr))
    ok(pydock(vr, "run", "--name", "a3", IMAGE, "true"))
    mine = set(volumes(vr)) - before - anon - {"named"}
    ok(pydock(vr, "rm", "-v", "a2", "a3"))
    assert "named" in volumes(vr) and not mine & set(volumes(vr))
    ok(pydock(vr, "run", "--rm", IMAGE, "true"))  # --rm drops its anonymous volume too
    assert set(volumes(vr)) == before | anon | {"named"}
    # prune: anonymous unused ones by default, named ones too with -a.
    assert ok(pydock(vr, "volume", "ls", "-q", "--filter", "dangling=true")).split()
    ok(pydock(vr, "volume", "prune", "-f"))
    assert set(volumes(vr)) == before | {"named"}
    ok(pydock(vr, "volume", "prune", "-f", "-a"))
    assert volumes(vr) == []


def test_volume_in_use_cannot_be_removed(vr: Path) -> None:
    ok(pydock(vr, "volume", "create", "busy"))
    ok(pydock(vr, "create", "--name", "holder", "-v", "busy:/b", IMAGE, "true"))
    r = pydock(vr, "volume", "rm", "busy")
    assert r.returncode == 1 and "volume is in use - [holder]" in r.stderr
    ok(pydock(vr, "rm", "holder"))
    ok(pydock(vr, "volume", "rm", "busy"))
    r = pydock(vr, "volume", "rm", "busy")
    assert r.returncode == 1 and "no such volume" in r.stderr
    ok(pydock(vr, "volume", "rm", "-f", "busy"))
    for flags in (["-v", "x:relative"], ["-v", "a:/b:rx"], ["--mount", "type=nfs,dst=/x"],
                  ["-v", "bad name!:/x"], ["-v", "v:/d", "-v", "w:/d"]):
        r = pydock(vr, "create", *flags, IMAGE, "true")
        assert r.returncode == 125 and len(r.stderr.splitlines()) == 1, (flags, r.stderr)
    assert ok(pydock(vr, "ps", "-aq")) == ""


def test_system_df(vr: Path) -> None:
    ok(pydock(vr, "volume", "create", "big"))
    ok(pydock(vr, "run", "--name", "filler", "-v", "big:/big", IMAGE, "sh", "-c",
              "head -c 300000 /dev/zero > /big/f; head -c 100000 /dev/zero > /root/g"))
    rows = {json.loads(ln)["Type"]: json.loads(ln)
            for ln in ok(pydock(vr, "system", "df", "--format", "json")).splitlines()}
    assert set(rows) == {"Images", "Containers", "Local Volumes", "Build Cache"}
    assert rows["Images"]["TotalCount"] == "1" and rows["Images"]["SizeBytes"] > 500_000
    assert rows["Containers"]["TotalCount"] == "1"
    assert rows["Containers"]["SizeBytes"] >= 100_000
    assert rows["Local Volumes"]["TotalCount"] == "2"  # big + the image's /data
    assert rows["Local Volumes"]["SizeBytes"] >= 300_000
    assert rows["Local Volumes"]["ReclaimableBytes"] == 0  # both referenced by filler
    table = ok(pydock(vr, "system", "df"))
    assert table.splitlines()[0].split() == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
