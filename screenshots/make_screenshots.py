"""Regenerate the screenshots in this directory: one SVG per panel, PNG copies too.

    make screenshots        # or: python screenshots/make_screenshots.py

Seeds a throwaway root with images, containers (two running), volumes (one in use)
and networks (records only: no container is attached, so nothing is created in the
host's network namespace), then shoots every panel at 120x36: first run, Containers
(with the actions menu), Images, Volumes, Networks, Monitor. A panel whose module
does not exist yet is skipped with a message. PNGs are made with the first converter
found: rsvg-convert, the cairosvg module, inkscape; without one, SVG only.

Image timestamps are fixed and the clock is frozen where possible, so an unchanged UI
gives the same images; the running containers' IDs, uptimes, log times and stats
change on every run (these are pictures, not test baselines). Runs as root (the
engine unpacks layers and starts containers); everything it made is removed at the
end, with the root.
"""

from __future__ import annotations

import asyncio
import importlib
import io
import os
import shutil
import subprocess
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
from engine.types import (  # noqa: E402
    CreateOptions,
    ImportOptions,
    NetworkCreateOptions,
    VolumeCreateOptions,
)
from tests.conftest import busybox_rootfs_tar  # noqa: E402
from tests.ui.conftest import LONG_LIVED  # noqa: E402

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
        # A log follow, the event follower and the stats hub never complete.
        workers = [w for w in app.workers if w.group not in LONG_LIVED]
        if workers:
            await app.workers.wait_for_complete(workers)
        await pilot.pause()


# Panel key -> the module that must exist for its shot (panels land separately).
PANEL_MODULES = {"3": "app.tui.volumes_screen", "4": "app.tui.networks_screen",
                 "5": "app.tui.monitor_screen"}


def panel_missing(key: str) -> str | None:
    """Why panel ``key`` cannot be shot, or None if its module imports."""
    module = PANEL_MODULES.get(key)
    if module is None:
        return None
    try:
        importlib.import_module(module)
    except (ImportError, SyntaxError) as err:
        return f"{module.replace('.', '/')}.py: {type(err).__name__}: {err}"
    return None


async def shoot(engine: Engine, filename: str, *, keys: tuple[str, ...] = (),
                clock: Callable[[], float] = lambda: NOW,
                before: Callable[[Any], Awaitable[None]] | None = None,
                wait: float = 0.0) -> None:
    if keys and (why := panel_missing(keys[0])):
        print(f"skipping {filename}: {why}")
        return
    app = make_app(engine, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        if before is not None:
            await before(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(app, pilot)
        if wait:
            await pilot.pause(wait)  # live numbers (the stats hub samples once a second)
            await settle(app, pilot)
        app.save_screenshot(filename, path=str(HERE))
    print(HERE / filename)


def seed_volumes(engine: Engine) -> None:
    """Three volumes with some data (sizes to show); shop-data is used by shop-db-1."""
    shop = (("com.docker.compose.project", "shop"),)
    for name, labels, files in (
            ("shop-data", shop, {"pgdata/base.dat": 3_200_000, "pgdata/wal.log": 900_000}),
            ("cache", (), {"objects.bin": 48_000}),
            ("build-logs", (), {})):
        mountpoint = Path(engine.volumes_create(
            VolumeCreateOptions(name=name, labels=labels))["Mountpoint"])
        for rel, size in files.items():
            (mountpoint / rel).parent.mkdir(parents=True, exist_ok=True)
            (mountpoint / rel).write_bytes(bytes(range(256)) * (size // 256))


def seed_networks(engine: Engine) -> None:
    """Records only: nothing is attached, so no bridge or veth is ever made."""
    shop = (("com.docker.compose.project", "shop"),)
    engine.networks_create(NetworkCreateOptions(name="shop_default", subnet="172.30.0.0/24",
                                                labels=shop))
    engine.networks_create(NetworkCreateOptions(name="backend", subnet="10.89.7.0/24",
                                                internal=True))


def seed_containers(engine: Engine) -> list[str]:
    """A small compose-like project (a created db, a running web) and a running ticker."""
    engine.images_import(io.BytesIO(busybox_rootfs_tar()),
                         ImportOptions(reference="busybox:local", changes=('CMD ["sh"]',),
                                       created=CREATED + 86400), source="busybox.tar")
    shop = (("com.docker.compose.project", "shop"),)
    made = [
        engine.containers_create(CreateOptions(image="busybox:local", name="shop-db-1",
                                               command=("sleep", "1000"), labels=shop,
                                               volumes=("shop-data:/var/lib/data",))),
        engine.containers_create(CreateOptions(image="busybox:local", name="shop-web-1",
                                               command=("sleep", "1000"), labels=shop,
                                               stop_timeout=1,
                                               env=("PORT=8080", "MODE=production"))),
        engine.containers_create(CreateOptions(
            image="busybox:local", name="ticker", stop_timeout=1,
            command=("sh", "-c", "i=0; while true; do i=$((i+1)); echo \"tick $i: all good\"; "
                     "[ $((i % 4)) = 0 ] && echo \"tick $i: slow request\" >&2; sleep 0.2; "
                     "done"))),
    ]
    engine.containers_start(made[-1])
    engine.containers_start(made[1])
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
        seed_volumes(engine)
        seed_networks(engine)
        made = seed_containers(engine)
        try:
            await shoot(engine, "images.svg", keys=("2",))
            await shoot(engine, "containers.svg", clock=time.time, before=go_to_ticker,
                        keys=("l", "slash", *"slow", "enter"))
            await shoot(engine, "containers-actions.svg", clock=time.time,
                        before=go_to_ticker, keys=("L", "enter"))
            await shoot(engine, "volumes.svg", keys=("3",))
            await shoot(engine, "networks.svg", keys=("4",))
            await shoot(engine, "monitor.svg", clock=time.time, keys=("5",), wait=3.0)
        finally:
            engine.containers_remove(made, force=True)
            from engine.runtime import zygote

            zygote.stop(root)
    to_png(sorted(HERE.glob("*.svg")))


def to_png(svgs: list[Path]) -> None:
    """A PNG beside each SVG, with the first converter available (or a message)."""
    try:
        import cairosvg  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        cairosvg = None
    if shutil.which("rsvg-convert"):
        def convert(svg: Path, png: Path) -> None:
            subprocess.run(["rsvg-convert", "-o", str(png), str(svg)], check=True)
    elif cairosvg is not None:
        def convert(svg: Path, png: Path) -> None:
            cairosvg.svg2png(url=str(svg), write_to=str(png))
    elif shutil.which("inkscape"):
        def convert(svg: Path, png: Path) -> None:
            subprocess.run(["inkscape", str(svg), "--export-type=png",
                            f"--export-filename={png}"], check=True, capture_output=True)
    else:
        print("PNG skipped: no rsvg-convert (apt: librsvg2-bin), cairosvg or inkscape")
        return
    for svg in svgs:
        png = svg.with_suffix(".png")
        convert(svg, png)
        print(png)


if __name__ == "__main__":
    asyncio.run(main())
