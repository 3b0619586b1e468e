"""Runs seek-sync starts itself are listed under their job, as Dagster's GraphQL API (what the UI
reads) answers for the job's Runs tab: a `sync --loop` run under `hirer_batch`, attributed to the
loop and the sensor; a CLI purge under `purge`, a dry run tagged as one. The code location is
loaded from the project's `workspace.yaml`, in its own process, as `seek-sync dev` loads it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import dagster as dg
import pytest
from dagster_graphql.test.utils import define_out_of_process_context, execute_dagster_graphql

from seek_sync.assets.dry_runs import DRY_RUN_TAG
from seek_sync.launch import LOCATION, LOCATION_LABEL
from seek_sync.local_stack import WORKSPACE_YAML, LocalStack

JOB_RUNS = """
query JobRuns($filter: RunsFilter) {
  runsOrError(filter: $filter) {
    __typename
    ... on Runs { results { runId jobName status repositoryOrigin { repositoryLocationName }
                             tags { key value } } }
  }
}
"""


SENSOR_TICKS = """
query SensorTicks($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) {
    __typename
    ... on Sensor { sensorState { ticks(limit: 200) { status runIds skipReason } } }
  }
}
"""


def _cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "seek_sync.cli", *args],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def graphql(instance: dg.DagsterInstance) -> Iterator[Any]:
    with define_out_of_process_context(str(WORKSPACE_YAML), None, instance) as context:
        yield context


def job_runs(context: Any, job: str) -> list[dict[str, Any]]:
    """The runs the UI's Runs tab of `job` lists: by job name and the code location's label."""
    variables = {
        "filter": {"pipelineName": job, "tags": [{"key": ".dagster/repository",
                                                  "value": LOCATION_LABEL}]}
    }  # fmt: skip
    result = execute_dagster_graphql(context, JOB_RUNS, variables=variables)
    assert result.errors is None, result.errors
    found = result.data["runsOrError"]
    assert found["__typename"] == "Runs"
    return [r | {"tags": {t["key"]: t["value"] for t in r["tags"]}} for r in found["results"]]


def sensor_ticks(context: Any) -> list[dict[str, Any]]:
    """The ticks the Automation page shows for `seek_applications`."""
    selector = {"repositoryName": "__repository__", "repositoryLocationName": LOCATION,
                "sensorName": "seek_applications"}  # fmt: skip
    result = execute_dagster_graphql(context, SENSOR_TICKS, variables={"selector": selector})
    assert result.errors is None, result.errors
    found = result.data["sensorOrError"]
    assert found["__typename"] == "Sensor", found
    return list(found["sensorState"]["ticks"])


def _loop_until_a_run(instance: dg.DagsterInstance, seconds: float = 150) -> str:
    """`seek-sync sync --loop` until one of its runs succeeded; stopped with SIGTERM."""
    loop = _cli("sync", "--loop", "--interval", "0.5")
    deadline, done = (
        time.monotonic() + seconds,
        dg.RunsFilter(job_name="hirer_batch", statuses=[dg.DagsterRunStatus.SUCCESS]),
    )
    try:
        while time.monotonic() < deadline and not instance.get_runs(done, limit=1):
            assert loop.poll() is None, loop.communicate()
            time.sleep(0.5)
    finally:
        loop.send_signal(signal.SIGTERM)
        _, err = loop.communicate(timeout=120)
    assert loop.returncode == 0, err
    [run] = instance.get_runs(done, limit=1)
    return run.run_id


def test_loop_and_cli_runs_are_listed_under_their_jobs(
    stack: LocalStack, instance: dg.DagsterInstance, graphql: Any
) -> None:
    run_id = _loop_until_a_run(instance)
    hirer = sorted(stack.targets)[0]
    purge = _cli("purge", "--hirer", hirer, "--dry-run", "--reason", "test")
    out, err = purge.communicate(timeout=300)
    assert purge.returncode == 0, err
    assert "dry run" in out

    batch = {r["runId"]: r for r in job_runs(graphql, "hirer_batch")}
    assert run_id in batch
    listed = batch[run_id]
    assert listed["status"] == "SUCCESS"
    assert listed["repositoryOrigin"]["repositoryLocationName"] == LOCATION
    assert listed["tags"]["seek_sync/trigger"] == "seek-sync sync --loop"
    assert listed["tags"]["dagster/sensor_name"] == "seek_applications"
    ticks = sensor_ticks(graphql)
    assert [t["status"] for t in ticks if run_id in t["runIds"]] == ["SUCCESS"]
    assert all(
        "seek-sync sync --loop" in t["skipReason"] for t in ticks if t["status"] == "SKIPPED"
    )

    [purged] = job_runs(graphql, "purge")
    assert purged["status"] == "SUCCESS"
    assert purged["tags"]["seek_sync/trigger"] == "seek-sync purge"
    assert purged["tags"][DRY_RUN_TAG] == "true"
    assert purged["tags"]["seek_sync/note"].startswith("dry run")
    assert job_runs(graphql, "export") == []  # the filter names one job, not any run
