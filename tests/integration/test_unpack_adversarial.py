"""Hostile layers: whatever the tar says, nothing outside the snapshot dir changes.

Each case unpacks into ``tmp_path/snap/diff`` next to a sentinel file and a
sentinel directory ``tmp_path/outside``. Before and after, the whole of
``tmp_path`` except ``diff`` is recorded (names, types, sizes, mtimes, modes,
owners, xattrs, symlink targets) and must be identical. Invalid layers must raise
``InvalidLayer`` naming the offending entry; valid ones get a check of where
their content landed.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.errors import InvalidLayer
from engine.snapshots import _paths
from engine.snapshots.unpack import unpack_layer

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (chown, mknod, trusted.* xattrs)"),
]

Member = tuple[tarfile.TarInfo, bytes]


def entry(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", **attrs: object) -> Member:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    info.mtime = 1_600_000_000
    for key, value in attrs.items():
        setattr(info, key, value)
    info.size = len(data) if kind in tarfile.REGULAR_TYPES else 0
    return info, data


def f(name: str, data: bytes = b"data", **attrs: object) -> Member:
    return entry(name, data=data, **attrs)


def d(name: str, **attrs: object) -> Member:
    return entry(name, tarfile.DIRTYPE, **attrs)


def sym(name: str, target: str) -> Member:
    return entry(name, tarfile.SYMTYPE, linkname=target)


def hard(name: str, target: str) -> Member:
    return entry(name, tarfile.LNKTYPE, linkname=target)


def layer(members: list[Member]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data else None)
    return buf.getvalue()


@dataclass(frozen=True)
class Env:
    """Where a case runs: ``dest`` is the snapshot, ``outside`` and ``tmp`` are host paths."""

    tmp: Path
    dest: Path
    outside: Path

    def inside(self, host_path: Path | str) -> Path:
        """Where an absolute host path lands when resolved with dest as the root."""
        return self.dest / str(host_path).lstrip("/")


@dataclass(frozen=True)
class Case:
    id: str
    members: Callable[[Env], list[Member]]
    error: str | None = None  # the entry InvalidLayer must name; None: the layer is valid
    check: Callable[[Env], bool] | None = None  # must hold after a valid layer


def _is_whiteout(path: Path) -> bool:
    st = os.lstat(path)
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _check_dev_null(e: Env) -> bool:
    st = os.lstat(e.dest / "dev/null")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)
    return stat.S_IMODE(st.st_mode) == 0o666


def _check_setid(e: Env) -> bool:
    for name, mode in (("su", 0o4755), ("sg", 0o2755), ("both", 0o6755)):
        st = os.lstat(e.dest / name)
        assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (mode, 1000, 1000), name
    return True


def _content(rel: str, data: bytes) -> Callable[[Env], bool]:
    return lambda e: (e.dest / rel).read_bytes() == data


def _content_at_host_path(host: Callable[[Env], Path], data: bytes) -> Callable[[Env], bool]:
    """Content that a host-absolute symlink steered to its in-root twin of ``host``."""
    return lambda e: e.inside(host(e)).read_bytes() == data


def _opaque(where: Callable[[Env], Path]) -> Callable[[Env], bool]:
    return lambda e: os.getxattr(where(e), "trusted.overlay.opaque") == b"y"


def _not_a_link(rel: str) -> Callable[[Env], bool]:
    return lambda e: not os.path.islink(e.dest / rel)


def _same_inode(a: str, b: str) -> Callable[[Env], bool]:
    return lambda e: os.lstat(e.dest / a).st_ino == os.lstat(e.dest / b).st_ino


CASES = [
    # --- names that point out of the root ----------------------------------------------------
    Case("dotdot", lambda e: [f("../escape")], "../escape"),
    Case("nested-dotdot", lambda e: [d("a"), f("a/../../escape")], "a/../../escape"),
    Case("dotdot-to-outside", lambda e: [f("../../outside/secret", b"!")], "../../outside/secret"),
    Case("absolute", lambda e: [f("/etc/evil")], "/etc/evil"),
    Case("absolute-to-outside", lambda e: [f(str(e.outside / "secret"), b"!")], "<outside>/secret"),
    Case("root-entry-as-symlink", lambda e: [sym(".", str(e.outside))], "."),
    Case("root-entry-as-file", lambda e: [f("./", b"x")], "./"),
    # --- symlinks are followed as if dest were / ---------------------------------------------
    Case(
        "symlink-to-root-then-write",
        lambda e: [sym("link", "/"), f("link/etc/evil", b"x")],
        check=_content("etc/evil", b"x"),
    ),
    Case(
        "symlink-dotdot-to-outside",
        lambda e: [sym("link", "../../outside"), f("link/x", b"x")],
        check=_content("outside/x", b"x"),
    ),
    Case(
        "symlink-host-absolute-then-write",
        lambda e: [sym("out", str(e.outside)), f("out/new", b"x")],
        check=_content_at_host_path(lambda e: e.outside / "new", b"x"),
    ),
    Case(
        "symlink-chain",
        lambda e: [sym("a", "b"), sym("b", "../.."), f("a/x", b"x")],
        check=_content("x", b"x"),
    ),
    Case(
        "symlink-chain-host-absolute",
        lambda e: [sym("a", "b"), sym("b", str(e.tmp)), f("a/outside/secret", b"!")],
        check=_content_at_host_path(lambda e: e.outside / "secret", b"!"),
    ),
    Case(
        "symlink-proc-magic",
        lambda e: [sym("p", "/proc/self/root"), f("p/etc/evil", b"x")],
        check=_content("proc/self/root/etc/evil", b"x"),
    ),
    Case(
        "symlink-proc-cwd",
        lambda e: [sym("p", "/proc/self/cwd"), f("p/evil", b"x")],
        check=_content("proc/self/cwd/evil", b"x"),
    ),
    Case("symlink-loop", lambda e: [sym("a", "b"), sym("b", "a"), f("a/x")], "a/x"),
    Case(
        "dir-replaced-by-symlink-then-write",
        lambda e: [d("a"), f("a/f"), sym("a", str(e.outside)), f("a/g", b"x")],
        check=_content_at_host_path(lambda e: e.outside / "g", b"x"),
    ),
    Case(
        "symlink-overwritten-by-file",
        lambda e: [sym("passwd", str(e.outside / "secret")), f("passwd", b"new")],
        check=lambda e: _not_a_link("passwd")(e) and _content("passwd", b"new")(e),
    ),
    Case(
        "symlink-overwritten-by-dir",
        lambda e: [sym("d", str(e.outside)), d("d"), f("d/x", b"x")],
        check=lambda e: _not_a_link("d")(e) and _content("d/x", b"x")(e),
    ),
    Case("cached-parent-replaced", lambda e: [sym("s", "."), f("s/s", b"file"), f("s/y")], "s/y"),
    Case("file-as-parent", lambda e: [f("f"), f("f/x")], "f/x"),
    # --- hard links --------------------------------------------------------------------------
    Case("hardlink-dotdot", lambda e: [hard("h", "../../outside/secret")], "h"),
    Case("hardlink-absolute-missing", lambda e: [hard("h", "/etc/passwd")], "h"),
    Case(
        "hardlink-through-host-symlink",
        lambda e: [sym("out", str(e.outside)), hard("h", "out/secret")],
        "h",
    ),
    Case(
        "hardlink-through-dotdot-symlink",
        lambda e: [sym("out", "../../outside"), hard("h", "out/secret")],
        "h",
    ),
    Case(
        "hardlink-into-host-symlink",
        lambda e: [f("mine", b"m"), sym("out", str(e.outside)), hard("out/h", "mine")],
        check=_content_at_host_path(lambda e: e.outside / "h", b"m"),
    ),
    Case(
        "hardlink-absolute-in-layer",
        lambda e: [f("etc/passwd", b"root"), hard("h", "/etc/passwd")],
        check=_same_inode("h", "etc/passwd"),
    ),
    Case(
        "hardlink-to-symlink",
        lambda e: [sym("s", str(e.outside / "secret")), hard("h", "s")],
        check=lambda e: (
            os.readlink(e.dest / "h") == str(e.outside / "secret") and _same_inode("h", "s")(e)
        ),
    ),
    Case("hardlink-to-dir", lambda e: [d("dir"), hard("h", "dir")], "h"),
    Case("hardlink-to-later-entry", lambda e: [hard("h", "later"), f("later")], "h"),
    # --- whiteouts ---------------------------------------------------------------------------
    Case("whiteout-dotdot", lambda e: [f(".wh...")], ".wh..."),
    Case("whiteout-dot", lambda e: [d("a"), f("a/.wh..")], "a/.wh.."),
    Case("whiteout-bare", lambda e: [f(".wh.")], ".wh."),
    Case("whiteout-as-dir", lambda e: [f(".wh.x/y")], ".wh.x/y"),
    Case(
        "whiteout-through-host-symlink",
        lambda e: [sym("d", str(e.outside)), f("d/.wh.secret")],
        check=lambda e: _is_whiteout(e.inside(e.outside / "secret")),
    ),
    Case(
        "opaque-in-host-symlinked-parent",
        lambda e: [sym("d", str(e.outside)), f("d/.wh..wh..opq")],
        check=_opaque(lambda e: e.inside(e.outside)),
    ),
    Case(
        "opaque-in-dotdot-symlinked-parent",
        lambda e: [sym("d", "../../outside"), f("d/.wh..wh..opq")],
        check=_opaque(lambda e: e.dest / "outside"),
    ),
    # --- limits and encodings ----------------------------------------------------------------
    Case("huge-name", lambda e: [f("a" * 5000)], "a" * 5000),
    Case("huge-component", lambda e: [f("d/" + "b" * 300)], "d/" + "b" * 300),
    Case("nul-in-pax-path", lambda e: [f("x", pax_headers={"path": "a\0b"})], "a\0b"),
    Case(
        "nul-in-symlink-target",
        lambda e: [entry("l", tarfile.SYMTYPE, pax_headers={"linkpath": "/etc\0x"})],
        "l",
    ),
    # --- duplicates: the last entry wins, and never writes through a link ------------------
    Case(
        "file-then-dir", lambda e: [f("x"), d("x"), f("x/in", b"i")], check=_content("x/in", b"i")
    ),
    Case(
        "dir-then-file",
        lambda e: [d("x"), f("x/deep/in"), f("x", b"file")],
        check=_content("x", b"file"),
    ),
    Case(
        "file-twice",
        lambda e: [f("x", b"first"), f("x", b"second")],
        check=_content("x", b"second"),
    ),
    # --- special files keep what images need -------------------------------------------------
    Case(
        "char-device",
        lambda e: [entry("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3, mode=0o666)],
        check=_check_dev_null,
    ),
    Case(
        "fifo",
        lambda e: [entry("fifo", tarfile.FIFOTYPE, mode=0o600)],
        check=lambda e: stat.S_ISFIFO(os.lstat(e.dest / "fifo").st_mode),
    ),
    Case(
        "setuid-setgid",
        lambda e: [
            f(name, b"elf", mode=mode, uid=1000, gid=1000)
            for name, mode in (("su", 0o4755), ("sg", 0o2755), ("both", 0o6755))
        ],
        check=_check_setid,
    ),
    Case(
        "overlay-xattr-from-image",
        lambda e: [d("d", pax_headers={"SCHILY.xattr.trusted.overlay.redirect": "/etc"})],
        check=lambda e: os.listxattr(e.dest / "d") == [],
    ),
]


def _record(tmp: Path, dest: Path) -> dict[str, tuple[object, ...]]:
    """Everything observable about ``tmp`` except the inside of ``dest``."""
    seen: dict[str, tuple[object, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(tmp):
        for name in [".", *dirnames, *filenames]:
            path = os.path.normpath(os.path.join(dirpath, name))
            if path == str(dest) and name != ".":
                continue
            if name == "." and dirpath != str(tmp):
                continue
            st = os.lstat(path)
            link = os.readlink(path) if stat.S_ISLNK(st.st_mode) else None
            xattrs = sorted(os.listxattr(path, follow_symlinks=False))
            seen[path] = (
                st.st_mode,
                st.st_size,
                st.st_mtime_ns,
                st.st_uid,
                st.st_gid,
                st.st_nlink,
                link,
                xattrs,
            )
        dirnames[:] = [n for n in dirnames if os.path.join(dirpath, n) != str(dest)]
    return seen


HOST_PATHS = [Path("/etc/evil"), Path("/evil"), Path("/proc/self/root/etc/evil")]


@pytest.mark.parametrize("resolver", ["openat2", "walk"])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_nothing_escapes(
    case: Case, resolver: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if resolver == "walk":
        monkeypatch.setattr(_paths, "_have_openat2", False)
    env = Env(tmp=tmp_path, dest=tmp_path / "snap" / "diff", outside=tmp_path / "outside")
    env.dest.mkdir(parents=True)
    env.outside.mkdir()
    (env.outside / "secret").write_bytes(b"secret")
    (env.outside / "sub").mkdir()
    (tmp_path / "snap" / "sentinel").write_bytes(b"sentinel")
    os.utime(env.outside, ns=(10**18, 10**18))  # a changed child would move this mtime
    host_before = {p: p.exists() for p in HOST_PATHS}
    before = _record(tmp_path, env.dest)

    raw = layer(case.members(env))
    if case.error is None:
        unpack_layer(io.BytesIO(raw), env.dest)
        assert case.check is None or case.check(env), case.id
    else:
        with pytest.raises(InvalidLayer) as exc:
            unpack_layer(io.BytesIO(raw), env.dest)
        expected = case.error.replace("<outside>", str(env.outside))
        assert exc.value.entry == expected
        assert repr(expected[:50])[1:-1] in str(exc.value)

    assert _record(tmp_path, env.dest) == before
    assert {p: p.exists() for p in HOST_PATHS} == host_before
    assert (env.outside / "secret").read_bytes() == b"secret"


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 15
    assert sum(c.error is not None for c in CASES) >= 10
