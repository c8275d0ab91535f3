"""``pydock stats`` and ``pydock update``, and the resource/health flags of ``run``/``create``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING, Any

from engine import Engine
from engine.errors import InvalidArgument

if TYPE_CHECKING:
    from engine.types import StatsSample

from . import output

EXIT_USAGE = 125
HEADERS = ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O",
           "BLOCK I/O", "PIDS"]


def _limit_flags(p: argparse.ArgumentParser) -> None:
    a = p.add_argument
    a("-m", "--memory", help="memory limit (512m, 1g)")
    a("--memory-swap", help="memory plus swap; -1 for unlimited swap")
    a("--memory-reservation", help="memory soft limit")
    a("--cpus", help="number of CPUs (0.5)")
    a("-c", "--cpu-shares", type=int)
    a("--cpu-period", type=int)
    a("--cpu-quota", type=int)
    a("--cpuset-cpus", help="CPUs in which to allow execution (0-3, 0,1)")
    a("--pids-limit", type=int, help="-1 for unlimited")
    a("--blkio-weight", type=int, help="block IO weight, 10 to 1000")


def add_resource_flags(p: argparse.ArgumentParser) -> None:
    """Limits and health check flags shared by ``run`` and ``create``."""
    _limit_flags(p)
    a = p.add_argument
    a("--device-read-bps", action="append", default=[], help="PATH:RATE (/dev/sda:1mb)")
    a("--device-write-bps", action="append", default=[], help="PATH:RATE")
    a("--health-cmd")
    a("--health-interval")
    a("--health-timeout")
    a("--health-start-period")
    a("--health-start-interval")
    a("--health-retries", type=int, default=0)
    a("--no-healthcheck", action="store_true")


def _duration(value: str | None, flag: str) -> int:
    if value is None:
        return 0
    # Only when a duration was given: engine.build loads the whole Dockerfile
    # parser (~20 ms), which every `run` would otherwise pay.
    from engine.build.flags import parse_go_duration

    try:
        return parse_go_duration(value)
    except ValueError as err:
        raise InvalidArgument(f'invalid argument "{value}" for "{flag}" flag: {err}') from None


def _limit_values(args: argparse.Namespace) -> dict[str, Any]:
    from engine.runtime.resources import parse_bytes, parse_cpus, parse_swap

    def size(value: str | None, flag: str) -> int | None:
        return None if value is None else parse_bytes(value, flag)

    return {
        "memory": size(args.memory, "--memory"),
        "memory_swap": None if args.memory_swap is None else parse_swap(args.memory_swap),
        "memory_reservation": size(args.memory_reservation, "--memory-reservation"),
        "nano_cpus": None if args.cpus is None else parse_cpus(args.cpus),
        "cpu_shares": args.cpu_shares, "cpu_period": args.cpu_period,
        "cpu_quota": args.cpu_quota, "cpuset_cpus": args.cpuset_cpus,
        "pids_limit": args.pids_limit, "blkio_weight": args.blkio_weight,
    }


def resource_options(args: argparse.Namespace) -> dict[str, Any]:
    """CreateOptions keyword arguments from the flags (units parsed, InvalidArgument if bad)."""
    from engine.runtime.resources import parse_device_rate

    out = {k: v for k, v in _limit_values(args).items() if v is not None or k == "pids_limit"}
    out["device_read_bps"] = tuple(parse_device_rate(v, "--device-read-bps")
                                   for v in args.device_read_bps)
    out["device_write_bps"] = tuple(parse_device_rate(v, "--device-write-bps")
                                    for v in args.device_write_bps)
    for name in ("interval", "timeout", "start_period", "start_interval"):
        flag = "--health-" + name.replace("_", "-")
        out[f"health_{name}"] = _duration(getattr(args, f"health_{name}"), flag)
    out.update(health_cmd=args.health_cmd, health_retries=args.health_retries,
               no_healthcheck=args.no_healthcheck)
    return out


def register(sub: Any) -> None:
    p = sub.add_parser("stats", help="Display a live stream of container resource usage")
    p.add_argument("-a", "--all", action="store_true", help="show all containers")
    p.add_argument("--no-stream", action="store_true", help="print one sample and exit")
    p.add_argument("--no-trunc", action="store_true")
    p.add_argument("--format", default="table", help="table, json or a {{.Field}} template")
    p.add_argument("containers", nargs="*")
    p.set_defaults(handler=_stats)
    p = sub.add_parser("update", help="Update configuration of one or more containers")
    _limit_flags(p)
    p.add_argument("--restart")
    p.add_argument("containers", nargs="+")
    p.set_defaults(handler=_update, error_exit=EXIT_USAGE)


def _update(engine: Engine, args: argparse.Namespace) -> int:
    from engine.types import UpdateOptions

    values = {k: v for k, v in _limit_values(args).items() if v is not None}
    if not values and args.restart is None:
        raise InvalidArgument("you must provide one or more flags when using this command")
    opts = UpdateOptions(restart=args.restart, **values)
    return output.print_reports(engine.containers_update(args.containers, opts))


# -- stats -----------------------------------------------------------------------------
def binary_size(n: int) -> str:
    """docker's units.BytesSize: ``1.953MiB`` (four significant digits, powers of 1024)."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
    size, i = float(n), 0
    while size >= 1024 and i < len(units) - 1:
        size /= 1024
        i += 1
    return f"{size:.4g}{units[i]}"


def fields(s: StatsSample, *, no_trunc: bool = False, ref: str = "") -> dict[str, str]:
    """docker's stats template fields (``docker stats --format json`` keys)."""
    cid = s.id if no_trunc else s.short_id
    return {
        "BlockIO": f"{output.human_size(s.block_read)} / {output.human_size(s.block_write)}",
        "CPUPerc": f"{s.cpu_percent:.2f}%", "Container": ref or cid, "ID": cid,
        "MemPerc": f"{s.mem_percent:.2f}%",
        "MemUsage": f"{binary_size(s.mem_usage)} / {binary_size(s.mem_limit)}",
        "Name": s.name, "NetIO": f"{output.human_size(s.net_rx)} / {output.human_size(s.net_tx)}",
        "PIDs": str(s.pids),
    }


def render(samples: list[StatsSample], fmt: str, *, no_trunc: bool = False,
           refs: list[str] | None = None) -> str:
    refs = refs or []
    rows = [fields(s, no_trunc=no_trunc, ref=refs[i] if i < len(refs) else "")
            for i, s in enumerate(samples)]
    if fmt == "json":
        return "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows)
    if fmt in ("", "table"):
        import io

        buf = io.StringIO()
        output.table(HEADERS, ([r["ID"], r["Name"], r["CPUPerc"], r["MemUsage"], r["MemPerc"],
                                r["NetIO"], r["BlockIO"], r["PIDs"]] for r in rows), out=buf)
        return buf.getvalue()
    return output.render_each(fmt, rows, {
        "BlockIO": "BLOCK I/O", "CPUPerc": "CPU %", "Container": "CONTAINER",
        "ID": "CONTAINER ID", "MemPerc": "MEM %", "MemUsage": "MEM USAGE / LIMIT",
        "Name": "NAME", "NetIO": "NET I/O", "PIDs": "PIDS"})


def _stats(engine: Engine, args: argparse.Namespace) -> int:
    refs = list(args.containers) or None

    def sample() -> list[StatsSample]:
        rows = engine.containers_stats(refs)
        if args.all and refs is None:
            seen = {s.id for s in rows}
            from engine.stats.sampler import idle

            rows += [idle(c.id, c.name) for c in engine.containers_list(all=True)
                     if c.id not in seen]
        return rows

    if args.no_stream:
        sys.stdout.write(render(sample(), args.format, no_trunc=args.no_trunc, refs=refs))
        return 0
    clear = sys.stdout.isatty() and args.format in ("", "table")
    while True:  # ^C ends it (exit 130 from main), as docker
        started = time.monotonic()
        text = render(sample(), args.format, no_trunc=args.no_trunc, refs=refs)
        sys.stdout.write(("\033[2J\033[H" if clear else "") + text)
        sys.stdout.flush()
        time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
