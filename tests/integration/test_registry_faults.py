"""Faults between pydock and the real registry, injected by a loopback proxy:
dropped connections (resume with Range), corrupted bytes (nothing stored),
5xx and 429 answers (retry with backoff, then a clear error)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import Engine, EngineConfig
from engine.errors import DigestMismatch, RegistryError
from engine.registry.blobs import partial_path
from engine.registry.types import RegistrySettings
from tests.integration.registry_fakes import FaultProxy
from tests.integration.registry_helpers import Registry, layer_tar, make_image, start_registry

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def settings(tmp: Path, **kw: object) -> RegistrySettings:
    return RegistrySettings(certs_dir=tmp / "certs.d", docker_config_dir=tmp / "docker",
                            backoff=0.02, **kw)  # type: ignore[arg-type]


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[FaultProxy]:
    reg: Registry = start_registry(tmp_path / "registry")
    px = FaultProxy(reg.host)
    yield px
    px.stop()
    reg.stop()


@pytest.fixture
def pushed(engine: Engine, proxy: FaultProxy, tmp_path: Path) -> tuple[str, str, str]:
    """(ref, manifest digest, digest of the big layer), pushed through the proxy."""
    engine.registry_settings = settings(tmp_path)
    ref = f"{proxy.host}/fault/app:1"
    big = layer_tar({"big": os.urandom(1_000_000)})
    mdigest = make_image(engine, ref, [layer_tar({"small": b"s"}), big])
    list(engine.images_push(ref))
    layer = engine.images.record(engine.images_resolve(ref)).manifest["layers"][1]["digest"]
    proxy.log.clear()
    return ref, mdigest, layer


@pytest.fixture
def fresh(root: Path, tmp_path: Path) -> Iterator[Engine]:
    d = root.parent / (root.name + "-fresh")
    e = Engine(EngineConfig(root=d))
    e.registry_settings = settings(tmp_path)
    yield e
    shutil.rmtree(d, ignore_errors=True)


def blob_gets(proxy: FaultProxy, digest: str) -> list[str]:
    return [rng for method, path, rng, _ in proxy.log if method == "GET" and path.endswith(digest)]


def test_dropped_connection_resumes_with_range(fresh: Engine, proxy: FaultProxy,
                                               pushed: tuple[str, str, str]) -> None:
    ref, mdigest, layer = pushed
    proxy.drop_blob(layer, after=300_000, times=2)
    events = list(fresh.images_pull(ref))
    assert events[-1].digest == mdigest
    assert blob_gets(proxy, layer) == ["", "bytes=300000-", "bytes=600000-"]
    assert any(e.status == "Retrying" for e in events)
    assert fresh.content.exists(layer)
    assert not partial_path(fresh.content, layer).exists()


def test_interrupted_pull_is_resumed_by_the_next_pull(fresh: Engine, proxy: FaultProxy,
                                                      pushed: tuple[str, str, str],
                                                      tmp_path: Path) -> None:
    ref, mdigest, layer = pushed
    fresh.registry_settings = settings(tmp_path, attempts=1)
    proxy.drop_blob(layer, after=400_000)
    with pytest.raises(RegistryError, match="connection dropped|incomplete|closed"):
        list(fresh.images_pull(ref))
    assert partial_path(fresh.content, layer).stat().st_size == 400_000
    assert not fresh.content.exists(layer)
    assert fresh.images_list() == []
    fresh.registry_settings = settings(tmp_path)
    assert list(fresh.images_pull(ref))[-1].digest == mdigest
    assert blob_gets(proxy, layer)[-1] == "bytes=400000-"


def test_corrupted_blob_stores_nothing(fresh: Engine, proxy: FaultProxy,
                                      pushed: tuple[str, str, str]) -> None:
    ref, _, layer = pushed
    proxy.corrupt_blob(layer)
    with pytest.raises(DigestMismatch, match=f"expected {layer}"):
        list(fresh.images_pull(ref))
    assert not fresh.content.exists(layer)
    assert not partial_path(fresh.content, layer).exists()
    assert list(fresh.content.ingest.iterdir()) == []
    assert fresh.images_list() == []
    # The good layer may have landed (verified); the bad one has no snapshot.
    diff_ids = [m for m in fresh.snapshots.chain_ids()]
    assert len(diff_ids) <= 1


def test_server_errors_are_retried(fresh: Engine, engine: Engine, proxy: FaultProxy,
                                   pushed: tuple[str, str, str]) -> None:
    ref, mdigest, layer = pushed
    proxy.fail(r"/manifests/", 500, 2)
    proxy.fail(f"/blobs/{layer}", 503, 2)
    assert list(fresh.images_pull(ref))[-1].digest == mdigest
    statuses = [(p.split("/")[-2], s) for m, p, _, s in proxy.log if m == "GET"]
    assert statuses.count(("manifests", 500)) == 2 and statuses.count(("blobs", 503)) == 2

    proxy.fail(r"/manifests/", 500, 2)
    engine.images_tag(ref, f"{proxy.host}/fault/app:2")
    assert list(engine.images_push(f"{proxy.host}/fault/app:2"))[-1].digest == mdigest


def test_persistent_errors_are_one_clear_line(fresh: Engine, proxy: FaultProxy,
                                              pushed: tuple[str, str, str]) -> None:
    ref = pushed[0]
    proxy.fail(r"/manifests/", 500, 100)
    with pytest.raises(RegistryError) as err:
        list(fresh.images_pull(ref))
    assert str(err.value) == f"manifest for {ref}: 500 Internal Server Error"
    proxy.failures.clear()
    proxy.fail(r"/manifests/", 429, 100)
    with pytest.raises(RegistryError, match="too many requests"):
        list(fresh.images_pull(ref))
