"""A container's mounts at create time: parse, check, then make what they need.

``requests`` is all checking (nothing written), ``materialize`` creates the
volumes and ``-v`` host directories under the volume store lock, and
``spec_mounts`` turns the container's mount records into OCI spec mounts so the
built-in init, runc and crun all see the same thing.

Precedence is docker's: ``--volumes-from`` first, then ``-v``/``--mount``/
``--tmpfs`` (which replace the same destination), then an anonymous volume for
every image ``VOLUME`` nobody mounted over.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgument
from ..runtime.state import ContainerStore
from ..types import CreateOptions
from . import mounts as mp
from .usage import users_of

if TYPE_CHECKING:
    from .store import VolumeStore


def requests(opts: CreateOptions, image_volumes: dict[str, Any] | None,
             containers: ContainerStore) -> list[mp.MountRequest]:
    """Every mount the container will get, checked; raises InvalidArgument on the first bad one."""
    user: list[mp.MountRequest] = []
    user += [mp.parse_volume(v) for v in opts.volumes]
    user += [mp.parse_mount(m) for m in opts.mounts]
    user += [mp.parse_tmpfs(t) for t in opts.tmpfs]
    seen: set[str] = set()
    for r in user:
        if r.destination in seen:
            raise InvalidArgument(f"Duplicate mount point: {r.destination}")
        seen.add(r.destination)
        if r.type == "bind" and not r.create_host_path and not os.path.exists(r.source):
            # --mount never creates the source (docker); -v does, below.
            raise InvalidArgument(f'invalid mount config for type "bind": bind source path '
                                  f"does not exist: {r.source}")
    inherited: list[mp.MountRequest] = []
    for spec in opts.volumes_from:
        ref, mode = mp.parse_volumes_from(spec)
        src = containers.load(containers.resolve(ref))
        for m in src.get("mounts") or []:
            if m.get("Type") not in ("volume", "bind") or m["Destination"] in seen:
                continue
            ro = (mode == "ro") if mode else not m.get("RW", True)
            inherited.append(mp.MountRequest(
                m["Type"], m.get("Name") or m["Source"], m["Destination"], read_only=ro,
                propagation=m.get("Propagation", ""), mode=mode or m.get("Mode", ""),
                nocopy=True))
            seen.add(m["Destination"])
    image: list[mp.MountRequest] = []
    for dest in sorted(image_volumes or {}):
        d = posixpath.normpath(dest) if dest.startswith("/") else "/" + dest
        if d not in seen and d != "/":
            image.append(mp.MountRequest("volume", "", d))
            seen.add(d)
    return inherited + user + image


def materialize(store: VolumeStore, reqs: list[mp.MountRequest]) -> list[dict[str, Any]]:
    """Create volumes and ``-v`` host paths; the caller holds ``store.lock()``.

    Returns the container's mount records (docker's ``Mounts`` shape plus private
    ``_`` keys). A failure removes the anonymous volumes made so far.
    """
    out: list[dict[str, Any]] = []
    try:
        for r in reqs:
            out.append(_record(store, r))
    except BaseException:
        discard(store, out)
        raise
    return out


def _record(store: VolumeStore, r: mp.MountRequest) -> dict[str, Any]:
    base = {"Destination": r.destination, "Mode": r.mode, "RW": not r.read_only,
            "Propagation": r.propagation}
    if r.type == "tmpfs":
        return {"Type": "tmpfs", "Source": "", **base, "_options": list(r.tmpfs_options)}
    if r.type == "bind":
        if not os.path.exists(r.source):
            try:
                os.makedirs(r.source, mode=0o755, exist_ok=True)
            except OSError as err:
                raise InvalidArgument(f"cannot create bind source {r.source}: "
                                      f"{err.strerror}") from err
        return {"Type": "bind", "Source": r.source, **base}
    meta, created = store.ensure(r.source or None, labels=dict(r.labels), anonymous=not r.source)
    return {"Type": "volume", "Name": meta["Name"], "Source": meta["Mountpoint"],
            "Driver": "local", **base, "_anonymous": not r.source and created,
            "_created": created, "_copy": not r.nocopy}


def discard(store: VolumeStore, records: list[dict[str, Any]]) -> None:
    """Undo :func:`materialize` for a container that was never made."""
    for m in records:
        if m.get("Type") == "volume" and m.get("_anonymous"):
            with contextlib.suppress(Exception):
                store.remove_locked(m["Name"], lambda _name: [], force=True)


def release_anonymous(store: VolumeStore, containers_dir: Path, rec: dict[str, Any]) -> list[str]:
    """``rm -v`` / ``run --rm``: drop this container's anonymous volumes nobody else uses."""
    gone = []
    with store.lock():
        for m in rec.get("mounts") or []:
            if m.get("Type") != "volume" or not m.get("_anonymous"):
                continue
            if users_of(containers_dir, m["Name"], exclude=rec["id"]):
                continue  # shared through --volumes-from: docker keeps it too
            store.remove_locked(m["Name"], lambda _name: [], force=True)
            gone.append(m["Name"])
    return gone


def spec_mounts(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """OCI mounts, parents before children so ``/data`` never hides ``/data/sub``."""
    out = []
    for m in sorted(records, key=lambda m: (m["Destination"].count("/"), m["Destination"])):
        ro = [] if m.get("RW", True) else ["ro"]
        if m["Type"] == "tmpfs":
            out.append({"destination": m["Destination"], "type": "tmpfs", "source": "tmpfs",
                        "options": [*m.get("_options", []), *ro]})
        else:
            out.append({"destination": m["Destination"], "type": "bind", "source": m["Source"],
                        "options": ["rbind", m.get("Propagation") or "rprivate", *ro]})
    return out


def view(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``inspect``'s ``Mounts``: the records without the private keys."""
    return [{k: v for k, v in m.items() if not k.startswith("_")} for m in records]
