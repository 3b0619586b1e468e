"""The crash test on the server backend, as a cluster runs seek-sync: two `seek-sync sync --loop`
workers that share no directory (each its own working directory, `SEEK_SYNC_HOME`, `TMPDIR` and
`DAGSTER_HOME`, whose instance file points at the one Dagster instance in PostgreSQL), the state
in PostgreSQL and the blobs on S3. The sandbox SIGKILLs whichever worker makes a chosen call; the
first workers kill themselves inside a warehouse merge. Then the ticks settle and everything is
counted at the fakes: every applicant and file exactly once, no run left STARTED, no slot held."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from seek_sync.dagster_instance import make_home
from seek_sync.process_stack import ProcessStack, process_stack
from tests.backends import Backend
from tests.dagster.crash_helpers import (
    KILL_POINTS,
    MERGE,
    Stopping,
    audit,
    drive_with_kills,
    leftovers,
    sync_until_settled,
)

WORLD = ("--applications", "20", "--hirers", "4", "--seed", "11", "--no-edge-cases")
LOOP = ("sync", "--loop", "--interval", "0.5")


@dataclass(frozen=True)
class Worker:
    """One worker's own directories and the environment that points it at them."""

    root: Path
    cwd: Path
    env: dict[str, str]


def worker(stack: ProcessStack, root: Path) -> Worker:
    """A worker's working directory, home (with its own copy of the hirer map), temp dir and
    Dagster home under `root`; its instance file names the stack's Dagster schema (not dropped)."""
    cwd, home, temp = root / "cwd", root / "home", root / "tmp"
    for folder in (cwd, home, temp):
        folder.mkdir(parents=True)
    targets = home / "hirer-targets.yaml"
    shutil.copyfile(stack.env["SEEK_SYNC_HIRER_TARGETS_PATH"], targets)
    env = stack.env | {
        "SEEK_SYNC_HOME": str(home),
        "SEEK_SYNC_HIRER_TARGETS_PATH": str(targets),
        "TMPDIR": str(temp),
    }
    env |= make_home(root / "dagster", {**os.environ, **env})
    return Worker(root, cwd, env)


def outside_own_root(one: Worker, shared: Path) -> list[str]:
    """Variables naming a path under `shared` (the test's directory) not under the worker's root."""
    return [
        f"{name}={value}"
        for name, value in one.env.items()
        if value.startswith(str(shared)) and not Path(value).is_relative_to(one.root)
    ]


def local_state(one: Worker) -> list[Path]:
    """Embedded state in a worker's home: there should be none on the server backend."""
    home = one.root / "home"
    return [p for pattern in ("blobs", "*.duckdb", "*.sqlite3*") for p in home.glob(pattern)]


@pytest.mark.timeout(480)  # about 4 minutes on a busy 2-core machine
def test_two_loops_sharing_no_directory_lose_nothing_and_send_nothing_twice(
    server_backend: Backend, tmp_path: Path
) -> None:
    started = time.monotonic()
    with process_stack(server_backend.home, *WORLD, extra_env=server_backend.env) as stack:
        workers = [worker(stack, tmp_path / name) for name in ("worker-a", "worker-b")]
        assert [outside_own_root(w, tmp_path) for w in workers] == [[], []]

        def start(kill_env: dict[str, str]) -> list[subprocess.Popen[str]]:
            return [
                Stopping(stack.seek_sync(*LOOP, extra_env=w.env | kill_env, cwd=w.cwd))  # type: ignore[misc]
                for w in workers
            ]

        killed = drive_with_kills(stack, start)
        print(f"\nkilled after {time.monotonic() - started:.0f} s: {killed}")
        assert set(killed.fired) == {*KILL_POINTS, MERGE}, killed
        assert -9 in killed.exits
        assert killed.errors == []  # no worker failed for any other reason
        ticks = sync_until_settled(stack, extra_env=workers[0].env, cwd=workers[0].cwd)
        result = audit(stack)
        assert result.problems == []
        assert result.counts["onderwijsregio"] > 0 and result.counts["kombo"] > 0
        assert leftovers(stack) == []
        assert [local_state(w) for w in workers] == [[], []]
    print(
        f"\nserver, two loops: {killed.attempts} killed attempts, {ticks} ticks to settle, "
        f"{result.counts}, {time.monotonic() - started:.0f} s"
    )
