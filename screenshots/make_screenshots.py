"""Regenerate the SVG screenshots in this directory.

    python screenshots/make_screenshots.py

Uses a throwaway root, fixed image timestamps and a frozen clock, so re-running it
on an unchanged UI gives the same image files. The containers shots show a real
running container (its ID, uptime and log times change on every run: they are
pictures, not test baselines). Runs as root (the engine unpacks layers and starts
containers); every container it starts is force-removed at the end.
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
import tarfile
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from app.tui.app import make_app  # noqa: E402  (after the path fix-up above)
from engine import Engine, EngineConfig  # noqa: E402
from engine.types import CreateOptions, ImportOptions  # noqa: E402
from tests.conftest import busybox_rootfs_tar  # noqa: E402

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


async def settle(app: Any, pilot: Any) -> None:
    for _ in range(3):
        # A log follow never completes: wait for the other workers only.
        workers = [w for w in app.workers if w.group != "container-logs"]
        if workers:
            await app.workers.wait_for_complete(workers)
        await pilot.pause()


async def shoot(engine: Engine, filename: str, *, keys: tuple[str, ...] = (),
                clock: Callable[[], float] = lambda: NOW,
                before: Callable[[Any], Awaitable[None]] | None = None) -> None:
    app = make_app(engine, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        if before is not None:
            await before(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(app, pilot)
        app.save_screenshot(filename, path=str(HERE))
    print(HERE / filename)


def seed_containers(engine: Engine) -> list[str]:
    """A small compose-like project: two created services, one running worker."""
    engine.images_import(io.BytesIO(busybox_rootfs_tar()),
                         ImportOptions(reference="busybox:local", changes=('CMD ["sh"]',),
                                       created=CREATED + 86400), source="busybox.tar")
    shop = (("com.docker.compose.project", "shop"),)
    made = [
        engine.containers_create(CreateOptions(image="busybox:local", name="shop-db-1",
                                               command=("sleep", "1000"), labels=shop)),
        engine.containers_create(CreateOptions(image="busybox:local", name="shop-web-1",
                                               command=("sleep", "1000"), labels=shop,
                                               env=("PORT=8080", "MODE=production"))),
        engine.containers_create(CreateOptions(
            image="busybox:local", name="ticker", stop_timeout=1,
            command=("sh", "-c", "i=0; while true; do i=$((i+1)); echo \"tick $i: all good\"; "
                     "[ $((i % 4)) = 0 ] && echo \"tick $i: slow request\" >&2; sleep 0.2; "
                     "done"))),
    ]
    engine.containers_start(made[-1])
    time.sleep(3)  # some log lines to show
    return made


async def go_to_ticker(pilot: Any) -> None:
    await pilot.press("j", "j")
    await pilot.pause(0.5)


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
        made = seed_containers(engine)
        try:
            await shoot(engine, "images.svg", keys=("2",))
            await shoot(engine, "containers.svg", clock=time.time, before=go_to_ticker,
                        keys=("l", "slash", *"slow", "enter"))
            await shoot(engine, "containers-actions.svg", clock=time.time,
                        before=go_to_ticker, keys=("L", "enter"))
        finally:
            engine.containers_remove(made, force=True)


if __name__ == "__main__":
    asyncio.run(main())
