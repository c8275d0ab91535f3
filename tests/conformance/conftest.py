"""One subject, two engines: the real :class:`engine.Engine` on a temporary root and
:class:`tests.fakes.FakeEngine`. Every conformance test runs once against each.

Both get ``busybox:local`` imported from the same tarball. The fake learns what the
suite's commands do (``Program`` scripts); the real engine runs them in busybox with
``--network none``. Everything a test creates is force-removed afterwards, and the
host's network links are checked untouched (network tests create records only).
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from engine.types import CreateOptions, EventRecord, ImportOptions
from tests.fakes import FakeEngine, Program

IMAGE = "busybox:local"
CREATED = 1700000000.0
SLEEP = ("sleep", "1000")
CHATTY = ("sh", "-c", "echo one; echo two >&2; sleep 1000")
EXIT3 = ("sh", "-c", "exit 3")
MiB = 1 << 20


@dataclass
class Subject:
    """The engine under test plus the few helpers every test needs."""

    kind: str  # "real" or "fake"
    engine: Any
    image_id: str
    made: list[str]

    def create(self, name: str, command: tuple[str, ...] = SLEEP, *, start: bool = False,
               **options: Any) -> str:
        # stop_timeout=1: sleep as PID 1 ignores SIGTERM, so a stop ends with SIGKILL.
        opts = CreateOptions(image=IMAGE, command=command, name=name, stop_timeout=1,
                             network=options.pop("network", "none"), **options)
        cid = str(self.engine.containers_create(opts))
        self.made.append(cid)
        if start:
            self.engine.containers_start(cid)
        return cid

    def status(self, ref: str) -> str:
        return next((c.status for c in self.engine.containers_list(all=True)
                     if ref in (c.id, c.name)), "gone")

    def summary(self, ref: str) -> Any:
        return next(c for c in self.engine.containers_list(all=True) if ref in (c.id, c.name))

    def mark(self) -> int:
        """Where the event log ends now; ``since(mark)`` returns what came after."""
        return len(self.engine.events_list())

    def since(self, mark: int, type: str = "container") -> list[EventRecord]:  # noqa: A002
        return [e for e in self.engine.events_list()[mark:] if e.type == type]

    def actions(self, mark: int, name: str | None = None) -> list[str]:
        return [e.action for e in self.since(mark)
                if name is None or e.attributes.get("name") == name]


def eventually(check: Callable[[], bool], timeout: float = 15.0, what: str = "") -> None:
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, f"timed out waiting for {what or check}"
        time.sleep(0.05)


def host_links() -> list[str]:
    """Links of the host namespace that look like ours: there must never be any new one."""
    return sorted(n for n in os.listdir("/sys/class/net")
                  if n.startswith(("pdv", "pd-", "pydock")))


def scripted_fake(root: Path) -> FakeEngine:
    fake = FakeEngine(root, clock=time.time)  # real time: since/until mean the same
    fake.script(CHATTY, Program(output=(("stdout", "one"), ("stderr", "two"))))
    fake.script(EXIT3, Program(exit_code=3))
    fake.script_run("echo building; exit 3", output=("building",), exit_code=3)
    return fake


@pytest.fixture(params=["real", "fake"])
def subject(request: pytest.FixtureRequest, busybox_tar: Path, tmp_path: Path
            ) -> Iterator[Subject]:
    if request.param == "real":
        if os.geteuid() != 0:
            pytest.skip("the real engine's containers need root")
        eng = request.getfixturevalue("engine")
    else:
        eng = scripted_fake(tmp_path / "fake-root")
    links = host_links()
    image_id = eng.images_import(io.BytesIO(busybox_tar.read_bytes()),
                                 ImportOptions(reference=IMAGE, changes=('CMD ["sh"]',),
                                               created=CREATED), source="busybox.tar")
    s = Subject(request.param, eng, image_id, [])
    try:
        yield s
    finally:
        left = [c.id for c in eng.containers_list(all=True)]
        if left:
            eng.containers_remove(left, force=True)
        assert host_links() == links, "the host's network namespace changed"
