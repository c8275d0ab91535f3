"""save/load round trips, cross-checked with skopeo in both directions."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from engine import Engine
from engine.errors import InvalidArchive, InvalidArgument
from engine.types import ImportOptions
from tests.conftest import busybox_rootfs_tar

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
needs_skopeo = pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo missing")


def _skopeo(*args: str) -> str:
    out = subprocess.run(["skopeo", "--insecure-policy", *args], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _hand_made_layout(d: Path, layers: list[bytes], ref: str) -> tuple[str, str]:
    """An OCI layout written without pydock: (manifest digest, config digest)."""
    blobs = d / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(data: bytes) -> str:
        digest = _sha(data)
        (blobs / digest[7:]).write_bytes(data)
        return digest

    diff_ids = [_sha(layer) for layer in layers]
    gz = [gzip.compress(layer, compresslevel=1, mtime=0) for layer in layers]
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "created": "2024-01-02T03:04:05Z",
                         "config": {"Cmd": ["sh"], "Env": ["PATH=/bin"]},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids},
                         "history": [{"created_by": f"step {i}"} for i in range(len(layers))]
                         }).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": put(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": put(g), "size": len(g)} for g in gz]}).encode()
    mdigest = put(manifest)
    (d / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (d / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": mdigest,
        "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": ref}}]}))
    return mdigest, _sha(config)


def _second_layer() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        data = b"hello from layer two\n"
        ti = tarfile.TarInfo("etc/motd")
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
        wh = tarfile.TarInfo("bin/.wh.cat")
        tf.addfile(wh, io.BytesIO(b""))
    return buf.getvalue()


@pytest.fixture
def two_layer_image(tmp_path: Path) -> tuple[Path, str, str]:
    layout = tmp_path / "layout"
    mdigest, cdigest = _hand_made_layout(layout, [busybox_rootfs_tar(), _second_layer()], "v1")
    return layout, mdigest, cdigest


@needs_skopeo
def test_save_is_readable_by_skopeo(engine: Engine, tmp_path: Path) -> None:
    image_id = engine.images_import(io.BytesIO(busybox_rootfs_tar()),
                                    ImportOptions(reference="busybox:saved", created=1.7e9))
    out = tmp_path / "saved.tar"
    with open(out, "wb") as f:
        engine.images_save(["busybox:saved"], f)
    info = json.loads(_skopeo("inspect", f"docker-archive:{out}"))
    layers = engine.images_inspect("busybox:saved")["RootFS"]["Layers"]
    assert info["Layers"] == layers  # uncompressed layers: digest == diff_id
    raw_cfg = json.loads(_skopeo("inspect", "--config", "--raw", f"docker-archive:{out}"))
    assert raw_cfg["rootfs"]["diff_ids"] == layers
    # skopeo copy to an OCI layout: converting docker's manifest re-serializes the
    # config (so its digest changes), but the content and the layers are the same.
    _skopeo("copy", f"docker-archive:{out}", f"oci:{tmp_path / 'oci'}:copied")
    cfg = json.loads(_skopeo("inspect", "--config", "--raw", f"oci:{tmp_path / 'oci'}:copied"))
    assert cfg == json.loads(engine.content.read(image_id))
    # Read as an OCI archive nothing is converted: the manifest digest survives.
    oci = json.loads(_skopeo("inspect", f"oci-archive:{out}:saved"))
    assert oci["Digest"] == engine.images_inspect("busybox:saved")["Descriptor"]["digest"]
    # It is an OCI archive too, with the same manifest digest we store.
    oci = json.loads(_skopeo("inspect", f"oci-archive:{out}:saved"))
    assert oci["Digest"] == engine.images_inspect("busybox:saved")["Descriptor"]["digest"]


@needs_skopeo
@pytest.mark.parametrize("kind", ["docker-archive", "oci-archive"])
def test_load_what_skopeo_wrote(engine: Engine, tmp_path: Path, kind: str,
                                two_layer_image: tuple[Path, str, str]) -> None:
    layout, mdigest, cdigest = two_layer_image
    archive = tmp_path / f"{kind}.tar"
    dest = f"{kind}:{archive}:localhost:5000/team/app:v1" if kind == "docker-archive" \
        else f"{kind}:{archive}:localhost:5000/team/app:v1"
    _skopeo("copy", f"oci:{layout}:v1", dest)
    with open(archive, "rb") as f:
        rep = engine.images_load(f)
    assert rep.images == (cdigest,)
    assert rep.tags == ("localhost:5000/team/app:v1",)
    info = engine.images_inspect("localhost:5000/team/app:v1")
    assert info["Id"] == cdigest
    if kind == "oci-archive":
        assert info["Descriptor"]["digest"] == mdigest
    assert info["Config"]["Cmd"] == ["sh"]
    assert len(info["RootFS"]["Layers"]) == 2
    top = Path(info["GraphDriver"]["Data"]["LowerDir"].split(":")[0])
    assert (top / "etc" / "motd").read_text() == "hello from layer two\n"
    st = os.lstat(top / "bin" / "cat")  # the whiteout, in overlay form
    assert (os.major(st.st_rdev), os.minor(st.st_rdev)) == (0, 0)
    assert [h.created_by for h in engine.images_history(cdigest)] == ["step 1", "step 0"]


def test_save_load_round_trip_keeps_digests(engine: Engine, tmp_path: Path,
                                            two_layer_image: tuple[Path, str, str]) -> None:
    layout, mdigest, cdigest = two_layer_image
    # Load a plain OCI layout, packed as a tar by hand (no skopeo needed).
    tar_path = tmp_path / "layout.tar"
    with tarfile.open(tar_path, "w") as tf:
        tf.add(layout, arcname=".")
    with open(tar_path, "rb") as f:
        rep = engine.images_load(f)
    assert rep.images == (cdigest,) and rep.tags == ()  # ref.name "v1" is only a tag
    engine.images_tag(cdigest, "app:1")
    saved = tmp_path / "saved.tar"
    with open(saved, "wb") as f:
        engine.images_save(["app:1"], f)
    first = saved.read_bytes()
    with open(saved, "wb") as f:
        engine.images_save(["app:1"], f)
    assert saved.read_bytes() == first  # reproducible archive
    engine.images_remove(["app:1"])
    assert engine.images_list() == []
    with open(saved, "rb") as f:
        rep = engine.images_load(f)
    assert rep.images == (cdigest,) and rep.tags == ("app:1",)
    assert engine.images_inspect("app:1")["Descriptor"]["digest"] == mdigest


def test_load_from_a_pipe_and_gzipped_archive(engine: Engine, tmp_path: Path,
                                              two_layer_image: tuple[Path, str, str]) -> None:
    layout, _, cdigest = two_layer_image
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        tf.add(layout, arcname=".")
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.write(w, buf.getvalue())
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        rep = engine.images_load(f)
    os.waitpid(pid, 0)
    assert rep.images == (cdigest,)


def test_corrupt_blob_is_refused_and_nothing_stored(engine: Engine, tmp_path: Path,
                                                    two_layer_image: tuple[Path, str, str]
                                                    ) -> None:
    layout, _, _ = two_layer_image
    blobs = sorted((layout / "blobs" / "sha256").iterdir(), key=lambda p: p.stat().st_size)
    big = blobs[-1]
    data = bytearray(big.read_bytes())
    data[len(data) // 2] ^= 0xFF
    big.write_bytes(bytes(data))
    tar_path = tmp_path / "bad.tar"
    with tarfile.open(tar_path, "w") as tf:
        tf.add(layout, arcname=".")
    with open(tar_path, "rb") as f, pytest.raises(Exception) as exc:
        engine.images_load(f)
    assert "digest mismatch" in str(exc.value)
    assert engine.images_list() == []


@pytest.mark.parametrize("payload", [b"not a tar", b""])
def test_garbage_archive_is_one_clear_error(engine: Engine, payload: bytes) -> None:
    with pytest.raises(InvalidArgument):
        engine.images_load(io.BytesIO(payload))


def test_archive_without_manifest(engine: Engine) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        ti = tarfile.TarInfo("hello.txt")
        tf.addfile(ti, io.BytesIO(b""))
    buf.seek(0)
    with pytest.raises(InvalidArchive, match="neither a docker archive"):
        engine.images_load(buf)
