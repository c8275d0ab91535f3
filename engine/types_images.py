"""Images: list, history, import, load and the unpacking of layers (see :mod:`engine.types`).

Leaf module: imports nothing from the engine.
"""

from __future__ import annotations

from engine.record import dataclass


@dataclass(frozen=True)
class ImageSummary:
    """One row of ``pydock images``: one per (image, tag), or one untagged row.

    Attributes:
        id: image ID, the config digest (``sha256:...``).
        repository: ``busybox``, ``localhost:5000/team/app``; ``<none>`` if dangling.
        tag: ``latest``; ``<none>`` if dangling.
        digest: the manifest digest.
        created: image creation time, seconds since the epoch (0 if unknown).
        size: bytes of unpacked content, as docker shows it.
        containers: how many containers use the image.
    """

    id: str
    repository: str
    tag: str
    digest: str
    created: float
    size: int
    containers: int = 0

    @property
    def short_id(self) -> str:
        return self.id.removeprefix("sha256:")[:12]

    @property
    def dangling(self) -> bool:
        return self.repository == "<none>"


@dataclass(frozen=True)
class HistoryEntry:
    """One line of ``pydock history`` (newest first), from the config's history."""

    id: str  # the image ID on the newest line, "<missing>" below, as docker
    created: float
    created_by: str
    size: int
    comment: str
    empty_layer: bool


@dataclass(frozen=True)
class ImportOptions:
    """``docker import``: a rootfs tarball becomes a one-layer image.

    Attributes:
        changes: Dockerfile instructions applied to the config
            (CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL).
        message: commit message shown in history.
        platform: ``os/arch`` recorded in the config.
        created: creation time (seconds); ``None`` means now. Fixed values make
            reproducible image IDs.
    """

    reference: str | None = None
    changes: tuple[str, ...] = ()
    message: str = ""
    platform: str = "linux/amd64"
    created: float | None = None


@dataclass(frozen=True)
class LoadReport:
    """What ``images_load`` brought in: image IDs and the names it set."""

    images: tuple[str, ...]
    tags: tuple[str, ...]


@dataclass(frozen=True)
class UnpackStats:
    """Result of unpacking one layer tar into a snapshot directory.

    Attributes:
        diff_id: sha256 of the uncompressed tar stream, ``sha256:<hex>``.
        size: bytes of regular file content written.
        entries: tar members processed.
    """

    diff_id: str
    size: int
    entries: int
