"""How `seek-sync cluster` starts and stops its processes, without any service: each in a process
group of its own with its own folder; `stop` ends the whole group (a child too) with SIGTERM, and
SIGKILL only for what ignores it; a record whose pid now names another process (another start
time) is never signalled; a second `cluster up` on a recorded home and a `down` of a home with no
cluster are refused in one line; an unreachable service stops `up` before it makes anything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
from dagster._utils.interrupts import setup_interrupt_handlers

from seek_sync.cluster.config import ClusterState, ProcessRecord
from seek_sync.cluster.processes import alive, group, leader, spawn, stop

# A parent that starts a child and waits; `trap '' TERM` makes both ignore SIGTERM.
FAMILY = "sleep 60 & wait"
STUBBORN = "trap '' TERM; sleep 60 & wait"


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seek_sync.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def wait_members(record: ProcessRecord, count: int) -> list[psutil.Process]:
    deadline = time.monotonic() + 10
    while len(members := group(record)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return members


def ignored(pid: int) -> set[signal.Signals]:
    """The signals process `pid` ignores, of SIGINT and SIGTERM (from /proc)."""
    status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    mask = int(next(line.split()[1] for line in status.splitlines() if line[:7] == "SigIgn:"), 16)
    return {s for s in (signal.SIGINT, signal.SIGTERM) if mask >> (s - 1) & 1}


def test_a_child_stops_on_sigterm_where_dagster_left_sigterm_ignored(tmp_path: Path) -> None:
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    plain: subprocess.Popen[bytes] | None = None
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a shell starts a background job
        setup_interrupt_handlers()  # Dagster's, at every user-code boundary: SIGTERM := SIGINT's
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
        plain = subprocess.Popen(["sleep", "60"])  # the control: it inherits both ignored
        record, _ = spawn("child", ["sleep", "60"], dict(os.environ), tmp_path)
        wait_members(record, 1)
        assert ignored(plain.pid) == {signal.SIGINT, signal.SIGTERM}
        assert ignored(record.pid) == set()
        assert stop([record], grace=8.0) == []  # SIGTERM was enough
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if plain is not None:
            plain.kill()
            plain.wait()


def test_spawn_gives_a_group_and_a_folder_and_stop_ends_the_group(tmp_path: Path) -> None:
    record, process = spawn("family", ["sh", "-c", FAMILY], dict(os.environ), tmp_path)
    members = wait_members(record, 2)
    assert len(members) == 2 and os.getpgid(process.pid) == process.pid  # leader and child
    assert record.cwd.is_dir() and record.tmp.is_dir() and record.log.exists()
    stubborn, _ = spawn("stubborn", ["sh", "-c", STUBBORN], dict(os.environ), tmp_path)
    wait_members(stubborn, 2)

    killed = stop([record, stubborn], grace=1.0)

    assert killed == ["stubborn"]  # SIGTERM was enough for the other
    assert alive([record, stubborn]) == {}
    assert all(not p.is_running() or p.status() == psutil.STATUS_ZOMBIE for p in members)
    process.wait(timeout=5)


def test_a_pid_that_names_another_process_is_never_signalled(tmp_path: Path) -> None:
    bystander = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        started = psutil.Process(bystander.pid).create_time()
        # Recorded with another start time: the pid was reused after our process ended.
        stale = ProcessRecord(name="old", pid=bystander.pid, started=started - 100, folder=tmp_path)
        assert leader(stale) is None
        assert group(stale) == [psutil.Process(bystander.pid)]  # started later: could be ours
        fresh = ProcessRecord(name="old", pid=bystander.pid, started=started + 100, folder=tmp_path)
        assert group(fresh) == [] and alive([fresh]) == {}
        stop([fresh], grace=0.5)
        assert bystander.poll() is None  # untouched
    finally:
        bystander.kill()
        bystander.wait(timeout=5)


def test_up_and_down_refuse_in_one_line(tmp_path: Path) -> None:
    ClusterState.new(tmp_path).save()
    up = cli("cluster", "up", "--home", str(tmp_path))
    assert up.returncode == 2 and "cluster down` first" in up.stderr
    down = cli("cluster", "down", "--home", str(tmp_path / "none"))
    assert down.returncode == 2 and "no cluster recorded" in down.stderr
    closed = {"SEEK_SYNC_CLUSTER_BROKER_URL": "pyamqp://guest:guest@127.0.0.1:1//"}
    refused = cli("cluster", "up", "--home", str(tmp_path / "new"), env=closed)
    assert refused.returncode == 2 and "RabbitMQ is not reachable" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "new").exists()
