"""Run every benchmark, print a table, and write ``bench/results.json``.

Each module in ``MODULES`` exposes ``run(report)`` and appends one dict per
measurement: ``name``, ``pydock_s``, ``peer``, ``peer_s``, ``ratio`` (pydock
time over peer time; below 1 means pydock is faster), optionally ``note``.
"""

from __future__ import annotations

import datetime
import importlib
import json
import os
import platform
import sys
from pathlib import Path

MODULES = [
    "bench.unpack",
    "bench.pull",
    "bench.containers",
    "bench.build",
    "bench.stats",
    "bench.network",
    "bench.tui",
]

RESULTS = Path(__file__).with_name("results.json")


def main() -> int:
    report: list[dict] = []
    # BENCH_ONLY=network,containers runs a subset (bench.<name>).
    only = [f"bench.{n.strip()}" for n in os.environ.get("BENCH_ONLY", "").split(",") if n.strip()]
    for name in only or MODULES:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            importlib.import_module(name).run(report)
        except Exception as err:  # noqa: BLE001 - one broken bench must not hide the rest
            report.append({"name": name, "pydock_s": None, "peer": "", "peer_s": None,
                           "ratio": None, "note": f"failed: {type(err).__name__}: {err}"})
    _print_table(report)
    RESULTS.write_text(
        json.dumps(
            {
                "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                "python": platform.python_version(),
                "kernel": platform.release(),
                "machine": platform.machine(),
                "cpus": os.cpu_count(),
                "results": report,
            },
            indent=1,
        )
        + "\n"
    )
    return 0


def _print_table(report: list[dict]) -> None:
    header = ("benchmark", "pydock s", "peer", "peer s", "ratio")
    rows = [
        (
            r["name"],
            _num(r.get("pydock_s")),
            r.get("peer", ""),
            _num(r.get("peer_s")) if r.get("peer_s") is not None else r.get("note", "-"),
            _num(r.get("ratio")),
        )
        for r in report
    ]
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)))


def _num(value: object) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    sys.exit(main())
