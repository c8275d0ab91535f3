"""The fake's long verbs: ``images_pull``/``images_push`` (a scripted registry) and
``images_build`` (a Dockerfile walked step by step, nothing run).

Each is a generator of the real progress types, so a dialog sees the same stream
shape: per-layer pull/push lines ending with a ``done`` event, BuildKit-style
vertices ending with an ``image`` event. Errors are the real ones: ``RemoteNotFound``
for a name the registry lacks, ``DockerfileError`` for an unknown instruction,
``BuildFailed`` for a RUN scripted to fail.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from engine.build.failure import BuildFailed
from engine.errors import DockerfileError, ImageNotFound, InvalidArgument, RemoteNotFound
from engine.images.changes import apply_changes
from engine.images.model import canonical_json, rfc3339
from engine.reference import parse
from engine.registry.types import PullOptions, PullProgress, PushOptions, PushProgress
from engine.types_build import BuilderPruneReport, BuildEvent, BuildOptions

from .fake_images import filler_tar

if TYPE_CHECKING:
    from engine.config import EngineConfig

    from .events import FakeEventLog

FILE_STEPS = ("RUN", "COPY", "ADD", "WORKDIR")  # the instructions with a vertex and a layer
KNOWN = ("FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
         "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
         "MAINTAINER")


@dataclass(frozen=True)
class RemoteImage:
    """An image the fake registry serves: its layers' sizes and its config."""

    layers: tuple[int, ...] = (1024,)
    config: tuple[tuple[str, Any], ...] = (("Cmd", ["sh"]),)


class FakeBuildMixin:
    config: EngineConfig
    events: FakeEventLog
    clock: Callable[[], float]
    _lock: threading.RLock
    _images: dict[str, dict[str, Any]]
    _blobs: dict[str, tuple[bytes, int]]

    if TYPE_CHECKING:
        def images_resolve(self, name: str) -> str: ...
        def _ref(self, name: str) -> str: ...
        def _add_image(self, config: dict[str, Any], layers: list[str],
                       tags: list[str]) -> str: ...
        def _store_blob(self, data: bytes) -> tuple[str, str]: ...
        def _emit_image(self, action: str, image_id: str,
                        attrs: dict[str, str] | None = None) -> None: ...

    def _init_build(self) -> None:
        # full reference -> (image config, layer blob digests): what pull finds there
        self.registry: dict[str, tuple[dict[str, Any], list[str]]] = {}
        self._run_scripts: dict[str, tuple[tuple[str, ...], int]] = {}
        self._build_cache: set[tuple[str, str]] = set()

    def add_remote_image(self, ref: str, image: RemoteImage | None = None) -> None:
        """The registry serves ``ref`` from now on: ``image.layers`` are made as tars of one
        file each (their sizes), ``image.config`` is the image's ``config``."""
        image = image or RemoteImage()
        parsed = parse(ref, default_registry=self.config.default_registry)
        blobs = [self._store_blob(filler_tar(f"layers/{parsed.familiar_name}-{i}.bin", size))
                 for i, size in enumerate(image.layers)]
        created = rfc3339(self.clock())
        config = {"created": created, "architecture": "amd64", "os": "linux",
                  "config": dict(image.config),
                  "rootfs": {"type": "layers", "diff_ids": [d for _, d in blobs]},
                  "history": [{"created": created, "created_by": f"layer {i}"}
                              for i in range(len(blobs))]}
        with self._lock:
            self.registry[str(parsed)] = (config, [d for d, _ in blobs])

    def script_run(self, command: str, output: tuple[str, ...] = (), exit_code: int = 0) -> None:
        """A build's ``RUN command`` prints ``output`` and exits with ``exit_code``."""
        with self._lock:
            self._run_scripts[command] = (output, exit_code)

    # -- pull, push ---------------------------------------------------------------------------
    def images_pull(self, ref: str, opts: PullOptions | None = None) -> Iterator[PullProgress]:
        parsed = parse(ref, default_registry=self.config.default_registry)
        yield PullProgress(parsed.tag or parsed.digest or "",
                           f"Pulling from {parsed.familiar_name}")
        with self._lock:
            remote = self.registry.get(str(parsed))
            local = {d for img in self._images.values() for d in img["layers"]}
            try:
                before = self.images_resolve(str(parsed))
            except ImageNotFound:
                before = ""
        if remote is None:
            raise RemoteNotFound(f"{parsed.familiar}: manifest unknown", registry=parsed.registry,
                                 status=404, code="MANIFEST_UNKNOWN")
        config, layers = remote
        todo = [d for d in layers if d not in local]
        for d in layers:
            if d not in todo:
                yield PullProgress(_short(d), "Already exists")
        for d in todo:
            yield PullProgress(_short(d), "Pulling fs layer")
        for d in todo:
            size = len(self._blobs[d][0])
            for status, done in (("Downloading", size // 2), ("Downloading", size),
                                 ("Download complete", size), ("Extracting", size),
                                 ("Pull complete", 0)):
                yield PullProgress(_short(d), status, done, size if done else 0)
        image_id = self._add_image(config, list(layers), [str(parsed)] if parsed.tag else [])
        with self._lock:
            img = self._images[image_id]
            digest = str(img["manifest"])
            img.setdefault("repo_digests", set()).add(f"{parsed.name}@{digest}")
        self._emit_image("pull", image_id, {"name": parsed.familiar})
        yield PullProgress("", "Digest", digest=digest, image_id=image_id, done=True,
                           fresh=before != image_id)

    def images_push(self, ref: str, opts: PushOptions | None = None) -> Iterator[PushProgress]:
        parsed = parse(ref, default_registry=self.config.default_registry)
        image_id = self.images_resolve(ref)  # fails before any "network traffic"
        with self._lock:
            img = self._images[image_id]
            layers, digest = list(img["layers"]), str(img["manifest"])
            there = {d for _, held in self.registry.values() for d in held}
        yield PushProgress("", f"The push refers to repository [{parsed.name}]")
        for d in reversed(layers):
            yield PushProgress(_short(d), "Preparing")
        for d in reversed(layers):
            size = len(self._blobs[d][0])
            if d in there:
                yield PushProgress(_short(d), "Layer already exists", size, size)
                continue
            yield PushProgress(_short(d), "Pushing", 0, size)
            yield PushProgress(_short(d), "Pushing", size, size)
            yield PushProgress(_short(d), "Pushed", size, size)
        with self._lock:
            self.registry[str(parsed)] = (img["config"], layers)
            img.setdefault("repo_digests", set()).add(f"{parsed.name}@{digest}")
        self._emit_image("push", image_id, {"name": parsed.familiar})
        yield PushProgress("", "Pushed", digest=digest, size=len(canonical_json(img["config"])),
                           tag=parsed.tag or "latest", done=True)

    # -- build -----------------------------------------------------------------------------
    def images_build(self, context: str | Path | BinaryIO | None,
                     opts: BuildOptions | None = None, *,
                     stop: Callable[[], bool] | None = None) -> Iterator[BuildEvent]:
        """A generator, as the real one: bad input is raised at the first ``next()``.
        ``stop()`` turning true ends the build between steps, with no image."""
        opts = opts or BuildOptions()
        tags = [parse(t, default_registry=self.config.default_registry) for t in opts.tags]
        if opts.network not in ("host", "none", "default"):
            raise InvalidArgument(f"network mode {opts.network!r} not supported for builds "
                                  "(host or none)")
        name = Path(opts.dockerfile or "Dockerfile").name
        if opts.dockerfile_text is not None:
            text = opts.dockerfile_text.decode()
        elif isinstance(context, (str, Path)):
            text = (Path(context) / (opts.dockerfile or "Dockerfile")).read_text()
        else:
            raise DockerfileError(name, 0, "", "the fake engine builds from a directory "
                                  "or dockerfile_text only")
        steps = _instructions(text, name)
        for ev in self._build(steps, name, opts, [str(t) for t in tags],
                              [t.familiar for t in tags]):
            if stop is not None and stop():
                return
            yield ev

    def _build(self, steps: list[tuple[int, str, str]], name: str, opts: BuildOptions,
               tags: list[str], familiar: list[str]) -> Iterator[BuildEvent]:
        """One stage, as ``engine/build``: vertices for FROM and the file steps
        (``[n/N]``), metadata instructions applied to the config without one."""
        n = 0

        def ev(kind: str, title: str, line: int = 0, text: str = "") -> BuildEvent:
            return BuildEvent(kind, n, title, text, line=line)  # type: ignore[arg-type]

        n += 1
        yield ev("step", f"[internal] load build definition from {name}")
        yield ev("done", f"[internal] load build definition from {name}")
        total = 1 + sum(word in FILE_STEPS for _, word, _ in steps[1:])
        line, _, args = steps[0]
        ref = args.split()[0]
        parent = self.images_resolve(ref)
        base = dict(self._images[parent]["config"])
        layers = list(self._images[parent]["layers"])
        diff_ids = list(base["rootfs"]["diff_ids"])
        history = list(base.get("history") or [])
        cfg = dict(base.get("config") or {})
        n += 1
        title = f"[1/{total}] FROM {parse(ref, default_registry=self.config.default_registry)}"
        yield ev("step", title, line)
        yield ev("done", title, line)
        done = 1
        for line, word, args in steps[1:]:
            text = f"{word} {args}"
            if word not in FILE_STEPS:
                apply_changes(cfg, [text])
                history.append({"created": rfc3339(self.clock()), "created_by": text,
                                "empty_layer": True})
                continue
            n += 1
            done += 1
            title = f"[{done}/{total}] {text}"
            yield ev("step", title, line)
            output, code = self._run_scripts.get(args, ((), 0)) if word == "RUN" else ((), 0)
            key = (parent, text)
            cached = key in self._build_cache and not opts.no_cache
            if cached:
                yield ev("cached", title, line)  # and no "done", as the real builder
            else:
                for out in output:
                    yield ev("output", title, line, out)
                if code:
                    reason = (f'process "/bin/sh -c {args}" did not complete successfully: '
                              f"exit code: {code}")
                    yield ev("error", title, line, reason)
                    raise BuildFailed(name, line, text, reason, exit_code=code, output=output)
                self._build_cache.add(key)
            parent = hashlib.sha256(f"{parent}|{text}".encode()).hexdigest()
            if word == "WORKDIR":
                apply_changes(cfg, [text])
            # One layer per file step; its path keeps equal steps' layers equal.
            blob, diff_id = self._store_blob(filler_tar(f"steps/{parent[:12]}", 0))
            layers.append(blob)
            diff_ids.append(diff_id)
            history.append({"created": rfc3339(self.clock()), "created_by": text})
            if not cached:
                yield ev("done", title, line)
        n += 1
        yield ev("step", "exporting to image")
        cfg["Labels"] = {**(cfg.get("Labels") or {}), **dict(opts.labels)} or None
        config = {**base, "config": cfg, "history": history, "created": rfc3339(self.clock()),
                  "rootfs": {"type": "layers", "diff_ids": diff_ids}}
        image_id = self._add_image(config, layers, tags)
        yield ev("output", "exporting to image", 0, f"writing image {image_id} done")
        for full in tags:
            yield ev("output", "exporting to image", 0, f"naming to {full} done")
        yield ev("done", "exporting to image")
        for ref in familiar:
            self._emit_image("tag", image_id, {"name": ref})
        yield BuildEvent("image", image_id=image_id)

    def builder_prune(self) -> BuilderPruneReport:
        with self._lock:
            count = len(self._build_cache)
            self._build_cache.clear()
        self.events.emit("builder", "prune", "", {"reclaimed": "0"})
        return BuilderPruneReport(count, 0, 0)


def _instructions(text: str, name: str) -> list[tuple[int, str, str]]:
    """(line, INSTRUCTION, arguments) per instruction; continuation lines joined."""
    out: list[tuple[int, str, str]] = []
    pending, start = "", 0
    for no, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if not pending:
            start = no
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = (pending + stripped).strip()
        pending = ""
        word, _, args = full.partition(" ")
        if word.upper() not in KNOWN:
            raise DockerfileError(name, start, full, f"unknown instruction: {word}")
        out.append((start, word.upper(), args.strip()))
    if not out or out[0][1] != "FROM":
        raise DockerfileError(name, out[0][0] if out else 0, "",
                              "the fake builds one stage that starts with FROM")
    if any(word == "FROM" for _, word, _ in out[1:]):
        raise DockerfileError(name, 0, "", "the fake builds one stage only")
    return out


def _short(digest: str) -> str:
    return digest.removeprefix("sha256:")[:12]
