"""The resources half of the container facade: ``update`` and ``stats``.

Mixed into :class:`engine.api.Engine` through :class:`engine.api_containers.ContainersMixin`.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .errors import EngineError, InvalidArgument

if TYPE_CHECKING:
    from .config import EngineConfig
    from .events import EventLog
    from .runtime.lifecycle import Lifecycle
    from .runtime.state import ContainerStore, RecordCache
    from .stats.sampler import Sampler
    from .types import ContainerReport, StatsSample, UpdateOptions

RUNNING = ("running", "paused")


class ResourcesMixin:
    config: EngineConfig
    events: EventLog

    if TYPE_CHECKING:
        @property
        def containers(self) -> ContainerStore: ...

        @property
        def lifecycle(self) -> Lifecycle: ...

    # -- update ------------------------------------------------------------------------
    def containers_update(self, refs: list[str], opts: UpdateOptions) -> list[ContainerReport]:
        """``docker update``: new limits go to the live cgroup first, then to the record
        and the OCI spec, so a refused value (the kernel's EBUSY) changes nothing."""
        from .types import ContainerReport

        out = []
        for ref in refs:
            try:
                cid = self.containers.resolve(ref)
                self._update_one(cid, opts)
                out.append(ContainerReport(ref, cid))
            except EngineError as err:
                out.append(ContainerReport(ref, error=f"Cannot update container {ref}: {err}"))
        return out

    def _update_one(self, cid: str, opts: UpdateOptions) -> None:
        from .cgroups import get_driver
        from .fsutil import atomic_write_json
        from .runtime import create, resources
        from .runtime.options import parse_restart

        self.lifecycle.refresh(cid)
        with self.containers.locked(cid):
            rec = self.containers.load(cid)
            hc = resources.updated_host_config(rec["host_config"], opts)
            if opts.restart is not None:
                if hc.get("AutoRemove") and parse_restart(opts.restart).name != "no":
                    raise InvalidArgument("Restart policy cannot be updated because AutoRemove "
                                          "is enabled for the container")
                hc["RestartPolicy"] = parse_restart(opts.restart).to_json()
            limits = resources.limits_from_host_config(hc)
            if resources.changed_limits(opts) and rec["state"].get("status") in RUNNING:
                driver = get_driver(self.config)
                handle = driver.handle(cid)
                if driver.exists(handle):
                    driver.set_limits(handle, limits)
            cdir = self.containers.dir(cid)
            spec = create.load_spec(cdir)
            res = spec.setdefault("linux", {}).setdefault("resources", {})
            for key in ("memory", "cpu", "pids", "blockIO"):
                res.pop(key, None)
            res.update(resources.spec_resources(limits))
            atomic_write_json(cdir / "config.json", spec)
            rec["host_config"] = hc
            self.containers.save(rec)
        self.lifecycle.emit("update", rec)

    def containers_warnings(self, ref: str) -> list[str]:
        """What ``create`` found this host cannot enforce (docker's create ``Warnings``)."""
        return list(self.containers.load(self.containers.resolve(ref)).get("warnings") or [])

    # -- stats -------------------------------------------------------------------------
    @cached_property
    def _sampler(self) -> Sampler:
        from .cgroups import get_driver
        from .stats.sampler import Sampler

        return Sampler(get_driver(self.config), self.config.proc_root,
                       cache=self.config.root / "stats-cache.json")

    @cached_property
    def _record_cache(self) -> RecordCache:
        from .runtime.state import RecordCache

        return RecordCache(self.containers)

    def _stats_records(self, refs: list[str] | None
                       ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Each container's record as ``lifecycle.refresh`` would return it.

        Every container, once a second, is the TUI's case: records come from the cache
        (parsed again only when written) and only a record whose monitor has died goes
        through ``refresh`` to be corrected.
        """
        from .runtime.state import alive

        if refs is not None:
            for cid in [self.containers.resolve(r) for r in refs]:  # NotFound: unknown
                try:
                    yield cid, self.lifecycle.refresh(cid)
                except EngineError:
                    continue  # removed while we looked
            return
        for cid, rec in self._record_cache.records():
            st = rec["state"]
            if st.get("monitor_pid") and not alive(st["monitor_pid"],
                                                   st.get("monitor_start", 0)):
                try:
                    rec = self.lifecycle.refresh(cid)
                except EngineError:
                    continue
            yield cid, rec

    def containers_stats(self, refs: list[str] | None = None) -> list[StatsSample]:
        """One sample per container: every running one, or the named ones (zeros when
        not running, as docker shows them). The first call in a process needs no
        2-second wait (see :mod:`engine.stats.sampler`); later calls pair with the last."""
        from .stats.sampler import Target, idle

        targets: list[Target] = []
        order: list[tuple[str, str, bool]] = []
        for cid, rec in self._stats_records(refs):
            st = rec["state"]
            running = st.get("status") in RUNNING and int(st.get("pid") or 0) > 0
            if running:
                targets.append(Target(cid, rec["name"], int(st["pid"]),
                                      rec["host_config"].get("NetworkMode", "none")))
            if running or refs is not None:
                order.append((cid, rec["name"], running))
        sampled = {s.id: s for s in self._sampler.sample(targets)} if targets else {}
        return [sampled[cid] if running else idle(cid, name) for cid, name, running in order]
