"""Layer entry names: validation, and in-root resolution (no root needed)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from engine.errors import InvalidLayer
from engine.snapshots import _paths
from engine.snapshots._paths import open_dir, split_linkname, split_name, walk_in_root
from engine.sys import libc


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("a", ("a",)),
        ("./a", ("a",)),
        ("./", ()),
        (".", ()),
        ("a/b/c", ("a", "b", "c")),
        ("./a//b/./c/", ("a", "b", "c")),
        ("././a", ("a",)),
        (".wh.foo", (".wh.foo",)),
        ("..a/b..", ("..a", "b..")),
        ("x" * 255, ("x" * 255,)),
        ("/".join(["d" * 200] * 20), ("d" * 200,) * 20),  # 4019 bytes: under PATH_MAX
        ("é" * 127, ("é" * 127,)),  # 254 bytes
        ("caf\udce9", ("caf\udce9",)),  # a Latin-1 byte, surrogate-escaped
    ],
)
def test_valid_names(name: str, parts: tuple[str, ...]) -> None:
    assert split_name(name) == parts


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        ("/etc/passwd", "absolute"),
        ("/", "absolute"),
        ("//etc", "absolute"),
        ("..", "'..'"),
        ("../escape", "'..'"),
        ("a/../../escape", "'..'"),
        ("a/..", "'..'"),
        ("./a/../b", "'..'"),
        ("a\0b", "NUL"),
        ("a" * 5000, "longer than 4096"),
        ("/".join(["d" * 200] * 21), "longer than 4096"),
        ("d/" + "b" * 300, "component longer than 255"),
        ("é" * 128, "component longer than 255"),  # 256 bytes in UTF-8
    ],
)
def test_invalid_names_name_the_entry(name: str, reason: str) -> None:
    with pytest.raises(InvalidLayer) as exc:
        split_name(name)
    assert exc.value.entry == name
    assert reason in exc.value.reason


def test_linkname_is_root_relative() -> None:
    assert split_linkname("h", "/etc/passwd") == ("etc", "passwd")
    assert split_linkname("h", "./etc/passwd") == ("etc", "passwd")
    assert split_linkname("h", "etc/passwd") == ("etc", "passwd")


@pytest.mark.parametrize("linkname", ["../../outside/secret", "a/../../b", "", "/", "./", "x\0y"])
def test_bad_linkname_blames_the_link_entry(linkname: str) -> None:
    with pytest.raises(InvalidLayer) as exc:
        split_linkname("the/link", linkname)
    assert exc.value.entry == "the/link"


# --- in-root resolution -------------------------------------------------------------------


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """``tmp_path/root`` with symlinks that would escape if followed on the host."""
    r = tmp_path / "root"
    (r / "real" / "deep").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (r / "file").write_text("x")
    os.symlink("/", r / "slash")
    os.symlink("../../..", r / "up")
    os.symlink("real", r / "rel")
    os.symlink("/real/deep", r / "absdeep")
    os.symlink(str(tmp_path / "outside"), r / "hostabs")
    os.symlink("loop2", r / "loop1")
    os.symlink("loop1", r / "loop2")
    os.symlink("/nothing/here", r / "dangling")
    os.symlink("file", r / "tofile")
    return r


def _resolve(root: Path, parts: tuple[str, ...], *, create: bool, user_space: bool) -> Path:
    rootfd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if user_space:
            fd = walk_in_root(rootfd, parts, create=create)
        else:
            fd = open_dir(rootfd, parts, create=create)
        try:
            return Path(os.readlink(f"/proc/self/fd/{fd}"))
        finally:
            os.close(fd)
    finally:
        os.close(rootfd)


@pytest.mark.parametrize("user_space", [False, True], ids=["openat2", "walk"])
@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ((), "."),
        (("real",), "real"),
        (("slash",), "."),
        (("slash", "real", "deep"), "real/deep"),
        (("up",), "."),
        (("up", "real"), "real"),
        (("rel", "deep"), "real/deep"),
        (("absdeep",), "real/deep"),
        (("real", "deep", "..", ".."), "."),
    ],
)
def test_resolution_stays_in_root(
    root: Path, parts: tuple[str, ...], expected: str, user_space: bool
) -> None:
    got = _resolve(root, parts, create=False, user_space=user_space)
    assert got == (root / expected).resolve()


@pytest.mark.parametrize("user_space", [False, True], ids=["openat2", "walk"])
def test_host_absolute_symlink_resolves_under_root(root: Path, user_space: bool) -> None:
    with pytest.raises(FileNotFoundError):
        _resolve(root, ("hostabs",), create=False, user_space=user_space)
    got = _resolve(root, ("hostabs", "x"), create=True, user_space=user_space)
    outside = root.parent / "outside"
    assert got == root / str(outside).lstrip("/") / "x"
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("user_space", [False, True], ids=["openat2", "walk"])
def test_create_follows_dangling_symlink_inside_root(root: Path, user_space: bool) -> None:
    got = _resolve(root, ("dangling", "sub"), create=True, user_space=user_space)
    assert got == root / "nothing" / "here" / "sub"
    assert (root / "nothing" / "here" / "sub").is_dir()


@pytest.mark.parametrize("user_space", [False, True], ids=["openat2", "walk"])
@pytest.mark.parametrize(
    ("parts", "err"),
    [
        (("loop1",), errno.ELOOP),
        (("file",), errno.ENOTDIR),
        (("tofile",), errno.ENOTDIR),
        (("file", "x"), errno.ENOTDIR),
        (("missing",), errno.ENOENT),
    ],
)
def test_resolution_errors(root: Path, parts: tuple[str, ...], err: int, user_space: bool) -> None:
    with pytest.raises(OSError) as exc:
        _resolve(root, parts, create=False, user_space=user_space)
    assert exc.value.errno == err


def test_falls_back_to_walk_without_openat2(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable(*_args: object, **_kw: object) -> int:
        raise OSError(errno.ENOSYS, "no openat2")

    monkeypatch.setattr(_paths, "_have_openat2", None)
    monkeypatch.setattr(_paths.libc, "openat2", unavailable)
    assert _resolve(root, ("slash", "real"), create=False, user_space=False) == root / "real"
    assert _paths._have_openat2 is False


def test_openat2_wrapper(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    os.symlink("/", tmp_path / "d" / "up")
    dirfd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fd = libc.openat2(dirfd, "d", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        os.close(fd)
        with pytest.raises(FileNotFoundError):
            libc.openat2(dirfd, "missing", os.O_PATH)
        with pytest.raises(OSError) as exc:  # ".." may not leave the starting directory
            libc.openat2(dirfd, "d/../..", os.O_PATH, resolve=libc.RESOLVE_BENEATH)
        assert exc.value.errno == errno.EXDEV
        with pytest.raises(OSError) as exc:
            libc.openat2(dirfd, "d/up", os.O_PATH, resolve=libc.RESOLVE_NO_SYMLINKS)
        assert exc.value.errno == errno.ELOOP
        fd = libc.openat2(libc.AT_FDCWD, str(tmp_path / "d"), os.O_PATH)
        os.close(fd)
    finally:
        os.close(dirfd)
