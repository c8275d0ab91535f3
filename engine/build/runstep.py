"""RUN: one real container through the runtime, on top of the step's snapshot chain.

The container is created by :func:`engine.runtime.create.create` from a
stand-in image record whose ``rootfs.diff_ids`` are the chain so far (the
runtime overlays ``image_chain_ids``), with the build's environment, working
dir, user and network. Its monitor is started in attach mode so output
streams back line by line as it is written; the exit code comes in the same
stream. The caller turns the upper dir into a layer (:mod:`.layers`), then the
container is removed, whatever happened: a build never leaves one behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import EngineError
from ..images.store import ImageRecord
from ..record import dataclass, field
from ..runtime import attach, create
from ..runtime.waiting import StartFailed, wait_started
from ..types import CreateOptions
from .cache import BUILD_LABEL
from .failure import Cancelled
from .layers import stubs_of

if TYPE_CHECKING:
    from ..config import EngineConfig
    from ..runtime.lifecycle import Lifecycle
    from ..runtime.state import ContainerStore
    from ..sys.usock import UnixSocket

IMAGE_NAME = "pydock-build-step"


@dataclass
class RunSpec:
    """Everything one RUN needs, already expanded and checked."""

    argv: list[str]
    env: list[str]
    cwd: str
    user: str
    network: str
    diff_ids: list[str]
    mounts: list[dict[str, Any]] = field(default_factory=list)
    build_id: str = ""


class StepContainer:
    def __init__(self, cfg: EngineConfig, store: ContainerStore, lifecycle: Lifecycle,
                 rec: dict[str, Any], mounts: list[dict[str, Any]]) -> None:
        self.cfg, self.store, self.lifecycle = cfg, store, lifecycle
        self.cid = str(rec["id"])
        self.dir = store.dir(self.cid)
        self.upper = self.dir / "upper"
        spec = create.load_spec(self.dir)
        self.stubs = stubs_of(m["destination"] for m in spec.get("mounts", []))

    def run(self, on_output: Callable[[str], None], cancel: threading.Event) -> int:
        """Start, stream output lines to ``on_output``, return the exit code."""
        ready_fd = self.lifecycle.spawn_monitor(self.cid, wait_attach=True)
        with os.fdopen(ready_fd, "rb") as ready:
            first = json.loads(ready.readline() or b'{"state": "failed", "code": 125}')
            if first.get("state") != "listening":
                raise StartFailed(int(first.get("code", 125)),
                                  str(first.get("message", "the build step did not start")))
            sock = attach.connect(str(self.dir / "attach.sock"))
            try:
                wait_started(ready)
            except BaseException:
                sock.close()
                raise
        # No wait for the monitor after the exit: once PID 1 of the container's PID
        # namespace is reaped every process in it is gone, so the upper dir is final;
        # remove() waits for the monitor's own cleanup, off the critical path.
        with sock:
            return self._pump(sock, on_output, cancel)

    def _pump(self, sock: UnixSocket, on_output: Callable[[str], None],
              cancel: threading.Event) -> int:
        reader = attach.FrameReader()
        pending = {attach.STDOUT: b"", attach.STDERR: b""}
        sock.settimeout(0.2)
        code: int | None = None
        while code is None:
            if cancel.is_set():
                self.kill()
                raise Cancelled("the build was cancelled")
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            if not data:
                break
            for kind, payload in reader.feed(data):
                if kind in pending:
                    *lines, pending[kind] = (pending[kind] + payload).split(b"\n")
                    for line in lines:
                        on_output(line.decode("utf-8", "replace").rstrip("\r"))
                elif kind == attach.EXIT:
                    code = int(json.loads(payload).get("code", 0))
        for rest in pending.values():
            if rest:
                on_output(rest.decode("utf-8", "replace"))
        if code is None:
            code = self.lifecycle.wait(self.cid, timeout=30)
        return code

    def _wait_monitor(self) -> None:
        # The monitor unmounts and records itself gone right after the exit frame;
        # removing the container before that would race its last writes.
        end = time.monotonic() + 15
        while time.monotonic() < end:
            if not self.store.load(self.cid)["state"].get("monitor_pid"):
                return
            time.sleep(0.003)
        self.lifecycle.wait(self.cid, timeout=15)

    def kill(self) -> None:
        with contextlib.suppress(EngineError):
            rec = self.lifecycle.refresh(self.cid)
            if rec["state"]["status"] in ("running", "paused"):
                self.lifecycle.kill(self.cid, "SIGKILL")
            self.lifecycle.stop(self.cid, 0)

    def remove(self) -> None:
        from ..runtime import removal

        self.kill()  # a no-op once the step has exited
        with contextlib.suppress(EngineError):
            self._wait_monitor()
        with self.store.locked(self.cid):
            removal.remove_files(self.cfg, self.cid)


def _replace_json(path: Path, obj: Any) -> None:
    # Atomic but not fsynced: a step container never outlives its build.
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj))
    os.replace(tmp, path)


def _now(job: Callable[[], None]) -> None:
    job()


def _stand_in(spec: RunSpec) -> ImageRecord:
    config = {"config": {"Env": spec.env},
              "rootfs": {"type": "layers", "diff_ids": list(spec.diff_ids)}}
    return ImageRecord(id="", manifest_digest="", manifest={}, config=config, tags=(),
                       repo_digests=(), added=0.0, last_tag_time=0.0)


@contextlib.contextmanager
def step_container(cfg: EngineConfig, store: ContainerStore, lifecycle: Lifecycle,
                   spec: RunSpec, defer: Callable[[Callable[[], None]], None] | None = None
                   ) -> Iterator[StepContainer]:
    """A created (not started) build container; removed on the way out.

    ``defer`` takes the removal off the build's critical path (the builder runs
    it in a cleanup thread it joins before the build returns).
    """
    opts = CreateOptions(image=IMAGE_NAME, command=tuple(spec.argv), entrypoint=(),
                         workdir=spec.cwd or "/", user=spec.user, network=spec.network,
                         labels=((BUILD_LABEL, spec.build_id or "1"),))
    rec = create.create(cfg, store, opts, _stand_in(spec), IMAGE_NAME)
    step: StepContainer | None = None
    try:
        cdir: Path = store.dir(rec["id"])
        if spec.mounts:
            oci = create.load_spec(cdir)
            oci["mounts"] = list(oci.get("mounts", [])) + spec.mounts
            _replace_json(cdir / "config.json", oci)
        step = StepContainer(cfg, store, lifecycle, rec, spec.mounts)
        yield step
    finally:
        if step is not None:
            (defer or _now)(step.remove)
        else:
            from ..runtime import removal

            removal.remove_files(cfg, str(rec["id"]))
