"""Release everything a container's networking held: netns, leases, hosts entries.

Needs no netlink: unmounting ``<root>/netns/<id>`` drops the last reference to
the namespace once the container's processes are gone, and the kernel then
destroys the veth pair (both ends) with it. So the monitor runs this itself
when it finishes, and a front end runs it for a monitor that died (``kill -9``)
when it reconciles. Idempotent. Standard library only.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

from ..errors import NotFound
from ..runtime.state import ContainerStore
from ..sys import libc
from . import hosts, ipam
from .model import netns_path


def unmount_netns(root: Path, cid: str) -> None:
    path = netns_path(root, cid)
    for _ in range(8):
        try:
            libc.umount2(str(path), libc.MNT_DETACH)
        except OSError as err:
            if err.errno in (errno.EINVAL, errno.ENOENT):
                break
            raise
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def release(root: Path, cid: str, *, clear_record: bool = True) -> list[str]:
    """Tear down ``cid``'s endpoints; return the networks it left."""
    unmount_netns(root, cid)
    with ipam.state_lock(root):
        touched = ipam.release(root, cid)
        if touched:
            # Peers forget it at once; its own file goes back to its static part.
            hosts.refresh(root, hosts.members(root, touched) | {cid})
    if clear_record:
        store = ContainerStore(root / "containers", root / "locks")
        with contextlib.suppress(NotFound), store.locked(cid):
            rec = store.load(cid)
            if rec.get("network_settings"):
                rec["network_settings"] = {}
                store.save(rec)
    return touched
