"""HEALTHCHECK configuration: the ``--health-*`` flags over the image's, and the probe plan.

``merge`` runs at create time and yields the record's ``Config.Healthcheck`` in
docker's shape (durations in nanoseconds, zero fields omitted). ``probe`` turns
that into what the monitor runs, with docker's defaults. Pure and standard
library only: the monitor imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgument
from ..record import dataclass

if TYPE_CHECKING:
    from ..types import CreateOptions

SECOND = 1_000_000_000
MIN_DURATION = 1_000_000  # docker refuses non-zero durations under 1 ms
DEFAULT_INTERVAL = 30 * SECOND
DEFAULT_TIMEOUT = 30 * SECOND
DEFAULT_START_INTERVAL = 5 * SECOND
DEFAULT_RETRIES = 3
MAX_LOG = 5  # results kept in State.Health.Log
MAX_OUTPUT = 4096  # bytes of probe output kept per result

# (CreateOptions attribute, flag, Healthcheck key)
_DURATIONS = (("health_interval", "interval", "Interval"),
              ("health_timeout", "timeout", "Timeout"),
              ("health_start_period", "start-period", "StartPeriod"),
              ("health_start_interval", "start-interval", "StartInterval"))


def merge(opts: CreateOptions, image: dict[str, Any] | None) -> dict[str, Any] | None:
    """The container's Healthcheck: flags win field by field over the image's (moby's merge)."""
    flagged = opts.health_cmd is not None or opts.health_retries != 0 or any(
        getattr(opts, attr) for attr, _f, _k in _DURATIONS)
    if opts.no_healthcheck:
        if flagged:
            raise InvalidArgument("--no-healthcheck conflicts with --health-* options")
        return {"Test": ["NONE"]}
    user: dict[str, Any] = {}
    for attr, flag, key in _DURATIONS:
        value = int(getattr(opts, attr))
        if value < 0:
            raise InvalidArgument(f"--health-{flag} cannot be negative")
        if 0 < value < MIN_DURATION:
            raise InvalidArgument(f"{key} in Healthcheck cannot be less than 1ms")
        if value:
            user[key] = value
    if opts.health_retries < 0:
        raise InvalidArgument("--health-retries cannot be negative")
    if opts.health_retries:
        user["Retries"] = opts.health_retries
    if opts.health_cmd is not None:
        user["Test"] = ["CMD-SHELL", opts.health_cmd]
    if not flagged:
        return dict(image) if image else None
    merged = {k: v for k, v in (image or {}).items() if v}
    merged.update(user)
    return merged


@dataclass(frozen=True)
class Probe:
    """What the monitor runs, every ``interval`` ns, each run limited to ``timeout`` ns."""

    args: tuple[str, ...]
    interval: int
    timeout: int
    start_period: int
    start_interval: int
    retries: int


def probe(hc: dict[str, Any] | None) -> Probe | None:
    """The probe for a record's Healthcheck; None when there is none or it is ``NONE``."""
    test = list((hc or {}).get("Test") or [])
    if not test or test[0] == "NONE":
        return None
    kind, rest = test[0], test[1:]
    if kind == "CMD-SHELL":
        args: tuple[str, ...] = ("/bin/sh", "-c", " ".join(rest))
    elif kind == "CMD":
        args = tuple(rest)
    else:
        return None  # "" inherits (resolved at create); anything else is not a probe
    if not args:
        return None
    assert hc is not None

    def get(key: str, default: int) -> int:
        return int(hc.get(key) or 0) or default

    return Probe(args=args, interval=get("Interval", DEFAULT_INTERVAL),
                 timeout=get("Timeout", DEFAULT_TIMEOUT), start_period=get("StartPeriod", 0),
                 start_interval=get("StartInterval", DEFAULT_START_INTERVAL),
                 retries=get("Retries", DEFAULT_RETRIES))


def go_duration(ns: int) -> str:
    """Go's ``time.Duration.String`` for the timeout message: ``30s``, ``1.5s``, ``1m30s``."""
    if ns < SECOND:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= size or unit == "ns":
                return f"{_trim(ns / size)}{unit}"
    h, rem = divmod(ns, 3600 * SECOND)
    m, rem = divmod(rem, 60 * SECOND)
    out = f"{h}h" if h else ""
    out += f"{m}m" if h or m else ""
    return out + f"{_trim(rem / SECOND)}s"


def _trim(value: float) -> str:
    return f"{value:.9f}".rstrip("0").rstrip(".")
