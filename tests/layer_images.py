"""Hand-made multi-layer images for the layer explorer's tests (engine and UI).

Layers are tars built entry by entry (fixed mtimes and owners), packed into a
docker-archive that ``engine.images_load`` reads: the same bytes, hence the same
image ID, on every run.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from typing import Any

from engine import Engine

CREATED = 1700000000  # tests/ui/conftest.py's CREATED
DIR, FILE, LINK, WHITEOUT, OPAQUE = "dir", "file", "symlink", "whiteout", "opaque"
Entry = tuple[str, str, bytes | str | None]  # (name, type, data or link target)

HELLO = b"#!/bin/sh\necho hello\n" + b"#" * 79  # 100 bytes
PASSWD_0 = b"root:x:0:0:root:/root:/bin/sh\n"  # 30 bytes
PASSWD_1 = b"root:x:0:0:root:/root:/bin/sh\napp:x:10:\n"  # 40 bytes
MOTD = b"Welcome!\n" + b"-" * 41  # 50 bytes
MAIN_PY = b"print('hello from the app')\n" + b"#" * 92  # 120 bytes
NEW_TXT = b"fresh\ncach"  # 10 bytes

# The sample image: an added file, a modified file, a file removed by a whiteout and
# a directory made opaque, over three layers with empty-layer history steps between.
SAMPLE_LAYERS: list[list[Entry]] = [
    [("bin", DIR, None), ("bin/hello", FILE, HELLO), ("etc", DIR, None),
     ("etc/motd", FILE, MOTD), ("etc/passwd", FILE, PASSWD_0), ("var", DIR, None),
     ("var/cache", DIR, None), ("var/cache/a.bin", FILE, b"a" * 200),
     ("var/cache/b.bin", FILE, b"b" * 300)],
    [("app", DIR, None), ("app/main.py", FILE, MAIN_PY), ("etc", DIR, None),
     ("etc/.wh.motd", WHITEOUT, None), ("etc/passwd", FILE, PASSWD_1)],
    [("bin/link", LINK, "hello"), ("var/cache", DIR, None),
     ("var/cache/.wh..wh..opq", OPAQUE, None), ("var/cache/new.txt", FILE, NEW_TXT)],
]
SAMPLE_HISTORY = [
    {"created_by": "/bin/sh -c #(nop) ADD file:base in / "},
    {"created_by": "/bin/sh -c #(nop)  ENV APP=1", "empty_layer": True},
    {"created_by": "/bin/sh -c useradd app && cp main.py /app/ && rm /etc/motd"},
    {"created_by": "/bin/sh -c #(nop) WORKDIR /app", "empty_layer": True},
    {"created_by": "/bin/sh -c rm -rf /var/cache/* && echo fresh > /var/cache/new.txt"},
]


def layer_tar(entries: list[Entry]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, data in entries:
            info = tarfile.TarInfo(name)
            info.mtime, info.uid, info.gid = CREATED, 0, 0
            info.mode = 0o755 if kind in (DIR, LINK) or name.startswith("bin/") else 0o644
            if kind == DIR:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind == LINK:
                info.type, info.linkname = tarfile.SYMTYPE, str(data)
                tar.addfile(info)
            elif kind in (WHITEOUT, OPAQUE):
                tar.addfile(info, io.BytesIO(b""))
            else:
                assert isinstance(data, bytes)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def image_archive(tag: str, layers: list[list[Entry]], history: list[dict[str, Any]],
                  *, gzip_layers: frozenset[int] = frozenset({1})) -> bytes:
    """A docker-archive (``manifest.json``) holding one image; some layers gzipped."""
    tars = [layer_tar(entries) for entries in layers]
    created = "2023-11-14T22:13:20Z"  # CREATED
    config = {
        "architecture": "amd64", "os": "linux", "created": created,
        "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers",
                   "diff_ids": ["sha256:" + hashlib.sha256(t).hexdigest() for t in tars]},
        "history": [{"created": created, **h} for h in history],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as ar:
        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), CREATED
            ar.addfile(info, io.BytesIO(data))

        names = []
        for i, t in enumerate(tars):
            blob = gzip.compress(t, mtime=0) if i in gzip_layers else t
            names.append(f"layer{i}.tar")
            add(names[-1], blob)
        add("config.json", config_bytes)
        add("manifest.json", json.dumps(
            [{"Config": "config.json", "RepoTags": [tag], "Layers": names}]).encode())
    return buf.getvalue()


def load_image(engine: Engine, tag: str, layers: list[list[Entry]],
               history: list[dict[str, Any]] | None = None) -> str:
    """Load the image into ``engine``; returns its image ID."""
    history = history if history is not None else [{"created_by": f"step {i}"}
                                                   for i in range(len(layers))]
    report = engine.images_load(io.BytesIO(image_archive(tag, layers, history)))
    return report.images[0]


def load_sample(engine: Engine, tag: str = "layers:1.0") -> str:
    return load_image(engine, tag, SAMPLE_LAYERS, SAMPLE_HISTORY)
