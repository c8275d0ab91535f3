"""``pydock-tui [--root PATH]``: check for root, open the engine, run the app."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from engine import Engine, EngineConfig, EngineError, require_root
from engine.config import default_root


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pydock-tui",
                                description="Terminal UI for the pydock container engine.")
    p.add_argument("--root", type=Path, default=None,
                   help="state directory (default: $PYDOCK_ROOT or /var/lib/pydock)")
    return p


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        # Before anything heavy: a non-root user gets one line, not a half-drawn screen.
        require_root()
        engine = Engine(EngineConfig(root=args.root or default_root()))
    except EngineError as err:
        sys.stderr.write(f"Error: {err}\n")
        raise SystemExit(1) from None
    # Textual is imported only now, once we know the app can run.
    from .app import make_app

    make_app(engine).run()


if __name__ == "__main__":
    main()
