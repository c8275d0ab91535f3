"""Containers end to end through the CLI: lifecycle, exit codes, logs, survival, clean-up."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.runtime_helpers import (
    IMAGE,
    cgroups_of,
    eventually,
    import_busybox,
    inspect,
    mounts_under,
    processes_mentioning,
    pydock,
    remove_all,
)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


@pytest.fixture
def rt(root: Path, tmp_path: Path) -> Iterator[Path]:
    import_busybox(root, tmp_path)
    yield root
    remove_all(root)
    assert mounts_under(root) == []


@pytest.mark.parametrize(("cmd", "code"), [
    (["true"], 0), (["sh", "-c", "exit 3"], 3), (["nosuchcmd"], 127), (["/etc/passwd"], 126),
    (["sh", "-c", "sh -c 'kill -9 $$'; exit $?"], 137),
])
def test_run_returns_docker_exit_codes(rt: Path, cmd: list[str], code: int) -> None:
    r = pydock(rt, "run", "--rm", IMAGE, *cmd)
    assert r.returncode == code, r.stderr
    if code in (126, 127):
        assert len(r.stderr.strip().splitlines()) == 1
    assert pydock(rt, "ps", "-aq").stdout == ""


def test_run_attached_streams_stdout_and_stderr(rt: Path) -> None:
    r = pydock(rt, "run", "--rm", IMAGE, "sh", "-c", "echo out; echo err >&2")
    assert r.returncode == 0
    assert r.stdout == "out\n" and r.stderr == "err\n"


def test_only_rm_containers_get_a_volatile_rootfs(rt: Path) -> None:
    # As podman: a --rm container's upper dir is never synced (it goes at exit).
    def volatile(*flags: str) -> bool:
        r = pydock(rt, "run", *flags, IMAGE, "cat", "/proc/self/mountinfo")
        assert r.returncode == 0, r.stderr
        line = next(ln for ln in r.stdout.splitlines() if ln.split()[4] == "/")
        options = line.split(" - ")[1].split()[2].split(",")
        return "volatile" in options or "fsync=volatile" in options  # (how 6.x shows it)

    assert volatile("--rm")
    assert not volatile("--name", "kept")
    assert pydock(rt, "rm", "kept").returncode == 0


def test_run_interactive_stdin(rt: Path) -> None:
    r = pydock(rt, "run", "--rm", "-i", IMAGE, "sh", "-c", "read x; echo got $x",
               input=b"hello\n")
    assert r.stdout == "got hello\n", r.stderr


def test_detached_lifecycle_and_other_process_sees_it(rt: Path) -> None:
    r = pydock(rt, "run", "-d", "--name", "ticker", IMAGE, "sh", "-c",
               "trap 'echo bye; exit 0' TERM; i=0; while true; do echo tick $i; i=$((i+1)); "
               "sleep 0.1; done")
    assert r.returncode == 0, r.stderr
    cid = r.stdout.strip()
    assert len(cid) == 64
    # A separate process (this pydock CLI run) sees it running.
    ps = pydock(rt, "ps", "--format", "json")
    assert '"Names":"ticker"' in ps.stdout and '"State":"running"' in ps.stdout
    eventually(lambda: "tick 3" in pydock(rt, "logs", "ticker").stdout, what="logs")
    tail = pydock(rt, "logs", "--tail", "2", "ticker").stdout.splitlines()
    assert len(tail) == 2 and all(t.startswith("tick") for t in tail)
    ts = pydock(rt, "logs", "-t", "--tail", "1", "ticker").stdout
    assert ts[:4].isdigit() and "T" in ts.split()[0]
    assert pydock(rt, "pause", "ticker").returncode == 0
    assert inspect(rt, "ticker")["State"]["Paused"] is True
    assert pydock(rt, "unpause", "ticker").returncode == 0
    t0 = time.time()
    assert pydock(rt, "stop", "ticker").returncode == 0
    assert time.time() - t0 < 5  # the TERM trap ran: no 10 s timeout
    st = inspect(rt, "ticker")["State"]
    assert st["Status"] == "exited" and st["ExitCode"] == 0 and st["Pid"] == 0
    assert "bye" in pydock(rt, "logs", "ticker").stdout
    assert pydock(rt, "start", "ticker").returncode == 0
    assert inspect(rt, "ticker")["State"]["Running"] is True
    assert pydock(rt, "restart", "-t", "1", "ticker").returncode == 0
    assert inspect(rt, "ticker")["State"]["Running"] is True
    assert pydock(rt, "rename", "ticker", "ticker2").returncode == 0
    assert pydock(rt, "kill", "ticker2").returncode == 0
    assert inspect(rt, "ticker2")["State"]["ExitCode"] == 137
    assert pydock(rt, "rm", "ticker2").returncode == 0
    # Nothing of it is left.
    assert not (rt / "containers" / cid).exists()
    assert cgroups_of(cid) == [] and processes_mentioning(cid) == []


def test_stop_escalates_to_sigkill_after_timeout(rt: Path) -> None:
    pydock(rt, "run", "-d", "--name", "stubborn", IMAGE, "sh", "-c",
           "trap '' TERM; while true; do sleep 0.1; done")
    t0 = time.time()
    assert pydock(rt, "stop", "-t", "1", "stubborn").returncode == 0
    assert 0.9 < time.time() - t0 < 6
    assert inspect(rt, "stubborn")["State"]["ExitCode"] == 137


def test_stop_signal_flag(rt: Path) -> None:
    pydock(rt, "run", "-d", "--name", "s", "--stop-signal", "USR1", IMAGE, "sh", "-c",
           "trap 'exit 7' USR1; while true; do sleep 0.1; done")
    pydock(rt, "stop", "s")
    assert inspect(rt, "s")["State"]["ExitCode"] == 7


def test_rm_refuses_running_without_force(rt: Path) -> None:
    pydock(rt, "run", "-d", "--name", "busy", IMAGE, "sleep", "100")
    r = pydock(rt, "rm", "busy")
    assert r.returncode != 0 and "stop the container" in r.stderr
    assert pydock(rt, "rm", "-f", "busy").returncode == 0
    assert pydock(rt, "ps", "-aq").stdout == ""


def test_wait_returns_exit_code(rt: Path) -> None:
    pydock(rt, "run", "-d", "--name", "w", IMAGE, "sh", "-c", "sleep 0.3; exit 5")
    r = pydock(rt, "wait", "w")
    assert r.stdout.strip() == "5"


def test_monitor_killed_is_reported_not_hung(rt: Path) -> None:
    pydock(rt, "run", "-d", "--name", "orphan", IMAGE, "sleep", "1000")
    info = inspect(rt, "orphan")
    cid = info["Id"]
    state = __import__("json").loads((rt / "containers" / cid / "state.json").read_text())
    os.kill(state["state"]["monitor_pid"], signal.SIGKILL)
    time.sleep(0.2)
    st = inspect(rt, "orphan")["State"]
    assert st["Status"] == "exited"
    assert "monitor" in st["Error"]
    assert not os.path.exists(f"/proc/{state['state']['pid']}/cmdline") or \
        b"sleep" not in open(f"/proc/{state['state']['pid']}/cmdline", "rb").read()
    assert mounts_under(rt) == []


def test_restart_on_failure_counts(rt: Path) -> None:
    pydock(rt, "run", "-d", "--name", "flaky", "--restart", "on-failure:2", IMAGE,
           "sh", "-c", "exit 1")
    eventually(lambda: inspect(rt, "flaky")["State"]["Status"] == "exited"
               and inspect(rt, "flaky")["RestartCount"] == 2, timeout=15, what="2 restarts")


def test_restart_always_but_not_after_manual_stop(rt: Path) -> None:
    pydock(rt, "run", "-d", "--name", "phoenix", "--restart", "always", IMAGE, "sh", "-c",
           "sleep 0.2; exit 0")
    eventually(lambda: inspect(rt, "phoenix")["RestartCount"] >= 1, timeout=10,
               what="a restart")
    assert pydock(rt, "stop", "-t", "1", "phoenix").returncode == 0
    count = inspect(rt, "phoenix")["RestartCount"]
    time.sleep(1.0)
    info = inspect(rt, "phoenix")
    assert info["State"]["Status"] == "exited" and info["RestartCount"] == count


def test_log_rotation(rt: Path) -> None:
    pydock(rt, "run", "--name", "chatty", "--log-opt", "max-size=20k", "--log-opt",
           "max-file=2", IMAGE, "sh", "-c",
           "i=0; while [ $i -lt 3000 ]; do echo line-$i; i=$((i+1)); done")
    cid = inspect(rt, "chatty")["Id"]
    logs = sorted(p.name for p in (rt / "containers" / cid).glob("ctr.log*"))
    assert logs == ["ctr.log", "ctr.log.1"]
    assert all(p.stat().st_size <= 20 * 1024 for p in (rt / "containers" / cid).glob("ctr.log*"))
    assert pydock(rt, "logs", "--tail", "1", "chatty").stdout == "line-2999\n"


def test_names_unique_under_concurrency(rt: Path) -> None:
    import concurrent.futures

    def run(i: int) -> int:
        return pydock(rt, "create", "--name", "same", IMAGE, "true").returncode

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(run, range(4)))
    assert sorted(codes) == [0, 125, 125, 125]


@pytest.mark.parametrize(("args", "needle"), [
    (["--pull", "never", "nope:1", "true"], "No such image"),
    (["-u", "nosuchuser", IMAGE, "true"], "unable to find user nosuchuser"),
    (["--env-file", "/does/not/exist", IMAGE, "true"], "/does/not/exist"),
    (["--restart", "sometimes", IMAGE, "true"], "invalid restart policy"),
    (["--ulimit", "nofile=x", IMAGE, "true"], "invalid ulimit"),
    (["--cap-add", "NOT_A_CAP", IMAGE, "true"], "NOT_A_CAP"),
    (["--entrypoint", "", IMAGE], "no command specified"),
])
def test_bad_input_is_one_line_125_nothing_left(rt: Path, args: list[str], needle: str) -> None:
    r = pydock(rt, "run", "--rm", *args)
    assert r.returncode == 125, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], r.stderr
    assert pydock(rt, "ps", "-aq").stdout == ""
    assert [p for p in (rt / "containers").iterdir() if not p.name.startswith(".")] == []


def test_name_in_use(rt: Path) -> None:
    assert pydock(rt, "create", "--name", "taken", IMAGE, "true").returncode == 0
    r = pydock(rt, "run", "--name", "taken", IMAGE, "true")
    assert r.returncode == 125 and "already in use" in r.stderr


def test_ps_filters_and_formats(rt: Path) -> None:
    pydock(rt, "run", "-d", "--name", "alpha", "-l", "team=x", IMAGE, "sleep", "100")
    pydock(rt, "create", "--name", "beta", IMAGE, "true")
    assert pydock(rt, "ps", "--format", "json").stdout.count("\n") == 1
    assert pydock(rt, "ps", "-a", "-q").stdout.count("\n") == 2
    assert "alpha" in pydock(rt, "ps", "-a", "--filter", "label=team=x").stdout
    assert "beta" in pydock(rt, "ps", "-a", "--filter", "status=created").stdout
    assert "alpha" not in pydock(rt, "ps", "-a", "--filter", "name=beta").stdout
    assert pydock(rt, "ps", "-l", "-q").stdout.count("\n") == 1
    assert "alpha" in pydock(rt, "ps", "-a", "--filter", f"ancestor={IMAGE}").stdout
    # Go templates, as scripts written for docker pass them.
    r = pydock(rt, "ps", "-a", "--format", "{{.Names}} {{.State}} {{.Label \"team\"}}")
    assert sorted(r.stdout.splitlines()) == ["alpha running x", "beta created "], r.stderr
    table = pydock(rt, "ps", "--format", "table {{.Names}}\\t{{.Status}}").stdout.splitlines()
    assert table[0].split() == ["NAMES", "STATUS"] and table[1].startswith("alpha ")
    pid = pydock(rt, "inspect", "-f", "{{.State.Pid}}", "alpha").stdout.strip()
    assert pid == str(inspect(rt, "alpha")["State"]["Pid"]) and int(pid) > 0
    assert pydock(rt, "inspect", "-f", "{{json .Config.Labels}}", "alpha").stdout == \
        '{"team":"x"}\n'
    sized = pydock(rt, "ps", "-as", "--format", "{{.Names}}={{.Size}}").stdout.splitlines()
    assert sorted(line.split(" (virtual ")[0] for line in sized) == ["alpha=0B", "beta=0B"]
    assert pydock(rt, "ps", "-s").stdout.splitlines()[0].endswith("NAMES   SIZE")
    bad = pydock(rt, "ps", "--format", "{{.Nope}}")
    assert bad.returncode != 0 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "Nope" in bad.stderr


def test_container_management_form_and_prune(rt: Path) -> None:
    pydock(rt, "run", "-d", "--name", "live", IMAGE, "sleep", "100")
    old = pydock(rt, "create", "--name", "old", IMAGE, "true").stdout.strip()
    names = pydock(rt, "container", "ls", "-a", "--format", "{{.Names}}").stdout.split()
    assert sorted(names) == ["live", "old"]
    assert pydock(rt, "container", "inspect", "-f", "{{.Name}}", "old").stdout == "/old\n"
    r = pydock(rt, "system", "prune", "-f")
    assert r.returncode == 0 and f"Deleted Containers:\n{old}\n" in r.stdout, r.stderr
    assert pydock(rt, "container", "ls", "-a", "--format", "{{.Names}}").stdout == "live\n"
    assert pydock(rt, "images", "--format", "{{.Repository}}").stdout.split() == ["busybox"]
    assert pydock(rt, "container", "rm", "-f", "live").returncode == 0
    r = pydock(rt, "container", "prune", "-f")
    assert r.stdout == "Total reclaimed space: 0B\n" and pydock(rt, "ps", "-aq").stdout == ""


def test_verbs_on_rm_containers_that_remove_themselves(rt: Path) -> None:
    # A --rm container vanishes as it exits (its monitor removes it without
    # recording the exit first): stop, rm -f and wait treat that as done, as docker.
    assert pydock(rt, "run", "-d", "--rm", "--name", "a", IMAGE, "sleep", "100").returncode == 0
    r = pydock(rt, "stop", "-t", "1", "a")
    assert (r.returncode, r.stdout, r.stderr) == (0, "a\n", "")
    assert pydock(rt, "run", "-d", "--rm", "--name", "b", IMAGE, "sleep", "100").returncode == 0
    r = pydock(rt, "rm", "-f", "b")
    assert (r.returncode, r.stdout, r.stderr) == (0, "b\n", "")
    assert pydock(rt, "run", "-d", "--rm", "--name", "c", IMAGE, "sh", "-c",
                  "sleep 0.5; exit 3").returncode == 0
    r = pydock(rt, "wait", "c")
    assert (r.returncode, r.stdout) == (0, "3\n"), r.stderr
    assert pydock(rt, "ps", "-aq").stdout == ""


def test_run_rm_returns_once_nothing_of_the_container_is_left(rt: Path) -> None:
    # docker's "removed" condition: no record, no files, no monitor, no anonymous volume
    # (the root's zygote and its spare monitor may idle on).
    def ours(pid: int) -> bool:
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return False  # gone meanwhile
        return b"zygote_server" not in cmd and b"(spare)" not in cmd

    for _ in range(5):
        r = pydock(rt, "run", "--rm", "-v", "/anon", IMAGE, "true")
        assert r.returncode == 0, r.stderr
        assert list((rt / "containers").iterdir()) == []
        assert [p for p in processes_mentioning(str(rt)) if ours(p)] == []
        assert pydock(rt, "volume", "ls", "-q").stdout == ""


def test_prune_sweeps_what_a_crash_left_under_containers(rt: Path) -> None:
    # A create that died before its record, a removal that died after its rename:
    # never listed, so only prune can take them; a create in progress is left alone.
    cdir = rt / "containers"
    old_create, old_trash, fresh = cdir / ("a" * 64), cdir / ".trash-x-1", cdir / ("b" * 64)
    for d in (old_create, old_trash, fresh):
        (d / "upper" / "etc").mkdir(parents=True)
        (d / "config.json").write_text("{}")
    for d in (old_create, old_trash):
        os.utime(d, (time.time() - 3600, time.time() - 3600))
    r = pydock(rt, "container", "prune", "-f")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in cdir.iterdir()) == [fresh.name]
