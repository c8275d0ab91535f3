"""Fixtures for the TUI tests: a real engine on a temporary root, a tiny image, and
no sources of nondeterminism (blinking cursors, the clock)."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from engine import Engine
from engine.types import ImportOptions
from tests.fakes import FakeClock, FakeEngine

# The image is "created" at CREATED and the app's clock is frozen ten minutes later,
# so the CREATED column always reads "10 minutes ago".
CREATED = 1700000000.0
FROZEN_NOW = CREATED + 600
HELLO_BYTES = b"#!/bin/sh\necho hello\n" * 20
PASSWD = b"root:x:0:0:root:/root:/bin/sh\n"


def rootfs_tar() -> io.BytesIO:
    """A three-entry rootfs, byte-for-byte the same on every run (fixed mtimes/owners)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data, mode in (("bin", None, 0o755), ("bin/hello", HELLO_BYTES, 0o755),
                                 ("etc", None, 0o755), ("etc/passwd", PASSWD, 0o644)):
            info = tarfile.TarInfo(name)
            info.mode, info.mtime, info.uid, info.gid = mode, int(CREATED), 0, 0
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    return buf


@pytest.fixture(autouse=True)
def lasting_notifications(monkeypatch: pytest.MonkeyPatch) -> None:
    # Notifications expire after 5 s; on a loaded machine a test can reach its check of
    # one later than that. Tests that need expiry pass a timeout of their own.
    from textual.app import App

    monkeypatch.setattr(App, "NOTIFICATION_TIMEOUT", 600.0)


@pytest.fixture(autouse=True)
def no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    # A blinking cursor makes two screenshots of the same state differ (harlequin does this too).
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
    monkeypatch.setattr(TextArea, "_toggle_cursor_blink_visible", lambda self: None)


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh root, made the default root.

    Under pytest's tmp_path rather than the shared per-run base of tests/conftest.py:
    a second pytest session starting on the same machine wipes that base, and these
    tests mount nothing the leak guard would need to see.

    As the default root, the first-run hint shows plain ``pydock ...`` commands rather
    than ``pydock --root <random path>``, which would change every run.
    """
    root = tmp_path / "root"
    monkeypatch.setenv("PYDOCK_ROOT", str(root))
    yield root
    # A test that started a container left the root's monitor zygote (and its spare)
    # idling; pytest keeps tmp_path, so it would linger for its idle timeout.
    from engine.runtime import zygote

    zygote.stop(root)


@pytest.fixture
def hello_image(engine: Engine) -> str:
    """Import ``hello:1.0``; returns its (deterministic) image ID."""
    return engine.images_import(rootfs_tar(), ImportOptions(reference="hello:1.0",
                                                            created=CREATED),
                                source="rootfs.tar")


@pytest.fixture
def fake_engine(root: Path) -> FakeEngine:
    """The in-memory engine of tests/fakes on ``root`` (it passes tests/conformance like
    the real one), its clock frozen at CREATED (``fake_engine.advance(seconds)`` moves it).
    Pass it to ``make_app`` for deterministic states, stats, health and logs."""
    return FakeEngine(root, clock=FakeClock(CREATED))


# Workers that run for as long as they are wanted (a log follow, the app's event
# follower and stats hub): never waited for.
LONG_LIVED = frozenset({"container-logs", "engine-events", "stats-hub"})


async def settle(pilot: Pilot[Any]) -> None:
    """Let every short worker finish and every message they posted be handled.

    Three rounds, because a result can start another worker (a remove triggers a
    refresh). A log follow of a running container never finishes, so it is skipped.
    """
    for _ in range(3):
        workers = [w for w in pilot.app.workers if w.group not in LONG_LIVED]
        if workers:  # an empty list would mean "all of them" to wait_for_complete
            await pilot.app.workers.wait_for_complete(workers)
        await pilot.pause()
