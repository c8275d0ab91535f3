"""``pydock``: docker's verbs and flags over the in-process engine.

Each resource module registers its subcommands on the parser; a handler takes
``(engine, args)`` and returns an exit code. Errors from the engine become one
line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import import_module
from pathlib import Path
from typing import Any

EXIT_ERROR = 1
# The modules that register commands, in help order. A command line names one
# command, so it imports and builds that command's module only (all of them
# cost ~100 ms of imports and argparse); help, typos and anything not in
# COMMANDS get the full parser. tests/unit/test_cli_lazy.py keeps COMMANDS exact.
MODULES = ("images", "containers", "container_tools", "system", "resources", "registry",
           "build", "volumes", "networks")
COMMANDS = {
    **dict.fromkeys(("images", "image", "inspect", "history", "tag", "rmi", "import", "load",
                     "save"), "images"),
    **dict.fromkeys(("run", "create", "start", "stop", "restart", "kill", "pause", "unpause",
                     "rm", "rename", "wait", "logs", "attach", "ps", "container"), "containers"),
    **dict.fromkeys(("exec", "top", "diff", "cp", "export", "commit"), "container_tools"),
    **dict.fromkeys(("events", "version", "info"), "system"),
    **dict.fromkeys(("stats", "update"), "resources"),
    **dict.fromkeys(("pull", "push", "login", "logout"), "registry"),
    **dict.fromkeys(("build", "builder"), "build"),
    **dict.fromkeys(("volume", "system"), "volumes"),
    **dict.fromkeys(("network", "port"), "networks"),
}


class _Formatter(argparse.HelpFormatter):
    """argparse's own, minus ``import shutil`` for the width (bz2 and lzma with it: ~2.5 ms)
    at the first argument of every command; the width is found the way shutil finds it,
    once per process: argparse makes a formatter for every argument it adds (to check
    its metavar), ~70 for ``run``."""

    columns: int | None = None

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        if width is None:
            if _Formatter.columns is None:
                _Formatter.columns = _terminal_columns()
            width = _Formatter.columns - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def _terminal_columns() -> int:
    # shutil.get_terminal_size().columns: $COLUMNS, else stdout's terminal, else 80
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80



class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        # docker: "pydock: 'x' is not a pydock command." style, exit 125 for bad usage
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(125)


class _Version(argparse.Action):
    """docker's ``-v``/``--version``: the ``version`` command's line, then exit."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        from .system import version_line

        print(version_line())
        parser.exit()


class _Skipped:
    """Stands in for the parser of a command not asked for: building it is a no-op.

    A module registers all its verbs; argparse costs ~0.1 ms per argument, and
    ``run`` alone has ~70, so only the verb on the command line is really built.
    """

    def _noop(self, *args: Any, **kwargs: Any) -> _Skipped:
        return self

    add_argument = set_defaults = add_subparsers = add_parser = _noop
    add_argument_group = add_mutually_exclusive_group = _noop


class _OneCommand:
    """The top-level subparsers action, narrowed to ``command``."""

    def __init__(self, sub: Any, command: str) -> None:
        self._sub, self._command = sub, command

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        if name == self._command or self._command in kwargs.get("aliases", ()):
            return self._sub.add_parser(name, **kwargs)
        return _Skipped()


def build_parser(modules: Sequence[str] = MODULES, command: str | None = None
                 ) -> argparse.ArgumentParser:
    """The parser for ``modules``; with ``command``, only that command's subparser is built
    (its module must be in ``modules``)."""
    p = _Parser(prog="pydock", description="A daemonless, docker-compatible container engine.")
    p.add_argument("--root", type=Path, default=None,
                   help="state directory (default: $PYDOCK_ROOT or /var/lib/pydock)")
    p.add_argument("-v", "--version", action=_Version, help="print version information and quit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    target = sub if command is None else _OneCommand(sub, command)
    for name in modules:
        import_module(f"{__package__}.{name}").register(target)
    return p


# docker's management form: `container rm x` is `rm x`, `container ls` is `ps`.
CONTAINER_VERBS = {
    **dict.fromkeys(("run", "create", "start", "stop", "restart", "kill", "pause", "unpause",
                     "rm", "rename", "wait", "logs", "attach", "ps", "exec", "top", "diff",
                     "cp", "export", "commit", "stats", "update", "port")),
    "ls": "ps", "list": "ps", "inspect": "inspect",
}


def _management(argv: list[str]) -> list[str]:
    """``container VERB ...`` rewritten as the top-level verb (``prune`` stays the group's)."""
    i = 0
    while i < len(argv) and argv[i] != "container":
        if not argv[i].startswith("--root"):
            return argv
        i += 1 if "=" in argv[i] else 2
    if i + 1 >= len(argv) or argv[i + 1] not in CONTAINER_VERBS:
        return argv
    verb = CONTAINER_VERBS[argv[i + 1]] or argv[i + 1]
    extra = ["--type", "container"] if verb == "inspect" else []
    return [*argv[:i], verb, *extra, *argv[i + 2:]]


def command_of(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names, or None (no command, an option first, a typo)."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--root":
            i += 2
        elif arg.startswith("--root="):
            i += 1
        elif arg.startswith("-"):
            return None  # -h, --help or an unknown option: the full parser answers
        else:
            return arg if arg in COMMANDS else None
    return None


def modules_for(argv: Sequence[str]) -> tuple[str, ...]:
    """The modules ``argv`` needs: its command's, or all (no command, an option first, typo)."""
    command = command_of(argv)
    return MODULES if command is None else (COMMANDS[command],)


def main(argv: Sequence[str] | None = None) -> int:
    argv = _management(sys.argv[1:] if argv is None else list(argv))
    command = command_of(argv)
    parser = (build_parser() if command is None
              else build_parser((COMMANDS[command],), command))
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        build_parser().print_help()  # every command, whichever modules answered
        return 0
    from engine import Engine, EngineConfig, EngineError, require_root
    from engine.config import default_root

    try:
        require_root()
        engine = Engine(EngineConfig(root=args.root or default_root()))
        code = handler(engine, args)
    except EngineError as err:
        sys.stderr.write(f"Error: {err}\n")
        return getattr(args, "error_exit", EXIT_ERROR)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    return int(code or 0)


def run() -> None:
    """The ``pydock`` command: :func:`main`, then a quick exit when nothing is left to do."""
    code = main()
    if _nothing_left_at_exit():
        # The interpreter's teardown (module dicts, collector passes) costs ~7 ms
        # and only frees memory the kernel reclaims anyway; skip it when no exit
        # handler is registered and no other thread runs. Output first.
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass  # a closed pipe (`pydock ps | head`): nothing more to say
        os._exit(code)
    sys.exit(code)


def _nothing_left_at_exit() -> bool:
    import atexit

    threading = sys.modules.get("threading")
    if threading is not None and any(not t.daemon and t is not threading.main_thread()
                                     for t in threading.enumerate()):
        return False
    return atexit._ncallbacks() == 0  # weakref.finalize, logging and the like register

