"""The user's settings for pydock-tui: one small TOML file.

Where it is, first match wins: ``pydock-tui --config PATH``, ``$PYDOCK_TUI_CONFIG``,
``$XDG_CONFIG_HOME/pydock/tui.toml``, ``~/.config/pydock/tui.toml``. A missing file
means defaults. Example::

    theme = "nord"              # written back when you pick a theme (ctrl+t)
    shells = ["bash", "ash", "sh"]  # what `e` tries in a container, in order
    refresh_seconds = 1         # how often the lists refresh (default: 2)

    [keymap]                    # binding id -> keys (comma-separated or a list)
    "containers.stop_start" = "S"
    "containers.kill" = ["ctrl+k", "K"]

A file that does not parse, or a value of the wrong type, never stops the app: the
problem becomes one notification line (:attr:`Settings.problems`) and the default is
used. Binding ids are those in the ``BINDINGS`` of the app's screens and widgets
(``pydock-tui --keys`` lists them; ``?`` shows the current view's keys); ids nobody
declares are reported by :func:`unknown_ids`. A keymap entry replaces every key of
that binding; a key another binding of the same view had is taken from it (the app
says so once).
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import re
import tempfile
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

ENV_VAR = "PYDOCK_TUI_CONFIG"
DEFAULT_SHELLS = ("bash", "sh")
# Below this, the refresh would mostly measure itself (and burn a core on 200 rows).
MIN_REFRESH = 0.2
# Where the app's screens and widgets live: their BINDINGS define the valid ids.
BINDING_PACKAGES = ("app.tui", "widgets")


class SettingsError(Exception):
    """The settings file cannot be written (or read back) safely."""


@dataclass(frozen=True)
class Settings:
    """What the file says, already checked; ``path`` is where the theme is saved."""

    path: Path | None = None
    keymap: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    theme: str | None = None
    shells: tuple[str, ...] = DEFAULT_SHELLS
    refresh_seconds: float | None = None  # None: each panel's own default
    problems: tuple[str, ...] = ()  # one line each, for notifications


def config_path(explicit: Path | None = None) -> Path:
    """The settings file to use (it need not exist)."""
    if explicit is not None:
        return explicit
    if env := os.environ.get(ENV_VAR):
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "pydock" / "tui.toml"


def load_settings(explicit: Path | None = None) -> Settings:
    """Read the settings file; never raises for a bad file (see :attr:`Settings.problems`)."""
    path = config_path(explicit)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings(path=path)
    except (OSError, UnicodeDecodeError) as err:
        return Settings(path=path, problems=(f"Cannot read {path}: {err}; using defaults",))
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        return Settings(path=path, problems=(f"Cannot parse {path}: {err}; using defaults",))
    return parse_settings(data, path)


def parse_settings(data: Mapping[str, Any], path: Path | None = None) -> Settings:
    """Check each known key's type; a wrong one is a problem line and its default."""
    problems: list[str] = []
    where = str(path) if path else "settings"

    def bad(key: str, want: str) -> None:
        problems.append(f"{where}: {key} must be {want}; using the default")

    keymap: dict[str, str] = {}
    raw_keymap = data.get("keymap", {})
    if not isinstance(raw_keymap, dict):
        bad("[keymap]", "a table of binding id = keys")
        raw_keymap = {}
    for binding_id, keys in raw_keymap.items():
        if isinstance(keys, list) and keys and all(isinstance(k, str) and k for k in keys):
            keys = ",".join(keys)
        if not isinstance(keys, str) or not keys.strip():
            bad(f"keymap.{binding_id}", 'a key such as "S" or a list of keys')
            continue
        keymap[binding_id] = ",".join(k.strip() for k in keys.split(","))

    theme = data.get("theme")
    if theme is not None and not (isinstance(theme, str) and theme):
        bad("theme", "a theme name")
        theme = None

    shells = DEFAULT_SHELLS
    raw_shells = data.get("shells")
    if raw_shells is not None:
        if isinstance(raw_shells, list) and raw_shells and all(
                isinstance(s, str) and s.strip() for s in raw_shells):
            shells = tuple(s.strip() for s in raw_shells)
        else:
            bad("shells", 'a list of shells such as ["bash", "sh"]')

    refresh: float | None = None
    raw_refresh = data.get("refresh_seconds")
    if raw_refresh is not None:
        if isinstance(raw_refresh, int | float) and not isinstance(raw_refresh, bool) \
                and raw_refresh >= MIN_REFRESH:
            refresh = float(raw_refresh)
        else:
            bad("refresh_seconds", f"a number of seconds, at least {MIN_REFRESH}")

    unknown = sorted(set(data) - {"keymap", "theme", "shells", "refresh_seconds"})
    if unknown:
        problems.append(f"{where}: unknown setting {', '.join(unknown)} (ignored)")
    return Settings(path=path, keymap=MappingProxyType(keymap), theme=theme, shells=shells,
                    refresh_seconds=refresh, problems=tuple(problems))


# -- binding ids -------------------------------------------------------------------------
def _subclasses(cls: type) -> Iterator[type]:
    sub: type
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def declared_bindings() -> dict[str, Any]:
    """Binding id -> the :class:`~textual.binding.Binding` the app's code declares.

    Imports every module of the app (panels are otherwise imported lazily), so call it
    from a thread worker, not at start-up on the event loop.
    """
    from textual.binding import Binding
    from textual.dom import DOMNode

    for package_name in BINDING_PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.walk_packages(package.__path__, f"{package_name}."):
            try:
                importlib.import_module(info.name)
            except (ImportError, SyntaxError):
                continue  # one broken or missing panel must not hide the others' ids
    found: dict[str, Any] = {}
    for cls in (DOMNode, *_subclasses(DOMNode)):
        if not cls.__module__.startswith(BINDING_PACKAGES):
            continue
        for item in vars(cls).get("BINDINGS", ()):
            if isinstance(item, Binding) and item.id:
                found.setdefault(item.id, item)
    return dict(sorted(found.items()))


def known_binding_ids() -> set[str]:
    """Every binding id the app's screens and widgets declare (see declared_bindings)."""
    return set(declared_bindings())


def keys_table() -> str:
    """``pydock-tui --keys``: one line per binding id with its default keys."""
    rows = [(bid, b.key, b.description) for bid, b in declared_bindings().items()]
    width = max(len(r[0]) for r in rows)
    keys_width = max(len(r[1]) for r in rows)
    return "\n".join(f"{bid:<{width}}  {key:<{keys_width}}  {desc}".rstrip()
                     for bid, key, desc in rows)


def _view(binding_id: str) -> str:
    # A view's bindings share the id's prefix; ids without one (quit, help) are app-wide.
    return binding_id.split(".", 1)[0] if "." in binding_id else ""


def key_conflicts(keymap: Mapping[str, str], declared: Mapping[str, Any]) -> list[str]:
    """Lines such as ``containers.stop_start = d takes d from containers.remove``.

    Textual lets the remapped binding win and the other one silently loses the key;
    this says so. Two bindings meet when they share a view (the id prefix) or one of
    them is app-wide; a key only a focused widget binds is not checked.
    """
    from textual.keys import _normalize_key_list  # what App.set_keymap applies

    def keys_of(binding_id: str) -> set[str]:
        raw = keymap.get(binding_id) or declared[binding_id].key
        return set(_normalize_key_list(raw).split(","))

    out, seen = [], set()
    for bid in sorted(set(keymap) & set(declared)):
        mine = keys_of(bid)
        for other in declared:
            pair = frozenset((bid, other))
            if other == bid or pair in seen or "" not in (_view(bid), _view(other)) and \
                    _view(bid) != _view(other):
                continue
            if taken := mine & keys_of(other):
                seen.add(pair)
                out.append(f"{bid} = {keymap[bid]} takes {', '.join(sorted(taken))} "
                           f"from {other}")
    return out


def unknown_ids(keymap: Mapping[str, str], known: set[str] | None = None) -> list[str]:
    """The keymap's binding ids that no screen or widget declares, sorted."""
    known = known_binding_ids() if known is None else known
    return sorted(set(keymap) - known)


# -- writing the theme back ----------------------------------------------------------------
_TABLE = re.compile(r"^\s*\[")
_THEME = re.compile(r"^\s*theme\s*=")


def with_theme(text: str, theme: str) -> str:
    """``text`` with its top-level ``theme`` set to ``theme``, every other line kept.

    Top-level keys must come before the first table, so a new line goes at the top.
    """
    line = f"theme = {json.dumps(theme)}"  # a JSON string is a valid TOML basic string
    lines = text.splitlines()
    for i, old in enumerate(lines):
        if _TABLE.match(old):
            break
        if _THEME.match(old):
            lines[i] = line
            return "\n".join(lines) + "\n"
    return "\n".join([line, *lines]) + "\n"


def save_theme(path: Path, theme: str) -> None:
    """Remember ``theme`` in the settings file, atomically, keeping the user's other keys.

    Raises:
        SettingsError: the file does not parse (it is left alone), or cannot be written.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as err:
        raise SettingsError(f"Cannot read {path}: {err}") from err
    try:
        tomllib.loads(text)
        new = with_theme(text, theme)
        if tomllib.loads(new).get("theme") != theme:
            raise SettingsError(f"Cannot update the theme line in {path}")
    except tomllib.TOMLDecodeError as err:
        raise SettingsError(f"Not saving the theme: {path} does not parse: {err}") from err
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(new)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as err:
        raise SettingsError(f"Cannot save the theme to {path}: {err}") from err
