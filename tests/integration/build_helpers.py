"""Shared pieces of the builder tests: a busybox engine, a build runner, a container runner.

Every build uses ``FROM busybox:local`` (imported from the static busybox of the
host). :func:`run_image` runs a built image through the runtime and always
removes the container; :func:`assert_clean` checks that a build left no
container, mount or temporary directory behind.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest

from engine.types import CreateOptions, ImportOptions
from engine.types_build import BuildEvent, BuildOptions
from tests.conftest import busybox_rootfs_tar

pytestmark = [pytest.mark.root,
              pytest.mark.skipif(os.geteuid() != 0, reason="needs root (namespaces, mounts)")]

BASE = "busybox:local"


def import_busybox(engine: Any) -> str:
    return str(engine.images_import(io.BytesIO(busybox_rootfs_tar()),
                                    ImportOptions(reference=BASE, changes=('CMD ["sh"]',))))


def write_context(ctx: Path, files: dict[str, str | bytes]) -> Path:
    ctx.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        p = ctx / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            p.write_text(data)
        else:
            p.write_bytes(data)
    return ctx


def build(engine: Any, context: Any, **opts: Any) -> tuple[str, list[BuildEvent]]:
    """Run a build to the end; (image ID, every event)."""
    events = list(engine.images_build(context, BuildOptions(**opts)))
    assert events[-1].kind == "image", events[-1]
    return events[-1].image_id, events


def outputs(events: list[BuildEvent]) -> list[str]:
    return [e.text for e in events if e.kind == "output"]


def cached_steps(events: list[BuildEvent]) -> list[str]:
    return [e.name for e in events if e.kind == "cached"]


def ran_steps(events: list[BuildEvent]) -> list[str]:
    return [e.name for e in events if e.kind == "done" and "] " in e.name
            and " FROM " not in e.name and not e.name.startswith("[internal]")]


def run_image(engine: Any, image: str, command: tuple[str, ...] = (), **kw: Any
              ) -> tuple[int, str]:
    """Run ``image`` to completion; (exit code, stdout+stderr). Always removed."""
    cid = engine.containers_create(CreateOptions(image=image, command=command, **kw))
    try:
        engine.containers_start(cid)
        code = engine.containers_wait(cid)
        out = b"".join(e.data for e in engine.containers_logs(cid)).decode()
        return code, out
    finally:
        engine.containers_remove([cid], force=True)


def config_of(engine: Any, image: str) -> dict[str, Any]:
    return dict(engine.images_inspect(image)["Config"])


def assert_clean(engine: Any, root: Path) -> None:
    """No build container, no mount, no temporary build directory is left."""
    assert engine.containers_list(all=True) == []
    with open("/proc/self/mountinfo") as f:
        mounts = [line.split()[4] for line in f if line.split()[4].startswith(str(root))]
    assert mounts == []
    leftovers = [p.name for p in (root / "tmp").glob("build-*")]
    assert leftovers == []
