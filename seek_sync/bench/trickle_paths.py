"""The ways seek-sync runs as deployed, each started as processes on a `ProcessStack`.

A path is its own root processes (whose trees the benchmark measures) and the processes whose CPU
counts while nothing happens (`idle`: the path's roots plus what else stays up for it):

- `loop`: `seek-sync sync --loop` (idle: it and the receiver).
- `daemon`: a code server (`dagster code-server start`) and `dagster-daemon run` with a workspace
  naming that server, on the stack's embedded `DAGSTER_HOME`; the sensor ticks on its own
  interval and its runs are processes of the code server (idle: the daemon and the code server).
- `floor`: `seek_sync.bench.trickle_floor`, the library path called as soon as the inbox moves
  (idle: it and the receiver).
- `cluster`: the local cluster of `seek-sync cluster up` (its stack is the cluster's own, from
  `bench.cluster.cluster_stack`): its receivers, code server, webserver, daemon and two Celery
  workers (idle: all of them); the sensor's own interval applies and its runs are processes of
  the workers. Stopping it stops those processes; the sandbox and moto stay up until the stack is
  torn down, so the fakes can still be read.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from seek_sync.child_signals import default_stop_signals
from seek_sync.cluster.config import ClusterState, ProcessRecord
from seek_sync.cluster.processes import leader, log_tail, stop
from seek_sync.process_stack import ProcessStack, free_port
from seek_sync.progress import MODE_ENV

LOCATION = "seek_sync.definitions"
CLUSTER_FAKES = ("sandbox", "s3")  # the cluster's stand-ins for the outside world


@dataclass
class RunningPath:
    name: str
    processes: list[subprocess.Popen[str]]  # the path's own roots
    idle_pids: list[int]  # whose CPU counts while nothing happens
    logs: list[Path] = field(default_factory=list)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def exited(self) -> str | None:
        """Which root exited (and how), if one did: the path is broken."""
        for process, log in zip(self.processes, self.logs, strict=True):
            if process.poll() is not None:
                command = " ".join(map(str, process.args))[:120]
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                return f"{self.name}: {command} exited with {process.returncode}:\n{tail}"
        return None

    def stop(self) -> None:
        """SIGTERM to each root's process group (each root leads one), then SIGKILL."""
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # what it left behind (runs, servers)


@dataclass
class ClusterPath(RunningPath):
    """The cluster's seek-sync processes (not its sandbox and moto), by their records."""

    records: list[ProcessRecord] = field(default_factory=list)

    @property
    def pids(self) -> list[int]:
        return [r.pid for r in self.records]

    def exited(self) -> str | None:
        for record in self.records:
            if leader(record) is None:
                return f"{self.name}: {record.name} exited:\n{log_tail(record, 2000)}"
        return None

    def stop(self) -> None:
        stop(self.records)


def _start(stack: ProcessStack, command: list[str], log: Path) -> subprocess.Popen[str]:
    """`command` in the stack's environment, in a process group of its own, output to `log`."""
    with log.open("w") as out:
        return subprocess.Popen(
            command,
            env={**os.environ, **stack.env, MODE_ENV: "plain"},
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            process_group=0,
            preexec_fn=default_stop_signals,
        )


def _receivers(stack: ProcessStack) -> list[int]:
    return [p.pid for p in stack.receivers]


def start_loop(stack: ProcessStack, home: Path, interval: float | None) -> RunningPath:
    command = [sys.executable, "-m", "seek_sync.cli", "sync", "--loop"]
    command += ["--interval", str(interval)] if interval else []
    log = home / "loop.log"
    process = _start(stack, command, log)
    return RunningPath("loop", [process], [process.pid, *_receivers(stack)], [log])


def start_daemon(stack: ProcessStack, home: Path, interval: float | None) -> RunningPath:
    """The sensor's own interval applies (`interval` is for the loop only)."""
    port = free_port()
    bin_dir = Path(sys.executable).parent
    server = [str(bin_dir / "dagster"), "code-server", "start", "-m", LOCATION]
    server += ["-h", "127.0.0.1", "-p", str(port), "--location-name", LOCATION]
    workspace = home / "daemon-workspace.yaml"
    entry = {"host": "127.0.0.1", "port": port, "location_name": LOCATION}
    workspace.write_text(yaml.safe_dump({"load_from": [{"grpc_server": entry}]}))
    logs = [home / "code-server.log", home / "daemon.log"]
    code_server = _start(stack, server, logs[0])
    daemon = _start(stack, [str(bin_dir / "dagster-daemon"), "run", "-w", str(workspace)], logs[1])
    processes = [code_server, daemon]
    return RunningPath("daemon", processes, [p.pid for p in processes], logs)


def start_floor(stack: ProcessStack, home: Path, interval: float | None) -> RunningPath:
    log = home / "floor.log"
    process = _start(stack, [sys.executable, "-m", "seek_sync.bench.trickle_floor"], log)
    return RunningPath("floor", [process], [process.pid, *_receivers(stack)], [log])


def start_cluster(stack: ProcessStack, home: Path, interval: float | None) -> RunningPath:
    """The cluster is up already (its stack is `cluster_stack`'s); its own processes."""
    state = ClusterState.load(stack.home)
    if state is None:
        raise RuntimeError(f"cluster: no cluster recorded in {stack.home}")
    records = [r for r in state.processes if r.name not in CLUSTER_FAKES]
    return ClusterPath("cluster", [], [r.pid for r in records], records=records)


Starter = Callable[[ProcessStack, Path, float | None], RunningPath]
PATHS: dict[str, Starter] = {
    "loop": start_loop,
    "daemon": start_daemon,
    "floor": start_floor,
    "cluster": start_cluster,
}
DEFAULT_PATHS = ("loop", "daemon", "cluster", "floor")
