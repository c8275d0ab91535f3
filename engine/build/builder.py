"""The build of one Dockerfile: stages on demand, instruction by instruction.

Only the target stage and the stages it needs (its base, ``COPY --from``,
``RUN --mount=…,from=``) are built, each at most once; with ``parallel`` the
stages the target will need are started ahead, each in its own thread, so
independent ones build at the same time. ARG scoping is Docker's: ARGs before
the first FROM (plus BuildKit's automatic platform ARGs) are visible to FROM
lines and to a bare ``ARG NAME`` inside a stage; ``--build-arg`` overrides
defaults; proxy variables need no ARG line.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import EngineError, InvalidArgument
from ..images.model import split_platform
from . import ast
from .cache import BuildCache, CacheResult
from .context import Tree
from .expand import expand_instruction, expand_word
from .failure import Cancelled
from .progress import Progress
from .stagebuild import build_stage
from .state import PROXY_ARGS, StageState

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..config import EngineConfig
    from ..images.store import ImageRecord, ImageStore
    from ..runtime.lifecycle import Lifecycle
    from ..runtime.state import ContainerStore
    from ..types_build import BuildOptions


class Builder:
    def __init__(self, *, cfg: EngineConfig, images: ImageStore,
                 runtime: Callable[[], tuple[ContainerStore, Lifecycle]], opts: BuildOptions,
                 dockerfile: ast.Dockerfile, context: Tree, progress: Progress,
                 cancel: threading.Event, work: Path,
                 resolve_image: Callable[[str], ImageRecord]) -> None:
        # ``runtime``: the container store and lifecycle, asked for at the first RUN
        # that misses the cache (a fully cached build skips their imports).
        self.cfg, self.images, self._runtime = cfg, images, runtime
        self.cache = BuildCache(cfg.root, cfg.locks_dir)
        self.opts, self.df, self.context, self.progress = opts, dockerfile, context, progress
        self.cancel, self.work, self.resolve_image = cancel, work, resolve_image
        self.filename = os.path.basename(dockerfile.filename) or "Dockerfile"
        self.escape = dockerfile.escape
        self.build_id = work.name
        self.build_args = {k: v for k, v in opts.build_args if v is not None}
        self.proxies = {k: v for k, v in self.build_args.items() if k in PROXY_ARGS}
        self.consumed: set[str] = set(self.proxies)
        self.global_args = self._global_args()
        self._stages: dict[int, _Result] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self._waits: dict[int, int] = {}  # stage index → the stage it waits for
        self._threads: list[threading.Thread] = []
        self._failure: BaseException | None = None
        self._steps = 0
        self._cleanup: list[tuple[threading.Thread, list[str]]] = []

    @property
    def containers(self) -> ContainerStore:
        return self._runtime()[0]

    @property
    def lifecycle(self) -> Lifecycle:
        return self._runtime()[1]

    # -- arguments -------------------------------------------------------------
    def _global_args(self) -> dict[str, str]:
        os_, arch, variant = split_platform(self.cfg.default_platform)
        target = self.opts.platform or self.cfg.default_platform
        t_os, t_arch, t_variant = split_platform(target)
        auto = {"BUILDPLATFORM": f"{os_}/{arch}", "BUILDOS": os_, "BUILDARCH": arch,
                "BUILDVARIANT": variant, "TARGETPLATFORM": target, "TARGETOS": t_os,
                "TARGETARCH": t_arch, "TARGETVARIANT": t_variant}
        values: dict[str, str] = dict(auto)
        for arg in self.df.args_before_from:
            expanded = expand_instruction(arg, values, escape=self.escape,
                                          filename=self.filename).instruction
            assert isinstance(expanded, ast.Arg)
            for spec in expanded.args:
                self.consumed.add(spec.name)
                if spec.name in self.build_args:
                    values[spec.name] = self.build_args[spec.name]
                elif spec.default is not None:
                    values[spec.name] = spec.default
        return values

    def unused_args(self) -> list[str]:
        return sorted(set(self.build_args) - self.consumed)

    # -- stages ----------------------------------------------------------------
    def target(self) -> ast.Stage:
        if self.opts.target:
            stage = self.df.stage(self.opts.target)
            if stage is None or stage.name is None and not self.opts.target.isdigit():
                raise InvalidArgument(f"target stage {self.opts.target!r} could not be found")
            return stage
        return self.df.stages[-1]

    def run(self) -> StageState:
        target = self.target()
        try:
            if self.opts.parallel and len(self.df.stages) > 1:
                for dep in self._needed(target):
                    self._start(dep, background=True)
            return self.stage(target)
        except Cancelled:
            raise self._failure or Cancelled("the build was cancelled") from None
        finally:
            self.cancel.set() if self._failure is not None else None
            for t in list(self._threads):
                t.join()

    def _needed(self, target: ast.Stage) -> list[ast.Stage]:
        """Stages ``target`` depends on, best effort (refs expanded with global ARGs)."""
        out: list[ast.Stage] = []
        todo = [target]
        while todo:
            stage = todo.pop()
            for ref in self._refs(stage):
                dep = self.stage_ref(ref, stage.index, for_from=False)
                if dep is not None and dep not in out and dep is not target:
                    out.append(dep)
                    todo.append(dep)
        return out

    def _refs(self, stage: ast.Stage) -> list[str]:
        refs = [stage.base]
        for instr in stage.instructions:
            if isinstance(instr, ast.Copy) and instr.flag("from"):
                refs.append(str(instr.flag("from")))
            if isinstance(instr, ast.Run):
                refs += [f.split("=", 1)[1] for m in instr.mounts for f in m.split(",")
                         if f.strip().startswith("from=")]
        try:
            return [expand_word(r, self.global_args, self.escape) for r in refs]
        except EngineError:
            return []

    def stage_ref(self, ref: str, before: int, *, for_from: bool) -> ast.Stage | None:
        if for_from and ref.isdigit():
            return None  # FROM 0 is an image name, only --from accepts an index
        stage = self.df.stage(ref)
        if stage is None or (for_from and stage.index >= before):
            return None
        return stage

    def _start(self, stage: ast.Stage, *, background: bool) -> _Result:
        """The stage's future; a new one is built in a thread or right here."""
        with self._lock:
            fut = self._stages.get(stage.index)
            if fut is not None:
                return fut
            fut = _Result()
            self._stages[stage.index] = fut
        if background:
            t = threading.Thread(target=self._run_stage, args=(stage, fut), daemon=True,
                                 name=f"pydock-build-{stage.index}")
            self._threads.append(t)
            t.start()
        else:
            self._run_stage(stage, fut)
        return fut

    def _run_stage(self, stage: ast.Stage, fut: _Result) -> None:
        self._local.stage = stage.index
        try:
            fut.set_result(build_stage(self, stage))
        except BaseException as err:
            if not isinstance(err, Cancelled) and self._failure is None:
                self._failure = err  # the first real failure stops the sibling stages
                self.cancel.set()
            fut.set_exception(err)

    def stage(self, stage: ast.Stage) -> StageState:
        mine = getattr(self._local, "stage", None)
        with self._lock:
            if mine is not None:
                self._waits[mine] = stage.index
                seen, cur = {mine}, stage.index
                while cur in self._waits:
                    if cur in seen:
                        raise InvalidArgument(f"circular dependency detected on stage "
                                              f"{stage.name or stage.index}")
                    seen.add(cur)
                    cur = self._waits[cur]
                if cur in seen:
                    raise InvalidArgument(f"circular dependency detected on stage "
                                          f"{stage.name or stage.index}")
        try:
            return self._start(stage, background=False).result()
        finally:
            if mine is not None:
                with self._lock:
                    self._waits.pop(mine, None)

    def source_chain(self, ref: str) -> tuple[list[str], str, str]:
        """``--from=ref``: (chain, cache identity, label) of a stage or an image."""
        stage = self.stage_ref(ref, len(self.df.stages), for_from=False)
        if stage is not None:
            st = self.stage(stage)
            return list(st.chain), f"stage:{st.top}", f"stage {stage.name or stage.index}"
        image = self.resolve_image(ref)
        return image.chain_ids, f"image:{image.id}", f"image {ref}"

    def cached(self, key: str) -> CacheResult | None:
        if self.opts.no_cache:
            return None
        hit = self.cache.lookup(key)
        if hit is None:
            return None
        if not _usable(self.images, hit):
            self.cache.forget(key)
            return None
        return hit

    def defer(self, job: Callable[[], None]) -> None:
        """Run ``job`` (a step container's removal) off the critical path."""
        with self._lock:
            errors: list[str] = []
            t = threading.Thread(target=_collect_errors, args=(job, errors), daemon=True,
                                 name="pydock-build-rm")
            self._cleanup.append((t, errors))
        t.start()

    def close(self) -> list[str]:
        """Wait for the deferred removals; their errors, as text."""
        out: list[str] = []
        for t, errors in self._cleanup:
            t.join()
            out += errors
        return out

    def step_dir(self) -> Path:
        with self._lock:
            self._steps += 1
            d = self.work / f"step-{self._steps}"
        d.mkdir(parents=True)
        return d


class _Result:
    """A stage's outcome, waited for by the stages that need it (a tiny Future:
    ``concurrent.futures`` costs its import on every build, cached or not)."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._value: StageState | None = None
        self._error: BaseException | None = None

    def set_result(self, value: StageState) -> None:
        self._value = value
        self._done.set()

    def set_exception(self, error: BaseException) -> None:
        self._error = error
        self._done.set()

    def result(self) -> StageState:
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value


def _collect_errors(job: Callable[[], None], errors: list[str]) -> None:
    try:
        job()
    except Exception as err:  # noqa: BLE001 - reported as a build warning by close()
        errors.append(str(err) or type(err).__name__)


def _usable(store: ImageStore, result: CacheResult) -> bool:
    """A cache hit is only a hit if its snapshot and layer blob are still there."""
    if result.chain_id and not store.snapshots.exists(result.chain_id):
        return False
    return result.empty or store.content.exists(result.layer_digest)
