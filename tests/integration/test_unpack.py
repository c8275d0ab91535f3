"""unpack_layer on well-formed layers: content, metadata, whiteouts, digests."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
import zlib
from pathlib import Path

import pytest

from engine.errors import EngineError, InvalidLayer
from engine.snapshots import _paths
from engine.snapshots.unpack import unpack_layer

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (chown, mknod, trusted.* xattrs)"),
]

T0 = 1_600_000_000


def entry(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", **attrs: object):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    info.mtime = T0
    for key, value in attrs.items():
        setattr(info, key, value)
    info.size = len(data) if kind in tarfile.REGULAR_TYPES else 0
    return info, data


def d(name: str, **attrs: object):
    return entry(name, tarfile.DIRTYPE, **attrs)


def sym(name: str, target: str, **attrs: object):
    return entry(name, tarfile.SYMTYPE, linkname=target, **attrs)


def hard(name: str, target: str):
    return entry(name, tarfile.LNKTYPE, linkname=target)


def layer(*entries: tuple[tarfile.TarInfo, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if data else None)
    return buf.getvalue()


@pytest.fixture(params=["openat2", "walk"])
def dest(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty snapshot diff dir; every test runs with both in-root resolvers."""
    if request.param == "walk":
        monkeypatch.setattr(_paths, "_have_openat2", False)
    path = tmp_path / "snap" / "diff"
    path.mkdir(parents=True)
    return path


def unpack(dest: Path, *entries: tuple[tarfile.TarInfo, bytes]):
    return unpack_layer(io.BytesIO(layer(*entries)), dest)


def test_basic_tree(dest: Path) -> None:
    big = os.urandom(3 * (1 << 20) + 12345)  # crosses the 1 MiB copy buffer
    stats = unpack(
        dest,
        d("usr/"),
        d("usr/bin", mode=0o700, uid=5, gid=6),
        entry("usr/bin/tool", data=b"#!/bin/sh\n", mode=0o755, uid=1000, gid=1001),
        entry("usr/lib/big.bin", data=big),  # parent created implicitly
        entry("empty"),
        sym("usr/bin/sh", "/bin/busybox", uid=7, gid=8),
        hard("usr/bin/tool2", "usr/bin/tool"),
    )
    tool = (dest / "usr/bin/tool").stat()
    assert (dest / "usr/bin/tool").read_bytes() == b"#!/bin/sh\n"
    assert (stat.S_IMODE(tool.st_mode), tool.st_uid, tool.st_gid) == (0o755, 1000, 1001)
    assert (dest / "usr/lib/big.bin").read_bytes() == big
    assert stat.S_IMODE((dest / "usr/lib").stat().st_mode) == 0o755
    bindir = (dest / "usr/bin").stat()
    assert (stat.S_IMODE(bindir.st_mode), bindir.st_uid, bindir.st_gid) == (0o700, 5, 6)
    assert (dest / "empty").read_bytes() == b""
    assert os.readlink(dest / "usr/bin/sh") == "/bin/busybox"
    link = os.lstat(dest / "usr/bin/sh")
    assert (link.st_uid, link.st_gid) == (7, 8)
    assert (dest / "usr/bin/tool2").stat().st_ino == tool.st_ino
    assert tool.st_nlink == 2
    assert stats.size == 10 + len(big)  # file bytes only: not the hard link again
    assert stats.entries == 7


def test_diff_id_covers_every_byte(dest: Path) -> None:
    raw = layer(entry("a", data=b"hello"), d("b"))
    assert len(raw) % tarfile.RECORDSIZE == 0  # tarfile pads the stream past the trailer
    raw += b"\0" * 4096  # extra zeros some writers add: still part of the blob
    stats = unpack_layer(io.BytesIO(raw), dest)
    assert stats.diff_id == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert stats.size == 5


def test_empty_layer(dest: Path) -> None:
    raw = layer()
    stats = unpack_layer(io.BytesIO(raw), dest)
    assert (stats.entries, stats.size) == (0, 0)
    assert stats.diff_id == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert list(dest.iterdir()) == []


def test_mtimes_are_kept_for_files_dirs_links_and_root(dest: Path) -> None:
    unpack(
        dest,
        d("./", mode=0o750, mtime=T0 - 10),
        d("dir", mtime=T0 + 1),
        entry("dir/file", data=b"x", mtime=T0 + 2),
        d("dir/sub", mtime=T0 + 3),
        entry("dir/sub/late", mtime=T0 + 4),  # written after its dir's header
        sym("dir/link", "file", mtime=T0 + 5),
        entry("frac", mtime=T0 + 0.5),
    )
    assert os.stat(dest / "dir").st_mtime == T0 + 1
    assert os.stat(dest / "dir/file").st_mtime == T0 + 2
    assert os.stat(dest / "dir/sub").st_mtime == T0 + 3
    assert os.stat(dest / "dir/sub/late").st_mtime == T0 + 4
    assert os.lstat(dest / "dir/link").st_mtime == T0 + 5
    assert os.stat(dest / "frac").st_mtime_ns == (T0 * 10**9) + 5 * 10**8
    root = os.stat(dest)
    assert (root.st_mtime, stat.S_IMODE(root.st_mode)) == (T0 - 10, 0o750)


def test_special_dir_modes_apply_after_children(dest: Path) -> None:
    unpack(
        dest,
        d("ro", mode=0o555),
        entry("ro/inside", data=b"x"),
        d("shared", mode=0o2775, gid=50),
        d("tmp", mode=0o1777),
    )
    assert stat.S_IMODE(os.stat(dest / "ro").st_mode) == 0o555
    assert (dest / "ro/inside").read_bytes() == b"x"
    assert stat.S_IMODE(os.stat(dest / "shared").st_mode) == 0o2775
    assert stat.S_IMODE(os.stat(dest / "tmp").st_mode) == 0o1777


def test_whiteout_becomes_overlay_char_device(dest: Path) -> None:
    unpack(dest, d("etc"), entry("etc/.wh.shadow", uid=3, gid=4), entry(".wh.gone"))
    for path in (dest / "etc/shadow", dest / "gone"):
        st = os.lstat(path)
        assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0
    assert os.lstat(dest / "etc/shadow").st_uid == 3
    assert sorted(os.listdir(dest)) == ["etc", "gone"]
    assert os.listdir(dest / "etc") == ["shadow"]


def test_whiteout_replaces_an_entry_from_the_same_layer(dest: Path) -> None:
    unpack(
        dest,
        entry("a/file", data=b"x"),
        d("a/dir"),
        entry("a/dir/f"),
        entry("a/.wh.file"),
        entry("a/.wh.dir"),
    )
    for name in ("file", "dir"):
        st = os.lstat(dest / "a" / name)
        assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def test_opaque_sets_xattr_and_keeps_same_layer_entries(dest: Path) -> None:
    unpack(dest, d("d"), entry("d/kept", data=b"k"), entry("d/.wh..wh..opq"), entry("d/after"))
    assert os.getxattr(dest / "d", "trusted.overlay.opaque") == b"y"
    assert sorted(os.listdir(dest / "d")) == ["after", "kept"]
    assert (dest / "d/kept").read_bytes() == b"k"


def test_opaque_creates_missing_directory(dest: Path) -> None:
    unpack(dest, entry("new/dir/.wh..wh..opq"))
    assert (dest / "new/dir").is_dir()
    assert os.getxattr(dest / "new/dir", "trusted.overlay.opaque") == b"y"
    assert os.listdir(dest / "new/dir") == []


def test_aufs_metadata_is_skipped(dest: Path) -> None:
    unpack(
        dest,
        d(".wh..wh.plnk"),
        entry(".wh..wh.plnk/1234.5678", data=b"x"),
        entry(".wh..wh.aufs"),
        entry("real"),
    )
    assert os.listdir(dest) == ["real"]


def test_xattrs_user_kept_overlay_refused(dest: Path) -> None:
    value = bytes(range(256))
    pax = {
        "SCHILY.xattr.user.bin": value.decode("utf-8", "surrogateescape"),
        "SCHILY.xattr.user.text": "hello",
        "SCHILY.xattr.trusted.pydock": "t",
        "SCHILY.xattr.trusted.overlay.opaque": "y",
        "SCHILY.xattr.trusted.overlay.redirect": "/etc",
        "SCHILY.xattr.user.overlay.opaque": "y",
    }
    unpack(
        dest,
        entry("f", data=b"1", pax_headers=pax),
        d("dir", pax_headers=pax),
        entry("fifo", tarfile.FIFOTYPE, pax_headers=pax),
    )
    for name in ("f", "dir"):
        path = dest / name
        assert sorted(os.listxattr(path)) == ["trusted.pydock", "user.bin", "user.text"], name
        assert os.getxattr(path, "user.bin") == value
        assert os.getxattr(path, "user.text") == b"hello"
    # The kernel allows user.* only on files and directories: skipped, like docker.
    assert os.listxattr(dest / "fifo") == ["trusted.pydock"]


def test_devices_fifo_and_setuid(dest: Path) -> None:
    unpack(
        dest,
        entry("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3, mode=0o666),
        entry("dev/loop0", tarfile.BLKTYPE, devmajor=7, devminor=0, mode=0o660, gid=6),
        entry("run/fifo", tarfile.FIFOTYPE, mode=0o620),
        entry("bin/su", data=b"elf", mode=0o4755, uid=1000, gid=1000),
        entry("bin/wall", data=b"elf", mode=0o2755, gid=5),
    )
    null = os.lstat(dest / "dev/null")
    assert stat.S_ISCHR(null.st_mode) and null.st_rdev == os.makedev(1, 3)
    assert stat.S_IMODE(null.st_mode) == 0o666
    loop = os.lstat(dest / "dev/loop0")
    assert stat.S_ISBLK(loop.st_mode) and loop.st_rdev == os.makedev(7, 0) and loop.st_gid == 6
    fifo = os.lstat(dest / "run/fifo")
    assert stat.S_ISFIFO(fifo.st_mode) and stat.S_IMODE(fifo.st_mode) == 0o620
    su = os.lstat(dest / "bin/su")
    assert (stat.S_IMODE(su.st_mode), su.st_uid, su.st_gid) == (0o4755, 1000, 1000)
    assert stat.S_IMODE(os.lstat(dest / "bin/wall").st_mode) == 0o2755


def test_duplicates_last_entry_wins(dest: Path) -> None:
    unpack(
        dest,
        entry("f", data=b"first"),
        entry("f", data=b"second!"),
        entry("x", data=b"file"),
        d("x"),
        entry("x/in", data=b"1"),
        d("y"),
        entry("y/deep/file", data=b"2"),
        entry("y", data=b"now a file"),
        d("z", mode=0o700),
        d("z", mode=0o711),
    )
    assert (dest / "f").read_bytes() == b"second!"
    assert (dest / "x/in").read_bytes() == b"1"
    assert (dest / "y").read_bytes() == b"now a file"
    assert stat.S_IMODE(os.stat(dest / "z").st_mode) == 0o711


def test_long_names(dest: Path) -> None:
    name = "/".join(["n" * 250] * 8) + "/file"
    unpack(dest, entry(name, data=b"deep"))
    assert (dest / name).read_bytes() == b"deep"


def test_corrupt_streams(dest: Path) -> None:
    good = layer(entry("a", data=b"x" * 5000), entry("b", data=b"y"))
    cases = {
        "empty": b"",
        "garbage": b"not a tar at all" * 64,
        "truncated data": good[:1024],
        "bad second header": good[: 512 * 11] + b"\xff" * 512 + good[512 * 12 :],
    }
    for label, raw in cases.items():
        with pytest.raises(InvalidLayer) as exc:
            unpack_layer(io.BytesIO(raw), dest)
        assert "corrupt tar" in str(exc.value) or "truncated" in str(exc.value), label


def test_unsupported_entry_type(dest: Path) -> None:
    with pytest.raises(InvalidLayer, match="'vol'.*unsupported"):
        unpack(dest, entry("vol", b"V"))


def test_missing_destination_is_an_engine_error(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="cannot open snapshot directory"):
        unpack_layer(io.BytesIO(layer()), tmp_path / "nope")


class _Failing(io.RawIOBase):
    """A stream that fails after ``good`` bytes, the way a decompressor or a disk can."""

    def __init__(self, data: bytes, good: int, error: Exception) -> None:
        self._data, self._good, self._error, self._pos = data, good, error, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._pos >= self._good:
            raise self._error
        chunk = self._data[self._pos : min(self._good, self._pos + max(size, 1))]
        self._pos += len(chunk)
        return chunk


def test_stream_errors_are_not_blamed_on_an_entry(dest: Path) -> None:
    raw = layer(entry("a", data=os.urandom(300_000)), entry("b", data=b"x"))
    with pytest.raises(InvalidLayer) as exc:
        unpack_layer(_Failing(raw, 100_000, zlib.error("invalid distance")), dest)  # type: ignore[arg-type]
    assert exc.value.entry == "<stream>"
    assert "invalid distance" in str(exc.value)
    with pytest.raises(EngineError, match="Input/output error") as exc2:
        unpack_layer(_Failing(raw, 100_000, OSError(5, "Input/output error")), dest)  # type: ignore[arg-type]
    assert not isinstance(exc2.value, InvalidLayer)
