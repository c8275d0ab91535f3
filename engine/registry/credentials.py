"""Registry credentials where the docker CLI keeps them, so ``docker login`` and
``pydock login`` share one set.

``$DOCKER_CONFIG/config.json`` (default ``~/.docker/config.json``):

- ``credHelpers`` ``{host: suffix}``: this host's secrets live in ``docker-credential-<suffix>``;
- ``credsStore``: the helper for every other host;
- ``auths`` ``{server: {auth: base64(user:password) | identitytoken}}`` otherwise.

Docker Hub's key is the historical ``https://index.docker.io/v1/``. Helpers speak
the docker-credential-helpers protocol (``get``/``store``/``erase`` on stdin/stdout),
run through docker-pycreds. The file is rewritten atomically with mode 0600 and
every key we do not manage is kept.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import warnings
from pathlib import Path
from typing import Any

from ..errors import EngineError, InvalidArgument, Unavailable
from ..fsutil import atomic_write_bytes
from .types import Credentials

INDEX_SERVER = "https://index.docker.io/v1/"
_HUB_NAMES = {"docker.io", "index.docker.io", "registry-1.docker.io"}
TOKEN_USER = "<token>"  # a helper's Username meaning "Secret is an identity token"


def default_config_dir(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("DOCKER_CONFIG"):
        return Path(env["DOCKER_CONFIG"])
    return Path(env.get("HOME") or Path.home()) / ".docker"


def hostname(server: str) -> str:
    """``https://host:5000/v1/`` → ``host:5000`` (docker's ConvertToHostname)."""
    s = server.removeprefix("https://").removeprefix("http://")
    return s.split("/", 1)[0]


def server_key(registry: str) -> str:
    """The key a registry's credentials are stored under."""
    host = hostname(registry)
    return INDEX_SERVER if host in _HUB_NAMES else host


class CredentialStore:
    def __init__(self, config_dir: Path | None = None) -> None:
        self.dir = config_dir or default_config_dir()
        self.path = self.dir / "config.json"

    def load(self, *, for_update: bool = False) -> dict[str, Any]:
        """The file's contents; unless updating, overlaid with ``$DOCKER_AUTH_CONFIG``."""
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            data = {}
        except (OSError, ValueError) as err:
            raise EngineError(f"cannot read {self.path}: {err}", title="Bad config.json") from err
        if not isinstance(data, dict):
            raise EngineError(f"{self.path}: not a JSON object", title="Bad config.json")
        inline = os.environ.get("DOCKER_AUTH_CONFIG")
        if inline and not for_update:  # docker's newer override: inline JSON whose auths win
            try:
                extra = json.loads(inline).get("auths") or {}
            except (ValueError, AttributeError):
                extra = {}
            data = {**data, "auths": {**(data.get("auths") or {}), **extra}}
        return data

    def helper_for(self, registry: str, data: dict[str, Any] | None = None) -> str | None:
        data = self.load() if data is None else data
        helpers = data.get("credHelpers") or {}
        host = hostname(server_key(registry))
        name = helpers.get(host) or helpers.get(server_key(registry)) or data.get("credsStore")
        return str(name) if name else None

    # -- reading --------------------------------------------------------------
    def get(self, registry: str) -> Credentials | None:
        data = self.load()
        key = server_key(registry)
        helper = self.helper_for(registry, data)
        if helper:
            return _helper_get(helper, key)
        auths = data.get("auths") or {}
        entry = auths.get(key)
        if entry is None:  # keys may carry a scheme or a path: compare hosts
            entry = next((v for k, v in auths.items() if hostname(k) == hostname(key)), None)
        return _decode_entry(entry) if isinstance(entry, dict) else None

    # -- writing --------------------------------------------------------------
    def store(self, registry: str, creds: Credentials) -> str:
        """Save ``creds``; return where they went (for the login message)."""
        data = self.load(for_update=True)
        key = server_key(registry)
        helper = self.helper_for(registry, data)
        if helper:
            user = TOKEN_USER if creds.identity_token else creds.username
            secret = creds.identity_token or creds.password
            _helper_call(helper, "store", key, user, secret)
            return f"docker-credential-{helper}"
        entry: dict[str, str] = {}
        if creds.identity_token:
            entry = {"username": creds.username, "identitytoken": creds.identity_token}
        else:
            pair = f"{creds.username}:{creds.password}".encode()
            entry = {"auth": base64.b64encode(pair).decode()}
        auths = data.setdefault("auths", {})
        auths[key] = entry
        self._write(data)
        return str(self.path)

    def erase(self, registry: str) -> bool:
        """Forget the credentials; False if there were none to forget."""
        data = self.load(for_update=True)
        key = server_key(registry)
        found = False
        helper = self.helper_for(registry, data)
        if helper:
            found = _helper_get(helper, key) is not None
            if found:
                _helper_call(helper, "erase", key)
        auths = data.get("auths") or {}
        removed = [k for k in auths if hostname(k) == hostname(key)]
        for k in removed:
            del auths[k]
        if removed:
            found = True
            self._write(data)
        return found

    def _write(self, data: dict[str, Any]) -> None:
        try:
            self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            # 0600: the file holds secrets, whatever the umask.
            atomic_write_bytes(self.path, json.dumps(data, indent="\t").encode() + b"\n", 0o600)
        except OSError as err:
            raise EngineError(f"cannot write {self.path}: {err.strerror or err}") from err


def _decode_entry(entry: dict[str, Any]) -> Credentials | None:
    if entry.get("identitytoken"):
        return Credentials(username=str(entry.get("username", "")),
                           identity_token=str(entry["identitytoken"]))
    if entry.get("auth"):
        try:
            user, sep, password = base64.b64decode(entry["auth"]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError) as err:
            raise InvalidArgument(f"config.json: unreadable auth entry: {err}") from err
        if not sep:
            raise InvalidArgument("config.json: auth entry is not base64(user:password)")
        return Credentials(user, password)
    if entry.get("username"):
        return Credentials(str(entry["username"]), str(entry.get("password", "")))
    return None


def _helper_get(helper: str, key: str) -> Credentials | None:
    from dockerpycreds import errors

    store = _store(helper)
    try:
        found = store.get(key)
    except errors.CredentialsNotFound:
        return None
    except errors.StoreError as err:
        if "not found" in str(err).lower():
            return None
        raise Unavailable(f"credential helper docker-credential-{helper}: {err}") from err
    user, secret = str(found.get("Username", "")), str(found.get("Secret", ""))
    if user == TOKEN_USER:
        return Credentials(identity_token=secret)
    return Credentials(user, secret)


def _helper_call(helper: str, action: str, key: str, user: str = "", secret: str = "") -> None:
    from dockerpycreds import errors

    store = _store(helper)
    try:
        if action == "store":
            store.store(key, user, secret)
        else:
            store.erase(key)
    except errors.StoreError as err:
        raise Unavailable(f"credential helper docker-credential-{helper}: {err}") from err


def _store(helper: str) -> Any:
    # Deferred: docker-pycreds pulls in distutils (setuptools' shim) and six.
    from dockerpycreds import Store, errors

    try:
        with warnings.catch_warnings():
            # its distutils.spawn.find_executable warns; the lookup itself is fine
            warnings.simplefilter("ignore", DeprecationWarning)
            return Store(helper)
    except errors.InitializationError as err:
        raise Unavailable(f"credential helper docker-credential-{helper} is not installed "
                          f"or not on PATH") from err
