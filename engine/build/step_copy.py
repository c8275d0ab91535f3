"""COPY, ADD and WORKDIR: file-system steps that need no process.

Each computes its cache key first (parent ChainID, the expanded instruction,
and the content hash of exactly the context files it selects, or the snapshot
of the stage it copies from, or a download's checksum), and only on a miss
mounts a writable overlay of the chain, writes into it (:mod:`.transfer`) and
turns the upper dir into a layer (:mod:`.layers`).
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import EngineError, InvalidArgument
from . import ast
from .cache import step_key
from .context import Tree, hash_tree, select
from .dockerignore import DockerIgnore
from .fetch import Download, check_checksum, download, is_url, url_name
from .owners import check_chmod
from .progress import Vertex
from .state import StageState

if TYPE_CHECKING:
    from .builder import Builder


def absolute(st: StageState, dest: str) -> str:
    """A destination against WORKDIR, keeping a trailing ``/`` (it means "a directory")."""
    joined = posixpath.normpath(posixpath.join(st.workdir, dest))
    return joined + "/" if dest.endswith(("/", "/.")) and joined != "/" else joined


def transfer_step(b: Builder, st: StageState, instr: ast.Copy | ast.Add, v: Vertex) -> None:
    kw = instr.keyword
    if instr.flag_bool("parents"):
        raise InvalidArgument(f"{kw} --parents is not supported yet")
    chmod, chown = instr.flag("chmod"), instr.flag("chown")
    if chmod:
        check_chmod(chmod)
    excludes = DockerIgnore(instr.flag_list("exclude")) if instr.flag_list("exclude") else None
    dest = absolute(st, instr.dest)
    inline = dict(instr.inline_sources())
    paths = [s for s in instr.sources if s not in inline]
    if len(instr.sources) > 1 and not dest.endswith("/"):
        raise InvalidArgument(f"When using {kw} with more than one source file, the "
                              "destination must be a directory and end with a /")
    src_from = instr.flag("from") if isinstance(instr, ast.Copy) else None
    downloads: list[Download] = []
    op: dict[str, Any] = {kw.lower(): True, "dest": dest, "chown": chown, "chmod": chmod,
                          "exclude": list(instr.flag_list("exclude")),
                          "inline": [[h.name, h.body] for h in inline.values()]}
    selected: list[tuple[str, str]] = []
    if src_from:
        _, identity, _ = b.source_chain(src_from)
        op["from"], op["sources"] = identity, paths
    else:
        checksum = instr.flag("checksum") if isinstance(instr, ast.Add) else None
        sources: list[Any] = []
        for src in paths:
            if is_url(src):
                if checksum:
                    sources.append(["url", src, check_checksum(checksum)])
                else:
                    dl = download(src, b.cfg.tmp_dir)
                    downloads.append(dl)
                    sources.append(["url", src, dl.digest])
                continue
            if checksum:
                raise InvalidArgument("ADD --checksum only applies to URLs")
            for shown, real in _select(b.context, src, excludes):
                selected.append((shown, real))
        op["sources"] = sources
        op["content"] = hash_tree(b.context, [r for _, r in selected], excludes)
        op["names"] = [s for s, _ in selected]
        op["unpack"] = isinstance(instr, ast.Add) and instr.flags.get("unpack") is not False
    history = f"{instr.original.strip()} # buildkit"
    key = step_key(st.top, op)
    try:
        hit = b.cached(key)
        if hit is not None:
            v.cached()
            st.add_result(hit)
            st.add_history(history, hit.empty)
            return
        from . import overlay, transfer
        from .layers import commit_upper

        work = b.step_dir()
        try:
            with contextlib.ExitStack() as stack:
                merged = stack.enter_context(overlay.writable(b.images.snapshots, st.chain,
                                                              work / "rw"))
                items = _items(b, instr, inline, selected, downloads, src_from, work, stack)
                transfer.apply(merged, items, dest, chown=chown, chmod=chmod,
                               excludes=excludes, force_dir=len(items) > 1)
            result = commit_upper(b.images, b.cache, key, history, st.chain,
                                  work / "rw" / "upper", set())
        finally:
            overlay.cleanup(work)
    finally:
        for dl in downloads:
            dl.path.unlink(missing_ok=True)
    st.add_result(result)
    st.add_history(history, result.empty)


def _select(tree: Tree, src: str, excludes: DockerIgnore | None) -> list[tuple[str, str]]:
    out = []
    for name, real in select(tree, src):
        if excludes is not None and (excludes.excluded(real) or excludes.excluded(name)):
            continue
        out.append((name, real))
    return out


def _items(b: Builder, instr: ast.Copy | ast.Add, inline: dict[str, ast.Heredoc],
           selected: list[tuple[str, str]], downloads: list[Download], src_from: str | None,
           work: Path, stack: contextlib.ExitStack) -> list[Any]:
    from . import overlay, transfer

    now = time.time()
    items = [transfer.Item(name=h.name, data=h.body.encode("utf-8", "surrogateescape"),
                           mtime=now) for h in inline.values()]
    if src_from:
        chain, _, label = b.source_chain(src_from)
        view = stack.enter_context(overlay.readonly(b.images.snapshots, chain, work / "ro"))
        tree = Tree(view, name=label)
        excludes = DockerIgnore(instr.flag_list("exclude")) if instr.flag_list("exclude") \
            else None
        for src in instr.sources:
            if src in inline:
                continue
            for name, real in _select(tree, src, excludes):
                items.append(transfer.Item(name=name, tree=tree, rel=real, keep_owner=True))
        return items
    unpack = isinstance(instr, ast.Add) and instr.flags.get("unpack") is not False
    for name, real in selected:
        path = b.context.root / real if real != "." else b.context.root
        items.append(transfer.Item(name=name, tree=b.context, rel=real,
                                   unpack=unpack and transfer.is_archive(path),
                                   keep_owner=unpack and transfer.is_archive(path)))
    checksum = instr.flag("checksum")
    for src in instr.sources:
        if not is_url(src):
            continue
        dl = next((d for d in downloads if d.name == url_name(src)), None)
        if dl is None:
            dl = download(src, b.cfg.tmp_dir, checksum)
            downloads.append(dl)
        items.append(transfer.Item(name=dl.name, file=dl.path, mtime=dl.mtime, mode=0o600))
    return items


def workdir_step(b: Builder, st: StageState, path: str, v: Vertex) -> None:
    """Create the working directory (owned by USER) if the image lacks it."""
    user = str(st.config.get("User") or "")
    history = f"WORKDIR {path}"
    key = step_key(st.top, {"workdir": path, "user": user})
    hit = b.cached(key)
    if hit is not None:
        v.cached()
        st.add_result(hit)
        st.add_history(history, hit.empty)
        return
    from ..runtime.users import resolve_user
    from . import overlay, transfer
    from .layers import commit_upper

    work = b.step_dir()
    try:
        with overlay.writable(b.images.snapshots, st.chain, work / "rw") as merged:
            rootfd = os.open(merged, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                owner = (0, 0)
                if user:
                    with contextlib.suppress(EngineError):
                        ident = resolve_user(rootfd, user)
                        owner = (ident.uid, ident.gid)
                transfer.mkdir_p(rootfd, tuple(p for p in path.split("/") if p), owner)
            finally:
                os.close(rootfd)
        result = commit_upper(b.images, b.cache, key, history, st.chain, work / "rw" / "upper",
                              set())
    finally:
        overlay.cleanup(work)
    st.add_result(result)
    st.add_history(history, result.empty)
