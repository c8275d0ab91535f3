"""Plain data for registry work: settings, options in, progress events out.

A leaf module like :mod:`engine.types`: front ends import these without pulling
in httpx.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from engine.record import dataclass

DEFAULT_CERTS_DIR = Path("/etc/docker/certs.d")
INSECURE_ENV = "PYDOCK_INSECURE_REGISTRIES"
SETTINGS_FILE = "registries.json"


@dataclass(frozen=True)
class RegistrySettings:
    """How the engine talks to registries.

    Attributes:
        certs_dir: docker's ``certs.d``: ``<dir>/<host[:port]>/*.crt`` are extra CAs,
            ``*.cert`` + ``*.key`` a client certificate.
        docker_config_dir: where ``config.json`` lives; ``None`` means
            ``$DOCKER_CONFIG`` or ``~/.docker``, as the docker CLI.
        insecure_registries: hosts (``host`` or ``host:port``) reached over plain
            HTTP or unverified TLS. Loopback may always use plain HTTP.
        max_concurrent_downloads / uploads: docker's defaults (3 and 5).
        attempts: tries per request on 5xx, 429 and dropped connections.
        backoff: first retry delay in seconds, doubled each time.
        upload_chunk_size: blobs larger than this are pushed in PATCH chunks.
    """

    certs_dir: Path = DEFAULT_CERTS_DIR
    docker_config_dir: Path | None = None
    insecure_registries: tuple[str, ...] = ()
    max_concurrent_downloads: int = 3
    max_concurrent_uploads: int = 5
    attempts: int = 5
    backoff: float = 0.5
    timeout: float = 60.0
    upload_chunk_size: int = 64 << 20

    @classmethod
    def load(cls, root: Path, environ: dict[str, str] | None = None) -> RegistrySettings:
        """Defaults, then ``<root>/registries.json`` (daemon.json's key names), then env."""
        env = os.environ if environ is None else environ
        try:
            data = json.loads((root / SETTINGS_FILE).read_text())
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict):
            data = {}
        insecure = [str(h) for h in data.get("insecure-registries", [])]
        insecure += [h.strip() for h in env.get(INSECURE_ENV, "").split(",") if h.strip()]
        certs = data.get("certs-dir")
        return cls(
            certs_dir=Path(certs) if certs else DEFAULT_CERTS_DIR,
            insecure_registries=tuple(insecure),
            max_concurrent_downloads=int(data.get("max-concurrent-downloads", 3)),
            max_concurrent_uploads=int(data.get("max-concurrent-uploads", 5)),
        )


@dataclass(frozen=True)
class Credentials:
    """What a registry is sent: Basic user/password, or an OAuth2 identity token."""

    username: str = ""
    password: str = ""
    identity_token: str = ""

    @property
    def anonymous(self) -> bool:
        return not (self.username or self.password or self.identity_token)


@dataclass(frozen=True)
class PullOptions:
    """``docker pull`` flags. ``platform`` is ``os/arch[/variant]``; ``None`` = the engine's."""

    platform: str | None = None
    max_concurrent_downloads: int | None = None


@dataclass(frozen=True)
class PushOptions:
    """``docker push`` flags.

    Attributes:
        mount_from: extra repositories (same registry) to try cross-mounting from,
            besides those the local store knows the blobs came from.
    """

    mount_from: tuple[str, ...] = ()


@dataclass(frozen=True)
class PullProgress:
    """One progress line. ``id`` is a short layer ID, or ``""`` for the whole image.

    ``status`` uses docker's words: ``Pulling fs layer``, ``Waiting``,
    ``Downloading``, ``Verifying Checksum``, ``Download complete``, ``Extracting``,
    ``Pull complete``, ``Already exists``, ``Retrying``. The last event of a pull
    has ``done=True`` and carries ``image_id`` and the manifest ``digest``.
    """

    id: str
    status: str
    current: int = 0
    total: int = 0
    image_id: str = ""
    digest: str = ""
    done: bool = False
    fresh: bool = True


@dataclass(frozen=True)
class PushProgress:
    """One push progress line; the last has ``done=True``, ``digest`` and ``size``."""

    id: str
    status: str
    current: int = 0
    total: int = 0
    digest: str = ""
    size: int = 0
    tag: str = ""
    done: bool = False
