"""The CLI builds only the parser a command needs, and the table saying which is exact."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_command_table_matches_what_modules_register() -> None:
    registered: dict[str, str] = {}
    for name in main.MODULES:
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(f"app.cli.{name}").register(sub)
        for command in sub.choices:
            assert command not in registered, f"{command} registered twice"
            registered[command] = name
    assert registered == main.COMMANDS


@pytest.mark.parametrize(("argv", "modules"), [
    (["run", "--rm", "busybox", "true"], ("containers",)),
    (["--root", "/x", "ps", "-a"], ("containers",)),
    (["--root=/x", "exec", "c", "sh"], ("container_tools",)),
    (["image", "ls"], ("images",)),
    ([], main.MODULES),
    (["--help"], main.MODULES),
    (["--root", "/x"], main.MODULES),
    (["no-such-command"], main.MODULES),
])
def test_modules_for(argv: list[str], modules: tuple[str, ...]) -> None:
    assert main.modules_for(argv) == modules


def test_partial_parser_parses_like_the_full_one() -> None:
    argv = ["--root", "/r", "run", "--rm", "--network", "none", "-e", "A=1", "busybox", "true"]
    part = vars(main.build_parser(main.modules_for(argv)).parse_args(argv))
    full = vars(main.build_parser().parse_args(argv))
    assert part.keys() == full.keys()
    assert {k: v for k, v in part.items() if k != "handler"} == \
        {k: v for k, v in full.items() if k != "handler"}


def _helps(parser: argparse.ArgumentParser, path: str = "") -> dict[str, str]:
    """Every (sub)parser's help text under ``parser``, by command path."""
    out = {path: parser.format_help()}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                out.update(_helps(child, f"{path} {name}"))
    return out


@pytest.mark.parametrize("command", sorted(main.COMMANDS))
def test_one_command_parser_matches_the_full_one(command: str) -> None:
    # Only the named command's parser is built, and it is built exactly as in the full one.
    full = {k: v for k, v in _helps(main.build_parser()).items()
            if k == f" {command}" or k.startswith(f" {command} ")}
    one = _helps(main.build_parser((main.COMMANDS[command],), command))
    del one[""]  # the top level lists one command only; it is printed for no command
    assert one == full


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main.main(["--help"])
    out = capsys.readouterr().out
    assert all(f" {command} " in out or f" {command}\n" in out for command in main.COMMANDS)


def test_run_and_ps_paths_stay_lean() -> None:
    # What `pydock run --network none` and `pydock ps` import, beyond main itself.
    code = ("import sys\n"
            "from app.cli.main import build_parser, modules_for\n"
            "build_parser(modules_for(['run']))\n"
            "import engine.api, engine.runtime.lifecycle, engine.runtime.create\n"
            "import engine.runtime.zygote, engine.runtime.views\n"
            "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('textual', 'rich', 'pyroute2', 'httpx', 'pyseccomp'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == ""


def test_monitor_zygote_preloads_no_heavy_modules() -> None:
    # Forked monitors share the zygote's pages: what it imports every monitor carries.
    code = ("import sys, engine.runtime.zygote_server\n"
            "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('textual', 'rich', 'pyroute2', 'httpx', 'pyseccomp', 'app'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("columns", [None, "50", "200", "0", "-3", "wide"])
def test_terminal_width_is_found_as_shutil_finds_it(monkeypatch: pytest.MonkeyPatch,
                                                    columns: str | None) -> None:
    import shutil

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert main._terminal_columns() == shutil.get_terminal_size().columns


def test_help_is_wrapped_as_argparse_wraps_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def helps(columns: str) -> dict[str, str]:
        monkeypatch.setenv("COLUMNS", columns)
        if main._Formatter is not argparse.HelpFormatter:
            monkeypatch.setattr(main._Formatter, "columns", None)  # found once per process
        return _helps(main.build_parser((main.COMMANDS["run"],), "run"))

    ours = helps("40"), helps("120")
    monkeypatch.setattr(main, "_Formatter", argparse.HelpFormatter)
    assert ours == (helps("40"), helps("120"))
    assert ours[0] != ours[1]
