"""The front end's side of container networking: run the helper, reconcile crashes.

Called by the lifecycle before it spawns a monitor and when a monitor is found
dead, and by the facade for ``network connect``/``disconnect``. Standard
library only: the pyroute2 work happens in ``python -m engine.network.setup``,
a fresh single-threaded process, so a threaded front end (the TUI) never
switches namespaces or forks itself.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import errors
from ..errors import EngineError, NotFound
from ..runtime.state import proc_start_time

# ipam, teardown (ctypes) and subprocess are imported where used: a container
# without a bridge (--network none or host) passes here on every start and needs none.

HELPER = [sys.executable, "-m", "engine.network.setup"]


def uses_bridge(rec: dict[str, Any]) -> bool:
    # Even with every network disconnected the spec names our netns: it then has only lo.
    return rec["host_config"].get("NetworkMode") not in ("none", "host", None)


def reconcile(root: Path, refresh: Callable[[str], Any]) -> None:
    """Leases whose holders died (monitor ``kill -9``, a crashed front end) are reclaimed.

    ``refresh`` is the lifecycle's: it stops what is left of such a container
    (its processes keep the namespace, and so the address, alive) and calls
    :func:`released_by_refresh`; whatever is still held afterwards is released here.
    """
    from . import ipam, teardown

    for cid in ipam.stale(root):
        try:
            refresh(cid)
        except NotFound:
            pass
        if cid in ipam.stale(root):
            teardown.release(root, cid)


def before_monitor(root: Path, rec: dict[str, Any], refresh: Callable[[str], Any]) -> None:
    if not uses_bridge(rec):
        return
    reconcile(root, refresh)
    run_helper(root, "attach", rec["id"])


def released_by_refresh(root: Path, rec: dict[str, Any]) -> None:
    """A monitor died without cleaning up: release what its container's network held."""
    from .model import netns_path  # here: model pulls ipaddress, which every run would pay

    if uses_bridge(rec) or netns_path(root, rec["id"]).exists():
        from . import teardown

        teardown.release(root, rec["id"])


def run_helper(root: Path, verb: str, cid: str, *args: str) -> None:
    import subprocess

    pid = os.getpid()
    cmd = [*HELPER, verb, str(root), cid, str(pid), str(proc_start_time(pid)), *args]
    env = dict(os.environ, PYTHONPATH=_package_root())
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60,
                           stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise EngineError(f"network set-up failed: {err}") from err
    last = (r.stdout.strip().splitlines() or [""])[-1]
    try:
        msg = json.loads(last)
    except ValueError:
        msg = {"error": (r.stderr.strip().splitlines() or ["network set-up helper failed"])[-1]}
    if r.returncode != 0 or "error" in msg:
        kind = CATEGORIES.get(str(msg.get("kind", "")), EngineError)
        raise kind(str(msg.get("error") or "network set-up failed"))


# Error categories whose constructor takes just a message: the helper reports
# the nearest one, and the same kind is raised here.
CATEGORIES: dict[str, type[EngineError]] = {c.__name__: c for c in (
    errors.NotFound, errors.Conflict, errors.InvalidArgument, errors.Unavailable,
    errors.AlreadyExists, errors.PermissionDenied, EngineError)}


def category(err: EngineError) -> str:
    return next(c.__name__ for c in type(err).__mro__ if c.__name__ in CATEGORIES)


def _package_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
