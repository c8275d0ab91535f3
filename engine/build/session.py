"""One ``images_build`` call: context, Dockerfile, a worker thread, a stream of events.

The build runs in a worker thread and reports through a queue, so the caller
iterates events as they happen; closing the iterator (or Ctrl-C in the
caller) cancels the build, which kills the running step's container. Either
way the worker is joined, the step containers are gone and every temporary
mount and directory is removed before the iterator finishes. Nothing is tagged
unless the whole build succeeded.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from ..errors import ImageNotFound, InvalidArgument
from ..fsutil import mkdtemp
from ..reference import Reference, parse
from ..types_build import BuildEvent, BuildOptions
from . import overlay
from .builder import Builder
from .context import Tree, unpack_tar
from .dockerignore import DockerIgnore
from .export import export
from .parser import parse_dockerfile
from .progress import Progress

if TYPE_CHECKING:
    from ..api import Engine
    from ..images.store import ImageRecord

Context = str | os.PathLike[str] | BinaryIO | None


def run_build(eng: Engine, context: Context, opts: BuildOptions, *,
              stop: Callable[[], bool] | None = None) -> Iterator[BuildEvent]:
    tags = [parse(t, default_registry=eng.config.default_registry) for t in opts.tags]
    if opts.network not in ("host", "none", "default"):
        raise InvalidArgument(f"network mode {opts.network!r} not supported for builds "
                              "(host or none)")
    eng.config.tmp_dir.mkdir(parents=True, exist_ok=True)
    sweep_stale(eng)
    work = mkdtemp(eng.config.tmp_dir, f"build-{os.getpid()}-")
    try:
        root, df_path, df_text = _context(context, opts, work)
        dockerfile = parse_dockerfile(df_text, filename=df_path)
        ignore = DockerIgnore.for_context(root, df_path if os.path.isfile(df_path) else None)
        yield from _run(eng, opts, dockerfile, Tree(root, ignore), tags, work, stop)
    finally:
        overlay.cleanup(work)


def _context(context: Context, opts: BuildOptions, work: Path) -> tuple[Path, str, bytes]:
    """(context root, Dockerfile path or name, Dockerfile bytes); temporaries go in ``work``."""
    if context is None or context == "":
        root = work / "empty-context"
        root.mkdir()
    elif isinstance(context, str | os.PathLike):
        root = Path(context)
        if not root.is_dir():
            raise InvalidArgument(f"unable to prepare context: path {str(root)!r} not found")
    else:
        import shutil
        import tarfile

        spool = work / "context.tar"
        with open(spool, "wb") as f:
            shutil.copyfileobj(context, f, 1 << 20)
        if not tarfile.is_tarfile(spool):
            if opts.dockerfile_text is not None or opts.dockerfile is not None:
                raise InvalidArgument("the build context on stdin is not a tar archive")
            root = work / "empty-context"  # `build - < Dockerfile`: no context at all
            root.mkdir()
            return root, "Dockerfile", spool.read_bytes()
        with open(spool, "rb") as f:
            root = unpack_tar(f, work)
        spool.unlink()
    if opts.dockerfile_text is not None:
        return root, opts.dockerfile or "Dockerfile", opts.dockerfile_text
    df = Path(opts.dockerfile or "Dockerfile")
    path = df if df.is_absolute() else root / df
    try:
        return root, str(path), path.read_bytes()
    except OSError as err:
        raise InvalidArgument(f"cannot read the Dockerfile {str(path)!r}: "
                              f"{err.strerror or err}") from err


def _run(eng: Engine, opts: BuildOptions, dockerfile: Any, tree: Tree, tags: list[Reference],
         work: Path, stop: Callable[[], bool] | None = None) -> Iterator[BuildEvent]:
    events: queue.Queue[BuildEvent | None] = queue.Queue()
    progress = Progress(events.put)
    cancel = threading.Event()
    outcome: dict[str, Any] = {}
    builder = Builder(cfg=eng.config, images=eng.images,
                      runtime=lambda: (eng.containers, eng.lifecycle), opts=opts,
                      dockerfile=dockerfile, context=tree,
                      progress=progress, cancel=cancel, work=work,
                      resolve_image=_resolver(eng, opts))

    def worker() -> None:
        try:
            name = os.path.basename(dockerfile.filename) or "Dockerfile"
            progress.vertex(f"[internal] load build definition from {name}").done()
            for w in dockerfile.warnings:
                progress.warning(f"{name}:{w.line}: {w.message}")
            st = builder.run()
            v = progress.vertex("exporting to image")
            image_id = export(eng.images, st, opts.labels, tags)
            v.output(f"writing image {image_id} done")
            for ref in tags:
                v.output(f"naming to {ref} done")
            v.done()
            unused = builder.unused_args()
            if unused:
                progress.warning(f"One or more build-args {unused} were not consumed")
            outcome["image"] = image_id
        except BaseException as err:  # noqa: BLE001 - handed to the caller's thread
            outcome["error"] = err
        finally:
            for problem in builder.close():
                progress.warning(f"removing a build step container: {problem}")
            events.put(None)

    thread = threading.Thread(target=worker, name="pydock-build", daemon=True)
    thread.start()
    try:
        while True:
            try:
                ev = events.get(timeout=0.5)
            except queue.Empty:
                if stop is not None and stop():
                    break  # as if the caller had closed us: the finally cancels
                continue
            if ev is None:
                break
            yield ev
    finally:
        cancel.set() if "image" not in outcome else None
        thread.join()
    if "error" in outcome:
        raise outcome["error"]
    image_id = outcome["image"]
    for ref in tags:
        eng._emit_image("tag", image_id, {"name": ref.familiar})
    yield BuildEvent("image", image_id=image_id)


def _resolver(eng: Engine, opts: BuildOptions) -> Any:
    """FROM and ``--from`` images: local first; pulled when missing or with ``--pull``."""
    lock = threading.Lock()
    seen: dict[str, ImageRecord] = {}

    def resolve(ref: str) -> ImageRecord:
        with lock:
            if ref in seen:
                return seen[ref]
            ensure = getattr(eng, "images_ensure", None)
            if opts.pull and ensure is not None:
                image_id = ensure(ref, "always")
            else:
                try:
                    image_id = eng.images.resolve(ref)
                except ImageNotFound:
                    if ensure is None:
                        raise
                    image_id = ensure(ref, "missing")
            seen[ref] = eng.images.record(image_id)
            return seen[ref]

    return resolve


def sweep_stale(eng: Engine) -> None:
    """Remove what a killed build left: its work dir (mounts first) and its containers."""
    from .cache import BUILD_LABEL

    tmp = eng.config.tmp_dir
    stale = False
    for entry in tmp.glob("build-*-*"):
        pid = entry.name.split("-")[1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            overlay.cleanup(entry)
            stale = True
    if not stale:
        return  # a killed build always leaves its work dir: no need to read every container
    for rec in eng.containers.all():
        build = (rec.get("config", {}).get("Labels") or {}).get(BUILD_LABEL, "")
        pid = build.split("-")[1] if build.count("-") >= 2 else ""
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            eng.containers_remove([rec["id"]], force=True)
