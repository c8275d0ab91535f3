"""The docker-compatible ``pydock`` command line (entry point: :func:`app.cli.main.main`)."""

# Before any module of the package imports argparse: see argparse_lean.
from . import argparse_lean  # noqa: F401

__all__: list[str] = []
