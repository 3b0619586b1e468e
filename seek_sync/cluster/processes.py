"""Start, watch and stop the cluster's processes, each the leader of a process group of its own.

A process gets a folder of its own: `cwd/` (its working directory), `tmp/` (its `TMPDIR`) and
`log` (stdout and stderr). It is recorded by pid and start time, so a pid reused after it died is
never taken for it; its group is every process in the group that started no earlier than it.
Stopping sends SIGTERM to each group, waits, then SIGKILLs what is left. Zombies count as gone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

import psutil

from seek_sync.child_signals import default_stop_signals
from seek_sync.cluster.config import ProcessRecord


def spawn(
    name: str, command: list[str], env: dict[str, str], root: Path, port: int | None = None
) -> tuple[ProcessRecord, subprocess.Popen[bytes]]:
    """`command` started in a new session (its own process group) in `root/name/cwd`, with
    `root/name/tmp` as its TMPDIR and its output in `root/name/log`."""
    folder = root / name
    for place in ("cwd", "tmp"):
        (folder / place).mkdir(parents=True, exist_ok=True)
    with open(folder / "log", "ab") as log:
        process = subprocess.Popen(
            command,
            cwd=folder / "cwd",
            env=env | {"TMPDIR": str(folder / "tmp")},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=default_stop_signals,
        )
    try:
        started = psutil.Process(process.pid).create_time()
    except psutil.NoSuchProcess:
        started = time.time()
    return ProcessRecord(name=name, pid=process.pid, started=started, folder=folder, port=port), (
        process
    )


def _running(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def leader(record: ProcessRecord) -> psutil.Process | None:
    """The recorded process, if it still runs (the same pid and start time)."""
    try:
        process = psutil.Process(record.pid)
        same = abs(process.create_time() - record.started) < 0.05
    except psutil.NoSuchProcess:
        return None
    return process if same and _running(process) else None


def group(record: ProcessRecord) -> list[psutil.Process]:
    """Every running process of the record's group that started no earlier than its leader."""
    found = []
    for process in psutil.process_iter(["pid", "create_time"]):
        try:
            if os.getpgid(process.pid) != record.pid:
                continue
        except (ProcessLookupError, PermissionError):
            continue
        if process.info["create_time"] >= record.started - 0.05 and _running(process):
            found.append(process)
    return found


def alive(records: Iterable[ProcessRecord]) -> dict[str, list[int]]:
    """The pids still running in each record's group (records with none left out)."""
    return {r.name: [p.pid for p in running] for r in records if (running := group(r))}


def _signal(record: ProcessRecord, sig: signal.Signals) -> None:
    if leader(record) is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(record.pid, sig)  # the group is ours while its leader is
        return
    for process in group(record):  # the leader is gone: only members we can tell are ours
        with contextlib.suppress(psutil.NoSuchProcess):
            process.send_signal(sig)


def stop(records: list[ProcessRecord], grace: float = 20.0) -> list[str]:
    """SIGTERM every group, up to `grace` seconds for them to end, then SIGKILL what is left;
    the names of the groups that had to be killed."""
    for record in records:
        _signal(record, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while alive(records) and time.monotonic() < deadline:
        time.sleep(0.2)
    killed = sorted(alive(records))
    for record in records:
        if record.name in killed:
            _signal(record, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while alive(records) and time.monotonic() < deadline:
        time.sleep(0.1)
    return killed


def log_tail(record: ProcessRecord, chars: int = 2500) -> str:
    try:
        text = record.log.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return text[-chars:]
