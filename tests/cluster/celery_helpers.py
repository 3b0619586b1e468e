"""Celery workers for tests: the machine's RabbitMQ and Redis, a queue of the test's own, and
`seek-sync worker` processes that each have an empty directory of their own.

RabbitMQ (127.0.0.1:5672, guest) and Redis (127.0.0.1:6379) are shared with other test runs: every
test uses a queue (and worker names) no other uses, deletes the queue and its exchange after, and
deletes the result keys of its own tasks. Unreachable services fail the test under `CI=true` and
skip it elsewhere, in one line. `SEEK_SYNC_TEST_BROKER_URL` / `SEEK_SYNC_TEST_REDIS_URL` point
the tests at other servers.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tests.services import fail_or_skip

BROKER_URL = os.environ.get("SEEK_SYNC_TEST_BROKER_URL", "pyamqp://guest:guest@127.0.0.1:5672//")
REDIS_URL = os.environ.get("SEEK_SYNC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TASK_META = "celery-task-meta-"  # Celery's Redis key of a task's state


@cache
def services_error() -> str | None:
    """Why RabbitMQ or Redis cannot be used (None when both can), asked once per session."""
    import kombu
    import redis

    try:
        with kombu.Connection(BROKER_URL, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as error:
        return f"RabbitMQ at {BROKER_URL}: {type(error).__name__}: {error}"
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as error:
        return f"Redis at {REDIS_URL}: {type(error).__name__}: {error}"
    return None


def require_services() -> None:
    """Fail (under CI) or skip (elsewhere) when RabbitMQ or Redis is unreachable."""
    error = services_error()
    if error is not None:
        fail_or_skip(f"not reachable: {error}", "start rabbitmq-server and redis-server")


@dataclass
class Worker:
    """One `seek-sync worker` process and its own directory: `cwd` and `tmp` (its TMPDIR) start
    empty, `home` holds its SEEK_SYNC_HOME (the hirer map), `dagster` its instance file."""

    name: str
    root: Path
    process: subprocess.Popen[bytes]

    @property
    def node(self) -> str:
        """Celery's name of the worker, as recorded on its runs."""
        return f"{self.name}@{socket.gethostname()}"

    def leftovers(self) -> list[str]:
        """Whatever a run left in the worker's working or temp directory."""
        return [
            str(path.relative_to(self.root))
            for place in ("cwd", "tmp")
            for path in (self.root / place).rglob("*")
        ]

    def log(self) -> str:
        return (self.root / "worker.log").read_text(encoding="utf-8", errors="replace")


def worker_environment(stack_env: dict[str, str], root: Path) -> dict[str, str]:
    """This process's environment without seek-sync's or Dagster's variables, plus the stack's
    settings with a home, temp dir and Dagster home of the worker's own (sharing no disk with
    the stack: its hirer map is copied)."""
    for place in ("cwd", "tmp", "home", "dagster"):
        (root / place).mkdir(parents=True)
    targets = root / "home" / "hirer-targets.yaml"
    shutil.copyfile(stack_env["SEEK_SYNC_HIRER_TARGETS_PATH"], targets)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SEEK_SYNC_", "DAGSTER_"))}
    given = {k: v for k, v in stack_env.items() if not k.startswith("DAGSTER_")}
    return (
        base
        | given
        | {
            "SEEK_SYNC_HOME": str(root / "home"),
            "SEEK_SYNC_HIRER_TARGETS_PATH": str(targets),
            "TMPDIR": str(root / "tmp"),
            "DAGSTER_HOME": str(root / "dagster"),
        }
    )


def start_worker(stack_env: dict[str, str], root: Path, name: str) -> Worker:
    env = worker_environment(stack_env, root)
    with open(root / "worker.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "seek_sync.cli", "worker", "--name", name, "--slots", "1"],
            cwd=root / "cwd",
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # signals to the test's process group do not reach it
        )
    return Worker(name, root, process)


def wait_ready(app: object, workers: list[Worker], seconds: float = 90.0) -> None:
    """Until every worker answers a ping over the broker (or one has exited)."""
    control = app.control  # type: ignore[attr-defined]
    wanted = {worker.node for worker in workers}
    deadline = time.monotonic() + seconds
    while True:
        for worker in workers:
            if worker.process.poll() is not None:
                raise AssertionError(f"worker {worker.name} exited:\n{worker.log()[-3000:]}")
        answers = control.ping(destination=sorted(wanted), timeout=1.0) or []
        if wanted <= {name for answer in answers for name in answer}:
            return
        if time.monotonic() > deadline:
            logs = "\n".join(worker.log()[-2000:] for worker in workers)
            raise AssertionError(f"workers not ready after {seconds} s:\n{logs}")


def stop_workers(workers: Iterable[Worker]) -> None:
    """SIGTERM (Celery's warm shutdown), then SIGKILL after 20 s."""
    workers = list(workers)
    for worker in workers:
        if worker.process.poll() is None:
            worker.process.terminate()
    for worker in workers:
        try:
            worker.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait(timeout=10)


def remove_queue(queue: str) -> None:
    """The test's queue and its exchange gone from the shared broker (messages with them)."""
    import kombu

    with kombu.Connection(BROKER_URL, connect_timeout=5) as connection:
        channel = connection.channel()
        channel.queue_delete(queue)
        channel.exchange_delete(queue)


def forget_results(task_ids: Iterable[str]) -> None:
    """The test's task states gone from the shared Redis."""
    import redis

    keys = [TASK_META + task_id for task_id in task_ids]
    if keys:
        redis.Redis.from_url(REDIS_URL).delete(*keys)
