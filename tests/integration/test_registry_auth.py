"""Authentication against the real registry: htpasswd Basic, Bearer tokens from a
test-served token endpoint, a credential helper, and TLS with a test CA."""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import Engine, EngineConfig
from engine.errors import RegistryError, Unauthorized
from engine.registry.types import RegistrySettings
from tests.integration.registry_fakes import HELPER_NAME, TokenServer, write_cred_helper
from tests.integration.registry_helpers import (
    Registry,
    htpasswd_line,
    layer_tar,
    make_ca,
    make_image,
    make_server_cert,
    make_signing_cert,
    skopeo,
    start_registry,
)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
USER, PASSWORD = "alice", "s3cret-pw"


def settings(tmp: Path) -> RegistrySettings:
    return RegistrySettings(certs_dir=tmp / "certs.d", docker_config_dir=tmp / "docker",
                            backoff=0.05)


@pytest.fixture
def eng(engine: Engine, tmp_path: Path) -> Engine:
    engine.registry_settings = settings(tmp_path)
    return engine


@pytest.fixture
def other(root: Path, tmp_path: Path) -> Iterator[Engine]:
    d = root.parent / (root.name + "-other")
    e = Engine(EngineConfig(root=d))
    e.registry_settings = settings(tmp_path)  # same docker config dir: shares the login
    yield e
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def basic_registry(tmp_path: Path) -> Iterator[Registry]:
    pw = tmp_path / "htpasswd"
    pw.write_text(htpasswd_line(USER, PASSWORD) + "\n")
    reg = start_registry(tmp_path / "registry",
                         auth={"htpasswd": {"realm": "pydock-test", "path": str(pw)}})
    yield reg
    reg.stop()


@pytest.fixture
def token_registry(tmp_path: Path) -> Iterator[tuple[Registry, TokenServer]]:
    key, der, bundle = make_signing_cert(tmp_path)
    tokens = TokenServer(key, der, {USER: PASSWORD})
    try:
        reg = start_registry(tmp_path / "registry", auth=tokens.registry_auth(bundle))
    except BaseException:
        tokens.stop()
        raise
    yield reg, tokens
    reg.stop()
    tokens.stop()


def config_json(tmp: Path) -> dict:  # type: ignore[type-arg]
    p = tmp / "docker" / "config.json"
    return json.loads(p.read_text()) if p.exists() else {}


def test_basic_auth_login_push_pull_logout(eng: Engine, other: Engine, basic_registry: Registry,
                                           tmp_path: Path) -> None:
    host = basic_registry.host
    ref = f"{host}/team/app:1"
    mdigest = make_image(eng, ref, [layer_tar({"a": b"a" * 5000}), layer_tar({"b": b"b"})])
    with pytest.raises(Unauthorized, match="unauthorized"):
        list(eng.images_push(ref))
    with pytest.raises(Unauthorized) as err:
        eng.registry_login(host, USER, "wrong")
    assert str(err.value) == (f"login to {host} failed: unauthorized: incorrect username or "
                              "password")
    assert not (tmp_path / "docker" / "config.json").exists()

    assert eng.registry_login(host, USER, PASSWORD) == "Login Succeeded"
    path = tmp_path / "docker" / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    auth = config_json(tmp_path)["auths"][host]["auth"]
    assert base64.b64decode(auth).decode() == f"{USER}:{PASSWORD}"

    assert list(eng.images_push(ref))[-1].digest == mdigest
    assert list(other.images_pull(ref))[-1].digest == mdigest

    assert eng.registry_logout(host) == f"Removing login credentials for {host}"
    assert config_json(tmp_path)["auths"] == {}
    assert eng.registry_logout(host) == f"Not logged in to {host}"
    with pytest.raises(Unauthorized):
        list(other.images_pull(f"{host}/team/app@{mdigest}"))


def test_bearer_tokens_scopes_cache_and_mount(eng: Engine, other: Engine, tmp_path: Path,
                                              token_registry: tuple[Registry, TokenServer]
                                              ) -> None:
    reg, tokens = token_registry
    ref = f"{reg.host}/tok/a:1"
    mdigest = make_image(eng, ref, [layer_tar({f"f{i}": os.urandom(2000)}) for i in range(4)])
    with pytest.raises(Unauthorized):  # anonymous tokens only grant pull
        list(eng.images_push(ref))
    with pytest.raises(Unauthorized, match="incorrect username or password"):
        eng.registry_login(reg.host, USER, "nope")
    assert config_json(tmp_path) == {}
    eng.registry_login(reg.host, USER, PASSWORD)

    tokens.requests.clear()
    assert list(eng.images_push(ref))[-1].digest == mdigest
    push_scopes = [tuple(r["scopes"]) for r in tokens.requests]
    assert ("repository:tok/a:pull,push",) in push_scopes
    # Cached until expiry: five blobs and a manifest, yet one token for that scope.
    assert push_scopes.count(("repository:tok/a:pull,push",)) == 1
    assert all(r["account"] == USER for r in tokens.requests)

    eng.images_tag(ref, f"{reg.host}/tok/b:1")
    tokens.requests.clear()
    events = list(eng.images_push(f"{reg.host}/tok/b:1"))
    assert [e.status for e in events if e.id].count("Mounted from tok/a") == 4
    # One token for both repositories: push on the target, pull on the source.
    assert any(set(r["scopes"]) == {"repository:tok/b:pull,push", "repository:tok/a:pull"}
               for r in tokens.requests)

    eng.registry_logout(reg.host)
    tokens.requests.clear()
    final = list(other.images_pull(ref))[-1]  # anonymous bearer flow
    assert final.digest == mdigest
    assert tokens.requests and all(r["account"] == "" for r in tokens.requests)


def test_credential_helper_for_login_and_pull(eng: Engine, other: Engine, tmp_path: Path,
                                              basic_registry: Registry,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    host = basic_registry.host
    store = tmp_path / "helper-store.json"
    write_cred_helper(tmp_path / "bin", store)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "config.json").write_text(json.dumps(
        {"credHelpers": {host: HELPER_NAME}, "psFormat": "keep me"}))

    with pytest.raises(Unauthorized):
        eng.registry_login(host, USER, "wrong")
    assert not store.exists()
    assert eng.registry_login(host, USER, PASSWORD) == "Login Succeeded"
    assert json.loads(store.read_text()) == {host: {"Username": USER, "Secret": PASSWORD}}
    cfg = config_json(tmp_path)
    assert "auths" not in cfg and cfg["psFormat"] == "keep me"  # the secret is not in the file

    ref = f"{host}/helper/app:1"
    mdigest = make_image(eng, ref, [layer_tar({"h": b"helper"})])
    assert list(eng.images_push(ref))[-1].digest == mdigest
    assert list(other.images_pull(ref))[-1].digest == mdigest  # creds from the helper

    assert eng.registry_logout(host) == f"Removing login credentials for {host}"
    assert json.loads(store.read_text()) == {}
    with pytest.raises(Unauthorized):
        list(other.images_pull(f"{host}/helper/app@{mdigest}"))


def test_tls_with_a_test_ca(eng: Engine, other: Engine, tmp_path: Path) -> None:
    ca_key, ca_cert, ca_path = make_ca(tmp_path)
    cert, key = make_server_cert(tmp_path, ca_key, ca_cert)
    reg = start_registry(tmp_path / "registry", tls=(cert, key))
    try:
        ref = f"{reg.host}/tls/app:1"
        mdigest = make_image(eng, ref, [layer_tar({"t": b"tls"})])
        with pytest.raises(RegistryError, match="certificate") as err:
            list(eng.images_push(ref))
        assert "ca.crt" in str(err.value)  # tells where the CA goes
        certs = tmp_path / "certs.d" / reg.host
        certs.mkdir(parents=True)
        shutil.copy(ca_path, certs / "ca.crt")
        assert list(eng.images_push(ref))[-1].digest == mdigest
        assert list(other.images_pull(ref))[-1].digest == mdigest
        info = json.loads(skopeo("inspect", f"--cert-dir={certs}", f"docker://{ref}"))
        assert info["Digest"] == mdigest
    finally:
        reg.stop()


def test_cli_login_logout(root: Path, basic_registry: Registry, tmp_path: Path) -> None:
    import subprocess
    import sys

    script = Path(sys.executable).parent / "pydock"
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "app.cli"]
    env = {**os.environ, "DOCKER_CONFIG": str(tmp_path / "docker")}
    host = basic_registry.host

    def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([*cmd, "--root", str(root), *args], input=stdin, text=True,
                              capture_output=True, timeout=60, env=env,
                              cwd=Path(__file__).resolve().parents[2])

    r = cli("login", "-u", USER, "--password-stdin", host, stdin="wrong\n")
    assert r.returncode == 1 and r.stderr == (
        f"Error: login to {host} failed: unauthorized: incorrect username or password\n")
    assert not (tmp_path / "docker" / "config.json").exists()
    r = cli("login", "-u", USER, "--password-stdin", host, stdin=PASSWORD + "\n")
    assert (r.returncode, r.stdout) == (0, "Login Succeeded\n"), r.stderr
    assert host in config_json(tmp_path)["auths"]
    r = cli("login", "-u", USER, "-p", PASSWORD, host)
    assert r.returncode == 0 and "WARNING! Using --password" in r.stderr
    assert cli("logout", host).stdout == f"Removing login credentials for {host}\n"
    assert cli("logout", host).stdout == f"Not logged in to {host}\n"
    r = cli("login", "--password-stdin", host, stdin="x")
    assert r.returncode == 1 and "--username" in r.stderr
