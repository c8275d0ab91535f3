"""``FirstRunHint``: what to do when a root has no images yet.

An empty table tells a new user nothing; this names the commands that bring an
image in: pull, build, import or load.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


def hint_text(cli: str = "pydock") -> Content:
    """The hint as styled content; ``cli`` is the command prefix (``pydock --root X``)."""
    return Content.assemble(
        ("No images yet\n\n", "bold"),
        "Bring an image into this root from another terminal:\n\n",
        "  Pull one from a registry           ",
        (f"{cli} pull busybox:latest\n", "bold $accent"),
        "  Build one from a Dockerfile        ",
        (f"{cli} build -t myapp .\n", "bold $accent"),
        "  Import a root filesystem tarball   ",
        (f"{cli} import rootfs.tar busybox:latest\n", "bold $accent"),
        "  Load a docker save / OCI archive   ",
        (f"{cli} load -i image.tar\n\n", "bold $accent"),
        ("  A rootfs tarball can come from any machine with docker:\n", "dim"),
        ("    docker export $(docker create busybox) > rootfs.tar\n\n", "dim"),
        "New images show up here by themselves.",
    )


class FirstRunHint(Static):
    """Shown in place of the image table while the root has no images."""

    DEFAULT_CSS = """
    FirstRunHint {
        width: 1fr;
        height: auto;
        margin: 1 2;
        padding: 1 2;
        border: round $primary;
        background: $boost;
    }
    """

    def __init__(self, cli: str = "pydock", *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(hint_text(cli), id=id)
