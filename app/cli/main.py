"""``pydock``: docker's verbs and flags over the in-process engine.

Each resource module registers its subcommands on the parser; a handler takes
``(engine, args)`` and returns an exit code. Errors from the engine become one
line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from engine import Engine, EngineConfig, EngineError, require_root
from engine.config import default_root

from . import container_tools, containers, images, system
from . import registry as registry_cli

EXIT_ERROR = 1


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # docker: "pydock: 'x' is not a pydock command." style, exit 125 for bad usage
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(125)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="pydock", description="A daemonless, docker-compatible container engine.")
    p.add_argument("--root", type=Path, default=None,
                   help="state directory (default: $PYDOCK_ROOT or /var/lib/pydock)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    images.register(sub)
    containers.register(sub)
    container_tools.register(sub)
    system.register(sub)
    registry_cli.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
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
    sys.exit(main())

