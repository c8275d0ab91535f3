"""One instruction applied to a stage: metadata into the config, file steps into layers.

Every instruction is expanded first (:func:`engine.build.expand.expand_instruction`
knows which ones Docker expands), against the stage's ARG values overlaid by its
ENV. Metadata instructions only change the image config and add a history
entry with ``empty_layer``; RUN, COPY, ADD and WORKDIR are BuildKit vertices
(``#N [stage n/N] …``) that may come from the cache.
"""

from __future__ import annotations

import json
import posixpath
from typing import TYPE_CHECKING

from ..errors import InvalidArgument
from . import ast, state
from .expand import expand_instruction

if TYPE_CHECKING:
    from .builder import Builder
    from .state import StageState

FILE_STEPS = (ast.Run, ast.Copy, ast.Add, ast.Workdir)


def _go_list(values: list[str]) -> str:
    """Go's ``%q`` of a []string: ``["sh" "-c" "x"]`` (how BuildKit records CMD)."""
    return "[" + " ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"


def step_name(st: StageState, instr: ast.Instruction, prefix: str = "") -> str:
    st.done += 1
    where = f"{st.label} {st.done}/{st.total}" if st.label else f"{st.done}/{st.total}"
    text = " ".join(instr.original.split())
    if isinstance(instr, ast.Run | ast.Copy | ast.Add) and instr.heredocs:
        first = instr.heredocs[0].body.strip().splitlines()
        text += f" ({first[0][:60]}...)" if first else ""
    return f"[{where}] {prefix}{text}"


def dispatch(b: Builder, st: StageState, instr: ast.Instruction, prefix: str = "") -> None:
    if isinstance(instr, ast.Onbuild):
        st.config["OnBuild"] = list(st.config.get("OnBuild") or []) + [instr.expression]
        st.add_history(f"ONBUILD {instr.expression}", True)
        return
    instr = expand_instruction(instr, st.expansion_env(), escape=b.escape,
                               filename=b.filename).instruction
    if isinstance(instr, FILE_STEPS):
        _file_step(b, st, instr, prefix)
        return
    if isinstance(instr, ast.Arg):
        _arg(b, st, instr)
    elif isinstance(instr, ast.Env):
        st.set_env(instr.pairs)
        st.add_history("ENV " + " ".join(f"{k}={v}" for k, v in instr.pairs), True)
    elif isinstance(instr, ast.Label):
        labels = dict(st.config.get("Labels") or {})
        labels.update(instr.pairs)
        st.config["Labels"] = labels
        st.add_history("LABEL " + " ".join(f"{k}={v}" for k, v in instr.pairs), True)
    elif isinstance(instr, ast.User):
        st.config["User"] = instr.user
        st.add_history(f"USER {instr.user}", True)
    elif isinstance(instr, ast.Cmd):
        state.set_cmd(st, instr)
        st.add_history(f"CMD {_go_list(st.config['Cmd'])}", True)
    elif isinstance(instr, ast.Entrypoint):
        state.set_entrypoint(st, instr)
        st.add_history(f"ENTRYPOINT {_go_list(st.config['Entrypoint'])}", True)
    elif isinstance(instr, ast.Expose):
        state.expose(st, instr.ports)
        st.add_history(state.exposed_text(st), True)
    elif isinstance(instr, ast.Volume):
        volumes = dict(st.config.get("Volumes") or {})
        for p in instr.paths:
            if not p.strip():
                raise InvalidArgument("VOLUME specified can not be an empty string")
            volumes[p] = {}
        st.config["Volumes"] = volumes
        st.add_history(f"VOLUME [{' '.join(instr.paths)}]", True)
    elif isinstance(instr, ast.Stopsignal):
        from ..runtime.options import parse_signal  # only STOPSIGNAL needs it

        parse_signal(instr.signal)
        st.config["StopSignal"] = instr.signal
        st.add_history(f"STOPSIGNAL {instr.signal}", True)
    elif isinstance(instr, ast.Healthcheck):
        state.healthcheck(st, instr)
        st.add_history(f"HEALTHCHECK {' '.join(instr.original.split()[1:])}", True)
    elif isinstance(instr, ast.Shell):
        st.config["Shell"] = list(instr.shell)
        st.add_history(f"SHELL {_go_list(list(instr.shell))}", True)
    elif isinstance(instr, ast.Maintainer):
        st.author = instr.maintainer
        st.add_history(f"MAINTAINER {instr.maintainer}", True)
    else:
        raise InvalidArgument(f"{instr.keyword} is not supported here")


def _arg(b: Builder, st: StageState, instr: ast.Arg) -> None:
    shown = []
    for spec in instr.args:
        b.consumed.add(spec.name)
        if spec.name in b.build_args:
            value: str | None = b.build_args[spec.name]
        elif spec.default is not None:
            value = spec.default
        else:
            value = b.global_args.get(spec.name)
        if value is None:
            st.args.pop(spec.name, None)
            shown.append(spec.name)
        else:
            st.args[spec.name] = value
            shown.append(f"{spec.name}={value}")
    st.add_history("ARG " + " ".join(shown), True)


def _file_step(b: Builder, st: StageState, instr: ast.Instruction, prefix: str) -> None:
    if isinstance(instr, ast.Workdir):
        path = posixpath.normpath(posixpath.join(st.workdir, instr.path))
        st.config["WorkingDir"] = path
    v = b.progress.vertex(step_name(st, instr, prefix), stage=st.label, line=instr.line)
    # Imported here: a fully cached build never needs the runtime or tar code.
    try:
        if isinstance(instr, ast.Run):
            from .step_run import run as run_step

            run_step(b, st, instr, v)
        elif isinstance(instr, ast.Copy | ast.Add):
            from .step_copy import transfer_step

            transfer_step(b, st, instr, v)
        elif isinstance(instr, ast.Workdir):
            from .step_copy import workdir_step

            workdir_step(b, st, st.workdir, v)
    except BaseException as err:
        v.error(getattr(err, "reason", None) or str(err) or type(err).__name__)
        raise
    if not v.was_cached:
        v.done()
