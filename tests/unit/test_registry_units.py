"""Registry logic without a registry: challenges, token cache, config.json, errors,
platform choice, schema 1 refusal (httpx MockTransport), progress lines."""

from __future__ import annotations

import base64
import io
import json
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.cli.progress import ProgressPrinter, bar, human
from engine.api_registry import _registry_name
from engine.errors import InvalidArgument, RegistryError, RemoteNotFound, Unauthorized
from engine.reference import parse
from engine.registry import manifests
from engine.registry.auth import Authenticator, parse_challenges
from engine.registry.client import RegistryClient, is_loopback
from engine.registry.credentials import INDEX_SERVER, CredentialStore, server_key
from engine.registry.errors_map import registry_error
from engine.registry.types import Credentials, PullProgress, RegistrySettings


def test_parse_challenges() -> None:
    ch = parse_challenges('Bearer realm="https://auth.example/token",service="reg.example",'
                          'scope="repository:a/b:pull,push", Basic realm="x\\"y"')
    assert [c.scheme for c in ch] == ["bearer", "basic"]
    assert ch[0].params == {"realm": "https://auth.example/token", "service": "reg.example",
                            "scope": "repository:a/b:pull,push"}
    assert ch[1].params == {"realm": 'x"y'}
    assert parse_challenges("Basic realm=plain")[0].params == {"realm": "plain"}
    assert parse_challenges("") == []


class FakeTokens:
    def __init__(self, status: int = 200, ttl: int = 300) -> None:
        self.calls: list[tuple[str, list[tuple[str, str]], dict[str, str], Any]] = []
        self.status, self.ttl = status, ttl

    def __call__(self, method: str, url: str, params: list[tuple[str, str]],
                 headers: dict[str, str], form: dict[str, str] | None) -> tuple[int, bytes]:
        self.calls.append((method, params, headers, form))
        return self.status, json.dumps({"token": f"t{len(self.calls)}",
                                        "expires_in": self.ttl}).encode()


def test_tokens_are_cached_per_scope_set_until_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    fetch = FakeTokens()
    auth = Authenticator("reg", Credentials("u", "p"), fetch)
    assert auth.header(["s1"]) is None  # no challenge yet: anonymous first try
    assert auth.set_challenge('Bearer realm="https://a/token",service="svc"')
    assert auth.header(["s1"]) == "Bearer t1"
    assert auth.header(["s1"]) == "Bearer t1"
    assert auth.header(["s1", "s2"]) == "Bearer t2"
    assert auth.header(["s2"]) == "Bearer t2"  # a superset's token serves a subset
    method, params, headers, _ = fetch.calls[1]
    assert method == "GET" and ("scope", "s1") in params and ("scope", "s2") in params
    assert ("service", "svc") in params and ("account", "u") in params
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"u:p").decode()
    now = __import__("time").monotonic()
    monkeypatch.setattr("engine.registry.auth.time.monotonic", lambda: now + 1000)
    assert auth.header(["s1"]) == "Bearer t3"  # expired


def test_identity_token_uses_the_oauth2_refresh_grant() -> None:
    fetch = FakeTokens()
    auth = Authenticator("reg", Credentials(identity_token="idt"), fetch)
    auth.set_challenge('Bearer realm="https://a/token",service="svc"')
    auth.header(["repository:x:pull"])
    method, _, headers, form = fetch.calls[0]
    assert method == "POST" and "Authorization" not in headers
    assert form["grant_type"] == "refresh_token" and form["refresh_token"] == "idt"


def test_token_refusal_and_basic() -> None:
    auth = Authenticator("reg", Credentials("u", "bad"), FakeTokens(status=401))
    auth.set_challenge('Bearer realm="https://a/token"')
    with pytest.raises(Unauthorized, match="incorrect username or password"):
        auth.header(["s"])
    basic = Authenticator("reg", Credentials("u", "p"), FakeTokens())
    assert basic.set_challenge('Basic realm="r"')
    assert basic.header([]) == "Basic " + base64.b64encode(b"u:p").decode()
    assert not Authenticator("reg", None, FakeTokens()).set_challenge('Basic realm="r"')


def test_config_json_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKER_AUTH_CONFIG", raising=False)
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "config.json").write_text(json.dumps({
        "auths": {"https://old.example:5000/v1/": {"auth": base64.b64encode(b"o:pw").decode()},
                  INDEX_SERVER: {"username": "hub", "identitytoken": "tok"}},
        "detachKeys": "ctrl-x"}))
    store = CredentialStore(cfg)
    assert store.get("old.example:5000") == Credentials("o", "pw")
    assert store.get("docker.io") == Credentials("hub", identity_token="tok")
    assert store.get("nowhere.example") is None
    store.store("new.example", Credentials("n", "secret"))
    data = json.loads((cfg / "config.json").read_text())
    assert data["detachKeys"] == "ctrl-x"
    assert stat.S_IMODE((cfg / "config.json").stat().st_mode) == 0o600
    assert store.get("new.example") == Credentials("n", "secret")
    assert store.erase("old.example:5000") and not store.erase("old.example:5000")
    assert "https://old.example:5000/v1/" not in json.loads((cfg / "config.json").read_text())[
        "auths"]
    monkeypatch.setenv("DOCKER_CONFIG", str(cfg))
    assert CredentialStore().path == cfg / "config.json"


def test_server_names() -> None:
    assert server_key("docker.io") == INDEX_SERVER == server_key("registry-1.docker.io")
    assert server_key("https://h:5000/v2/") == "h:5000"
    assert _registry_name("") == "docker.io"
    assert _registry_name("https://index.docker.io/v1/") == "docker.io"
    assert _registry_name("https://h.example:5000/") == "h.example:5000"
    with pytest.raises(InvalidArgument):
        _registry_name("bad host")
    assert is_loopback("127.0.0.1:5000") and is_loopback("localhost") and is_loopback("[::1]")
    assert not is_loopback("10.0.0.1:5000") and not is_loopback("example.com")


def _resp(status: int, body: Any = None) -> httpx.Response:
    content = json.dumps(body).encode() if body is not None else b""
    return httpx.Response(status, content=content, request=httpx.Request("GET", "http://x/"))


def test_error_mapping() -> None:
    err = registry_error(_resp(404, {"errors": [{"code": "MANIFEST_UNKNOWN",
                                                 "message": "manifest unknown"}]}), "pull x", "r")
    assert isinstance(err, RemoteNotFound) and str(err) == "pull x: manifest unknown"
    err = registry_error(_resp(403, {"errors": [{"code": "DENIED", "message": "nope"}]}), "w", "r")
    assert isinstance(err, Unauthorized) and str(err) == "w: denied: nope"
    err = registry_error(_resp(401), "w", "r")
    assert isinstance(err, Unauthorized) and str(err) == "w: unauthorized: authentication required"
    err = registry_error(_resp(429), "w", "r")
    assert str(err) == "w: too many requests"
    err = registry_error(_resp(404, {"errors": [{"code": "NAME_UNKNOWN", "message": ""}]}),
                         "w", "r")
    assert str(err) == "w: name unknown: repository name not known to registry"
    assert str(registry_error(_resp(502), "w", "r")) == "w: 502 Bad Gateway"


def test_platform_selection() -> None:
    index = {"manifests": [
        {"digest": "sha256:" + "a" * 64, "platform": {"os": "linux", "architecture": "arm",
                                                      "variant": "v7"}},
        {"digest": "sha256:" + "b" * 64, "platform": {"os": "linux", "architecture": "amd64"}},
        {"digest": "sha256:" + "c" * 64, "platform": {"os": "unknown", "architecture": "unknown"}},
        {"digest": "sha256:" + "d" * 64, "platform": {"os": "linux", "architecture": "arm64",
                                                      "variant": "v8"}}]}
    assert manifests.select_platform(index, "linux/amd64", "x")["digest"][7] == "b"
    assert manifests.select_platform(index, "linux/arm/v7", "x")["digest"][7] == "a"
    assert manifests.select_platform(index, "linux/arm64", "x")["digest"][7] == "d"
    with pytest.raises(RemoteNotFound, match="no matching manifest for linux/ppc64le"):
        manifests.select_platform(index, "linux/ppc64le", "x")


def _mock_client(handler: Any) -> RegistryClient:
    client = RegistryClient("127.0.0.1:1", RegistrySettings(attempts=3, backoff=0))
    client._http.close()
    client._http = httpx.Client(transport=httpx.MockTransport(handler))
    return client


def test_schema1_is_refused_and_digests_are_checked() -> None:
    schema1 = json.dumps({"schemaVersion": 1, "name": "x", "fsLayers": []}).encode()

    def handler(req: httpx.Request) -> httpx.Response:
        if req.url.path == "/v2/":
            return httpx.Response(200)
        if req.url.path.endswith("/old"):
            return httpx.Response(200, content=schema1, headers={
                "Content-Type": "application/vnd.docker.distribution.manifest.v1+prettyjws"})
        return httpx.Response(200, content=b'{"schemaVersion": 2, "layers": []}',
                              headers={"Docker-Content-Digest": "sha256:" + "0" * 64})

    client = _mock_client(handler)
    ref = parse("127.0.0.1:1/a/b:old")
    with pytest.raises(InvalidArgument, match="schema 1"):
        manifests.fetch(client, ref, "old")
    with pytest.raises(Exception, match="digest mismatch"):
        manifests.fetch(client, ref, "new")


def test_retries_then_gives_one_line() -> None:
    calls = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(req.url.path)
        if req.url.path == "/v2/":
            return httpx.Response(200)
        return httpx.Response(503)

    client = _mock_client(handler)
    with pytest.raises(RegistryError, match="503 Service Unavailable"):
        client.request("GET", "/v2/a/manifests/x", scopes=[], what="manifest")
    assert calls.count("/v2/a/manifests/x") == 3


def test_settings_file_and_env(tmp_path: Path) -> None:
    (tmp_path / "registries.json").write_text(json.dumps({
        "insecure-registries": ["reg.lan:5000"], "max-concurrent-downloads": 6,
        "certs-dir": str(tmp_path / "certs")}))
    s = RegistrySettings.load(tmp_path, {"PYDOCK_INSECURE_REGISTRIES": "a.lan, b.lan"})
    assert s.insecure_registries == ("reg.lan:5000", "a.lan", "b.lan")
    assert s.max_concurrent_downloads == 6 and s.certs_dir == tmp_path / "certs"


def test_progress_lines() -> None:
    assert human(52_480_000) == "52.48MB" and human(999) == "999B"
    assert bar(0, 100).startswith("[>") and bar(100, 100).startswith("[" + "=" * 50 + "]")
    out = io.StringIO()
    p = ProgressPrinter(out, tty=False)
    for status in ("Pulling fs layer", "Downloading", "Downloading", "Pull complete"):
        p.update(PullProgress("abc", status, 5, 10))
    assert out.getvalue().splitlines() == ["abc: Pulling fs layer", "abc: Downloading",
                                           "abc: Pull complete"]
    tty = io.StringIO()
    p = ProgressPrinter(tty, tty=True)
    p.update(PullProgress("a", "Waiting"))
    p.update(PullProgress("b", "Waiting"))
    p.update(PullProgress("a", "Downloading", 5, 10))
    assert "\x1b[2A\x1b[2K\ra: Downloading [" in tty.getvalue()
