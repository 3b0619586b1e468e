"""The local cluster as an operator runs it, from nothing: `seek-sync cluster up` (the sandbox, a
moto S3, two receivers, a code server, the webserver, the daemon and two Celery workers, each its
own process group) with twenty hirers and runs of five hirers. Fifty new applications are pushed
by the sandbox as webhooks to both receivers and the daemon's sensor hands them out. While its
runs are in their step (their downloads held at the sandbox), one worker's whole process group is
SIGKILLed. Nobody touches that run: the daemon's next sensor tick buries it (FAILURE, its pool
slots freed) and hands its hirers out again, and the other worker finishes them. Then a backfill
of the twenty hirers, launched through the webserver's GraphQL API as the UI launches it,
re-derives everything and sends nothing again. The demo's count check passes, every applicant and
file is at each fake exactly once, no run, slot, journal row or half-written blob is left, and no
run left anything in a worker's working or temp directory. `seek-sync cluster down` then leaves
no process, database, queue or Celery result behind."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import dagster as dg
import kombu
import pytest
import redis
from dagster_celery.tags import DAGSTER_CELERY_TASK_ID_TAG

from seek_sync.celery_cluster import WORKER_TAG
from seek_sync.cluster.config import ClusterServices, ClusterState, ProcessRecord
from seek_sync.cluster.demo import check_counts
from seek_sync.cluster.processes import alive
from seek_sync.cluster.services import TASK_META, database_exists
from seek_sync.cluster.view import RunningCluster, wait_settled
from seek_sync.dead_runs import FINISHED
from seek_sync.jobs import HIRER_ASSETS
from seek_sync.settings import load
from tests.cluster.celery_helpers import BROKER_URL, REDIS_URL, require_services
from tests.cluster.local_cluster_helpers import (
    cluster_environment,
    launch_backfill,
    leftovers,
    seek_sync,
    wait_backfill,
    wait_held_from,
    wait_runs_of_backfill,
)
from tests.dagster.crash_helpers import audit
from tests.dagster.crash_helpers import leftovers as stack_leftovers
from tests.services import ADMIN_URL, require_postgres

HIRERS, NEW_APPLICATIONS = 20, 50
WORLD = ("--hirers", str(HIRERS), "--applications", "0", "--seed", "3")
SETTINGS = {"SEEK_SYNC_HIRERS_PER_RUN": "5", "SEEK_SYNC_SENSOR_INTERVAL_SECONDS": "5"}
BURIED = "seek-sync: the process executing this run is gone"
POOLS = ("hirer_sync", "seek_api", "ats_api")
STARTED, SUCCESS = dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.SUCCESS


class Clock:
    """Seconds since the test began at each step, printed as they pass (shown with -s)."""

    def __init__(self) -> None:
        self.started, self.marks = time.monotonic(), {}

    def mark(self, what: str) -> None:
        self.marks[what] = round(time.monotonic() - self.started, 1)
        print(f"local cluster: {what} at {self.marks[what]} s", flush=True)


def wait_partitions(instance: dg.DagsterInstance, count: int, seconds: float) -> None:
    """Until the sensor's first tick has added the hirers as partitions."""
    deadline = time.monotonic() + seconds
    while len(instance.get_dynamic_partitions("hirer")) < count:
        assert time.monotonic() < deadline, "the sensor added no partitions"
        time.sleep(0.5)


def hirers_of(run: dg.DagsterRun) -> list[str]:
    return list(run.run_config["ops"]["sync_hirers"]["config"]["hirers"])  # type: ignore[index]


def slots_of(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    return [
        f"{pool}: {slot.step_key}"
        for pool in POOLS
        for slot in instance.event_log_storage.get_concurrency_info(pool).claimed_slots
        if slot.run_id == run_id
    ]


def run_start(instance: dg.DagsterInstance, run_id: str) -> float:
    [record] = instance.get_run_records(dg.RunsFilter(run_ids=[run_id]))
    return record.start_time or 0.0


def kill_a_worker_mid_run(
    cluster: RunningCluster, instance: dg.DagsterInstance, doomed: ProcessRecord, node: str
) -> dg.DagsterRun:
    """Fifty new applications pushed to both receivers, their downloads held at the sandbox; once
    `doomed` has a run parked there (in its step), its whole process group SIGKILLed; the run."""
    hold = {"endpoint": "attachment", "kind": "hold", "times": None, "delay": 120}
    cluster.admin("POST", "/_sandbox/faults", hold)
    for _ in range(NEW_APPLICATIONS // 5):
        cluster.admin("POST", "/_sandbox/applications", {"count": 5})
    wait_held_from(cluster, doomed, 90)
    [victim] = instance.get_runs(dg.RunsFilter(tags={WORKER_TAG: node}, statuses=[STARTED]))
    os.killpg(doomed.pid, signal.SIGKILL)  # the worker and its pool process, at once
    deadline = time.monotonic() + 10
    while alive([doomed]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive([doomed])
    assert slots_of(instance, victim.run_id), "the victim held no pool slot"
    cluster.admin("POST", "/_sandbox/faults/release")
    return victim


@pytest.mark.timeout(480)
def test_local_cluster_up_backfill_webhooks_dead_worker_down(tmp_path: Path) -> None:
    require_postgres()
    require_services()
    env, home, clock = cluster_environment(SETTINGS), tmp_path / "cluster", Clock()
    up = seek_sync(
        "cluster", "up", "--home", str(home), "--ui-port", "0", *WORLD, "--no-edge-cases",
        env=env, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert "UI " in up.stdout and "http://127.0.0.1:" in up.stdout
        clock.mark("up")
        cluster = RunningCluster.at(home)
        doomed, survivor = cluster.state.process("worker-1"), cluster.state.process("worker-2")
        doomed_node, survivor_node = cluster.state.workers
        with cluster.s3_credentials(), cluster.instance() as instance:
            wait_partitions(instance, HIRERS, 120)
            clock.mark("the sensor added the hirers")
            victim = kill_a_worker_mid_run(cluster, instance, doomed, doomed_node)
            clock.mark("worker-1 killed mid-run")
            wait_settled(cluster, instance, 240)
            clock.mark("settled")
            sent_before = cluster.admin("GET", "/_sandbox/ats/ledger")

            partitions = instance.get_dynamic_partitions("hirer")
            backfill_id = launch_backfill(cluster.state.ui_url, list(HIRER_ASSETS), partitions)
            filled = wait_runs_of_backfill(instance, backfill_id, 150)
            assert filled and {r.status for r in filled} == {SUCCESS}
            clock.mark("the backfill's run succeeded")
            wait_settled(cluster, instance, 60)
            assert cluster.admin("GET", "/_sandbox/ats/ledger") == sent_before  # nothing re-sent

            # The dead worker's run: failed by the daemon's sensor tick, slots freed.
            run = instance.get_run_by_id(victim.run_id)
            assert run is not None and run.status == dg.DagsterRunStatus.FAILURE
            failures = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
            assert [BURIED in (e.message or "") for e in failures] == [True]
            assert slots_of(instance, victim.run_id) == []
            # Its hirers finished by the other worker, in runs that began after it.
            victim_start = run_start(instance, victim.run_id)
            later = [
                r.dagster_run
                for r in instance.get_run_records(dg.RunsFilter(job_name="hirer_batch"))
                if r.dagster_run.status == SUCCESS and (r.start_time or 0) > victim_start
            ]
            finished = {h for r in later for h in hirers_of(r)}
            assert set(hirers_of(victim)) <= finished, (hirers_of(victim), finished)
            assert {r.tags[WORKER_TAG] for r in later} == {survivor_node}
            # Every other run succeeded, on both workers; the backfill completed.
            runs = instance.get_runs()
            assert {r.status for r in runs} <= FINISHED
            assert {r.run_id for r in runs if r.status != SUCCESS} == {victim.run_id}
            assert {r.tags.get(WORKER_TAG) for r in runs} == {doomed_node, survivor_node}
            backfill = wait_backfill(instance, backfill_id, 60)
            assert backfill.status.value == "COMPLETED_SUCCESS", backfill.status

            # Both receivers took webhooks; the demo's count check; exactly once at each fake.
            delivered = cluster.admin("GET", "/_sandbox/webhooks")["delivered"]
            by_url = delivered["delivered_by_url"]
            receivers = [f"{url}/webhooks/seek" for url in cluster.state.receiver_urls]
            assert sorted(by_url) == sorted(receivers)
            assert all(count > 0 for count in by_url.values()) and delivered["failed_batches"] == 0
            problems, drive = check_counts(cluster, instance, ignore=frozenset({victim.run_id}))
            assert problems == []
            result = audit(cluster.as_stack())
            assert result.problems == []
            assert result.counts["profiles"] == NEW_APPLICATIONS
            assert stack_leftovers(cluster.as_stack()) == []
            task_ids = [r.tags[DAGSTER_CELERY_TASK_ID_TAG] for r in runs]
        # No run left anything in a worker's working or temp directory.
        assert leftovers(doomed) == leftovers(survivor) == []
    finally:
        down = seek_sync("cluster", "down", "--home", str(home), env=env, cwd=tmp_path, timeout=120)
    assert down.returncode == 0, down.stdout + down.stderr
    clock.mark("down")
    assert ClusterState.load(home) is None  # the state file goes with a clean teardown
    assert alive(cluster.state.processes) == {}
    # Killed or stopped, a worker leaves nothing on its disk (its pool's memory is in /dev/shm).
    assert leftovers(doomed) == leftovers(survivor) == []
    services = load(ClusterServices, postgres_url=ADMIN_URL)
    assert not database_exists(services, cluster.state.database)
    with (
        kombu.Connection(BROKER_URL, connect_timeout=5) as connection,
        pytest.raises(Exception, match="NOT_FOUND"),
    ):
        connection.channel().queue_declare(cluster.state.queue, passive=True)
    assert redis.Redis.from_url(REDIS_URL).exists(*(TASK_META + t for t in task_ids)) == 0
    print(f"local cluster: {drive.runs} runs, {drive.ticks} sensor ticks; {clock.marks}")
