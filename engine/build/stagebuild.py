"""One stage: its base (scratch, an earlier stage or an image), ONBUILD triggers, steps.

The base image's ONBUILD triggers are parsed and run right after FROM, with the
FROM line as their line, and are not passed on to the child's config. Every
failure below comes out as :class:`.failure.BuildFailed` naming the file and the
instruction's line.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from ..errors import DockerfileError, EngineError
from ..images.model import split_platform
from ..record import replace
from . import ast, state
from .dispatch import FILE_STEPS, dispatch
from .expand import expand_instruction
from .failure import BuildFailed, Cancelled
from .parser import parse_dockerfile
from .state import StageState

if TYPE_CHECKING:
    from .builder import Builder


def build_stage(b: Builder, stage: ast.Stage) -> StageState:
    """Build one stage: its base, the base's ONBUILD triggers, then its instructions."""
    multi = len(b.df.stages) > 1
    st = StageState(stage, label=(stage.name or f"stage-{stage.index}") if multi else "")
    frm = expand_instruction(stage.from_, b.global_args, escape=b.escape,
                             filename=b.filename).instruction
    assert isinstance(frm, ast.From)
    from_image = _from(b, st, frm)
    triggers = _triggers(b, st, frm)
    st.total = int(from_image) + sum(isinstance(i, FILE_STEPS)
                                     for i in [*stage.instructions, *triggers])
    if from_image:
        st.done = 1
        where = f"{st.label} 1/{st.total}" if st.label else f"1/{st.total}"
        b.progress.vertex(f"[{where}] FROM {_shown(b, frm.image)}", stage=st.label,
                             line=frm.line).done()
    for instr in triggers:
        _dispatch(b, st, instr, "ONBUILD ")
    for instr in stage.instructions:
        _dispatch(b, st, instr)
    return st

def _shown(b: Builder, ref: str) -> str:
    from ..reference import parse

    try:
        return str(parse(ref, default_registry=b.cfg.default_registry))
    except EngineError:
        return ref

def _from(b: Builder, st: StageState, frm: ast.From) -> bool:
    """Start the stage from scratch, a stage or an image; True for an image."""
    ref = frm.image
    if ref.lower() == "scratch":
        os_, arch, _ = split_platform(frm.platform or b.opts.platform
                                      or b.cfg.default_platform)
        state.scratch(st, arch, os_)
        return False
    base = b.stage_ref(ref, st.stage.index, for_from=True)
    if base is not None:
        parent = b.stage(base)
        st.config = copy.deepcopy(parent.config)
        st.history = list(parent.history)
        st.platform = dict(parent.platform)
        st.diff_ids, st.chain, st.layers = list(parent.diff_ids), list(parent.chain), \
            list(parent.layers)
        st.created, st.author = parent.created, parent.author
        return False
    try:
        image = b.resolve_image(ref)
    except EngineError as err:
        raise BuildFailed(b.filename, frm.line, frm.original, str(err)) from err
    state.from_image(st, image.config)
    st.chain = image.chain_ids
    st.layers = [dict(layer) for layer in image.manifest.get("layers") or []]
    st.created = image.created
    want = frm.platform or b.opts.platform
    have = [st.platform.get("os"), st.platform.get("architecture")]
    if want and want.split("/")[:2] != have:
        b.progress.warning(f"FROM {ref}: the image is {have[0]}/{have[1]}, not {want}")
    return True

def _triggers(b: Builder, st: StageState, frm: ast.From) -> list[ast.Instruction]:
    out: list[ast.Instruction] = []
    for expr in st.config.pop("OnBuild", None) or []:
        try:
            parsed = parse_dockerfile(f"FROM scratch\n{expr}\n", filename=b.filename)
        except DockerfileError as err:
            raise BuildFailed(b.filename, frm.line, frm.original,
                              f"ONBUILD trigger {expr!r}: {err.reason}") from err
        for instr in parsed.stages[0].instructions:
            out.append(_relined(instr, frm))
    return out

def _dispatch(b: Builder, st: StageState, instr: ast.Instruction, prefix: str = "") -> None:
    if b.cancel.is_set():
        raise Cancelled("the build was cancelled")
    try:
        dispatch(b, st, instr, prefix)
    except (BuildFailed, DockerfileError, Cancelled):
        raise
    except EngineError as err:
        raise BuildFailed(b.filename, instr.line, instr.original, str(err)) from err
    except OSError as err:
        where = f" ({err.filename})" if err.filename else ""
        raise BuildFailed(b.filename, instr.line, instr.original,
                          f"{err.strerror or err}{where}") from err


def _relined(instr: ast.Instruction, frm: ast.From) -> Any:
    """A trigger reports the FROM line that pulled it in."""
    return replace(instr, line=frm.line, end_line=frm.end_line)
