"""The behaviour the TUI relies on, asserted alike for the real engine and the fake.

Each test runs twice (``subject`` is parametrized, see conftest.py): a failure on
``[fake]`` only means the fake drifted from the engine; on ``[real]`` only, the engine
changed under the TUI's feet. Waits poll for a state (``eventually``) because the
real engine's monitor records exits asynchronously; the fake is already there.
"""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from engine.errors import (
    AlreadyExists,
    Conflict,
    ContainerNotFound,
    EngineError,
    ImageNotFound,
    InvalidArgument,
    NotFound,
)
from engine.types import (
    ContainerSummary,
    CreateOptions,
    ImageSummary,
    ImportOptions,
    NetworkCreateOptions,
    StatsSample,
    UpdateOptions,
    VolumeCreateOptions,
)
from engine.types_tools import CommitOptions
from tests.conformance.conftest import (
    CHATTY,
    CREATED,
    EXIT3,
    IMAGE,
    MiB,
    Subject,
    eventually,
    scripted_fake,
)
from tests.ui.conftest import rootfs_tar

HEALTH_FAST: dict[str, Any] = {"health_interval": 100_000_000, "health_retries": 1}


def errors(reports: list[Any]) -> list[str | None]:
    return [r.error for r in reports]


# -- images ---------------------------------------------------------------------------------
def test_images_list_and_inspect(subject: Subject) -> None:
    eng = subject.engine
    rows = eng.images_list()
    assert [(r.repository, r.tag) for r in rows] == [("busybox", "local")]
    row = rows[0]
    assert isinstance(row, ImageSummary)
    assert row.id == subject.image_id and row.id.startswith("sha256:") and len(row.id) == 71
    assert row.created == CREATED and row.size > 1_000_000 and row.containers == 0
    assert row.digest.startswith("sha256:")
    data = eng.images_inspect(IMAGE)
    assert data["Id"] == row.id and data["RepoTags"] == [IMAGE]
    assert data["Config"]["Cmd"] == ["sh"] and data["Os"] == "linux"
    assert data["Size"] == row.size and len(data["RootFS"]["Layers"]) == 1
    history = eng.images_history(IMAGE)
    assert [h.comment for h in history] == ["Imported from busybox.tar"]
    assert history[0].id == row.id and history[0].created == CREATED
    assert eng.images_resolve("busybox:local") == eng.images_resolve(row.id[7:19]) == row.id
    ev = subject.since(0, "image")
    assert [(e.action, e.actor_id, e.attributes) for e in ev] == [
        ("import", row.id, {"name": IMAGE})]
    with pytest.raises(ImageNotFound, match="No such image: nope:1"):
        eng.images_inspect("nope:1")


def test_images_tag_remove_and_prune(subject: Subject) -> None:
    eng = subject.engine
    mark = subject.mark()
    assert eng.images_tag(IMAGE, "extra:1") == subject.image_id
    assert sorted((r.repository, r.tag) for r in eng.images_list()) == [
        ("busybox", "local"), ("extra", "1")]
    # By ID with two names: refused; by one of two names: only untagged.
    assert "must be forced" in str(errors(eng.images_remove([subject.image_id]))[0])
    rep = eng.images_remove(["extra:1"])[0]
    assert rep.error is None and rep.untagged == ("extra:1",) and rep.deleted == ()
    # In use by a container (even one never started): refused without force.
    subject.create("user")
    assert eng.images_list()[0].containers == 1
    assert "being used by container user" in str(errors(eng.images_remove([IMAGE]))[0])
    # Prune: tagged images stay; a dangling one goes.
    assert eng.images_prune().deleted == ()
    other = eng.images_import(rootfs_tar(), ImportOptions(created=CREATED), source="x.tar")
    assert ("<none>", "<none>") in {(r.repository, r.tag) for r in eng.images_list()}
    assert eng.images_prune().deleted == (other,)
    assert {r.id for r in eng.images_list()} == {subject.image_id}
    assert "No such image: gone:1" in str(errors(eng.images_remove(["gone:1"]))[0])
    actions = [(e.action, e.attributes.get("name", "")) for e in subject.since(mark, "image")]
    assert actions == [("tag", "extra:1"), ("untag", "extra:1"), ("prune", ""), ("import", ""),
                       ("delete", ""), ("prune", "")]


def test_fake_import_gives_the_real_image_id(subject: Subject, tmp_path: Path) -> None:
    """Same tarball and options, same ID: snapshots made with the fake show real IDs."""
    fake = scripted_fake(tmp_path / "other-fake")
    ids = [e.images_import(rootfs_tar(), ImportOptions(reference="hello:1.0", created=CREATED),
                           source="rootfs.tar") for e in (fake, subject.engine)]
    assert ids[0] == ids[1]


# -- containers: create, list, inspect -----------------------------------------------------------
def test_create_lists_and_inspects(subject: Subject) -> None:
    eng = subject.engine
    mark = subject.mark()
    cid = subject.create("web", labels=(("com.docker.compose.project", "shop"),))
    assert len(cid) == 64 and eng.containers_resolve("web") == cid
    assert eng.containers_resolve(cid[:10]) == cid
    assert eng.containers_list() == []  # running ones only by default
    [c] = eng.containers_list(all=True)
    assert isinstance(c, ContainerSummary)
    assert (c.id, c.name, c.image, c.image_id, c.command) == (
        cid, "web", IMAGE, subject.image_id, "sleep 1000")
    assert (c.status, c.exit_code, c.started_at, c.finished_at, c.pid, c.health, c.ports) == (
        "created", 0, 0.0, 0.0, 0, "", "")
    assert c.labels == {"com.docker.compose.project": "shop"} and c.created > CREATED
    data = eng.containers_inspect("web")
    assert data["Id"] == cid and data["Name"] == "/web" and data["Image"] == subject.image_id
    assert (data["Path"], data["Args"]) == ("sleep", ["1000"])
    st = data["State"]
    assert (st["Status"], st["Running"], st["Paused"], st["Pid"], st["ExitCode"]) == (
        "created", False, False, 0, 0)
    assert data["HostConfig"]["NetworkMode"] == "none"
    assert data["Config"]["Labels"] == {"com.docker.compose.project": "shop"}
    assert any(e.startswith("PATH=") for e in data["Config"]["Env"])
    assert list(data["NetworkSettings"]["Networks"]) == ["none"]
    [ev] = subject.since(mark)
    assert (ev.action, ev.actor_id, ev.attributes) == ("create", cid, {
        "name": "web", "image": IMAGE, "com.docker.compose.project": "shop"})
    # Newest first.
    subject.create("db")
    assert [c.name for c in eng.containers_list(all=True)] == ["db", "web"]


def test_create_refuses_bad_input(subject: Subject) -> None:
    eng = subject.engine
    subject.create("web")
    with pytest.raises(AlreadyExists, match='name "/web" is already in use'):
        subject.create("web")
    with pytest.raises(InvalidArgument, match="invalid container name"):
        subject.create("bad name!")
    with pytest.raises(ImageNotFound, match="No such image: nope:1"):
        eng.containers_create(CreateOptions(image="nope:1", command=("true",)))
    assert [c.name for c in eng.containers_list(all=True)] == ["web"]


# -- containers: the state machine ---------------------------------------------------------------
def test_start_pause_unpause_stop_restart(subject: Subject) -> None:
    eng = subject.engine
    cid = subject.create("web")
    mark = subject.mark()
    eng.containers_start("web")
    c = subject.summary("web")
    assert c.status == "running" and c.pid > 0 and c.started_at > 0
    assert [x.id for x in eng.containers_list()] == [cid]
    assert eng.containers_inspect("web")["State"]["Running"] is True
    with pytest.raises(Conflict, match="already running"):
        eng.containers_start("web")
    assert errors(eng.containers_pause(["web"])) == [None]
    assert subject.status("web") == "paused" and [x.id for x in eng.containers_list()] == [cid]
    assert eng.containers_inspect("web")["State"]["Paused"] is True
    assert errors(eng.containers_pause(["web"])) == ["container web is already paused"]
    assert errors(eng.containers_unpause(["web"])) == [None]
    assert subject.status("web") == "running"
    assert errors(eng.containers_unpause(["web"])) == ["container web is not paused"]
    assert subject.actions(mark) == ["start", "pause", "unpause"]

    mark = subject.mark()
    assert errors(eng.containers_stop(["web"])) == [None]
    c = subject.summary("web")
    assert (c.status, c.exit_code, c.pid) == ("exited", 137, 0) and c.finished_at >= c.started_at
    kills = [e.attributes.get("signal") for e in subject.since(mark) if e.action == "kill"]
    assert subject.actions(mark) == ["kill", "kill", "die", "stop"] and kills == ["15", "9"]
    assert [e.attributes.get("exitCode") for e in subject.since(mark)
            if e.action == "die"] == ["137"]
    mark = subject.mark()
    assert errors(eng.containers_stop(["web"])) == [None]  # stopping stopped: nothing happens
    assert subject.actions(mark) == []
    assert errors(eng.containers_kill(["web"])) == [
        "cannot kill container web: container is not running"]
    assert errors(eng.containers_pause(["web"])) == [
        "cannot pause container web: container is not running"]

    mark = subject.mark()
    assert errors(eng.containers_restart(["web"])) == [None]
    assert subject.status("web") == "running"
    assert subject.actions(mark) == ["start", "restart"]
    mark = subject.mark()
    assert errors(eng.containers_restart(["web"])) == [None]
    assert subject.status("web") == "running"
    assert subject.actions(mark) == ["kill", "kill", "die", "stop", "start", "restart"]
    # A paused container is thawed first, then stopped as usual.
    eng.containers_pause(["web"])
    mark = subject.mark()
    assert errors(eng.containers_stop(["web"])) == [None]
    assert subject.actions(mark) == ["unpause", "kill", "kill", "die", "stop"]
    assert subject.status("web") == "exited"


def test_kill_and_exit_by_itself(subject: Subject) -> None:
    eng = subject.engine
    subject.create("web", start=True)
    mark = subject.mark()
    assert errors(eng.containers_kill(["web"])) == [None]
    eventually(lambda: subject.status("web") == "exited", what="killed")
    assert subject.summary("web").exit_code == 137
    eventually(lambda: "die" in subject.actions(mark))
    assert subject.actions(mark) == ["kill", "die"]
    assert subject.since(mark)[0].attributes["signal"] == "9"

    subject.create("three", EXIT3)
    mark = subject.mark()
    eng.containers_start("three")
    assert eng.containers_wait("three") == 3
    eventually(lambda: subject.status("three") == "exited", what="exit 3")
    assert subject.summary("three").exit_code == 3
    eventually(lambda: "die" in subject.actions(mark))
    assert subject.actions(mark) == ["start", "die"]
    assert subject.since(mark)[-1].attributes["exitCode"] == "3"


def test_remove_rules(subject: Subject) -> None:
    eng = subject.engine
    cid = subject.create("web", start=True)
    subject.create("idle")
    assert errors(eng.containers_remove(["web"])) == [
        "cannot remove container web: container is running: stop the container before "
        "removing or force remove"]
    assert subject.status("web") == "running"
    mark = subject.mark()
    reports = eng.containers_remove(["web", "idle", "nope"], force=True)
    assert [(r.item, bool(r.id), r.error) for r in reports] == [
        ("web", True, None), ("idle", True, None), ("nope", False, "No such container: nope")]
    assert reports[0].id == cid
    assert eng.containers_list(all=True) == []
    web = subject.actions(mark, "web")
    assert web[0] == "kill" and "die" in web and web[-1] == "destroy"
    assert subject.actions(mark, "idle") == ["destroy"]


def test_prune_removes_stopped_containers_only(subject: Subject) -> None:
    eng = subject.engine
    subject.create("web", start=True)
    idle = subject.create("idle")
    mark = subject.mark()
    rep = eng.containers_prune()
    assert rep.deleted == (idle,)
    assert [c.name for c in eng.containers_list(all=True)] == ["web"]
    assert subject.actions(mark, "idle") == ["destroy"]
    assert eng.containers_prune().deleted == ()


def test_rename(subject: Subject) -> None:
    eng = subject.engine
    cid = subject.create("web")
    subject.create("db")
    mark = subject.mark()
    eng.containers_rename("web", "web2")
    assert subject.summary(cid).name == "web2" and eng.containers_resolve("web2") == cid
    [ev] = subject.since(mark)
    assert (ev.action, ev.attributes["name"], ev.attributes["oldName"]) == (
        "rename", "web2", "/web")
    # docker answers 409 Conflict; the engine's class for it is AlreadyExists.
    with pytest.raises(AlreadyExists, match='name "/db" is already in use'):
        eng.containers_rename("web2", "db")
    with pytest.raises(InvalidArgument):
        eng.containers_rename("web2", "no/slash")
    with pytest.raises(ContainerNotFound):
        eng.containers_rename("web", "x")


def test_unknown_containers(subject: Subject) -> None:
    eng = subject.engine
    for call in (lambda: eng.containers_inspect("nope"), lambda: eng.containers_start("nope"),
                 lambda: eng.containers_logs("nope"), lambda: eng.containers_top("nope"),
                 lambda: eng.containers_stats(["nope"]), lambda: eng.containers_resolve("")):
        with pytest.raises(NotFound, match="No such container"):
            call()
    for verb in (eng.containers_stop, eng.containers_kill, eng.containers_pause,
                 eng.containers_unpause, eng.containers_restart, eng.containers_remove):
        assert errors(verb(["nope"])) == ["No such container: nope"]
    assert errors(eng.containers_update(["nope"], UpdateOptions(memory=64 * MiB))) == [
        "Cannot update container nope: No such container: nope"]


# -- logs, stats, top, health, update --------------------------------------------------------------
def test_logs(subject: Subject) -> None:
    eng = subject.engine
    subject.create("quiet")
    assert list(eng.containers_logs("quiet")) == []
    subject.create("web", CHATTY, start=True)

    def lines(**kw: object) -> list[tuple[str, bytes]]:
        return [(e.stream, e.data) for e in eng.containers_logs("web", **kw)]

    eventually(lambda: len(lines()) == 2, what="two log lines")
    assert lines() == [("stdout", b"one\n"), ("stderr", b"two\n")]
    assert lines(tail=1) == [("stderr", b"two\n")]
    entries = list(eng.containers_logs("web"))
    assert entries[0].time_ns <= entries[1].time_ns
    # A follow returns the past lines, then ends as soon as stop() says so.
    stop = threading.Event()
    got: list[bytes] = []

    def follow() -> None:
        for e in eng.containers_logs("web", follow=True, tail=10, stop=stop.is_set):
            got.append(e.data)

    t = threading.Thread(target=follow)
    t.start()
    eventually(lambda: len(got) == 2, what="followed lines")
    stop.set()
    t.join(10)
    assert not t.is_alive() and got == [b"one\n", b"two\n"]


def test_stats_and_top(subject: Subject) -> None:
    eng = subject.engine
    cid = subject.create("web", start=True)
    idle = subject.create("idle")
    [s] = [s for s in eng.containers_stats() if s.id == cid]
    assert isinstance(s, StatsSample) and s.name == "web" and s.read > CREATED
    assert s.mem_usage > 0 and s.mem_limit > 0 and s.pids >= 1 and s.cpu_percent >= 0
    assert s.mem_percent == pytest.approx(s.mem_usage / s.mem_limit * 100)
    assert idle not in {x.id for x in eng.containers_stats()}
    [z] = eng.containers_stats(["idle"])  # named but not running: zeros, as docker
    assert (z.id, z.mem_usage, z.mem_limit, z.pids, z.cpu_percent) == (idle, 0, 0, 0, 0.0)
    titles, rows = eng.containers_top("web")
    assert titles == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert [r[-1] for r in rows] == ["sleep 1000"] and rows[0][0] == "root"
    with pytest.raises(Conflict, match="container idle is not running"):
        eng.containers_top("idle")
    eng.containers_pause(["web"])
    assert cid in {x.id for x in eng.containers_stats()}  # paused still has a cgroup


def test_health_in_list_and_events(subject: Subject) -> None:
    eng = subject.engine
    mark = subject.mark()
    subject.create("ok", start=True, health_cmd="true", **HEALTH_FAST)
    subject.create("bad", start=True, health_cmd="false", **HEALTH_FAST)
    eventually(lambda: subject.summary("ok").health == "healthy", what="healthy")
    eventually(lambda: subject.summary("bad").health == "unhealthy", what="unhealthy")
    # The monitor records the status, then announces it: the event may trail a moment.
    eventually(lambda: "health_status: healthy" in subject.actions(mark, "ok"))
    eventually(lambda: "health_status: unhealthy" in subject.actions(mark, "bad"))
    assert eng.containers_inspect("ok")["State"]["Health"]["Status"] == "healthy"
    eng.containers_stop(["ok"], timeout=0)
    assert subject.summary("ok").health == ""  # only a live container has a health


def test_update_limits_and_policy(subject: Subject) -> None:
    eng = subject.engine
    subject.create("web")
    mark = subject.mark()
    reports = eng.containers_update(["web"], UpdateOptions(memory=64 * MiB,
                                                           restart="on-failure:3"))
    assert errors(reports) == [None]
    hc = eng.containers_inspect("web")["HostConfig"]
    assert hc["Memory"] == 64 * MiB
    assert hc["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert subject.actions(mark) == ["update"]
    [bad] = errors(eng.containers_update(["web"], UpdateOptions(restart="sometimes")))
    assert str(bad).startswith("Cannot update container web: ")


def test_commit_makes_an_image(subject: Subject) -> None:
    eng = subject.engine
    cid = subject.create("web")
    mark = subject.mark()
    image_id = eng.containers_commit("web", CommitOptions(reference="snap:1", message="hi"))
    assert image_id != subject.image_id and image_id.startswith("sha256:")
    assert ("snap", "1") in {(r.repository, r.tag) for r in eng.images_list()}
    assert eng.images_inspect("snap:1")["Config"]["Cmd"] == ["sleep", "1000"]
    [ev] = subject.since(mark, "image")
    assert (ev.action, ev.actor_id, ev.attributes) == (
        "commit", image_id, {"name": "snap:1", "container": cid, "comment": "hi"})


# -- volumes ------------------------------------------------------------------------------------
def test_volumes(subject: Subject) -> None:
    eng = subject.engine
    mark = subject.mark()
    meta = eng.volumes_create(VolumeCreateOptions(name="data", labels=(("team", "a"),)))
    assert (meta["Name"], meta["Driver"], meta["Labels"]) == ("data", "local", {"team": "a"})
    assert meta["Mountpoint"].endswith("/volumes/data/_data")
    assert eng.volumes_create(VolumeCreateOptions(name="data"))["Name"] == "data"  # idempotent
    with pytest.raises(InvalidArgument):
        eng.volumes_create(VolumeCreateOptions(name="bad name"))
    assert eng.volumes_inspect("data")["Name"] == "data"
    with pytest.raises(NotFound):
        eng.volumes_inspect("nope")
    subject.create("web", volumes=("data:/data", "/scratch"))
    vols = {v.name: v for v in eng.volumes_list()}
    assert set(vols) - {"data"} and vols["data"].containers == ("web",)
    [anon] = [v for v in vols.values() if v.name != "data"]
    assert anon.anonymous and len(anon.name) == 64 and anon.containers == ("web",)
    assert not vols["data"].anonymous and vols["data"].size == -1
    assert [v.name for v in eng.volumes_list(filters=["dangling=true"])] == []
    assert "volume is in use - [web]" in str(errors(eng.volumes_remove(["data"]))[0])
    mounts = eng.containers_inspect("web")["Mounts"]
    assert {(m["Type"], m.get("Name"), m["Destination"]) for m in mounts} == {
        ("volume", "data", "/data"), ("volume", anon.name, "/scratch")}
    eng.containers_remove(["web"])
    assert {v.name for v in eng.volumes_list(filters=["dangling=true"])} == {"data", anon.name}
    # Prune: anonymous unused ones by default; named ones only with all_volumes.
    assert eng.volumes_prune().deleted == (anon.name,)
    assert [v.name for v in eng.volumes_list()] == ["data"]
    assert errors(eng.volumes_remove(["data"])) == [None]
    assert "no such volume: data" in str(errors(eng.volumes_remove(["data"]))[0])
    assert errors(eng.volumes_remove(["data"], force=True)) == [None]
    eng.volumes_create(VolumeCreateOptions(name="keep"))
    assert eng.volumes_prune().deleted == ()
    assert eng.volumes_prune(all_volumes=True).deleted == ("keep",)
    ev = [(e.action, e.actor_id) for e in subject.since(mark, "volume")]
    # rm -f of a missing volume still says "destroy" (the engine's choice; docker says
    # nothing): the fake copies it so event-driven views behave alike.
    assert ev == [("create", "data"), ("destroy", anon.name), ("prune", ""),
                  ("destroy", "data"), ("destroy", "data"), ("create", "keep"), ("prune", ""),
                  ("destroy", "keep"), ("prune", "")]


# -- networks (records only: no container ever starts on a bridge here) -------------------------
def test_networks(subject: Subject) -> None:
    eng = subject.engine
    assert [n.name for n in eng.networks_list()] == ["pydock0"]
    mark = subject.mark()
    net_id = eng.networks_create(NetworkCreateOptions(name="backend", labels=(("a", "1"),)))
    [row] = [n for n in eng.networks_list() if n.name == "backend"]
    assert (row.id, row.driver, row.scope, row.internal, row.labels, row.containers) == (
        net_id, "bridge", "local", False, {"a": "1"}, ())
    assert row.subnet.startswith("10.89.") and row.subnet.endswith(".0/24")
    assert row.gateway == row.subnet.replace(".0/24", ".1")
    data = eng.networks_inspect("backend")
    assert (data["Name"], data["Id"], data["Driver"], data["Containers"]) == (
        "backend", net_id, "bridge", {})
    assert data["IPAM"]["Config"][0]["Subnet"] == row.subnet
    assert eng.networks_inspect(net_id[:12])["Name"] == "backend"
    assert eng.networks_inspect("bridge")["Name"] == "pydock0"
    with pytest.raises(AlreadyExists):
        eng.networks_create(NetworkCreateOptions(name="backend"))
    with pytest.raises(Conflict, match="pre-defined"):
        eng.networks_create(NetworkCreateOptions(name="bridge"))
    with pytest.raises(NotFound):
        eng.networks_inspect("nope")
    assert [n.name for n in eng.networks_list(filters=["name=back"])] == ["backend"]
    # A container that names a network (never started) keeps it from prune.
    eng.networks_create(NetworkCreateOptions(name="spare"))
    subject.create("web", network="backend")
    assert eng.containers_inspect("web")["HostConfig"]["NetworkMode"] == "backend"
    assert eng.networks_prune().deleted == ("spare",)
    assert "pre-defined" in str(errors(eng.networks_remove(["pydock0"]))[0])
    assert "not found" in str(errors(eng.networks_remove(["nope"]))[0])
    eng.containers_remove(["web"])
    rep = eng.networks_remove(["backend"])[0]
    assert rep.error is None and rep.deleted == ("backend",)
    assert [n.name for n in eng.networks_list()] == ["pydock0"]
    ev = [(e.action, e.attributes) for e in subject.since(mark, "network")]
    assert ev == [("create", {"name": "backend", "type": "bridge"}),
                  ("create", {"name": "spare", "type": "bridge"}),
                  ("destroy", {"name": "spare"}),
                  ("destroy", {"name": "backend", "type": "bridge"})]


# -- events -------------------------------------------------------------------------------------
def test_events_follow_and_filters(subject: Subject) -> None:
    eng = subject.engine
    before = eng.events_list()
    assert [e.action for e in before] == ["import"]
    t0 = before[0].time
    got: list[str] = []
    stop = threading.Event()

    def follow() -> None:
        for e in eng.events_follow(stop=stop.is_set,
                                   match=lambda e: e.type == "container"):
            got.append(f"{e.action} {e.attributes.get('name')}")

    t = threading.Thread(target=follow)
    t.start()
    try:
        # A follow starts at the end of the log once iterated: let it get there.
        time.sleep(0.3)
        subject.create("web")
        eventually(lambda: got == ["create web"], what="followed create")
    finally:
        stop.set()
        t.join(10)
    assert not t.is_alive()
    assert [e.action for e in eng.events_list(since=t0, match=lambda e: e.type == "image")] == [
        "import"]
    assert eng.events_list(until=t0 - 1) == []
    replay = eng.events_follow(since=0, stop=lambda: True)
    assert [e.action for e in replay] == ["import", "create"]


def test_root_exists(subject: Subject) -> None:
    root = subject.engine.config.root
    assert isinstance(root, Path) and root.is_dir()


def test_import_rejects_garbage(subject: Subject) -> None:
    with pytest.raises(EngineError):
        subject.engine.images_import(io.BytesIO(b"not a tar" * 100), ImportOptions())


# -- layers, build ---------------------------------------------------------------------------
def test_layers_and_extract(subject: Subject, tmp_path: Path) -> None:
    eng = subject.engine
    view = eng.images_layers(IMAGE)
    assert view.image_id == subject.image_id and view.tags == (IMAGE,)
    [layer] = view.layers
    assert layer.index == 0 and layer.comment == "Imported from busybox.tar"
    files = {f.path: f for f in layer.files}
    assert files["/bin/busybox"].change == "added" and files["/bin/busybox"].size > 1_000_000
    assert files["/bin/sh"].kind == "symlink" and files["/bin/sh"].link == "busybox"
    assert view.size == layer.size == eng.images_list()[0].size
    assert (view.wasted, view.efficiency) == (0, 1.0)
    out = eng.images_extract_file(IMAGE, 0, "/etc/passwd", tmp_path)
    assert out == tmp_path / "passwd" and out.read_text().startswith("root:x:0:0:")
    with pytest.raises(AlreadyExists):
        eng.images_extract_file(IMAGE, 0, "/etc/passwd", tmp_path)
    with pytest.raises(NotFound):
        eng.images_extract_file(IMAGE, 0, "/etc/shadow", tmp_path)


def test_build_progress_and_result(subject: Subject) -> None:
    from engine.types_build import BuildOptions

    eng = subject.engine
    text = b'FROM busybox:local\nRUN echo hi > /greeting\nCMD ["cat", "/greeting"]\n'
    opts = BuildOptions(dockerfile_text=text, tags=("built:1",), network="none")
    mark = subject.mark()
    events = list(eng.images_build(None, opts))
    assert events[-1].kind == "image" and events[-1].image_id.startswith("sha256:")
    image_id = events[-1].image_id
    load, run, export = ("[internal] load build definition from Dockerfile",
                         "[2/2] RUN echo hi > /greeting", "exporting to image")
    assert [(e.kind, e.vertex, e.name, e.text.replace(image_id, "ID"), e.line)
            for e in events[:-1]] == [
        ("step", 1, load, "", 0), ("done", 1, load, "", 0),
        ("step", 2, "[1/2] FROM docker.io/library/busybox:local", "", 1),
        ("done", 2, "[1/2] FROM docker.io/library/busybox:local", "", 1),
        ("step", 3, run, "", 2), ("done", 3, run, "", 2),
        ("step", 4, export, "", 0), ("output", 4, export, "writing image ID done", 0),
        ("output", 4, export, "naming to docker.io/library/built:1 done", 0),
        ("done", 4, export, "", 0)]
    assert eng.images_resolve("built:1") == image_id
    assert eng.images_inspect("built:1")["Config"]["Cmd"] == ["cat", "/greeting"]
    assert [(e.action, e.attributes) for e in subject.since(mark, "image")] == [
        ("tag", {"name": "built:1"})]
    # Built again: the RUN step comes from the cache (and says no more).
    again = list(eng.images_build(None, opts))
    assert [e.kind for e in again if e.name == run] == ["step", "cached"]


def test_a_failing_build_step_names_the_line(subject: Subject) -> None:
    from engine.build.failure import BuildFailed
    from engine.types_build import BuildOptions

    text = b"FROM busybox:local\n\nRUN echo building; exit 3\n"
    opts = BuildOptions(dockerfile_text=text, tags=("broken:1",), network="none")
    seen = []
    with pytest.raises(BuildFailed) as info:
        for ev in subject.engine.images_build(None, opts):
            seen.append((ev.kind, ev.name, ev.text, ev.line))
    assert str(info.value) == ('Dockerfile:3: RUN echo building; exit 3: process "/bin/sh -c '
                               'echo building; exit 3" did not complete successfully: exit '
                               "code: 3")
    assert info.value.exit_code == 3
    run = "[2/2] RUN echo building; exit 3"
    assert seen[-3:] == [("step", run, "", 3), ("output", run, "building", 3),
                         ("error", run, str(info.value).split(": ", 2)[2], 3)]
    with pytest.raises(ImageNotFound):
        subject.engine.images_inspect("broken:1")


# -- registry: push, then pull back --------------------------------------------------------------
def test_push_then_pull(subject: Subject, tmp_path: Path) -> None:
    from engine.errors import RemoteNotFound

    eng = subject.engine
    registry = None
    if subject.kind == "real":
        from engine.registry.types import RegistrySettings
        from tests.integration.registry_helpers import start_registry

        registry = start_registry(tmp_path / "registry")  # loopback only
        eng.registry_settings = RegistrySettings(certs_dir=tmp_path / "certs.d",
                                                 docker_config_dir=tmp_path / "docker",
                                                 backoff=0.05)
        host = registry.host
    else:
        host = "127.0.0.1:5999"  # the fake's registry is a dictionary
    try:
        ref = f"{host}/conf/busybox:1"
        eng.images_tag(IMAGE, ref)
        mark = subject.mark()
        pushed = list(eng.images_push(ref))
        final = pushed[-1]
        assert pushed[0].status == f"The push refers to repository [{host}/conf/busybox]"
        assert (final.done, final.status, final.tag) == (True, "Pushed", "1")
        assert final.digest.startswith("sha256:")
        assert [e.status for e in pushed[1:-1]].count("Pushed") == 1  # the one layer
        assert f"{host}/conf/busybox@{final.digest}" in eng.images_inspect(ref)["RepoDigests"]

        again = list(eng.images_pull(ref))
        assert again[0].status == f"Pulling from {host}/conf/busybox"
        assert {e.status for e in again[1:-1]} == {"Already exists"}
        assert (again[-1].done, again[-1].fresh, again[-1].digest, again[-1].image_id) == (
            True, False, final.digest, subject.image_id)

        eng.images_remove([IMAGE, ref])
        assert eng.images_list() == []
        pulled = list(eng.images_pull(ref))
        assert [e.status for e in pulled].count("Pull complete") == 1
        assert (pulled[-1].fresh, pulled[-1].image_id) == (True, subject.image_id)
        assert [(r.repository, r.tag) for r in eng.images_list()] == [
            (f"{host}/conf/busybox", "1")]
        with pytest.raises(RemoteNotFound, match="manifest unknown"):
            list(eng.images_pull(f"{host}/conf/busybox:nope"))
        with pytest.raises(ImageNotFound):
            list(eng.images_push(f"{host}/conf/other:1"))
        assert [(e.action, e.attributes.get("name")) for e in subject.since(mark, "image")] == [
            ("push", ref), ("pull", ref), ("untag", IMAGE), ("untag", ref), ("delete", ref),
            ("pull", ref)]
    finally:
        if registry is not None:
            registry.stop()
