"""``-u``/``--group-add`` resolution against fixture rootfs trees (no root needed)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.errors import InvalidArgument
from engine.runtime.users import Identity, parse_group, parse_passwd, resolve_user

PASSWD = """\
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin

# a comment line
app:x:1000:1000:App User:/home/app:/bin/sh
1234:x:4321:4321:named like a number:/home/numeric:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
broken:x:abc:0::/:/bin/sh
nohome:x:2000:2000::
"""

GROUP = """\
root:x:0:root
bin:x:1:root,daemon
wheel:x:10:root, app
app:x:1000:
staff:x:50:app
nogroup:x:65534:
"""

MakeRoot = Callable[..., int]


@pytest.fixture
def make_root(tmp_path: Path) -> Iterator[MakeRoot]:
    """Build a rootfs under tmp_path and return an O_DIRECTORY fd for it."""
    fds: list[int] = []

    def make(passwd: str | None = PASSWD, group: str | None = GROUP) -> int:
        root = tmp_path / f"rootfs{len(fds)}"
        (root / "etc").mkdir(parents=True)
        if passwd is not None:
            (root / "etc/passwd").write_text(passwd)
        if group is not None:
            (root / "etc/group").write_text(group)
        fds.append(os.open(root, os.O_RDONLY | os.O_DIRECTORY))
        return fds[-1]

    yield make
    for fd in fds:
        os.close(fd)


@pytest.mark.parametrize("spec, want", [
    ("", Identity(0, 0, (0, 1, 10), "/root")),
    ("root", Identity(0, 0, (0, 1, 10), "/root")),
    ("app", Identity(1000, 1000, (1000, 10, 50), "/home/app")),
    ("1000", Identity(1000, 1000, (1000, 10, 50), "/home/app")),
    ("daemon", Identity(1, 1, (1,), "/usr/sbin")),
    # explicit group: no supplementary groups from /etc/group (runc's rule)
    ("app:staff", Identity(1000, 50, (50,), "/home/app")),
    ("app:0", Identity(1000, 0, (0,), "/home/app")),
    ("1000:4242", Identity(1000, 4242, (4242,), "/home/app")),
    (":10", Identity(0, 10, (10,), "/root")),
    # numeric uid unknown to passwd: gid 0, HOME /
    ("5555", Identity(5555, 0, (0,), "/")),
    ("5555:5555", Identity(5555, 5555, (5555,), "/")),
    ("5555:staff", Identity(5555, 50, (50,), "/")),
    # a numeric spec is always a uid, even when a user is named "1234"
    ("1234", Identity(1234, 0, (0,), "/")),
    ("nohome", Identity(2000, 2000, (2000,), "/")),
])
def test_specs(make_root: MakeRoot, spec: str, want: Identity) -> None:
    assert resolve_user(make_root(), spec) == want


@pytest.mark.parametrize("spec, message", [
    ("foo", "unable to find user foo: no matching entries in passwd file"),
    ("broken", "unable to find user broken: no matching entries in passwd file"),
    ("app:nosuch", "unable to find group nosuch: no matching entries in group file"),
    ("2147483648", "uids and gids must be in range 0-2147483647"),
    ("0:2147483648", "uids and gids must be in range 0-2147483647"),
])
def test_errors_use_dockers_words(make_root: MakeRoot, spec: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        resolve_user(make_root(), spec)
    assert str(err.value) == message


def test_group_add(make_root: MakeRoot) -> None:
    got = resolve_user(make_root(), "app", ["wheel", "staff", "777", "50", "nogroup"])
    assert got.additional_gids == (1000, 10, 50, 777, 65534)
    with pytest.raises(InvalidArgument, match="unable to find group audio"):
        resolve_user(make_root(), "app", ["audio"])


def test_no_passwd_file(make_root: MakeRoot) -> None:
    fd = make_root(passwd=None, group=None)
    assert resolve_user(fd, "") == Identity(0, 0, (0,), "/")
    assert resolve_user(fd, "1000:1000") == Identity(1000, 1000, (1000,), "/")
    assert resolve_user(fd, "1000", ["99"]) == Identity(1000, 0, (0, 99), "/")
    with pytest.raises(InvalidArgument) as err:
        resolve_user(fd, "app")
    assert str(err.value) == "unable to find user app: no matching entries in passwd file"


def test_no_etc_at_all(tmp_path: Path) -> None:
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert resolve_user(fd, "42") == Identity(42, 0, (0,), "/")
    finally:
        os.close(fd)


def test_absolute_symlink_resolves_inside_rootfs(tmp_path: Path, make_root: MakeRoot) -> None:
    fd = make_root(passwd=None)
    root = tmp_path / "rootfs0"
    (root / "etc/real").write_text("inside:x:777:777::/home/inside:/bin/sh\n")
    (root / "etc/passwd").symlink_to("/etc/real")
    assert not Path("/etc/real").exists()  # on the host it would dangle
    assert resolve_user(fd, "inside") == Identity(777, 777, (777,), "/home/inside")


def test_dotdot_symlink_cannot_leave_rootfs(tmp_path: Path, make_root: MakeRoot) -> None:
    fd = make_root(passwd=None)
    root = tmp_path / "rootfs0"
    (root / "etc/real").write_text("inside:x:777:777::/home/inside:/bin/sh\n")
    (root / "etc/passwd").symlink_to("../../../../../../../../etc/real")
    assert resolve_user(fd, "inside").uid == 777


def test_symlink_to_a_host_file_is_not_followed(tmp_path: Path, make_root: MakeRoot) -> None:
    fd = make_root(passwd=None)
    (tmp_path / "rootfs0/etc/passwd").symlink_to("/proc/self/root/etc/passwd")
    # the host's /etc/passwd has root; inside the rootfs the link leads nowhere
    with pytest.raises(InvalidArgument, match="unable to find user root"):
        resolve_user(fd, "root")


def test_fifo_is_refused_without_hanging(tmp_path: Path, make_root: MakeRoot) -> None:
    fd = make_root(passwd=None)
    os.mkfifo(tmp_path / "rootfs0/etc/passwd")
    with pytest.raises(InvalidArgument, match="not a regular file"):
        resolve_user(fd, "app")


def test_directory_is_refused(tmp_path: Path, make_root: MakeRoot) -> None:
    fd = make_root(group=None)
    (tmp_path / "rootfs0/etc/group").mkdir()
    with pytest.raises(InvalidArgument, match="/etc/group in the image is not a regular file"):
        resolve_user(fd, "app")


def test_parsers_tolerate_junk() -> None:
    users = parse_passwd("a:x:1:2\n\n  \n#c:x:0:0::/:\nb:x:-1:0::/:\nc::3:4:g:/h:/s:extra\n")
    assert [(u.name, u.uid, u.gid, u.home) for u in users] == [("a", 1, 2, ""), ("c", 3, 4, "/h")]
    groups = parse_group("g:x:5\nh:x:6:a,,b ,\nbad:x:z:a\n")
    assert [(g.name, g.gid, g.members) for g in groups] == [("g", 5, ()), ("h", 6, ("a", "b"))]
