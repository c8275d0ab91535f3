"""``RUN --mount=…``: parsed into plain data before anything runs.

Supported, as BuildKit documents them:

- ``type=bind`` (the default): ``target``, ``source`` (default the root of
  ``from``), ``from`` (a stage or image; the build context by default),
  read-only unless ``rw`` (writes are then discarded after the step);
- ``type=cache``: ``target``, ``id`` (default the target), ``sharing``
  (``shared``, ``private`` or ``locked``), ``mode``/``uid``/``gid`` for a new
  directory, ``ro``; the directory persists between builds under
  ``<root>/build-cache/mounts`` until ``pydock builder prune``;
- ``type=tmpfs``: ``target``, ``size`` (bytes, or with a k/m/g suffix).

``secret`` and ``ssh`` mounts are refused with a clear message.
"""

from __future__ import annotations

import posixpath

from ..errors import InvalidArgument
from ..record import dataclass

_BOOL_KEYS = {"ro": ("readonly", True), "readonly": ("readonly", True),
              "rw": ("readonly", False), "readwrite": ("readonly", False)}
_ALIASES = {"dst": "target", "destination": "target", "src": "source"}


@dataclass(frozen=True)
class MountSpec:
    type: str
    target: str
    source: str = ""
    from_: str = ""
    readonly: bool = True
    id: str = ""
    sharing: str = "shared"
    mode: int = 0o755
    uid: int = 0
    gid: int = 0
    size: int = 0

    def key(self) -> dict[str, object]:
        """What about the mount goes into the step's cache key (not its content)."""
        return {"type": self.type, "target": self.target, "source": self.source,
                "from": self.from_, "ro": self.readonly, "id": self.id,
                "sharing": self.sharing, "size": self.size}


def _size(text: str) -> int:
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    t = text.strip().lower().removesuffix("b")
    mult = units.get(t[-1:], 1)
    digits = t[:-1] if t[-1:] in units else t
    if not digits.isdigit():
        raise InvalidArgument(f"invalid tmpfs size {text!r}")
    return int(digits) * mult


def parse_mount(text: str, workdir: str = "/") -> MountSpec:
    """One ``--mount`` value (comma-separated ``key=value``, CSV quoting allowed)."""
    import csv  # here: only RUN --mount parses CSV (~1 ms to import)

    try:
        fields = next(csv.reader([text]))
    except (csv.Error, StopIteration) as err:
        raise InvalidArgument(f"invalid --mount {text!r}: {err}") from err
    opts: dict[str, str] = {}
    flags: dict[str, bool] = {}
    for field in fields:
        key, eq, value = field.partition("=")
        key = _ALIASES.get(key.strip().lower(), key.strip().lower())
        if key in _BOOL_KEYS:
            name, default = _BOOL_KEYS[key]
            if eq and value.lower() not in ("true", "false", "1", "0"):
                raise InvalidArgument(f"invalid --mount {text!r}: {key}={value}")
            on = value.lower() in ("true", "1") if eq else True
            flags[name] = default if on else not default
            continue
        if not eq:
            raise InvalidArgument(f"invalid --mount {text!r}: {field!r} is not key=value")
        opts[key] = value
    kind = opts.pop("type", "bind")
    if kind in ("secret", "ssh"):
        raise InvalidArgument(f"RUN --mount=type={kind} is not supported yet")
    if kind not in ("bind", "cache", "tmpfs"):
        raise InvalidArgument(f"unknown mount type {kind!r} (bind, cache or tmpfs)")
    target = opts.pop("target", "")
    if not target:
        raise InvalidArgument(f"invalid --mount {text!r}: target is required")
    target = posixpath.normpath(posixpath.join(workdir, target))
    spec = {"type": kind, "target": target, "readonly": flags.get("readonly", kind == "bind")}
    for key in ("source", "from", "id", "sharing"):
        if key in opts:
            spec["from_" if key == "from" else key] = opts.pop(key)
    for key in ("mode",):
        if key in opts:
            try:
                spec[key] = int(opts.pop(key), 8)
            except ValueError as err:
                raise InvalidArgument(f"invalid --mount {text!r}: mode must be octal") from err
    for key in ("uid", "gid"):
        if key in opts:
            value = opts.pop(key)
            if not value.isdigit():
                raise InvalidArgument(f"invalid --mount {text!r}: {key} must be a number")
            spec[key] = int(value)
    if "size" in opts:
        spec["size"] = _size(opts.pop("size"))
    if opts:
        raise InvalidArgument(f"invalid --mount {text!r}: unknown option "
                              f"{sorted(opts)[0]!r} for type={kind}")
    m = MountSpec(**spec)  # type: ignore[arg-type]
    if m.sharing not in ("shared", "private", "locked"):
        raise InvalidArgument(f"invalid --mount {text!r}: sharing must be shared, private "
                              "or locked")
    if kind == "cache" and m.from_:
        raise InvalidArgument("RUN --mount=type=cache,from=… is not supported yet")
    if kind == "cache" and not m.id:
        m = MountSpec(**{**m.__dict__, "id": m.target})
    return m
