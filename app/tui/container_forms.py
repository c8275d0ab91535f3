"""The Run and Update dialogs' text fields turned into the engine's options. Pure.

Every value goes through the parser the engine itself (and so the CLI) uses:
``engine.runtime.resources`` for sizes and CPUs, ``engine.network.ports`` for
``-p``, ``engine.volumes.mounts`` for ``-v``, ``engine.runtime.options`` for
names, env and restart policies. A value the CLI rejects is rejected here with
the same words, and each error is keyed by its field so the dialog can show it
next to that field. Nothing here touches the disk or the engine's state.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from functools import partial
from typing import Any, TypeVar

from engine.errors import EngineError
from engine.types import CreateOptions, UpdateOptions

T = TypeVar("T")

RESTART_POLICIES = ("no", "on-failure", "always", "unless-stopped")
BUILTIN_NETWORKS = ("none", "host")
FORM = ""  # the key of an error about the whole form, not one field


class FormError(Exception):
    """One message per bad field (``FORM`` for the form as a whole)."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = dict(errors)


class _Checker:
    """Collects every field's error, so the user sees all of them at once."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def __call__(self, field: str, parse: Callable[[], T]) -> T | None:
        try:
            return parse()
        except (EngineError, ValueError) as err:
            self.errors.setdefault(field, str(err))
            return None

    def done(self) -> None:
        if self.errors:
            raise FormError(self.errors)


def split_list(text: str, *, commas: bool = True) -> list[str]:
    """Items separated by spaces or newlines (and commas, unless they mean something)."""
    if commas:
        text = text.replace(",", " ")
    return text.split()


# -- run -------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunForm:
    """The Run dialog's fields as typed (``env``: one ``KEY=VALUE`` per line)."""

    image: str = ""
    name: str = ""
    command: str = ""
    ports: str = ""
    volumes: str = ""
    env: str = ""
    network: str = "none"
    restart: str = "no"
    memory: str = ""
    cpus: str = ""


def run_options(form: RunForm) -> CreateOptions:
    """``docker run -d`` options from the form; :class:`FormError` lists every bad field."""
    from engine.network.ports import parse_publish
    from engine.runtime.options import check_name, parse_env, parse_restart
    from engine.runtime.resources import parse_bytes, parse_cpus
    from engine.volumes.mounts import parse_volume

    check = _Checker()
    image = form.image.strip()
    if not image:
        check.errors["image"] = "Name the image to run (repository:tag or ID)"
    name = form.name.strip()
    if name:
        check("name", partial(check_name, name))
    command = check("command", partial(shlex.split, form.command)) or []
    # Ports may be comma separated; volumes not: a comma separates a volume's options.
    ports = split_list(form.ports)
    for spec in ports:
        check("ports", partial(parse_publish, spec))
    volumes = split_list(form.volumes, commas=False)
    for spec in volumes:
        check("volumes", partial(parse_volume, spec))
    env = [line.strip() for line in form.env.splitlines() if line.strip()]
    check("env", partial(parse_env, tuple(env), []))
    check("restart", partial(parse_restart, form.restart))
    memory = nano_cpus = 0
    if form.memory.strip():
        memory = check("memory", partial(parse_bytes, form.memory, "--memory")) or 0
    if form.cpus.strip():
        nano_cpus = check("cpus", partial(parse_cpus, form.cpus.strip())) or 0
    check.done()
    return CreateOptions(
        image=image, command=tuple(command), name=name or None, env=tuple(env),
        restart=form.restart, network=form.network or "none", publish=tuple(ports),
        volumes=tuple(volumes), memory=memory, nano_cpus=nano_cpus)


def field_of(err: EngineError) -> str:
    """Which field an error from ``containers_create`` is about, when that is certain."""
    from engine.errors import ImageNotFound

    return "image" if isinstance(err, ImageNotFound) else FORM


# -- update ----------------------------------------------------------------------------
@dataclass(frozen=True)
class LimitsForm:
    """The Update dialog's fields, as the CLI's ``update`` flags spell the values."""

    memory: str = ""
    memory_swap: str = ""
    cpus: str = ""
    pids_limit: str = ""


def size_text(n: int) -> str:
    """Bytes as the shortest size ``--memory`` reads back exactly: ``64m``, ``1g``."""
    for suffix, shift in (("g", 30), ("m", 20), ("k", 10)):
        if n and n % (1 << shift) == 0:
            return f"{n >> shift}{suffix}"
    return str(n)


def limits_form(host_config: Mapping[str, Any]) -> LimitsForm:
    """The current limits from ``inspect``'s ``HostConfig``; empty where none is set."""
    memory = int(host_config.get("Memory") or 0)
    swap = int(host_config.get("MemorySwap") or 0)
    nano = int(host_config.get("NanoCpus") or 0)
    pids = int(host_config.get("PidsLimit") or 0)
    return LimitsForm(
        memory=size_text(memory) if memory > 0 else "",
        memory_swap="-1" if swap < 0 else size_text(swap) if swap else "",
        cpus=f"{nano / 1e9:g}" if nano else "",
        pids_limit=str(pids) if pids else "")


def _pids(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f'invalid argument "{text}" for "--pids-limit" flag: '
                         "not a whole number (-1 for unlimited)") from None


def update_options(new: LimitsForm, old: LimitsForm) -> UpdateOptions | None:
    """``docker update`` options for the fields the user changed; ``None`` if none was.

    An untouched field is not sent, so a value the engine derived (the default
    swap of twice the memory) is not pinned by accident.
    """
    from engine.runtime.resources import parse_bytes, parse_cpus, parse_swap

    parsers: dict[str, Callable[[str], Any]] = {
        "memory": lambda v: ("memory", parse_bytes(v, "--memory")),
        "memory_swap": lambda v: ("memory_swap", parse_swap(v, "--memory-swap")),
        "cpus": lambda v: ("nano_cpus", parse_cpus(v)),
        "pids_limit": lambda v: ("pids_limit", _pids(v)),
    }
    check = _Checker()
    values: dict[str, Any] = {}
    for f in fields(LimitsForm):
        text = getattr(new, f.name).strip()
        if text == getattr(old, f.name).strip():
            continue
        if not text:
            check.errors[f.name] = "A limit cannot be removed here; give a new value"
            continue
        parsed = check(f.name, partial(parsers[f.name], text))
        if parsed is not None:
            key, value = parsed
            values[key] = value
    check.done()
    return UpdateOptions(**values) if values else None
