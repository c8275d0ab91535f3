"""Image references parsed the way docker parses them.

``busybox`` → ``docker.io/library/busybox:latest``; ``localhost:5000/team/app@sha256:…``
keeps its registry and digest. The grammar follows distribution/reference:
a first component is a registry when it contains ``.`` or ``:`` or is
``localhost``; path components are lowercase alphanumerics joined by ``.``, ``_``,
``__`` or dashes.
"""

from __future__ import annotations

import re

from .errors import InvalidReference
from .record import dataclass

DEFAULT_REGISTRY = "docker.io"
DEFAULT_TAG = "latest"
OFFICIAL_PREFIX = "library/"
_LEGACY_REGISTRIES = {"index.docker.io", "registry-1.docker.io"}

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*\Z")
_DOMAIN_PART = re.compile(r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])\Z")
_PORT = re.compile(r"[0-9]+\Z")
_TAG = re.compile(r"[\w][\w.-]{0,127}\Z")
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}\Z")
_SHA256_HEX = re.compile(r"[a-f0-9]{64}\Z")
NAME_MAX = 255


@dataclass(frozen=True)
class Reference:
    """A normalized image reference.

    Attributes:
        registry: ``docker.io``, ``localhost:5000``.
        repository: path inside the registry, ``library/busybox``.
        tag: ``latest`` unless a digest alone was given (then ``None``).
        digest: ``sha256:…`` or ``None``.
    """

    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        """Fully qualified repository: ``docker.io/library/busybox``."""
        return f"{self.registry}/{self.repository}"

    @property
    def familiar_name(self) -> str:
        """What docker shows: ``busybox``, ``team/app``, ``localhost:5000/app``."""
        if self.registry == DEFAULT_REGISTRY:
            return self.repository.removeprefix(OFFICIAL_PREFIX)
        return self.name

    def __str__(self) -> str:
        s = self.name
        if self.tag:
            s += f":{self.tag}"
        if self.digest:
            s += f"@{self.digest}"
        return s

    @property
    def familiar(self) -> str:
        s = self.familiar_name
        if self.tag:
            s += f":{self.tag}"
        if self.digest:
            s += f"@{self.digest}"
        return s

    def with_tag(self, tag: str) -> Reference:
        return Reference(self.registry, self.repository, tag, None)


def parse(ref: str, *, default_registry: str = DEFAULT_REGISTRY) -> Reference:
    """Parse and normalize ``ref``; raise :class:`InvalidReference` with the reason."""
    if not ref:
        raise InvalidReference(ref, "empty reference")
    if ref != ref.strip() or any(c.isspace() for c in ref):
        raise InvalidReference(ref, "contains whitespace")
    if _SHA256_HEX.match(ref):
        raise InvalidReference(ref, "cannot use a 64-character hex string as a repository name")

    rest, digest = ref, None
    if "@" in rest:
        rest, digest = rest.split("@", 1)
        if not _DIGEST.match(digest):
            raise InvalidReference(ref, f"invalid digest {_show(digest)!r}")
        algo, _, hexpart = digest.partition(":")
        if algo == "sha256" and not _SHA256_HEX.match(hexpart):
            raise InvalidReference(ref, "sha256 digest must be 64 lowercase hex characters")

    tag = None
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1:]
        if not _TAG.match(tag):
            raise InvalidReference(ref, f"invalid tag {_show(tag)!r}")

    if not rest:
        raise InvalidReference(ref, "missing repository name")
    registry, path = _split_registry(rest, default_registry)
    if registry in _LEGACY_REGISTRIES:
        registry = DEFAULT_REGISTRY
    _check_domain(ref, registry)
    for comp in path.split("/"):
        if not comp:
            raise InvalidReference(ref, "empty path component")
        if comp != comp.lower() and _COMPONENT.match(comp.lower()):
            raise InvalidReference(ref, "repository name must be lowercase")
        if not _COMPONENT.match(comp):
            raise InvalidReference(ref, f"invalid path component {_show(comp)!r}")
    if registry == DEFAULT_REGISTRY and "/" not in path:
        path = OFFICIAL_PREFIX + path
    if len(f"{registry}/{path}") > NAME_MAX:
        raise InvalidReference(ref, f"repository name longer than {NAME_MAX} characters")
    if tag is None and digest is None:
        tag = DEFAULT_TAG
    return Reference(registry, path, tag, digest)


def _show(s: str) -> str:
    return s if len(s) <= 40 else s[:37] + "..."


def _split_registry(name: str, default_registry: str) -> tuple[str, str]:
    first, sep, remainder = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first, remainder
    return default_registry, name


def _check_domain(ref: str, registry: str) -> None:
    host, _, port = registry.partition(":")
    if host.startswith("[") and host.endswith("]"):
        return  # IPv6 literal; not worth a stricter check
    if not host or not all(_DOMAIN_PART.match(p) for p in host.split(".")):
        raise InvalidReference(ref, f"invalid registry host {registry!r}")
    if ":" in registry and not _PORT.match(port):
        raise InvalidReference(ref, f"invalid registry port {port!r}")


def looks_like_id(s: str) -> bool:
    """A (possibly short) image ID: hex, optionally with ``sha256:`` in front."""
    hexpart = s.removeprefix("sha256:")
    return 0 < len(hexpart) <= 64 and all(c in "0123456789abcdef" for c in hexpart)
