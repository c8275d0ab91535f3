from __future__ import annotations

import pytest

from engine.errors import InvalidArgument, InvalidReference
from engine.reference import looks_like_id, parse

H = "a" * 64


@pytest.mark.parametrize(("ref", "full", "familiar"), [
    ("busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
    ("library/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("index.docker.io/library/busybox:1", "docker.io/library/busybox:1", "busybox:1"),
    ("team/app", "docker.io/team/app:latest", "team/app:latest"),
    ("localhost/app", "localhost/app:latest", "localhost/app:latest"),
    ("localhost:5000/team/app:v2", "localhost:5000/team/app:v2", "localhost:5000/team/app:v2"),
    (f"localhost:5000/team/app@sha256:{H}", f"localhost:5000/team/app@sha256:{H}",
     f"localhost:5000/team/app@sha256:{H}"),
    (f"app:1@sha256:{H}", f"docker.io/library/app:1@sha256:{H}", f"app:1@sha256:{H}"),
    ("quay.io/org/sub/img:v1.0-rc_1", "quay.io/org/sub/img:v1.0-rc_1",
     "quay.io/org/sub/img:v1.0-rc_1"),
    ("a__b/c.d-e", "docker.io/a__b/c.d-e:latest", "a__b/c.d-e:latest"),
    ("127.0.0.1:5000/x", "127.0.0.1:5000/x:latest", "127.0.0.1:5000/x:latest"),
])
def test_parse_normalizes_like_docker(ref: str, full: str, familiar: str) -> None:
    r = parse(ref)
    assert str(r) == full
    assert r.familiar == familiar


@pytest.mark.parametrize(("ref", "reason"), [
    ("", "empty"),
    ("Busybox", "lowercase"),
    ("busybox:", "invalid tag"),
    ("busybox:-x", "invalid tag"),
    ("busy box", "whitespace"),
    ("a//b", "empty path component"),
    ("-a", "invalid path component"),
    ("a-", "invalid path component"),
    ("app@sha256:abc", "invalid digest"),
    (f"app@sha256:{'A' * 64}", "64 lowercase"),
    ("host:99x/app", "port"),
    (H, "64-character hex"),
    ("x" * 300, "longer than 255"),
    ("busybox:" + "t" * 129, "invalid tag"),
])
def test_invalid_references_say_why(ref: str, reason: str) -> None:
    with pytest.raises(InvalidReference) as exc:
        parse(ref)
    assert reason in str(exc.value)
    assert isinstance(exc.value, InvalidArgument)
    assert "\n" not in str(exc.value) and len(str(exc.value)) < 200


def test_default_tag_only_without_digest() -> None:
    r = parse(f"app@sha256:{H}")
    assert r.tag is None and r.digest == f"sha256:{H}"


def test_looks_like_id() -> None:
    assert looks_like_id("abc123")
    assert looks_like_id("sha256:" + H)
    assert not looks_like_id("busybox")
    assert not looks_like_id("")
