from __future__ import annotations

import io
import itertools
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pytest

from engine.errors import InvalidArgument
from engine.runtime import logs_read
from engine.runtime.logs import (
    MAX_LINE,
    LogEntry,
    LogOptions,
    LogWriter,
    follow_logs,
    format_entry,
    parse_line,
    parse_log_opts,
    read_logs,
)

T0 = 1_795_814_013_123_456_789  # 2026-11-27T21:13:33.123456789Z
ROOT = Path(__file__).resolve().parents[2]


def fixed(ns: int = T0) -> Callable[[], int]:
    return lambda: ns


def ticking(start: int = T0, step: int = 1_000_000_000) -> Callable[[], int]:
    c = itertools.count(start, step)
    return lambda: next(c)


def datas(path: Path, **kw: object) -> list[bytes]:
    return [e.data for e in read_logs(path, **kw)]  # type: ignore[arg-type]


def lines(n: int, start: int = 0) -> list[bytes]:
    return [f"line {i:05d} {'x' * 20}\n".encode() for i in range(start, start + n)]


# --- writer format -------------------------------------------------------------------

def test_writer_writes_docker_json_file_lines_byte_for_byte(tmp_path: Path) -> None:
    p = tmp_path / "ctr.log"
    with LogWriter(p, LogOptions(), clock=fixed()) as w:
        w.write("stdout", b"hello\n")
        w.write("stderr", b'a\tb <x> & "q" \\ \x01\r\n')
    t = "2026-11-27T21:13:33.123456789Z"
    assert p.read_bytes() == (
        b'{"log":"hello\\n","stream":"stdout","time":"' + t.encode() + b'"}\n'
        b'{"log":"a\\u0009b \\u003cx\\u003e \\u0026 \\"q\\" \\\\ \\u0001\\r\\n",'
        b'"stream":"stderr","time":"' + t.encode() + b'"}\n'
    )
    assert datas(p) == [b"hello\n", b'a\tb <x> & "q" \\ \x01\r\n']


def test_time_field_trims_trailing_zeros_like_go_rfc3339nano(tmp_path: Path) -> None:
    p = tmp_path / "ctr.log"
    for ns in (1_795_814_013_120_000_000, 1_795_814_013_000_000_000):
        with LogWriter(p, clock=fixed(ns)) as w:
            w.write("stdout", b"x\n")
    raw = p.read_bytes().splitlines()
    assert raw[0].endswith(b'"time":"2026-11-27T21:13:33.12Z"}')
    assert raw[1].endswith(b'"time":"2026-11-27T21:13:33Z"}')
    assert [e.time_ns for e in read_logs(p)] == [T0 - 3_456_789, T0 - 123_456_789]


def test_reads_a_line_written_by_docker() -> None:
    e = parse_line(b'{"log":"Hello from Docker!\\n","stream":"stderr",'
                   b'"time":"2019-03-13T09:16:42.1645657Z"}\n')
    assert e == LogEntry("stderr", b"Hello from Docker!\n", 1_552_468_602_164_565_700)
    assert parse_line(b'{"log":"x","stream":"stdout","time":"2019-03-13T10:16:42+01:00"}') == \
        LogEntry("stdout", b"x", 1_552_468_602_000_000_000)


def test_format_entry_plain_and_with_docker_timestamps() -> None:
    e = LogEntry("stdout", b"hi\n", 1_795_814_013_120_000_000)
    assert format_entry(e, False) == b"hi\n"
    assert format_entry(e, True) == b"2026-11-27T21:13:33.120000000Z hi\n"


# --- partial lines, unicode -----------------------------------------------------------

def test_partial_lines_are_buffered_per_stream_and_flushed(tmp_path: Path) -> None:
    p = tmp_path / "ctr.log"
    w = LogWriter(p, clock=fixed())
    w.write("stdout", b"abc")
    w.write("stderr", b"err")
    w.write("stdout", b"def\nxy")
    assert [(e.stream, e.data) for e in read_logs(p)] == [("stdout", b"abcdef\n")]
    w.write("stderr", b"!\n")
    w.flush()
    got = [(e.stream, e.data) for e in read_logs(p)]
    assert got == [("stdout", b"abcdef\n"), ("stderr", b"err!\n"), ("stdout", b"xy")]
    w.close()


def test_long_lines_split_in_16k_partials_like_docker(tmp_path: Path) -> None:
    p = tmp_path / "ctr.log"
    big = bytes(ord("a") + i % 26 for i in range(40_000)) + b"\n"
    with LogWriter(p, clock=fixed()) as w:
        w.write("stdout", big[:100])
        w.write("stdout", big[100:])
        w.write("stdout", b"z" * (MAX_LINE + 5))  # no newline: one full partial now
        assert [len(d) for d in datas(p)] == [MAX_LINE, MAX_LINE, 40_001 - 2 * MAX_LINE, MAX_LINE]
    got = datas(p)
    assert b"".join(got[:3]) == big
    assert got[4] == b"zzzzz"  # the rest went out on close


def test_unicode_is_kept_raw_and_invalid_utf8_replaced(tmp_path: Path) -> None:
    p = tmp_path / "ctr.log"
    text = "héllo ✓ 😀 \u2028\n"
    with LogWriter(p, clock=fixed()) as w:
        w.write("stdout", text.encode())
        w.write("stdout", b"\xff\xfeok\n")
    raw = p.read_bytes()
    assert "héllo ✓ 😀 \\u2028\\n".encode() in raw  # raw UTF-8, Go's escapes for U+2028
    assert b'"log":"\\ufffd\\ufffdok\\n"' in raw
    assert datas(p) == [text.encode(), "\ufffd\ufffdok\n".encode()]


def test_partial_cut_does_not_split_a_utf8_character(tmp_path: Path) -> None:
    p = tmp_path / "ctr.log"
    with LogWriter(p, clock=fixed()) as w:
        w.write("stdout", b"a" * (MAX_LINE - 1) + "é€".encode() + b"\n")
    got = datas(p)
    assert len(got[0]) == MAX_LINE - 1
    assert b"".join(got).decode() == "a" * (MAX_LINE - 1) + "é€\n"


# --- rotation -------------------------------------------------------------------------

def _rotated_names(p: Path) -> list[str]:
    return sorted(x.name for x in p.parent.iterdir() if x.name.startswith(p.name))


@pytest.mark.parametrize("compress", [False, True])
def test_rotation_keeps_max_file_files_and_loses_nothing_in_them(tmp_path: Path,
                                                                compress: bool) -> None:
    p = tmp_path / "ctr.log"
    want = lines(300)
    opts = LogOptions(max_size=2000, max_file=4, compress=compress)
    with LogWriter(p, opts, clock=ticking(step=1000)) as w:
        for i in range(0, 300, 7):  # uneven batches so rotation falls inside a batch
            w.write("stdout", b"".join(want[i:i + 7]))
    gz = ".gz" if compress else ""
    assert _rotated_names(p) == ["ctr.log", "ctr.log.1" + gz, "ctr.log.2" + gz, "ctr.log.3" + gz]
    if not compress:
        assert all(x.stat().st_size <= 2000 for x in tmp_path.iterdir())
    got = datas(p)
    assert got == want[-len(got):]  # a contiguous suffix: no gap, no duplicate
    assert len(got) > 3 * (2000 // 100)
    times = [e.time_ns for e in read_logs(p)]
    assert times == sorted(times)


def test_nothing_lost_when_every_rotated_file_is_kept(tmp_path: Path) -> None:
    p = tmp_path / "ctr.log"
    want = lines(500)
    with LogWriter(p, LogOptions(max_size=1500, max_file=1000), clock=fixed()) as w:
        for line in want:
            w.write("stdout", line)
    assert len(_rotated_names(p)) > 20
    assert datas(p) == want


def test_max_file_1_truncates_in_place(tmp_path: Path) -> None:
    p = tmp_path / "ctr.log"
    want = lines(100)
    with LogWriter(p, LogOptions(max_size=1000, max_file=1), clock=fixed()) as w:
        for line in want:
            w.write("stdout", line)
    assert _rotated_names(p) == ["ctr.log"]
    assert p.stat().st_size <= 1000
    got = datas(p)
    assert got and got == want[-len(got):]


def test_smaller_max_file_removes_leftover_rotations(tmp_path: Path) -> None:
    p = tmp_path / "ctr.log"
    with LogWriter(p, LogOptions(max_size=500, max_file=6), clock=fixed()) as w:
        for line in lines(100):
            w.write("stdout", line)
    assert len(_rotated_names(p)) == 6
    with LogWriter(p, LogOptions(max_size=500, max_file=2), clock=fixed()) as w:
        for line in lines(10, 100):
            w.write("stdout", line)
    assert _rotated_names(p) == ["ctr.log", "ctr.log.1"]


# --- reading: tail, since/until, malformed ----------------------------------------------

def test_tail_crosses_the_rotation_boundary(tmp_path: Path) -> None:
    p = tmp_path / "ctr.log"
    want = lines(200)
    with LogWriter(p, LogOptions(max_size=1000, max_file=50), clock=fixed()) as w:
        for line in want:
            w.write("stdout", line)
    in_current = len(list(logs_read._forward(open(p, "rb"), p.stat().st_size)))
    assert in_current < 15
    for n in (0, 1, in_current, in_current + 1, 37, 150):
        assert datas(p, tail=n) == (want[-n:] if n else [])
    assert datas(p, tail=-1) == want
    assert datas(p, tail=10_000) == want


def test_since_and_until_are_inclusive(tmp_path: Path) -> None:
    p = tmp_path / "ctr.log"
    want = lines(20)
    t = 1_795_814_013  # whole seconds: float seconds are exact there
    with LogWriter(p, LogOptions(max_size=600, max_file=100), clock=ticking(t * 10**9)) as w:
        for line in want:
            w.write("stdout", line)
    assert datas(p, since=t + 5) == want[5:]
    assert datas(p, until=t + 4.5) == want[:5]
    assert datas(p, since=t + 3, until=t + 7) == want[3:8]
    assert datas(p, since=t + 3, until=t + 7, tail=2) == want[6:8]
    assert datas(p, since=t + 15, tail=10) == want[15:]
    assert datas(p, since=t + 100) == []


def test_malformed_lines_are_skipped(tmp_path: Path) -> None:
    p = tmp_path / "ctr.log"
    with LogWriter(p, clock=fixed()) as w:
        w.write("stdout", b"one\n")
    with open(p, "ab") as f:
        f.write(b'garbage\n[1,2]\n{"log":"x"}\n{"log":"y","time":"yesterday"}\n\n{"log":"trunc')
        f.write(b'\n\xff\xfe\n')
    with LogWriter(p, clock=fixed()) as w:
        w.write("stdout", b"two\n")
    assert datas(p) == [b"one\n", b"two\n"]
    assert datas(p, tail=2) == [b"one\n", b"two\n"]


def test_missing_log_reads_as_empty(tmp_path: Path) -> None:
    assert list(read_logs(tmp_path / "ctr.log")) == []
    assert list(read_logs(tmp_path / "nope" / "ctr.log", tail=5)) == []
    assert list(follow_logs(tmp_path / "ctr.log", stop=lambda: True)) == []


@pytest.mark.parametrize("compress", [False, True])
def test_reads_racing_rotations_see_one_unbroken_run(tmp_path: Path, compress: bool) -> None:
    p = tmp_path / "ctr.log"
    w = LogWriter(p, LogOptions(max_size=3000, max_file=1000, compress=compress))
    done = threading.Event()

    def produce() -> None:  # a rotation every 40 lines or so
        for i in range(1500):
            w.write("stdout", f"{i}\n".encode())
            if i % 20 == 0:
                time.sleep(0.001)
        w.close()
        done.set()

    t = threading.Thread(target=produce)
    t.start()
    reads = 0
    while not done.is_set() or reads < 3:
        for nums in ([int(d) for d in datas(p)], [int(d) for d in datas(p, tail=60)]):
            assert nums == list(range(nums[0], nums[0] + len(nums))) if nums else True
        reads += 1
    t.join()
    assert [int(d) for d in datas(p)] == list(range(1500))


def test_damaged_gzip_rotation_reads_as_empty(tmp_path: Path) -> None:
    p = tmp_path / "ctr.log"
    with LogWriter(p, LogOptions(max_size=300, max_file=5, compress=True), clock=fixed()) as w:
        for line in lines(12):
            w.write("stdout", line)
    names = _rotated_names(p)
    assert "ctr.log.2.gz" in names
    (tmp_path / "ctr.log.2.gz").write_bytes(b"\x1f\x8b not really gzip")
    got = datas(p)
    assert got and got == [x for x in lines(12) if x in got]
    assert datas(p, tail=3) == lines(12)[-3:]


def test_follow_waits_for_a_half_written_line(tmp_path: Path) -> None:
    p = tmp_path / "ctr.log"
    with LogWriter(p, clock=fixed()) as w:
        w.write("stdout", b"one\n")
    line = b'{"log":"two\\n","stream":"stdout","time":"2026-11-27T21:13:33Z"}\n'
    with open(p, "ab") as f:
        f.write(line[:20])  # a writer caught mid-write
    stopped = False
    gen = follow_logs(p, stop=lambda: stopped, poll=0.01)
    assert next(gen).data == b"one\n"
    with open(p, "ab") as f:
        f.write(line[20:])
    stopped = True
    assert [e.data for e in gen] == [b"two\n"]


class _Counting(io.FileIO):
    total = 0

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        n = super().readinto(b) or 0
        _Counting.total += n
        return n


def test_tail_of_a_100mb_log_reads_only_its_end(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "ctr.log"
    line = b'{"log":"' + b"x" * 100 + b'\\n","stream":"stdout","time":"2026-11-27T21:13:33.1Z"}\n'
    chunk = line * ((1 << 20) // len(line))
    try:
        with open(p, "wb") as f:
            for _ in range(100):
                f.write(chunk)
        with LogWriter(p, LogOptions(max_size=1 << 30), clock=fixed()) as w:
            for i in range(20):
                w.write("stdout", f"last {i}\n".encode())
        assert p.stat().st_size > 100 * 1000 * 1000

        def counting_open(path: Path) -> BinaryIO:
            return io.BufferedReader(_Counting(path, "r"))

        _Counting.total = 0
        monkeypatch.setattr(logs_read, "_open", counting_open)
        assert datas(p, tail=10) == [f"last {i}\n".encode() for i in range(10, 20)]
        assert 0 < _Counting.total <= 256 * 1024
        _Counting.total = 0
        assert len(datas(p, tail=100)) == 100  # 80 lines from the bulk, still from the end
        assert _Counting.total <= 256 * 1024
    finally:
        p.unlink(missing_ok=True)


# --- follow ---------------------------------------------------------------------------

def test_follow_yields_backlog_then_new_entries_and_drains_before_stopping(tmp_path: Path) -> None:
    p = tmp_path / "ctr.log"
    w = LogWriter(p, clock=ticking())
    for line in lines(5):
        w.write("stdout", line)
    stopped = False
    gen = follow_logs(p, tail=2, stop=lambda: stopped, poll=0.01)
    assert [next(gen).data for _ in range(2)] == lines(5)[3:]
    for line in lines(3, 5):
        w.write("stdout", line)
    w.write("stdout", b"half")
    stopped = True
    w.write("stdout", b" done\n")  # written after stop() turned true but before the drain
    assert [e.data for e in gen] == lines(3, 5) + [b"half done\n"]
    w.close()


def test_follow_survives_several_rotations_between_polls(tmp_path: Path) -> None:
    p = tmp_path / "ctr.log"
    w = LogWriter(p, LogOptions(max_size=500, max_file=100), clock=fixed())
    for line in lines(3):
        w.write("stdout", line)
    stopped = False
    gen = follow_logs(p, stop=lambda: stopped, poll=0.01)
    assert [next(gen).data for _ in range(3)] == lines(3)
    for line in lines(40, 3):  # about eight rotations while the follower is not looking
        w.write("stdout", line)
    stopped = True
    assert [e.data for e in gen] == lines(40, 3)
    w.close()


def test_follow_rewinds_after_truncation(tmp_path: Path) -> None:
    p = tmp_path / "ctr.log"
    w = LogWriter(p, LogOptions(max_size=1000, max_file=1), clock=fixed())
    first = lines(9)
    w.write("stdout", b"".join(first))
    stopped = False
    gen = follow_logs(p, stop=lambda: stopped, poll=0.01)
    assert [next(gen).data for _ in range(9)] == first
    w.write("stdout", b"".join(lines(2, 9)))  # does not fit: truncate, then these two
    stopped = True
    assert [e.data for e in gen] == lines(2, 9)
    w.close()


@pytest.mark.parametrize("compress", [False, True])
def test_follow_while_a_thread_writes_and_rotates(tmp_path: Path, compress: bool) -> None:
    p = tmp_path / "ctr.log"
    want = lines(600)
    w = LogWriter(p, LogOptions(max_size=2000, max_file=1000, compress=compress))
    done = threading.Event()

    def produce() -> None:
        for i, line in enumerate(want):
            w.write("stdout" if i % 3 else "stderr", line)
            if i % 20 == 0:
                time.sleep(0.002)
        w.close()
        done.set()

    t = threading.Thread(target=produce)
    t.start()
    got = [e for e in follow_logs(p, stop=done.is_set, poll=0.005)]
    t.join()
    assert [e.data for e in got] == want
    assert [e.stream for e in got] == ["stdout" if i % 3 else "stderr" for i in range(600)]
    assert len(_rotated_names(p)) > 10


def test_follow_while_another_process_writes_and_rotates(tmp_path: Path) -> None:
    p = tmp_path / "ctr.log"
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from engine.runtime.logs import LogOptions, LogWriter\n"
        "w = LogWriter(Path(sys.argv[1]), LogOptions(max_size=3000, max_file=1000))\n"
        "for i in range(400):\n"
        "    w.write('stdout', f'line {i:05d} {\"x\" * 20}\\n'.encode())\n"
        "    if i % 25 == 0: time.sleep(0.005)\n"
        "w.close()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", code, str(p)], env=env)
    try:
        deadline = time.monotonic() + 30
        while not p.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        got = [e.data for e in follow_logs(p, stop=lambda: proc.poll() is not None, poll=0.005)]
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == 0
    assert got == lines(400)


# --- options --------------------------------------------------------------------------

@pytest.mark.parametrize(("opts", "want"), [
    ([], LogOptions(10 * 1024 * 1024, 3, False)),
    (["max-size=512k"], LogOptions(max_size=512 * 1024)),
    (["max-size=10m", "max-file=5"], LogOptions(10 << 20, 5)),
    (["max-size=1g"], LogOptions(max_size=1 << 30)),
    (["max-size=10M"], LogOptions(max_size=10 << 20)),
    (["max-size=100b"], LogOptions(max_size=100)),
    (["max-size=4096"], LogOptions(max_size=4096)),
    (["max-size=1.5k"], LogOptions(max_size=1536)),
    (["max-size=20MB"], LogOptions(max_size=20 << 20)),
    (["max-file=1"], LogOptions(max_file=1)),
    (["compress=true", "max-file=2"], LogOptions(max_file=2, compress=True)),
    (["compress=false"], LogOptions()),
    (["max-size=1k", "max-size=2k"], LogOptions(max_size=2048)),
])
def test_parse_log_opts_accepts_docker_values(opts: list[str], want: LogOptions) -> None:
    assert parse_log_opts(opts) == want


@pytest.mark.parametrize(("opt", "needle"), [
    ("max-size=abc", "'abc'"),
    ("max-size=0", "'0'"),
    ("max-size=-1", "'-1'"),
    ("max-size=10x", "'10x'"),
    ("max-size=", "''"),
    ("max-size=10m,max-file=3", "'10m,max-file=3'"),
    ("max-file=0", "'0'"),
    ("max-file=two", "'two'"),
    ("max-file=-2", "'-2'"),
    ("compress=maybe", "'maybe'"),
    ("labels=a", "'labels'"),
    ("foo=bar", "'foo'"),
    ("max-size", "'max-size'"),
])
def test_parse_log_opts_rejects_bad_values_in_one_line(opt: str, needle: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        parse_log_opts([opt])
    msg = str(exc.value)
    assert needle in msg and "\n" not in msg


def test_compress_needs_rotation() -> None:
    with pytest.raises(InvalidArgument, match="max-file"):
        parse_log_opts(["compress=true", "max-file=1"])
