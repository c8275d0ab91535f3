from __future__ import annotations

import pytest

from engine.errors import InvalidArgument
from engine.images.changes import apply_changes


def test_changes_apply_in_order() -> None:
    c: dict[str, object] = {}
    apply_changes(c, [
        'CMD ["/bin/sh", "-c", "echo hi"]',
        "ENTRYPOINT /bin/run --flag",
        "ENV A=1 B='two words'",
        "ENV A=3",
        "ENV LEGACY some value",
        "WORKDIR /srv",
        "USER nobody:nogroup",
        'LABEL org.x="y z" k=v',
        "EXPOSE 80 53/udp",
        "VOLUME /data /cache",
        "STOPSIGNAL SIGQUIT",
        "ONBUILD RUN echo x",
    ])
    assert c["Cmd"] == ["/bin/sh", "-c", "echo hi"]
    assert c["Entrypoint"] == ["/bin/sh", "-c", "/bin/run --flag"]
    assert c["Env"] == ["B=two words", "A=3", "LEGACY=some value"]
    assert c["WorkingDir"] == "/srv"
    assert c["User"] == "nobody:nogroup"
    assert c["Labels"] == {"org.x": "y z", "k": "v"}
    assert c["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}}
    assert c["Volumes"] == {"/data": {}, "/cache": {}}
    assert c["StopSignal"] == "SIGQUIT"
    assert c["OnBuild"] == ["RUN echo x"]


@pytest.mark.parametrize(("change", "msg"), [
    ("RUN echo", "not a valid change command"),
    ("EXPOSE 99999", "invalid port"),
    ("ENV", "requires at least one argument"),
    ("LABEL a=1 b", "expected key=value"),
])
def test_bad_changes_are_clear(change: str, msg: str) -> None:
    with pytest.raises(InvalidArgument, match=msg):
        apply_changes({}, [change])
