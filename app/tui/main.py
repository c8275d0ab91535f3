"""``pydock-tui [--root PATH] [--config PATH]``: check for root, open the engine, run the app."""

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
    p.add_argument("--config", type=Path, default=None, metavar="PATH",
                   help="settings file: keymap, theme, shells, refresh_seconds (default: "
                        "$PYDOCK_TUI_CONFIG or $XDG_CONFIG_HOME/pydock/tui.toml)")
    p.add_argument("--keys", action="store_true",
                   help="list the binding ids the [keymap] table accepts, with their "
                        "default keys, and exit")
    return p


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.keys:
        from .settings import keys_table

        print(keys_table())
        return
    try:
        # Before anything heavy: a non-root user gets one line, not a half-drawn screen.
        require_root()
        engine = Engine(EngineConfig(root=args.root or default_root()))
    except EngineError as err:
        sys.stderr.write(f"Error: {err}\n")
        raise SystemExit(1) from None
    # Textual is imported only now, once we know the app can run.
    from .app import make_app
    from .settings import load_settings

    # A bad file is reported inside the app (a notification), never a failed start.
    make_app(engine, settings=load_settings(args.config), freeze_gc=True).run()


if __name__ == "__main__":
    main()
