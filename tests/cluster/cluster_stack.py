"""A whole cluster for a test: the sandbox and receiver as processes on the server backend (a
private PostgreSQL database, a moto bucket), the instance launching on Celery, two `seek-sync
worker` processes on a queue of the test's own; and driving ticks that launch runs on it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from dagster_celery.launcher import CeleryRunLauncher
from dagster_celery.tags import DAGSTER_CELERY_TASK_ID_TAG

from seek_sync.celery_cluster import BACKEND_ENV, BROKER_ENV, QUEUE_ENV, SLOTS_ENV
from seek_sync.dead_runs import FINISHED, IN_PROGRESS
from seek_sync.driver import Driver
from seek_sync.local_stack import patched_environ
from seek_sync.process_stack import ProcessStack, process_stack
from tests.backends import make_bucket, server_env
from tests.cluster.celery_helpers import (
    BROKER_URL,
    REDIS_URL,
    Worker,
    forget_results,
    remove_queue,
    require_services,
    start_worker,
    stop_workers,
    wait_ready,
)
from tests.services import private_database


@dataclass
class Cluster:
    stack: ProcessStack
    instance: dg.DagsterInstance
    launcher: CeleryRunLauncher
    workers: list[Worker]
    queue: str
    ready_seconds: float = 0.0
    task_ids: list[str] = field(default_factory=list)

    def driver(self) -> Driver:
        """The sensor's ticks, launching their runs through the Celery launcher."""
        return Driver(self.instance, trigger="test", launch=True)


@contextmanager
def celery_cluster(
    tmp_path: Path, s3_endpoint: str, world: tuple[str, ...], settings: dict[str, str]
) -> Iterator[Cluster]:
    """The cluster, this process's environment the stack's while it runs; afterwards the workers
    stopped, the queue deleted and the test's task results removed from Redis."""
    require_services()
    token = uuid.uuid4().hex[:10]
    queue = f"seek_sync_test_{token}"
    chosen = {BROKER_ENV: BROKER_URL, BACKEND_ENV: REDIS_URL, QUEUE_ENV: queue, SLOTS_ENV: "2"}
    workers: list[Worker] = []
    task_ids: list[str] = []
    with private_database() as database:
        env = server_env(database, make_bucket(s3_endpoint), s3_endpoint, tmp_path / "home")
        try:
            with (
                process_stack(
                    tmp_path / "home", *world, extra_env=env | chosen | settings
                ) as stack,
                patched_environ(stack.env),
                dg.DagsterInstance.get() as instance,
            ):
                launcher = instance.run_launcher
                assert isinstance(launcher, CeleryRunLauncher)
                for n in (1, 2):
                    root = tmp_path / f"worker{n}"
                    workers.append(start_worker(stack.env, root, f"seek-test-{token}-{n}"))
                started = time.monotonic()
                wait_ready(launcher.celery, workers)
                cluster = Cluster(stack, instance, launcher, workers, queue)
                cluster.ready_seconds = time.monotonic() - started
                cluster.task_ids = task_ids
                try:
                    yield cluster
                finally:
                    task_ids += [
                        run.tags[DAGSTER_CELERY_TASK_ID_TAG]
                        for run in instance.get_runs()
                        if DAGSTER_CELERY_TASK_ID_TAG in run.tags
                    ]
        finally:
            stop_workers(workers)
            remove_queue(queue)
            forget_results(task_ids)


def wait_finished(instance: dg.DagsterInstance, run_ids: list[str], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        runs = [instance.get_run_by_id(run_id) for run_id in run_ids]
        if all(run is not None and run.status in FINISHED for run in runs):
            return
        if time.monotonic() > deadline:
            states = [(r.run_id[:8], r.status.value) for r in runs if r is not None]
            raise AssertionError(f"runs not finished after {seconds} s: {states}")
        time.sleep(0.5)


def drive(cluster: Cluster, ticks: int = 12) -> None:
    """Ticks launching runs, each tick's runs awaited, until a tick launches none and the fakes
    are idle."""
    driver = cluster.driver()
    for _ in range(ticks):
        launched = driver.tick().runs_launched
        wait_finished(cluster.instance, launched, 120)
        if not launched and cluster.stack.wait_idle():
            return
    raise AssertionError(f"not settled after {ticks} ticks")


def drive_ticking(
    cluster: Cluster,
    every: float = 5.0,
    seconds: float = 200.0,
    after_tick: Callable[[], None] = lambda: None,
) -> None:
    """Ticks every `every` seconds whatever runs, as the daemon's sensor does (so a dead run is
    buried by a tick), until a tick launches none, no run is in progress and the fakes are idle."""
    driver, deadline = cluster.driver(), time.monotonic() + seconds
    while time.monotonic() < deadline:
        launched = driver.tick().runs_launched
        after_tick()
        running = cluster.instance.get_runs(dg.RunsFilter(statuses=IN_PROGRESS))
        if not launched and not running and cluster.stack.wait_idle():
            return
        time.sleep(every)
    raise AssertionError(f"not settled after {seconds} s")
