"""``-v``, ``--mount`` and ``--tmpfs`` as docker parses them, into :class:`MountRequest` data.

Pure: no file system access beyond turning a relative bind source into an
absolute path, so every rule is unit-tested without root.
"""

from __future__ import annotations

import os
import posixpath

from ..errors import InvalidArgument
from ..record import dataclass

PROPAGATIONS = ("shared", "rshared", "slave", "rslave", "private", "rprivate")
_SELINUX = ("z", "Z")
# Accepted for compatibility with docker for Mac; they mean nothing on Linux.
_CONSISTENCY = ("consistent", "cached", "delegated")
TMPFS_FLAGS = {"noexec": "exec", "nosuid": "suid", "nodev": "dev"}
TMPFS_DATA = ("size", "mode", "uid", "gid", "nr_inodes", "nr_blocks")


@dataclass(frozen=True)
class MountRequest:
    """One mount a user asked for (or an image ``VOLUME`` implies).

    Attributes:
        type: ``volume``, ``bind`` or ``tmpfs``.
        source: volume name (``""`` = a new anonymous volume) or absolute host path.
        create_host_path: ``-v`` creates a missing bind source (docker's legacy
            behaviour); ``--mount`` refuses it.
        mode: the ``-v`` mode string as given, shown by ``inspect``.
    """

    type: str
    source: str
    destination: str
    read_only: bool = False
    nocopy: bool = False
    propagation: str = ""
    mode: str = ""
    tmpfs_options: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    create_host_path: bool = False


def _destination(dest: str, spec: str) -> str:
    if not dest.startswith("/"):
        raise InvalidArgument(f"invalid mount config: the destination path '{dest}' "
                              f"must be absolute (in {spec!r})")
    dest = posixpath.normpath(dest)
    if dest == "/":
        raise InvalidArgument(f"invalid specification: destination can't be '/' in {spec!r}")
    return dest


def _is_path(source: str) -> bool:
    return source.startswith(("/", "./", "../")) or source in (".", "..")


def parse_volume(spec: str, cwd: str | None = None) -> MountRequest:
    """``-v [SOURCE:]DEST[:MODE]``: a host path source is a bind, a name a named volume."""
    parts = spec.split(":")
    if len(parts) == 1:
        source, dest, mode = "", parts[0], ""
    elif len(parts) == 2:
        if parts[0].startswith("/") and _is_mode(parts[1]):
            source, dest, mode = "", parts[0], parts[1]  # /dest:ro, an anonymous volume
        else:
            source, dest, mode = parts[0], parts[1], ""
    elif len(parts) == 3:
        source, dest, mode = parts
    else:
        raise InvalidArgument(f"invalid volume specification: '{spec}'")
    if not dest or (len(parts) == 2 and not parts[0]) or (len(parts) == 3 and not source):
        raise InvalidArgument(f"invalid volume specification: '{spec}'")
    dest = _destination(dest, spec)
    opts = [o for o in mode.split(",") if o]
    bad = [o for o in opts if not _is_mode(o)]
    if bad or ("ro" in opts and "rw" in opts):
        raise InvalidArgument(f"invalid mode: {mode} (in {spec!r})")
    propagation = next((o for o in opts if o in PROPAGATIONS), "")
    if source and _is_path(source):
        if "nocopy" in opts:
            raise InvalidArgument(f"invalid mode: nocopy is only for volumes (in {spec!r})")
        path = posixpath.normpath(os.path.join(cwd or os.getcwd(), source))
        return MountRequest("bind", path, dest, read_only="ro" in opts,
                            propagation=propagation or "rprivate", mode=mode,
                            create_host_path=True)
    if propagation:
        raise InvalidArgument(f"invalid mode: propagation is only for bind mounts (in {spec!r})")
    from .store import check_name

    return MountRequest("volume", check_name(source) if source else "", dest,
                        read_only="ro" in opts, nocopy="nocopy" in opts, mode=mode)


def _is_mode(o: str) -> bool:
    return all(x in ("ro", "rw", "nocopy", *PROPAGATIONS, *_SELINUX, *_CONSISTENCY)
               for x in o.split(",") if x)


def _bool(key: str, value: str | None, spec: str) -> bool:
    if value is None or value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise InvalidArgument(f"invalid value for {key}: {value} (in {spec!r})")


def parse_mount(spec: str, cwd: str | None = None) -> MountRequest:
    """``--mount type=volume|bind|tmpfs,source=...,target=...[,readonly][,...]``."""
    import csv  # here: only --mount parses CSV (~0.7 ms to import)

    try:
        fields = next(csv.reader([spec]))
    except (csv.Error, StopIteration) as err:
        raise InvalidArgument(f"invalid mount specification {spec!r}: {err}") from None
    kv: dict[str, str | None] = {}
    labels: list[tuple[str, str]] = []
    for f in fields:
        key, eq, value = f.partition("=")
        key = key.strip().lower()
        if key == "volume-label":
            k, _, v = value.partition("=")
            labels.append((k, v))
            continue
        kv[key] = value if eq else None
    typ = kv.pop("type", None) or "volume"
    if typ not in ("volume", "bind", "tmpfs"):
        raise InvalidArgument(f"invalid mount type {typ!r}: volume, bind or tmpfs")
    source = kv.pop("source", None) or kv.pop("src", None) or ""
    dest = kv.pop("destination", None) or kv.pop("dst", None) or kv.pop("target", None) or ""
    if not dest:
        raise InvalidArgument(f"invalid mount specification {spec!r}: target is required")
    dest = _destination(dest, spec)
    ro = False
    for key in ("readonly", "ro"):
        if key in kv:
            ro = _bool(key, kv.pop(key), spec)
    kv.pop("consistency", None)
    if typ == "bind":
        if not source:
            raise InvalidArgument(f"invalid mount config for type \"bind\": field Source "
                                  f"must not be empty (in {spec!r})")
        prop = kv.pop("bind-propagation", None) or "rprivate"
        if prop not in PROPAGATIONS:
            raise InvalidArgument(f"invalid bind-propagation {prop!r}")
        _no_more(kv, spec, typ)
        path = posixpath.normpath(os.path.join(cwd or os.getcwd(), source))
        return MountRequest("bind", path, dest, read_only=ro, propagation=prop)
    if typ == "tmpfs":
        if source:
            raise InvalidArgument(f"invalid mount config for type \"tmpfs\": source is not "
                                  f"allowed (in {spec!r})")
        opts: list[str] = []
        if (size := kv.pop("tmpfs-size", None)) is not None:
            opts.append(f"size={parse_bytes(size)}")
        if (mode := kv.pop("tmpfs-mode", None)) is not None:
            if not mode or any(c not in "01234567" for c in mode):
                raise InvalidArgument(f"invalid tmpfs-mode {mode!r}: octal digits expected")
            opts.append(f"mode={mode}")
        _no_more(kv, spec, typ)
        return MountRequest("tmpfs", "", dest, read_only=ro,
                            tmpfs_options=tmpfs_options(opts, spec))
    nocopy = _bool("volume-nocopy", kv.pop("volume-nocopy"), spec) if "volume-nocopy" in kv \
        else False
    if kv.pop("volume-driver", "local") not in ("local", None):
        raise InvalidArgument("only the local volume driver is supported")
    _no_more(kv, spec, typ)
    from .store import check_name

    return MountRequest("volume", check_name(source) if source else "", dest, read_only=ro,
                        nocopy=nocopy, labels=tuple(labels))


def _no_more(kv: dict[str, str | None], spec: str, typ: str) -> None:
    if kv:
        raise InvalidArgument(f"unexpected key '{next(iter(kv))}' for mount type {typ} "
                              f"(in {spec!r})")


def parse_tmpfs(spec: str) -> MountRequest:
    """``--tmpfs /path[:opt,opt]`` with mount(8)-style options."""
    dest, _, raw = spec.partition(":")
    dest = _destination(dest, spec)
    opts = [o for o in raw.split(",") if o]
    ro = "ro" in opts
    return MountRequest("tmpfs", "", dest, read_only=ro,
                        tmpfs_options=tmpfs_options([o for o in opts if o not in ("ro", "rw")],
                                                    spec))


def tmpfs_options(opts: list[str], spec: str) -> tuple[str, ...]:
    """docker's defaults (noexec,nosuid,nodev) unless the user says exec/suid/dev."""
    flags = dict.fromkeys(TMPFS_FLAGS, True)
    data: list[str] = []
    for o in opts:
        if o in TMPFS_FLAGS:
            flags[o] = True
        elif o in TMPFS_FLAGS.values():
            flags[next(k for k, v in TMPFS_FLAGS.items() if v == o)] = False
        elif o.partition("=")[0] in TMPFS_DATA and "=" in o:
            k, _, v = o.partition("=")
            data.append(f"size={parse_bytes(v)}" if k == "size" and not v.endswith("%")
                        else o)
        elif o in ("rw", "ro"):
            continue
        else:
            raise InvalidArgument(f"invalid tmpfs option {o!r} (in {spec!r})")
    return tuple([k for k, on in flags.items() if on] + data)


def parse_bytes(value: str) -> int:
    """``64m``, ``1g``, ``4096``: binary units as docker's RAMInBytes."""
    units = {"b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    v = value.strip().lower().removesuffix("b") or "0"
    mult = 1
    if v[-1] in units:
        mult, v = units[v[-1]], v[:-1]
    try:
        n = float(v)
    except ValueError:
        raise InvalidArgument(f"invalid size: {value!r}") from None
    if n < 0:
        raise InvalidArgument(f"invalid size: {value!r}")
    return int(n * mult)


def parse_volumes_from(spec: str) -> tuple[str, str]:
    """``--volumes-from CONTAINER[:ro|:rw]`` → (container, mode or "")."""
    ref, _, mode = spec.partition(":")
    if not ref or mode not in ("", "ro", "rw"):
        raise InvalidArgument(f"invalid --volumes-from {spec!r}: CONTAINER[:ro|rw]")
    return ref, mode
