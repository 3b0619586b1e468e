"""A Celery worker SIGKILLed whole (its main and pool processes) in the middle of a run. Its task
stays STARTED in Redis, and RabbitMQ hands the unacknowledged message to the other worker, which
ignores it (the run already started) and reports SUCCESS: Dagster's run monitoring would read that
run as healthy. seek-sync's own dead-run burial is what ends it: the pool process had recorded
itself as the run's owner before the run began, its presence lock went with it, and the next tick
fails the run, frees its slots and hands its hirer out again. The flow then settles on the other
worker with everything at the fakes exactly once."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import dagster as dg
from dagster_celery.tags import DAGSTER_CELERY_TASK_ID_TAG

from seek_sync.celery_cluster import WORKER_TAG
from tests.cluster.celery_helpers import Worker
from tests.cluster.cluster_stack import Cluster, celery_cluster, drive_ticking
from tests.dagster.crash_helpers import audit, leftovers

WORLD = ("--applications", "12", "--hirers", "4", "--seed", "7", "--no-edge-cases")
LIMITS = {"SEEK_SYNC_HIRERS_PER_RUN": "1", "SEEK_SYNC_RUNS_PER_TICK": "2"}
BURIED = "seek-sync: the process executing this run is gone"


def run_in_step_on(cluster: Cluster, worker: Worker, seconds: float = 120.0) -> dg.DagsterRun:
    """The first run `worker` executes, once its `sync_hirers` step has started."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for run in cluster.instance.get_runs(dg.RunsFilter(tags={WORKER_TAG: worker.node})):
            starts = cluster.instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_START)
            if starts and run.job_name == "hirer_batch":
                return run
        time.sleep(0.2)
    raise AssertionError(f"no run in a step on {worker.name} after {seconds} s")


def task_state(cluster: Cluster, run: dg.DagsterRun, wanted: str, seconds: float) -> str:
    result = cluster.launcher.celery.AsyncResult(run.tags[DAGSTER_CELERY_TASK_ID_TAG])
    deadline = time.monotonic() + seconds
    while result.state != wanted and time.monotonic() < deadline:
        time.sleep(0.5)
    return str(result.state)


def test_a_worker_killed_mid_run_is_buried_by_the_tick(tmp_path: Path, s3_endpoint: str) -> None:
    with celery_cluster(tmp_path, s3_endpoint, WORLD, LIMITS) as cluster:
        doomed, survivor = cluster.workers
        cluster.driver().tick()
        victim = run_in_step_on(cluster, doomed)
        os.killpg(doomed.process.pid, signal.SIGKILL)  # its own session: main and pool processes
        doomed.process.wait(timeout=10)
        assert cluster.instance.get_run_by_id(victim.run_id).status == dg.DagsterRunStatus.STARTED

        drive_ticking(cluster)

        run = cluster.instance.get_run_by_id(victim.run_id)
        assert run is not None and run.status == dg.DagsterRunStatus.FAILURE
        failures = cluster.instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
        assert [BURIED in (e.message or "") for e in failures] == [True]
        # The message went to the survivor, which did not run it again; Redis reads SUCCESS.
        assert task_state(cluster, run, "SUCCESS", 90) == "SUCCESS"
        ignored = [e.message for e in cluster.instance.all_logs(run.run_id) if e.message]
        assert any(m.startswith("Ignoring a") for m in ignored), ignored
        others = [r for r in cluster.instance.get_runs() if r.run_id != run.run_id]
        assert {r.status for r in others} == {dg.DagsterRunStatus.SUCCESS}
        assert {r.tags[WORKER_TAG] for r in others if r.tags.get(WORKER_TAG) != doomed.node} == {
            survivor.node
        }
        result = audit(cluster.stack)
        assert result.problems == []
        assert result.counts["profiles"] == 12
        assert leftovers(cluster.stack) == []
        # Killed mid-run, the worker left nothing on its disk (its pool's memory is in /dev/shm).
        assert doomed.leftovers() == survivor.leftovers() == []
        print(f"killed {doomed.name} in run {run.run_id[:8]}; {len(others)} other run(s)")
