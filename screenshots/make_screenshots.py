"""Regenerate the SVG screenshots in this directory.

    python screenshots/make_screenshots.py

Uses a throwaway root, fixed image timestamps and a frozen clock, so re-running it
on an unchanged UI gives the same files. Runs as root (the engine unpacks layers).
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from app.tui.app import make_app  # noqa: E402  (after the path fix-up above)
from engine import Engine, EngineConfig  # noqa: E402
from engine.types import ImportOptions  # noqa: E402

CREATED = 1700000000.0
NOW = CREATED + 3 * 86400
SIZE = (120, 36)


def rootfs(files: dict[str, bytes]) -> io.BytesIO:
    """A small rootfs tar with fixed metadata, so image IDs never change."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs = sorted({str(Path(name).parent) for name in files} - {"."})
        for d in dirs:
            info = tarfile.TarInfo(d)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, int(CREATED)
            tar.addfile(info)
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o755, int(CREATED)
            tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    return buf


async def shoot(engine: Engine, filename: str) -> None:
    app = make_app(engine, clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(3):
            await app.workers.wait_for_complete()
            await pilot.pause()
        app.save_screenshot(filename, path=str(HERE))
    print(HERE / filename)


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="pydock-shots-") as tmp:
        root = Path(tmp) / "root"
        # The default root, so the hint shows plain `pydock ...` commands.
        os.environ["PYDOCK_ROOT"] = str(root)
        engine = Engine(EngineConfig(root=root))
        await shoot(engine, "first-run.svg")
        engine.images_import(
            rootfs({"bin/hello": b"#!/bin/sh\necho hello\n" * 200,
                    "etc/passwd": b"root:x:0:0:root:/root:/bin/sh\n"}),
            ImportOptions(reference="hello:1.0", created=CREATED), source="rootfs.tar")
        engine.images_import(
            rootfs({"usr/bin/tool": bytes(range(256)) * 16_640,
                    "etc/passwd": b"root:x:0:0:root:/root:/bin/sh\n"}),
            ImportOptions(reference="registry.local:5000/team/tools:2024.1",
                          created=CREATED + 2 * 86400), source="tools.tar")
        engine.images_tag("hello:1.0", "hello:latest")
        await shoot(engine, "images.svg")


if __name__ == "__main__":
    asyncio.run(main())
