"""One registry over HTTP: scheme and TLS choice, auth handshakes, retries, errors.

This is the httpx boundary of the engine: httpx exceptions and responses with
error statuses become :class:`RegistryError` (or ``Unauthorized``/``RemoteNotFound``)
here, with one readable line taken from the registry's error JSON.

TLS is verified against the system CAs plus ``<certs_dir>/<host>/*.crt``. Plain
HTTP is tried only for loopback and hosts listed as insecure, and only when the
TLS handshake fails in a way that says "this port does not speak TLS": a
certificate the CAs do not vouch for is an error, never a silent downgrade.
"""

from __future__ import annotations

import functools
import ipaddress
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import httpx

from ..errors import EngineError, RegistryError
from .auth import Authenticator
from .errors_map import describe_transport, registry_error
from .types import Credentials, RegistrySettings

HUB_HOST = "registry-1.docker.io"
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_MAX_RETRY_AFTER = 30.0
Content = bytes | Callable[[], Iterable[bytes]] | None


def is_loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    name = name.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class RegistryClient:
    """Requests to one registry (``docker.io``, ``host:port``), safe to share across threads."""

    def __init__(self, registry: str, settings: RegistrySettings,
                 creds: Credentials | None = None) -> None:
        self.registry = registry
        self.host = HUB_HOST if registry == "docker.io" else registry
        self.settings = settings
        self.insecure = self.host in settings.insecure_registries or \
            self.host.split(":")[0] in settings.insecure_registries
        self.allow_http = self.insecure or is_loopback(self.host)
        # trust_env=False: no proxy support yet, and loopback traffic must never be
        # sent to an environment proxy.
        self._http = httpx.Client(
            verify=self._ssl_context(), trust_env=False, follow_redirects=True,
            timeout=httpx.Timeout(settings.timeout, connect=15.0),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16))
        self.auth = Authenticator(registry, creds, self._fetch_token)
        self._base = ""
        self._lock = threading.Lock()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context()
        # Python 3.13 turns on X509 strict mode; Go (docker, the registry) does not
        # require e.g. an Authority Key Identifier, and private CAs often lack one.
        ctx.verify_flags &= ~ssl.VERIFY_X509_STRICT
        d = self.settings.certs_dir / self.host
        try:
            files = sorted(d.iterdir()) if d.is_dir() else []
            for f in files:
                if f.suffix == ".crt":
                    ctx.load_verify_locations(cafile=str(f))
                elif f.suffix == ".cert" and f.with_suffix(".key").exists():
                    ctx.load_cert_chain(str(f), str(f.with_suffix(".key")))
        except (OSError, ssl.SSLError) as err:
            raise EngineError(f"cannot load certificates from {d}: {err}",
                              title="Bad certificates") from err
        if self.insecure:  # the user listed it: like docker, do not verify
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    # -- the base URL and the first handshake ---------------------------------
    @property
    def base(self) -> str:
        """``https://host`` or ``http://host``, found by pinging ``/v2/`` once."""
        with self._lock:
            if not self._base:
                self._base = self._probe()
            return self._base

    def _probe(self) -> str:
        last: BaseException | None = None
        for scheme in ("https", "http") if self.allow_http else ("https",):
            base = f"{scheme}://{self.host}"
            url = base + "/v2/"
            try:
                # With plain HTTP to fall back on, a refused or non-TLS https port is not
                # worth retrying: the http attempt that follows gets the retries.
                fallback = scheme == "https" and self.allow_http
                resp = self._retrying(functools.partial(self._http.get, url), "ping",
                                      give_up=functools.partial(_not_worth_retrying, fallback))
            except httpx.TransportError as err:
                if _cert_error(err):
                    raise RegistryError(
                        f"{self.host}: TLS certificate not trusted ({_cert_error(err)}); put the "
                        f"CA in {self.settings.certs_dir / self.host / 'ca.crt'}",
                        registry=self.registry) from err
                last = err
                continue
            if resp.status_code == 401:
                self.auth.set_challenge(resp.headers.get("www-authenticate", ""))
            elif resp.status_code == 404:
                raise RegistryError(f"{self.host} does not look like a registry "
                                    "(GET /v2/ answered 404)", registry=self.registry, status=404)
            return base
        assert last is not None
        raise RegistryError(f"cannot reach {self.host}: {describe_transport(last)}",
                            registry=self.registry) from last

    def ping(self) -> int:
        """Check the credentials: a 200 from ``/v2/`` with auth, or a token for no scope."""
        return self.request("GET", "/v2/", scopes=[], what=f"login to {self.host}").status_code

    # -- requests ---------------------------------------------------------------
    def request(self, method: str, url: str, *, scopes: Sequence[str], what: str,
                headers: dict[str, str] | None = None, content: Content = None,
                params: dict[str, str] | None = None, expect: Sequence[int] = (200,),
                stream: bool = False) -> httpx.Response:
        """Send with auth, retrying 5xx/429/dropped connections; raise on other statuses.

        With ``stream=True`` the body is left unread and the caller closes the response.
        """
        full = url if url.startswith(("http://", "https://")) else self.base + url
        reauthed = False

        def send() -> httpx.Response:
            hdrs = dict(headers or {})
            value = self.auth.header(scopes)
            if value:
                hdrs["Authorization"] = value
            body = content() if callable(content) else content
            # Merged by hand: httpx's params= would drop the query an upload Location
            # carries (distribution's _state token).
            url = httpx.URL(full).copy_merge_params(params) if params else full
            req = self._http.build_request(method, url, headers=hdrs, content=body)
            return self._http.send(req, stream=True)

        while True:
            resp = self._retrying(send, what)
            if resp.status_code == 401 and not reauthed:
                self._read_quietly(resp)
                if self.auth.set_challenge(resp.headers.get("www-authenticate", "")):
                    self.auth.invalidate(scopes)
                    reauthed = True
                    continue
            if resp.status_code not in expect:
                self._read_quietly(resp)
                raise registry_error(resp, what, self.registry)
            if not stream:
                self._read(resp, what)
            return resp

    @staticmethod
    def _read_quietly(resp: httpx.Response) -> None:
        """Read an error body if it can be had: it is a courtesy, the status says enough."""
        try:
            if not resp.is_closed:
                resp.read()
        except (httpx.HTTPError, httpx.StreamError):
            pass
        finally:
            resp.close()

    def _read(self, resp: httpx.Response, what: str) -> None:
        try:
            resp.read()
        except httpx.HTTPError as err:
            raise RegistryError(f"{what}: {describe_transport(err)}",
                                registry=self.registry) from err
        finally:
            resp.close()

    def _retrying(self, send: Callable[[], httpx.Response], what: str, *,
                  give_up: Callable[[BaseException], bool] | None = None) -> httpx.Response:
        attempts = max(1, self.settings.attempts)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                resp = send()
            except httpx.TransportError as err:
                if last or (give_up and give_up(err)) or _cert_error(err):
                    raise
                self.sleep(attempt)
                continue
            except httpx.HTTPError as err:
                raise RegistryError(f"{what}: {err}", registry=self.registry) from err
            if resp.status_code in _RETRY_STATUSES and not last:
                resp.close()
                self.sleep(attempt, resp.headers.get("retry-after"))
                continue
            return resp
        raise AssertionError("unreachable")

    def sleep(self, attempt: int, retry_after: str | None = None) -> None:
        delay = self.settings.backoff * (2 ** attempt)
        if retry_after and retry_after.isdigit():
            delay = max(delay, min(float(retry_after), _MAX_RETRY_AFTER))
        time.sleep(delay)

    def _fetch_token(self, method: str, url: str, params: list[tuple[str, str]],
                     headers: dict[str, str], form: dict[str, str] | None) -> tuple[int, bytes]:
        try:
            # Merged by hand: a realm may carry its own query, which params= would drop.
            full = httpx.URL(url).copy_merge_params(list(params))
            resp = self._retrying(lambda: self._http.request(
                method, full, headers=headers, data=form), "token")
            return resp.status_code, resp.content
        except httpx.HTTPError as err:
            raise RegistryError(f"{self.host}: token server {url}: {describe_transport(err)}",
                                registry=self.registry) from err

    def translate(self, err: httpx.HTTPError, what: str) -> EngineError:
        """For callers streaming a body: an httpx error as an engine error."""
        return RegistryError(f"{what}: {describe_transport(err)}", registry=self.registry)


def _chain(err: BaseException) -> Any:
    seen: BaseException | None = err
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


def _cert_error(err: BaseException) -> str:
    for e in _chain(err):
        if isinstance(e, ssl.SSLCertVerificationError):
            return str(e.verify_message or e.reason or e)
    return ""


def _not_worth_retrying(fallback: bool, err: BaseException) -> bool:
    return _is_tls_mismatch(err) or (fallback and isinstance(err, httpx.ConnectError))


def _is_tls_mismatch(err: BaseException) -> bool:
    """A TLS handshake with a plain-HTTP port fails like this; worth trying http."""
    return any(isinstance(e, ssl.SSLError) for e in _chain(err)) and not _cert_error(err)

