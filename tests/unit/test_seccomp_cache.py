"""The compiled-program cache: same program as libseccomp, keyed by every input, self-checking."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

from engine.errors import InvalidArgument
from engine.runtime import caps, seccomp, seccomp_cache

pyseccomp = pytest.importorskip("pyseccomp")


def _export(filt: Any) -> bytes:
    with tempfile.TemporaryFile() as f:  # export_bpf writes to a real descriptor
        filt.export_bpf(f)
        f.seek(0)
        return f.read()


def test_program_is_libseccomps_and_second_start_reads_the_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = seccomp_cache.compiled(None, caps.DOCKER_DEFAULT, tmp_path)
    assert isinstance(first, seccomp_cache.CachedFilter) and first.flags == 0
    expected = _export(seccomp.compile_filter(seccomp.load_profile(None), caps.DOCKER_DEFAULT))
    assert first.program == expected
    assert len(list(tmp_path.glob("*.bpf"))) == 1

    def no_compile(*_: Any) -> None:
        raise AssertionError("compiled again")

    monkeypatch.setattr(seccomp, "compile_filter", no_compile)
    again = seccomp_cache.compiled(None, list(reversed(caps.DOCKER_DEFAULT)), tmp_path)
    assert again.program == first.program


def test_key_covers_capabilities_and_profile_bytes() -> None:
    profile = Path(seccomp.DEFAULT_PROFILE).read_bytes()
    base = seccomp_cache.key(profile, ["CAP_CHOWN", "CAP_KILL"])
    assert seccomp_cache.key(profile, ["kill", "chown"]) == base  # order and spelling
    assert seccomp_cache.key(profile, ["CAP_CHOWN", "CAP_SYS_ADMIN"]) != base
    assert seccomp_cache.key(profile + b" ", ["CAP_CHOWN", "CAP_KILL"]) != base


def test_torn_or_altered_files_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "k.bpf"
    good = seccomp_cache.CachedFilter(bytes(range(8)) * 4, 2)
    seccomp_cache.write(path, good)
    hit = seccomp_cache.read(path)
    assert hit is not None and (hit.program, hit.flags) == (good.program, 2)
    raw = path.read_bytes()
    for bad in (raw[:-8], raw[:-3], raw[:-1] + bytes([raw[-1] ^ 1]), b"", b"junk" + raw):
        path.write_bytes(bad)
        assert seccomp_cache.read(path) is None
    assert seccomp_cache.read(tmp_path / "missing.bpf") is None


def test_profile_flags_become_load_flags(tmp_path: Path) -> None:
    profile = tmp_path / "p.json"
    profile.write_text('{"defaultAction": "SCMP_ACT_ERRNO", "flags": '
                       '["SECCOMP_FILTER_FLAG_LOG"], "syscalls": [{"names": ["read"], '
                       '"action": "SCMP_ACT_ALLOW"}]}')
    filt = seccomp_cache.compiled(str(profile), ["CAP_KILL"], tmp_path / "cache")
    assert filt.flags == seccomp_cache.libc.SECCOMP_FILTER_FLAG_LOG
    hit = seccomp_cache.compiled(str(profile), ["CAP_KILL"], tmp_path / "cache")
    assert (hit.program, hit.flags) == (filt.program, filt.flags)


def test_bad_profiles_report_like_load_profile(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="opening seccomp profile"):
        seccomp_cache.compiled(str(tmp_path / "nope.json"), [], tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InvalidArgument, match="not valid JSON"):
        seccomp_cache.compiled(str(bad), [], tmp_path)
    assert not list(tmp_path.glob("*.bpf"))


def test_no_cache_dir_still_compiles() -> None:
    filt = seccomp_cache.compiled(None, caps.DOCKER_DEFAULT, None)
    assert len(filt.program) % 8 == 0 and filt.program
