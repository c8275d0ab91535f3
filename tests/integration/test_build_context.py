"""The build context and file steps: .dockerignore, -f, tar on stdin, COPY/ADD rules."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.errors import EngineError
from tests.integration.build_helpers import (
    assert_clean,
    build,
    import_busybox,
    outputs,
    pytestmark,
    ran_steps,
    run_image,
    write_context,
)
from tests.integration.runtime_helpers import PYDOCK

__all__ = ["pytestmark"]


def _listing(engine: Any, image: str, *paths: str) -> str:
    code, out = run_image(engine, image, ("sh", "-c", "ls -lnR " + " ".join(paths)),
                          entrypoint=())
    assert code == 0, out
    return out


def test_dockerignore(engine: Any, root: Path, tmp_path: Path) -> None:
    import_busybox(engine)
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": "FROM busybox:local\nCOPY . /src\n",
        ".dockerignore": "# comment\n*.log\nbuild/**\n!build/keep.txt\nsecret*\n",
        "app.py": "print()", "debug.log": "x", "build/out.o": "o", "build/keep.txt": "k",
        "sub/secret.txt": "visible: patterns are anchored at the root", "secret.key": "s"})
    build(engine, str(ctx), tags=("ign:1",))
    listing = _listing(engine, "ign:1", "/src")
    assert "app.py" in listing and "keep.txt" in listing and "secret.txt" in listing
    assert "debug.log" not in listing and "out.o" not in listing and "secret.key" not in listing
    (ctx / "debug.log").write_text("changed, but ignored")
    _, events = build(engine, str(ctx), tags=("ign:1",))
    assert ran_steps(events) == []
    (ctx / "Dockerfile").write_text("FROM busybox:local\nCOPY debug.log /\n")
    with pytest.raises(EngineError, match=r'Dockerfile:2: COPY debug.log /: "/debug.log": '
                                          "not found"):
        build(engine, str(ctx))
    assert_clean(engine, root)


def test_dockerfile_outside_the_context(engine: Any, root: Path, tmp_path: Path) -> None:
    import_busybox(engine)
    ctx = write_context(tmp_path / "ctx", {"data.txt": "from the context\n", "x.log": "l"})
    other = write_context(tmp_path / "elsewhere", {
        "My.Dockerfile": "FROM busybox:local\nCOPY . /c\nRUN cat /c/data.txt\n",
        "My.Dockerfile.dockerignore": "*.log\n"})
    _, events = build(engine, str(ctx), dockerfile=str(other / "My.Dockerfile"),
                      tags=("out:1",))
    assert "from the context" in outputs(events)
    assert "x.log" not in _listing(engine, "out:1", "/c")


def test_tar_context_and_dockerfile_on_stdin(engine: Any, root: Path, tmp_path: Path) -> None:
    import_busybox(engine)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in (("build/Dockerfile.dev", b"FROM busybox:local\nCOPY f.txt /\n"
                                                     b"RUN cat /f.txt\n"),
                           ("f.txt", b"inside the tar\n")):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tar.addfile(ti, io.BytesIO(data))
    iid = tmp_path / "iid"
    r = _pydock_bytes(root, buf.getvalue(), "build", "-t", "tarctx:1", "-f",
                      "build/Dockerfile.dev", "--iidfile", str(iid), "-")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().startswith("sha256:") and iid.read_text() == r.stdout.strip()
    assert "inside the tar" in r.stderr and "#3 [2/3] COPY f.txt /" in r.stderr
    r = _pydock_bytes(root, b"FROM busybox:local\nRUN echo only-a-dockerfile\n", "build",
                      "-q", "-t", "stdin:1", "-")
    assert r.returncode == 0 and r.stdout.count("sha256:") == 1 and r.stderr == "", r
    assert_clean(engine, root)


def _pydock_bytes(root: Path, data: bytes, *args: str) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([*PYDOCK, "--root", str(root), *args], input=data, capture_output=True,
                       timeout=120)
    return subprocess.CompletedProcess(r.args, r.returncode, r.stdout.decode(),
                                       r.stderr.decode())


def test_heredocs(engine: Any, root: Path, tmp_path: Path) -> None:
    import_busybox(engine)
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": """\
FROM busybox:local
ARG WHO=heredoc
RUN <<EOF
echo "first line"
echo "second line" > /two.txt
EOF
RUN <<EOF
#!/bin/sh
echo "script via shebang $0"
EOF
RUN sh <<EOF > /three.txt
echo "fed to sh, expanded: \\$WHO=$WHO"
EOF
COPY <<EOF /etc/greeting
hello $WHO
EOF
COPY <<-"EOT" /tmp/
	raw $WHO
	EOT
"""})
    _, events = build(engine, str(ctx), tags=("hd:1",))
    out = outputs(events)
    assert "first line" in out
    assert "script via shebang /dev/pipes/EOF" in out
    code, got = run_image(engine, "hd:1",
                          ("cat", "/two.txt", "/three.txt", "/etc/greeting", "/tmp/EOT"),
                          entrypoint=())
    assert code == 0, got
    assert got.splitlines() == ["second line", "fed to sh, expanded: heredoc=heredoc",
                                "hello heredoc", "raw $WHO"]


def test_copy_rules_chown_chmod(engine: Any, root: Path, tmp_path: Path) -> None:
    import_busybox(engine)
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": """\
FROM busybox:local
COPY --chown=nobody dir /d1
COPY --chown=nobody:root --chmod=0750 one.txt /owned.txt
COPY *.txt /glob/
COPY dir/ /tmp/
COPY one.txt /newname
COPY --exclude=**/*.md dir /filtered/
COPY --chmod=u+x,go-r one.txt /sym.txt
WORKDIR /work
COPY one.txt rel/
""",
        "one.txt": "1", "two.txt": "2", "dir/a.txt": "a", "dir/n/b.md": "b"})
    (ctx / "one.txt").chmod(0o644)
    build(engine, str(ctx), tags=("cp:1",))
    code, out = run_image(engine, "cp:1", ("sh", "-c", """
stat -c '%n %u:%g %a' /d1 /d1/a.txt /d1/n/b.md /owned.txt /sym.txt /glob/one.txt \
/glob/two.txt /tmp /tmp/a.txt /newname /work/rel/one.txt
ls /filtered /filtered/n; ls -d /tmp/dir 2>&1"""), entrypoint=())
    assert code == 0 or "No such file" in out, out
    lines = out.splitlines()
    assert "/d1 65534:65534 755" in lines and "/d1/a.txt 65534:65534 644" in lines
    assert "/d1/n/b.md 65534:65534 644" in lines
    assert "/owned.txt 65534:0 750" in lines
    assert "/sym.txt 0:0 700" in lines
    assert "/glob/one.txt 0:0 644" in lines and "/glob/two.txt 0:0 644" in lines
    assert "/tmp 0:0 1777" in lines  # COPY into a directory keeps its metadata
    assert "/tmp/a.txt 0:0 644" in lines and "/newname 0:0 644" in lines
    assert "/work/rel/one.txt 0:0 644" in lines
    assert "a.txt" in out and "b.md" not in out.split("/filtered")[-1]
    assert "ls: /tmp/dir: No such file or directory" in out  # contents, not the directory


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    serve = tmp_path / "www"
    serve.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, directory=str(serve), **kw)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", serve
    finally:
        server.shutdown()
        server.server_close()


def test_add_archive_and_url(engine: Any, root: Path, tmp_path: Path,
                             http_server: tuple[str, Path]) -> None:
    url, www = http_server
    payload = b"downloaded bytes\n"
    (www / "file.bin").write_bytes(payload)
    digest = "sha256:" + hashlib.sha256(payload).hexdigest()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        ti = tarfile.TarInfo("pkg/inside.txt")
        ti.size, ti.uid, ti.gid = 6, 1234, 99
        tar.addfile(ti, io.BytesIO(b"inner\n"))
    import_busybox(engine)
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": f"""\
FROM busybox:local
ADD bundle.tar.gz /opt/
ADD plain.txt /opt/plain.txt
ADD --checksum={digest} {url}/file.bin /dl/
""",
        "bundle.tar.gz": gzip.compress(buf.getvalue()), "plain.txt": "p"})
    build(engine, str(ctx), tags=("add:1",))
    code, out = run_image(engine, "add:1", ("sh", "-c", "cat /opt/pkg/inside.txt /dl/file.bin;"
                                            " stat -c '%n %u:%g %a' /opt/pkg/inside.txt "
                                            "/dl/file.bin; ls /opt"), entrypoint=())
    assert code == 0, out
    assert "inner\ndownloaded bytes\n" in out
    assert "/opt/pkg/inside.txt 1234:99 644" in out and "/dl/file.bin 0:0 600" in out
    assert "bundle.tar.gz" not in out  # extracted, not copied
    (ctx / "Dockerfile").write_text(f"FROM busybox:local\nADD --checksum=sha256:{'0' * 64} "
                                    f"{url}/file.bin /x\n")
    with pytest.raises(EngineError, match="digest mismatch"):
        build(engine, str(ctx))
    assert_clean(engine, root)


def test_run_network_and_mounts(engine: Any, root: Path, tmp_path: Path) -> None:
    import_busybox(engine)
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": """\
FROM busybox:local
RUN --network=none ls /sys/class/net | busybox tr '\\n' ' ' && echo
RUN --mount=type=bind,source=data,target=/mnt/data cat /mnt/data/in.txt && \
    (touch /mnt/data/new 2>/dev/null || echo read-only)
RUN --mount=type=tmpfs,target=/scratch echo t > /scratch/t && cat /scratch/t
""", "data/in.txt": "bound\n"})
    _, events = build(engine, str(ctx), network="none")
    out = outputs(events)
    assert "lo " in out
    assert "bound" in out and "read-only" in out and "t" in out
    assert not (ctx / "data" / "new").exists()
    assert_clean(engine, root)
