"""The registry half of the facade (mixed into :class:`engine.api.Engine`).

``images_pull``/``images_push`` are generators of progress events: the work
happens while the caller iterates, and the last event carries the result.
httpx stays behind :mod:`engine.registry`; only engine errors come out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Literal

from .errors import EngineError, ImageNotFound, InvalidArgument, Unauthorized

if TYPE_CHECKING:  # imported where used: every CLI call imports this module
    from .config import EngineConfig
    from .images.store import ImageStore
    from .registry.client import RegistryClient
    from .registry.credentials import CredentialStore
    from .registry.types import (
        Credentials,
        PullOptions,
        PullProgress,
        PushOptions,
        PushProgress,
        RegistrySettings,
    )

PullPolicy = Literal["missing", "always", "never"]


class RegistryMixin:
    config: EngineConfig
    images: ImageStore

    if TYPE_CHECKING:
        def _emit_image(self, action: str, image_id: str,
                        attrs: dict[str, str] | None = None) -> None: ...

    @cached_property
    def registry_settings(self) -> RegistrySettings:
        """Assignable: tests point ``certs_dir``/``docker_config_dir`` at temp dirs."""
        from .registry.types import RegistrySettings

        return RegistrySettings.load(self.config.root)

    @property
    def credentials(self) -> CredentialStore:
        from .registry.credentials import CredentialStore

        return CredentialStore(self.registry_settings.docker_config_dir)

    def _client(self, registry: str, creds: Credentials | None = None) -> RegistryClient:
        from .registry.client import RegistryClient

        if creds is None:
            creds = self.credentials.get(registry)
        return RegistryClient(registry, self.registry_settings, creds)

    # -- pull / push -----------------------------------------------------------
    def images_pull(self, ref: str, opts: PullOptions | None = None) -> Iterator[PullProgress]:
        from .reference import parse
        from .registry.pull import pull
        from .registry.types import PullOptions

        opts = opts or PullOptions()
        parsed = parse(ref, default_registry=self.config.default_registry)
        parallel = opts.max_concurrent_downloads or self.registry_settings.max_concurrent_downloads
        with self._client(parsed.registry) as client:
            for ev in pull(client, self.images, parsed,
                           platform=opts.platform or self.config.default_platform,
                           parallel=parallel):
                if ev.done:
                    self._emit_image("pull", ev.image_id, {"name": parsed.familiar})
                yield ev

    def images_push(self, ref: str, opts: PushOptions | None = None) -> Iterator[PushProgress]:
        from .reference import parse
        from .registry.push import push
        from .registry.types import PushOptions

        parsed = parse(ref, default_registry=self.config.default_registry)
        image_id = self.images.resolve(ref)  # fail before any network traffic
        with self._client(parsed.registry) as client:
            for ev in push(client, self.images, parsed, opts or PushOptions(),
                           parallel=self.registry_settings.max_concurrent_uploads):
                if ev.done:
                    self._emit_image("push", image_id, {"name": parsed.familiar})
                yield ev

    def images_ensure(self, ref: str, policy: PullPolicy = "missing", *,
                      on_progress: Callable[[PullProgress], None] | None = None) -> str:
        """``run --pull``: the image ID of ``ref``, pulling it if the policy says so."""
        if policy not in ("missing", "always", "never"):
            raise InvalidArgument(f"invalid pull policy {policy!r} (missing, always or never)")
        if policy != "always":
            try:
                return self.images.resolve(ref)
            except ImageNotFound:
                if policy == "never":
                    raise
        image_id = ""
        for ev in self.images_pull(ref):
            if on_progress:
                on_progress(ev)
            if ev.done:
                image_id = ev.image_id
        return image_id

    # -- login / logout ---------------------------------------------------------
    def registry_login(self, server: str, username: str, password: str) -> str:
        """Check the credentials against the registry, then store them; return a message."""
        from .registry.credentials import hostname
        from .registry.types import Credentials

        registry = _registry_name(server)
        if not username:
            raise InvalidArgument("login: username is empty")
        if not password:
            raise InvalidArgument("login: password is empty")
        creds = Credentials(username, password)
        with self._client(registry, creds) as client:
            try:
                client.ping()
            except Unauthorized as err:
                raise Unauthorized(f"login to {hostname(client.host)} failed: unauthorized: "
                                   "incorrect username or password", registry=registry,
                                   code=err.code) from err
        self.credentials.store(registry, creds)
        return "Login Succeeded"

    def registry_logout(self, server: str) -> str:
        from .registry.credentials import server_key

        registry = _registry_name(server)
        key = server_key(registry)
        if self.credentials.erase(registry):
            return f"Removing login credentials for {key}"
        return f"Not logged in to {key}"


def _registry_name(server: str) -> str:
    """``""``/``https://index.docker.io/v1/`` → ``docker.io``; ``https://h:5000/`` → ``h:5000``."""
    from .registry.credentials import INDEX_SERVER, hostname, server_key

    host = hostname(server.strip()) if server.strip() else "docker.io"
    if server_key(host) == INDEX_SERVER:
        return "docker.io"
    if not host or "/" in host or any(c.isspace() for c in host):
        raise InvalidArgument(f"invalid registry server {server!r}")
    from .reference import parse

    try:
        parse(f"{host}/x")
    except EngineError as err:
        raise InvalidArgument(f"invalid registry server {server!r}") from err
    return host
