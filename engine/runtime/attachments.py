"""Volumes and networks at ``create``: the glue between ``create.py`` and their packages.

Checks first (nothing written), then the container record is created under the
volume store lock together with the volumes it references, so a concurrent
``volume rm`` either sees the new reference or ran before it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..config import EngineConfig
from ..network import plan as netplan
from ..record import dataclass
from ..types import CreateOptions
from ..volumes import plan as volplan
from ..volumes.mounts import MountRequest
from .state import ContainerStore

if TYPE_CHECKING:
    from ..volumes.store import VolumeStore


@dataclass
class Attachments:
    mounts: list[MountRequest]
    net: netplan.NetPlan


def volume_store(cfg: EngineConfig) -> VolumeStore:
    from ..volumes.store import VolumeStore  # here: containers without volumes skip it

    return VolumeStore(cfg.root / "volumes", cfg.locks_dir)


def check(cfg: EngineConfig, store: ContainerStore, opts: CreateOptions,
          img_cfg: dict[str, Any]) -> Attachments:
    return Attachments(volplan.requests(opts, img_cfg.get("Volumes"), store),
                       netplan.check(cfg.root, opts, img_cfg))


def create_record(cfg: EngineConfig, store: ContainerStore, rec: dict[str, Any],
                  name: str | None, att: Attachments, opts: CreateOptions,
                  write_files: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Record the plan and persist the container with its volumes, atomically for ``rm``.

    ``write_files`` writes the bundle (it needs the volumes' mounts) into the new
    directory before the record makes the container exist.
    """
    netplan.record(rec, att.net, opts)
    hc = rec["host_config"]
    hc["Binds"] = list(opts.volumes) or None
    hc["Tmpfs"] = {t.partition(":")[0]: t.partition(":")[2] for t in opts.tmpfs} or None
    hc["VolumesFrom"] = list(opts.volumes_from) or None
    hc["Mounts"] = list(opts.mounts) or None
    if not att.mounts:  # no volume to reference: nothing a `volume rm` could race
        rec["mounts"] = []
        write_files(rec)
        return store.create(rec, name)
    vols = volume_store(cfg)
    with vols.lock():
        rec["mounts"] = volplan.materialize(vols, att.mounts)
        try:
            write_files(rec)
            return store.create(rec, name)
        except BaseException:
            volplan.discard(vols, rec["mounts"])
            raise


def hosts_text(rec: dict[str, Any], base: str, host_file: str | None) -> str:
    """The first /etc/hosts: addresses are added at start (see engine.network.hosts)."""
    text = host_file if rec["host_config"]["NetworkMode"] == "host" and host_file else base
    extra = [e.partition(":") for e in rec["host_config"].get("ExtraHosts") or []]
    return text + "".join(f"{ip}\t{name}\n" for name, _, ip in extra)


def resolv_text(host_text: str, opts: CreateOptions) -> str:
    return netplan.resolv_conf(host_text, opts)


def spec_fields(cfg: EngineConfig, rec: dict[str, Any]) -> dict[str, Any]:
    """Extra :class:`SpecInput` fields: user mounts, and the netns the init joins by path."""
    netns = ""
    if rec["host_config"]["NetworkMode"] not in ("none", "host"):
        from ..network.model import netns_path  # pulls ipaddress: bridge containers only

        netns = str(netns_path(cfg.root, rec["id"]))
    return {"user_mounts": tuple(volplan.spec_mounts(rec.get("mounts") or [])),
            "netns_path": netns}


def remove_anonymous(cfg: EngineConfig, rec: dict[str, Any]) -> list[str]:
    """``rm -v`` and ``run --rm``: this container's anonymous volumes nobody else uses."""
    if not any(m.get("_anonymous") for m in rec.get("mounts") or []):
        return []
    return volplan.release_anonymous(volume_store(cfg), cfg.containers_dir, rec)
