from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from engine.events import EventLog


def _log(tmp_path: Path, **kw: int) -> EventLog:
    return EventLog(tmp_path / "events.jsonl", tmp_path / "events.lock", **kw)


def test_emit_and_read_with_filters(tmp_path: Path) -> None:
    log = _log(tmp_path)
    a = log.emit("image", "tag", "sha256:1", {"name": "a:1"})
    time.sleep(0.01)
    log.emit("container", "start", "c1")
    assert [e.action for e in log.read()] == ["tag", "start"]
    assert [e.type for e in log.read(match=lambda e: e.type == "image")] == ["image"]
    assert log.read(since=a.time + 0.005)[0].actor_id == "c1"
    assert log.read()[0].attributes == {"name": "a:1"}


def test_follow_sees_events_from_another_process(tmp_path: Path) -> None:
    log = _log(tmp_path)
    got: list[str] = []
    done = threading.Event()

    def follow() -> None:
        for ev in log.follow(stop=done.is_set, poll=0.05):
            got.append(ev.action)
            if len(got) == 2:
                return

    t = threading.Thread(target=follow)
    t.start()
    time.sleep(0.2)
    code = (f"import sys; sys.path.insert(0, {os.getcwd()!r})\n"
            "from pathlib import Path\nfrom engine.events import EventLog\n"
            f"log = EventLog(Path({str(tmp_path / 'events.jsonl')!r}), "
            f"Path({str(tmp_path / 'events.lock')!r}))\n"
            "log.emit('image', 'pull', 'x'); log.emit('image', 'delete', 'x')\n")
    subprocess.run([sys.executable, "-c", code], check=True)
    t.join(timeout=5)
    done.set()
    assert got == ["pull", "delete"]


def test_concurrent_writers_never_interleave(tmp_path: Path) -> None:
    log = _log(tmp_path)

    def write(n: int) -> None:
        for i in range(200):
            log.emit("image", "tag", f"w{n}-{i}", {"pad": "x" * 500})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    events = log.read()
    assert len(events) == 800
    assert len({e.actor_id for e in events}) == 800


def test_rotation_keeps_previous_file_readable(tmp_path: Path) -> None:
    log = _log(tmp_path, max_bytes=2000)
    for i in range(30):
        log.emit("image", "tag", f"id{i}")
    assert (tmp_path / "events.jsonl.1").exists()
    ids = [e.actor_id for e in log.read()]
    assert ids[-1] == "id29" and ids == sorted(ids, key=lambda s: int(s[2:]))


def test_torn_line_is_skipped(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.emit("image", "tag", "ok1")
    with open(tmp_path / "events.jsonl", "ab") as f:
        f.write(b'{"Type": "image", "Act\n')
    log.emit("image", "tag", "ok2")
    assert [e.actor_id for e in log.read()] == ["ok1", "ok2"]
