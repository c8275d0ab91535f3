"""Push and pull against the real registry (anonymous, plain HTTP on loopback),
cross-checked with skopeo in both directions."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import Engine, EngineConfig
from engine.errors import ImageNotFound, RemoteNotFound
from engine.registry.types import PullOptions, RegistrySettings
from tests.integration.registry_helpers import (
    Registry,
    layer_tar,
    make_image,
    skopeo,
    start_registry,
)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
_SCRIPT = Path(sys.executable).parent / "pydock"
PYDOCK = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "app.cli"]
REPO = Path(__file__).resolve().parents[2]


def settings(tmp: Path, **kw: object) -> RegistrySettings:
    return RegistrySettings(certs_dir=tmp / "certs.d", docker_config_dir=tmp / "docker",
                            backoff=0.05, **kw)  # type: ignore[arg-type]


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    reg = start_registry(tmp_path / "registry")
    yield reg
    reg.stop()


@pytest.fixture
def eng(engine: Engine, tmp_path: Path) -> Engine:
    engine.registry_settings = settings(tmp_path)
    return engine


@pytest.fixture
def other(root: Path, tmp_path: Path) -> Iterator[Engine]:
    """A second, empty engine to pull into."""
    d = root.parent / (root.name + "-other")
    e = Engine(EngineConfig(root=d))
    e.registry_settings = settings(tmp_path)
    yield e
    shutil.rmtree(d, ignore_errors=True)


def three_layers() -> list[bytes]:
    return [layer_tar({"etc/one": b"1" * 100_000}), layer_tar({"etc/two": os.urandom(300_000)}),
            layer_tar({"usr/three": b"three\n"})]


def test_round_trip_keeps_digests(eng: Engine, other: Engine, registry: Registry) -> None:
    ref = f"{registry.host}/team/app:v1"
    mdigest = make_image(eng, ref, three_layers())
    events = list(eng.images_push(ref))
    assert [e.status for e in events].count("Pushed") == 4  # three layers + the final line
    assert events[-1].done and events[-1].digest == mdigest and events[-1].tag == "v1"
    assert f"{registry.host}/team/app@{mdigest}" in eng.images_inspect(ref)["RepoDigests"]

    pulled = list(other.images_pull(ref))
    final = pulled[-1]
    assert final.done and final.fresh and final.digest == mdigest
    assert final.image_id == eng.images_resolve(ref)
    statuses = {(e.id, e.status) for e in pulled}
    assert sum(1 for _, s in statuses if s == "Pull complete") == 3
    info = other.images_inspect(ref)
    assert info["RepoDigests"] == [f"{registry.host}/team/app@{mdigest}"]
    rec = other.images.record(final.image_id)
    top = other.snapshots.diff_dir(rec.chain_ids[-1])
    assert (top / "usr/three").read_bytes() == b"three\n"
    assert (other.snapshots.diff_dir(rec.chain_ids[0]) / "etc/one").stat().st_size == 100_000

    again = list(other.images_pull(ref))
    assert not again[-1].fresh
    assert {e.status for e in again if e.id and e.id != "v1"} == {"Already exists"}
    by_digest = list(other.images_pull(f"{registry.host}/team/app@{mdigest}"))
    assert by_digest[-1].image_id == final.image_id
    assert not list(other.content.ingest.iterdir())  # no partial left behind


def test_cross_repository_mount_and_chunked_upload(eng: Engine, registry: Registry,
                                                   tmp_path: Path) -> None:
    eng.registry_settings = settings(tmp_path, upload_chunk_size=64 << 10)
    ref = f"{registry.host}/a/app:1"
    mdigest = make_image(eng, ref, three_layers())
    list(eng.images_push(ref))  # the 300 kB layer goes up in 64 KiB PATCH chunks
    eng.images_tag(ref, f"{registry.host}/b/app:1")
    events = list(eng.images_push(f"{registry.host}/b/app:1"))
    assert [e.status for e in events if e.id].count("Mounted from a/app") == 3
    assert events[-1].digest == mdigest
    raw = skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{registry.host}/b/app:1")
    assert "sha256:" + __import__("hashlib").sha256(raw.encode()).hexdigest() == mdigest


def test_skopeo_reads_what_pydock_pushed(eng: Engine, registry: Registry, tmp_path: Path) -> None:
    ref = f"{registry.host}/team/app:v2"
    mdigest = make_image(eng, ref, three_layers())
    list(eng.images_push(ref))
    info = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{ref}"))
    assert info["Digest"] == mdigest
    assert info["Layers"] == [x["digest"] for x in eng.images.record(
        eng.images_resolve(ref)).manifest["layers"]]
    skopeo("copy", "--src-tls-verify=false", f"docker://{ref}", f"oci:{tmp_path}/copy:v2")
    index = json.loads((tmp_path / "copy/index.json").read_text())
    assert index["manifests"][0]["digest"] == mdigest


def _layout(d: Path, images: list[tuple[str, list[bytes]]]) -> tuple[str, list[str]]:
    """An OCI layout with an index over one image per (arch, layers): (index digest,
    manifest digests), written without pydock."""
    import gzip
    import hashlib

    blobs = d / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        (blobs / digest[7:]).write_bytes(data)
        return digest

    descs, digests = [], []
    for arch, layers in images:
        gz = [gzip.compress(x, mtime=0) for x in layers]
        config = json.dumps({"architecture": arch, "os": "linux", "rootfs": {
            "type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(x).hexdigest()
                                           for x in layers]}}).encode()
        manifest = json.dumps({"schemaVersion": 2,
                               "mediaType": "application/vnd.oci.image.manifest.v1+json",
                               "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                          "digest": put(config), "size": len(config)},
                               "layers": [{"mediaType":
                                           "application/vnd.oci.image.layer.v1.tar+gzip",
                                           "digest": put(g), "size": len(g)} for g in gz]}).encode()
        digests.append(put(manifest))
        descs.append({"mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "digest": digests[-1], "size": len(manifest),
                      "platform": {"os": "linux", "architecture": arch}})
    index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                        "manifests": descs}).encode()
    idigest = put(index)
    (d / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (d / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.index.v1+json", "digest": idigest,
        "size": len(index), "annotations": {"org.opencontainers.image.ref.name": "multi"}}]}))
    return idigest, digests


def test_pydock_pulls_what_skopeo_pushed_and_picks_the_platform(
        eng: Engine, registry: Registry, tmp_path: Path) -> None:
    idigest, (amd, arm) = _layout(tmp_path / "layout", [
        ("amd64", [layer_tar({"arch": b"amd64\n"})]),
        ("arm64", [layer_tar({"arch": b"arm64\n"}), layer_tar({"more": b"x"})])])
    ref = f"{registry.host}/multi/img:1"
    skopeo("copy", "--all", "--dest-tls-verify=false", f"oci:{tmp_path}/layout:multi",
           f"docker://{ref}")
    final = list(eng.images_pull(ref))[-1]
    assert final.digest == idigest  # docker's RepoDigest is the index's
    assert eng.images.record(final.image_id).manifest_digest == amd
    assert eng.images_inspect(ref)["RepoDigests"] == [f"{registry.host}/multi/img@{idigest}"]
    arm_final = list(eng.images_pull(ref, PullOptions(platform="linux/arm64")))[-1]
    rec = eng.images.record(arm_final.image_id)
    assert rec.manifest_digest == arm and rec.config["architecture"] == "arm64"
    assert (eng.snapshots.diff_dir(rec.chain_ids[0]) / "arch").read_bytes() == b"arm64\n"
    with pytest.raises(RemoteNotFound, match="no matching manifest for linux/s390x"):
        list(eng.images_pull(ref, PullOptions(platform="linux/s390x")))


def test_missing_tag_and_repository_are_clear(eng: Engine, registry: Registry) -> None:
    make_image(eng, f"{registry.host}/x/y:1", [layer_tar({"a": b"a"})])
    list(eng.images_push(f"{registry.host}/x/y:1"))
    with pytest.raises(RemoteNotFound, match="manifest unknown"):
        list(eng.images_pull(f"{registry.host}/x/y:nope"))
    with pytest.raises(RemoteNotFound, match="(name|manifest) unknown"):
        list(eng.images_pull(f"{registry.host}/no/such:1"))
    with pytest.raises(ImageNotFound):
        list(eng.images_push(f"{registry.host}/x/y:not-local"))


def cli(root: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCKER_CONFIG": str(tmp / "docker")}
    return subprocess.run([*PYDOCK, "--root", str(root), *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env=env)


def test_cli_push_pull_and_run_pull_policy(eng: Engine, root: Path, registry: Registry,
                                           tmp_path: Path) -> None:
    from tests.conftest import busybox_rootfs_tar

    ref = f"{registry.host}/cli/bb:1"
    (tmp_path / "rootfs.tar").write_bytes(busybox_rootfs_tar())
    assert cli(root, tmp_path, "import", str(tmp_path / "rootfs.tar"), ref).returncode == 0
    r = cli(root, tmp_path, "push", ref)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"The push refers to repository [{registry.host}/cli/bb]"
    assert lines[-1].startswith("1: digest: sha256:") and "size:" in lines[-1]
    assert any(line.endswith(": Pushed") for line in lines)

    fresh = root.parent / (root.name + "-cli")
    try:
        r = cli(fresh, tmp_path, "pull", ref)
        assert r.returncode == 0, r.stderr
        out = r.stdout.splitlines()
        assert out[0] == f"1: Pulling from {registry.host}/cli/bb"
        assert any(line.endswith(": Pull complete") for line in out)
        assert out[-3].startswith("Digest: sha256:")
        assert out[-2] == f"Status: Downloaded newer image for {ref}"
        assert out[-1] == ref
        r = cli(fresh, tmp_path, "pull", "-q", ref)
        assert r.stdout == ref + "\n"
        r = cli(fresh, tmp_path, "pull", f"{registry.host}/cli/none:1")
        assert r.returncode == 1 and r.stderr.count("\n") == 1
        assert r.stderr.startswith("Error: manifest for") and "manifest unknown" in r.stderr

        other = f"{registry.host}/cli/bb:2"
        r = cli(fresh, tmp_path, "create", "--pull", "never", other, "true")
        assert r.returncode == 125 and "No such image" in r.stderr
        assert cli(root, tmp_path, "tag", ref, other).returncode == 0
        assert cli(root, tmp_path, "push", other).returncode == 0
        r = cli(fresh, tmp_path, "create", "--pull", "missing", other, "true")
        assert r.returncode == 0, r.stderr
        assert f"Unable to find image '{other}' locally" in r.stderr
        assert f"Status: Downloaded newer image for {other}" in r.stderr
        cid = r.stdout.strip()
        assert cli(fresh, tmp_path, "rm", cid).returncode == 0
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
