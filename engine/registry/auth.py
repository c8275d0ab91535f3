"""Registry authentication: ``WWW-Authenticate`` challenges, Basic, and Bearer tokens.

The flow (distribution's token spec): a request answered 401 carries a challenge.
``Basic realm=...`` means "send user:password on every request". ``Bearer
realm=...,service=...,scope=...`` means "fetch a token from ``realm`` for these
scopes (with Basic credentials if any, anonymous otherwise) and send it". Tokens
are cached per scope set until shortly before they expire; a push that mounts a
blob from another repository asks for both repositories' scopes in one token.

This module holds no HTTP code: the client hands it a ``TokenFetcher``, so the
logic is testable without a server and the client stays the one httpx boundary.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Sequence

from ..errors import RegistryError, Unauthorized
from ..record import dataclass, field
from .types import Credentials

# Refresh a token this long before its announced expiry: clocks and slow requests.
_EXPIRY_MARGIN = 10.0
_DEFAULT_EXPIRES_IN = 60

# (method, url, params as pairs, headers, form) -> (status, body)
TokenFetcher = Callable[[str, str, list[tuple[str, str]], dict[str, str], dict[str, str] | None],
                        tuple[int, bytes]]


@dataclass(frozen=True)
class Challenge:
    scheme: str  # lowercased: "basic" or "bearer"
    params: dict[str, str] = field(default_factory=dict)


def parse_challenges(header: str) -> list[Challenge]:
    """Parse one ``WWW-Authenticate`` value, which may hold several challenges.

    ``Bearer realm="https://a/token",service="reg",scope="repository:x:pull,push"``:
    commas separate parameters *and* challenges, and quoted strings may hold commas,
    so this is a small tokenizer rather than a split.
    """
    out: list[Challenge] = []
    i, n = 0, len(header)
    current: Challenge | None = None
    while i < n:
        while i < n and header[i] in " \t,":
            i += 1
        start = i
        while i < n and header[i] not in " \t,=":
            i += 1
        token = header[start:i]
        if not token:
            break
        j = i
        while j < n and header[j] in " \t":
            j += 1
        if j < n and header[j] == "=" and current is not None:
            i = j + 1
            while i < n and header[i] in " \t":
                i += 1
            value, i = _value(header, i)
            current.params[token.lower()] = value
        else:
            current = Challenge(token.lower(), {})
            out.append(current)
    return out


def _value(s: str, i: int) -> tuple[str, int]:
    if i < len(s) and s[i] == '"':
        buf, i = [], i + 1
        while i < len(s) and s[i] != '"':
            if s[i] == "\\" and i + 1 < len(s):
                i += 1
            buf.append(s[i])
            i += 1
        return "".join(buf), i + 1
    start = i
    while i < len(s) and s[i] not in ",":
        i += 1
    return s[start:i].strip(), i


def basic_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def scope_for(repository: str, *actions: str) -> str:
    return f"repository:{repository}:{','.join(actions)}"


class Authenticator:
    """Per-registry auth state shared by the threads of one pull or push."""

    def __init__(self, registry: str, creds: Credentials | None, fetch: TokenFetcher) -> None:
        self.registry = registry
        self.creds = creds if creds and not creds.anonymous else None
        self._fetch = fetch
        self._challenge: Challenge | None = None
        self._tokens: dict[frozenset[str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    @property
    def scheme(self) -> str:
        return self._challenge.scheme if self._challenge else ""

    def set_challenge(self, header: str) -> bool:
        """Remember the server's challenge; False if we cannot answer it."""
        for ch in parse_challenges(header):
            if ch.scheme in ("bearer", "basic"):
                with self._lock:
                    self._challenge = ch
                return ch.scheme == "bearer" or self.creds is not None
        return False

    def invalidate(self, scopes: Sequence[str]) -> None:
        with self._lock:
            self._tokens.pop(frozenset(scopes), None)

    def header(self, scopes: Sequence[str]) -> str | None:
        """The ``Authorization`` value for a request needing ``scopes``, or None."""
        ch = self._challenge
        if ch is None:
            return None
        if ch.scheme == "basic":
            if self.creds is None:
                return None
            return basic_header(self.creds.username, self.creds.password)
        return "Bearer " + self.token(scopes)

    def token(self, scopes: Sequence[str]) -> str:
        key = frozenset(scopes)
        with self._lock:
            now = time.monotonic()
            for have, (tok, expires) in self._tokens.items():
                if key <= have and expires > now:
                    return tok
            # Held while fetching: parallel layer threads would otherwise all fetch.
            tok, ttl = self._fetch_token(sorted(key))
            self._tokens[key] = (tok, now + max(ttl - _EXPIRY_MARGIN, ttl / 2))
            return tok

    def _fetch_token(self, scopes: list[str]) -> tuple[str, float]:
        assert self._challenge is not None
        params = self._challenge.params
        realm = params.get("realm", "")
        if not realm.startswith(("https://", "http://")):
            raise RegistryError(f"{self.registry}: token realm {realm!r} is not a URL",
                                registry=self.registry)
        service = params.get("service", "")
        creds = self.creds
        if creds and creds.identity_token:
            # OAuth2 refresh-token grant: identity tokens are never sent as Basic.
            form = {"grant_type": "refresh_token", "refresh_token": creds.identity_token,
                    "service": service, "client_id": "pydock", "scope": " ".join(scopes)}
            status, body = self._fetch("POST", realm, [], {}, form)
        else:
            query = [("service", service)] if service else []
            query += [("scope", s) for s in scopes]
            headers = {}
            if creds:
                query.append(("account", creds.username))
                headers["Authorization"] = basic_header(creds.username, creds.password)
            status, body = self._fetch("GET", realm, query, headers, None)
        if status in (401, 403):
            what = "incorrect username or password" if creds else "authentication required"
            raise Unauthorized(f"{self.registry}: unauthorized: {what}", registry=self.registry,
                               code="UNAUTHORIZED")
        if status != 200:
            raise RegistryError(f"{self.registry}: token server answered {status}",
                                registry=self.registry, status=status)
        try:
            doc = json.loads(body)
            tok = doc.get("token") or doc.get("access_token")
            ttl = float(doc.get("expires_in") or _DEFAULT_EXPIRES_IN)
        except (ValueError, AttributeError, TypeError) as err:
            raise RegistryError(f"{self.registry}: bad token response: {err}",
                                registry=self.registry) from err
        if not isinstance(tok, str) or not tok:
            raise RegistryError(f"{self.registry}: token response has no token",
                                registry=self.registry)
        return tok, ttl
