"""The RUN step: argv (heredocs included), mounts, cache key, then a real container.

Heredocs follow BuildKit: a RUN that is just ``<<EOF`` runs the body with the
SHELL, or, when the body starts with ``#!``, as an executable file mounted at
``/dev/pipes/EOF``; any other heredoc line (``RUN python3 <<EOF``) is handed to
the shell with its documents re-attached.

The cache key covers everything the process can see but the content of cache
mounts: argv, the full environment (ENV and ARG values: a script may read any
of them), working dir, user, network, the mounts and, for bind mounts, the
content or snapshot they show.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgument
from . import ast
from .cache import step_key
from .context import Tree, hash_tree, resolve, select
from .failure import BuildFailed
from .heredoc import parse_marker
from .mounts import MountSpec, parse_mount
from .progress import Vertex
from .state import StageState, command

if TYPE_CHECKING:
    from .builder import Builder

PIPES = "/dev/pipes"


def argv_of(st: StageState, instr: ast.Run) -> tuple[list[str], dict[str, str]]:
    """(argv, files to mount under /dev/pipes by name)."""
    if instr.json or not instr.heredocs:
        return command(st, instr), {}
    cmdline = " ".join(instr.command)
    if len(instr.heredocs) == 1 and parse_marker(cmdline.strip()) is not None:
        doc = instr.heredocs[0]
        if doc.body.startswith("#!"):
            return [f"{PIPES}/{doc.name}"], {doc.name: doc.body}
        return [*st.shell, doc.body], {}
    full = cmdline
    for doc in instr.heredocs:
        full += "\n" + doc.content + doc.name
    return [*st.shell, full], {}


def created_by(st: StageState, argv: list[str]) -> str:
    args = {k: v for k, v in sorted(st.args.items())}
    prefix = f"|{len(args)} " + " ".join(f"{k}={v}" for k, v in args.items()) + " " \
        if args else ""
    return f"RUN {prefix}{' '.join(argv)} # buildkit"


def run(b: Builder, st: StageState, instr: ast.Run, v: Vertex) -> None:
    argv, pipes = argv_of(st, instr)
    network = instr.network or "default"
    if network == "default":
        network = b.opts.network if b.opts.network != "default" else "host"
    if network not in ("none", "host"):
        raise InvalidArgument(f"RUN --network={network} is not supported (none, host or "
                              "default)")
    if instr.flag("security") not in (None, "sandbox"):
        raise InvalidArgument("RUN --security=insecure is not supported")
    if instr.flag_list("device"):
        raise InvalidArgument("RUN --device is not supported")
    specs = [parse_mount(m, st.workdir) for m in instr.mounts]
    env = st.run_env(b.proxies)
    user = str(st.config.get("User") or "")
    mounts_key = [dict(m.key(), content=_mount_identity(b, m)) for m in specs]
    op = {"run": argv, "pipes": pipes, "env": env, "cwd": st.workdir, "user": user,
          "network": network, "mounts": mounts_key}
    key = step_key(st.top, op)
    history = created_by(st, argv)
    hit = b.cached(key)
    if hit is not None:
        v.cached()
        st.add_result(hit)
        st.add_history(history, hit.empty)
        return
    from . import overlay
    from .layers import commit_upper
    from .runstep import RunSpec, step_container

    work = b.step_dir()
    with contextlib.ExitStack() as stack:
        stack.callback(overlay.cleanup, work)
        oci_mounts = [_prepare(b, m, work / f"m{i}", stack) for i, m in enumerate(specs)]
        if pipes:
            pipe_dir = work / "pipes"
            pipe_dir.mkdir()
            for name, body in pipes.items():
                (pipe_dir / name).write_text(body)
                os.chmod(pipe_dir / name, 0o755)
            oci_mounts.append({"destination": PIPES, "type": "bind", "source": str(pipe_dir),
                               "options": ["rbind", "ro", "rprivate"]})
        spec = RunSpec(argv=argv, env=env, cwd=st.workdir, user=user, network=network,
                       diff_ids=list(st.diff_ids), mounts=oci_mounts, build_id=b.build_id)
        with step_container(b.cfg, b.containers, b.lifecycle, spec, b.defer) as ctr:
            code = ctr.run(v.output, b.cancel)
            if code != 0:
                shown = " ".join(argv)
                raise BuildFailed(b.filename, instr.line, instr.original,
                                  f'process "{shown}" did not complete successfully: '
                                  f"exit code: {code}", exit_code=code,
                                  output=tuple(v.tail))
            result = commit_upper(b.images, b.cache, key, history, st.chain, ctr.upper,
                                  ctr.stubs)
    st.add_result(result)
    st.add_history(history, result.empty)


def _mount_identity(b: Builder, m: MountSpec) -> str:
    """What a bind mount shows, for the cache key: a content hash or a snapshot."""
    if m.type != "bind":
        return ""
    if not m.from_ or m.from_ == "context":
        return hash_tree(b.context, [_context_source(b.context, m.source)])
    _, identity, _ = b.source_chain(m.from_)
    return f"{identity}:{m.source}"


def _context_source(tree: Tree, source: str) -> str:
    try:
        return select(tree, source or ".")[0][1]
    except InvalidArgument:
        raise InvalidArgument(f'RUN --mount: "/{source.lstrip("/")}" not found in the '
                              "context") from None


def _prepare(b: Builder, m: MountSpec, work: Path, stack: contextlib.ExitStack
             ) -> dict[str, Any]:
    """The OCI mount for one ``--mount``; views and locks are released by ``stack``."""
    from . import overlay

    work.mkdir(parents=True)
    if m.type == "tmpfs":
        opts = ["nosuid", "nodev"] + ([f"size={m.size}"] if m.size else [])
        return {"destination": m.target, "type": "tmpfs", "source": "tmpfs", "options": opts}
    if m.type == "cache":
        src = b.cache.mount_dir(m.id)
        if not src.exists():
            src.parent.mkdir(parents=True, exist_ok=True)
            tmp = work / "new-cache"
            tmp.mkdir(mode=m.mode)
            os.chmod(tmp, m.mode)
            os.chown(tmp, m.uid, m.gid)
            with contextlib.suppress(FileExistsError, OSError):
                os.rename(tmp, src)  # another build may have made it meanwhile
        if m.sharing == "locked":
            lock = b.cfg.locks_dir / f"build-mount-{src.name}.lock"
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            stack.callback(os.close, fd)
            fcntl.flock(fd, fcntl.LOCK_EX)
        return _bind(m.target, src, m.readonly)
    if not m.from_ or m.from_ == "context":
        rel = _context_source(b.context, m.source)
        src = b.context.root / rel if rel != "." else b.context.root
        if m.readonly and not b.context.ignore.patterns:
            return _bind(m.target, src, True)
        # A writable or filtered view of the context must never touch the user's files.
        copy = work / "ctx"
        import shutil  # here: a cached RUN never copies (shutil brings bz2 and lzma)

        if src.is_dir():
            shutil.copytree(src, copy, symlinks=True, ignore=_ignored(b.context, rel))
        else:
            shutil.copy2(src, copy, follow_symlinks=False)
        return _bind(m.target, copy, m.readonly)
    chain, _, _ = b.source_chain(m.from_)
    if m.readonly:
        view = stack.enter_context(overlay.readonly(b.images.snapshots, chain, work))
    else:
        view = stack.enter_context(overlay.writable(b.images.snapshots, chain, work))
    found = resolve(view, m.source.lstrip("/") or ".")
    if found is None:
        raise InvalidArgument(f'RUN --mount: "{m.source}" not found in {m.from_}')
    return _bind(m.target, view / found if found != "." else view, m.readonly)


def _bind(target: str, source: Path, readonly: bool) -> dict[str, Any]:
    return {"destination": target, "type": "bind", "source": str(source),
            "options": ["rbind", "rprivate"] + (["ro"] if readonly else [])}


def _ignored(tree: Tree, rel: str) -> Any:
    def ignore(directory: str, names: list[str]) -> set[str]:
        base = os.path.relpath(directory, tree.root)
        return {n for n in names if tree.hidden(os.path.normpath(os.path.join(base, n)))}
    return ignore
