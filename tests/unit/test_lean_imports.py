"""The CLI's hot paths (run, ps, build) import only what they use.

Each module kept out here cost measurable CPU on every command (``python -X
importtime``): a dataclass ~1 ms to define, hashlib's OpenSSL start ~2 ms, secrets
(hmac, hashlib) ~4 ms, subprocess ~3 ms, ctypes and platform ~2 ms, signal (its
enum) ~0.5 ms, tty and termios ~0.4 ms, gettext ~1.5 ms (argparse's), the stdlib's
dataclasses (with inspect, ast, dis) ~9 ms: engine.record stands in for it; shutil
(with bz2, lzma) ~2.5 ms, tempfile (with shutil, random) ~4 ms, ipaddress ~1.3 ms.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import engine.types
from engine.record import is_dataclass

ROOT = Path(__file__).resolve().parents[2]
TYPE_GROUPS = ("engine.types_containers", "engine.types_create", "engine.types_events",
               "engine.types_images", "engine.types_resources", "engine.types_stats")


def _loaded_after(code: str, names: tuple[str, ...]) -> list[str]:
    probe = code + (f"\nprint(','.join(m for m in {names!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", "import sys\n" + probe], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    return [m for m in out.stdout.strip().split(",") if m]


def test_every_public_type_resolves() -> None:
    for name in engine.types.__all__:
        value = getattr(engine.types, name)
        if name != "human_duration":
            assert isinstance(value, type) and is_dataclass(value), name
            assert value.__name__ == name


def test_unknown_type_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        engine.types.NoSuchType  # noqa: B018


@pytest.mark.parametrize(("name", "group"), [("CreateOptions", "engine.types_create"),
                                             ("ContainerSummary", "engine.types_containers"),
                                             ("EventRecord", "engine.types_events")])
def test_a_type_defines_only_its_group(name: str, group: str) -> None:
    assert _loaded_after(f"from engine.types import {name}", TYPE_GROUPS) == [group]


def test_ps_path_stays_lean(tmp_path: Path) -> None:
    code = ("from app.cli.main import build_parser\n"
            "build_parser(('containers',), 'ps')\n"
            "from engine import Engine, EngineConfig\n"
            f"Engine(EngineConfig(root={str(tmp_path)!r})).containers_list(all=True)\n")
    heavy = ("hashlib", "secrets", "subprocess", "ctypes", "engine.reference",
             "engine.images.store", "engine.cgroups", "engine.network.model",
             "engine.types_create", "engine.types_stats", "engine.types_resources",
             "dataclasses", "inspect", "shutil", "tempfile", "random", "ipaddress")
    assert _loaded_after(code, heavy) == []


def test_run_path_stays_lean() -> None:
    # Everything `run --rm --network none` imports up to attaching (a warm zygote).
    code = ("from app.cli.main import build_parser\n"
            "build_parser(('containers',), 'run')\n"
            "import engine.api, engine.runtime.create, engine.runtime.lifecycle\n"
            "import engine.runtime.zygote, engine.network.attach, app.cli.attach_client\n")
    heavy = ("hashlib", "secrets", "subprocess", "ctypes", "platform", "engine.sys.libc",
             "engine.types_images", "engine.types_resources", "engine.types_stats",
             "dataclasses", "inspect", "shutil", "tempfile", "ipaddress",
             "engine.network.model", "signal", "tty", "termios", "gettext")
    assert _loaded_after(code + "engine.runtime.options.parse_signal('SIGTERM')\n",
                         heavy) == []


def test_signal_names_without_the_signal_module_match_it() -> None:
    import signal

    from engine.errors import InvalidArgument
    from engine.runtime.options import _PORTABLE, parse_signal

    for name, number in _PORTABLE.items():
        assert number == int(getattr(signal, name))
        assert parse_signal(name) == parse_signal(name[3:].lower()) == number
    assert parse_signal("SIGUSR1") == int(signal.SIGUSR1) and parse_signal("9") == 9
    with pytest.raises(InvalidArgument):
        parse_signal("SIGNOPE")


def test_build_parser_path_stays_lean() -> None:
    code = "import engine.build.parser, engine.build.ast\n"
    assert _loaded_after(code, ("difflib", "dataclasses", "inspect")) == []
