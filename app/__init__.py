"""pydock front ends: the ``pydock`` CLI (:mod:`app.cli`) and the Textual app (:mod:`app.tui`).

Importing this package loads neither; the CLI stays free of Textual.
"""

__all__: list[str] = []
