"""Whole runs on two Celery workers over RabbitMQ, the instance and state on PostgreSQL, blobs on
S3 (moto): the sensor's ticks launch `hirer_batch` runs through the instance's
`CeleryRunLauncher`; two `seek-sync worker` processes, each in an empty directory of its own and
sharing no disk with the stack, execute them until nothing is owed. Then everything is at the
fakes exactly once, each run carries the name of the worker that ran it (both workers ran some),
the pools held across workers, no run or pool slot is left behind and the workers' directories
are empty."""

from __future__ import annotations

import itertools
from pathlib import Path

import dagster as dg

from seek_sync.celery_cluster import QUEUE_ENV, WORKER_TAG
from tests.cluster.celery_helpers import stop_workers
from tests.cluster.cluster_stack import celery_cluster, drive
from tests.dagster.crash_helpers import audit, leftovers

WORLD = ("--applications", "12", "--hirers", "4", "--seed", "5", "--no-edge-cases")
# One hirer per run and two runs per tick: the first tick's two runs land on the two workers
# (a worker holds its run's message unacknowledged until the run ends, so it takes no second).
LIMITS = {"SEEK_SYNC_HIRERS_PER_RUN": "1", "SEEK_SYNC_RUNS_PER_TICK": "2"}
START = dg.DagsterEventType.STEP_START


def step_spans(instance: dg.DagsterInstance, run_ids: list[str]) -> list[tuple[float, float]]:
    """(start, end) of every `sync_hirers` step of these runs, from the event log."""
    spans = []
    for run_id in run_ids:
        events = instance.all_logs(run_id, of_type={START, dg.DagsterEventType.STEP_SUCCESS})
        times = [e.timestamp for e in events if e.step_key == "sync_hirers"]
        spans += [(times[0], times[-1])] if len(times) == 2 else []
    return sorted(spans)


def run_spans(instance: dg.DagsterInstance, run_ids: list[str]) -> list[tuple[float, float]]:
    """(start, end) of each of these runs."""
    return sorted(
        (record.start_time or 0.0, record.end_time or 0.0)
        for record in instance.get_run_records(dg.RunsFilter(run_ids=run_ids))
    )


def overlaps(spans: list[tuple[float, float]]) -> bool:
    """Whether any two of these sorted spans overlap."""
    return any(later[0] < earlier[1] for earlier, later in itertools.pairwise(spans))


def test_runs_execute_whole_on_two_celery_workers(tmp_path: Path, s3_endpoint: str) -> None:
    with celery_cluster(tmp_path, s3_endpoint, WORLD, LIMITS) as cluster:
        instance, stack, workers = cluster.instance, cluster.stack, cluster.workers
        assert cluster.launcher.default_queue == stack.env[QUEUE_ENV]
        assert instance.get_settings("run_monitoring")["max_resume_run_attempts"] == 0
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 2
        # The run's pool, one slot: its steps must take turns across the two workers.
        instance.event_log_storage.set_concurrency_slots("hirer_sync", 1)

        drive(cluster)

        runs = instance.get_runs()
        assert runs and {r.status for r in runs} == {dg.DagsterRunStatus.SUCCESS}
        nodes = {w.node for w in workers}
        assert {r.tags.get(WORKER_TAG) for r in runs} <= nodes
        assert {r.tags.get(WORKER_TAG) for r in runs} == nodes, "one worker ran nothing"
        batches = [r.run_id for r in runs if r.job_name == "hirer_batch"]
        assert overlaps(run_spans(instance, batches)), "no two runs ran at once"
        assert not overlaps(step_spans(instance, batches)), "the pool did not hold"
        assert len(step_spans(instance, batches)) == len(batches)
        result = audit(stack)
        assert result.problems == []
        assert result.counts["profiles"] == 12
        assert leftovers(stack) == []
        stop_workers(workers)
        assert [w.leftovers() for w in workers] == [[], []]
        print(
            f"workers ready in {cluster.ready_seconds:.1f} s; {len(runs)} run(s); {result.counts}"
        )
