"""The docker-compatible ``pydock`` command line (entry point: :func:`app.cli.main.main`)."""

__all__: list[str] = []
