"""Helpers for the local cluster's test: the `seek-sync cluster` commands as processes, a backfill
launched through the webserver's GraphQL API as the UI launches it, requests held at the sandbox
found by the process group they came from (the cluster read as a `ProcessStack` for the crash
tests' exactly-once audit is `RunningCluster.as_stack`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import psutil
from dagster._core.execution.backfill import BulkActionStatus

from seek_sync.cluster.config import ProcessRecord
from seek_sync.cluster.view import RunningCluster
from tests.cluster.celery_helpers import BROKER_URL, REDIS_URL
from tests.services import ADMIN_URL

# The UI's mutation (dagster-webserver 1.13.27, ui-core LaunchAssetChoosePartitionsDialog.tsx).
LAUNCH_BACKFILL = """
mutation LaunchPartitionBackfill($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PartitionSetNotFoundError { message }
    ... on PartitionKeysNotFoundError { message }
    ... on UnauthorizedError { message }
    ... on PythonError { message stack }
  }
}
"""
UI_TAGS = [{"key": "dagster/from_ui", "value": "true"}]  # what the UI adds to what it launches
BACKFILL_DONE = {
    BulkActionStatus.COMPLETED,
    BulkActionStatus.COMPLETED_SUCCESS,
    BulkActionStatus.COMPLETED_FAILED,
    BulkActionStatus.FAILED,
    BulkActionStatus.CANCELED,
}


def cluster_environment(settings: dict[str, str]) -> dict[str, str]:
    """This process's environment without seek-sync's variables, the test's services as the
    cluster's, and `settings`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SEEK_SYNC_", "DAGSTER_"))}
    services = {
        "SEEK_SYNC_CLUSTER_POSTGRES_URL": ADMIN_URL,
        "SEEK_SYNC_CLUSTER_BROKER_URL": BROKER_URL,
        "SEEK_SYNC_CLUSTER_REDIS_URL": REDIS_URL,
    }
    return base | services | settings | {"SEEK_SYNC_PROGRESS": "plain"}


def seek_sync(
    *args: str, env: dict[str, str], cwd: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seek_sync.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def launch_backfill(ui_url: str, assets: list[str], partitions: list[str]) -> str:
    """A backfill of `assets` over `partitions`, through the webserver's GraphQL API; its id."""
    params = {
        "tags": UI_TAGS,
        "assetSelection": [{"path": [key]} for key in assets],
        "partitionNames": partitions,
        "fromFailure": False,
    }
    answer = httpx.post(
        f"{ui_url}/graphql",
        json={"query": LAUNCH_BACKFILL, "variables": {"backfillParams": params}},
        timeout=60,
    )
    answer.raise_for_status()
    body = answer.json()
    result = body.get("data", {}).get("launchPartitionBackfill") or {}
    assert result.get("__typename") == "LaunchBackfillSuccess", body
    return str(result["backfillId"])


def wait_backfill(instance: dg.DagsterInstance, backfill_id: str, seconds: float) -> Any:
    """The backfill once the daemon has finished it."""
    deadline = time.monotonic() + seconds
    while True:
        backfill = instance.get_backfill(backfill_id)
        if backfill is not None and backfill.status in BACKFILL_DONE:
            return backfill
        if time.monotonic() > deadline:
            status = backfill.status if backfill else None
            raise AssertionError(f"backfill not finished after {seconds} s: {status}")
        time.sleep(1)


def wait_runs_of_backfill(
    instance: dg.DagsterInstance, backfill_id: str, seconds: float
) -> list[dg.DagsterRun]:
    """The backfill's runs, once the daemon has launched some and every one has finished (the
    backfill itself is marked completed on a later pass of the daemon, up to 30 s on)."""
    deadline = time.monotonic() + seconds
    while True:
        runs = instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
        if runs and all(r.is_finished for r in runs):
            return list(runs)
        if time.monotonic() > deadline:
            raise AssertionError(f"the backfill's runs not finished after {seconds} s: {runs}")
        time.sleep(1)


def in_group(pid: int, record: ProcessRecord) -> bool:
    try:
        return os.getpgid(pid) == record.pid and psutil.Process(pid).create_time() >= record.started
    except (ProcessLookupError, psutil.NoSuchProcess):
        return False


def wait_held_from(cluster: RunningCluster, record: ProcessRecord, seconds: float) -> int:
    """A request held at the sandbox that came from `record`'s process group; its pid."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        held = cluster.admin("GET", "/_sandbox/faults/held")
        for pid in held["callers"]:
            if in_group(pid, record):
                return int(pid)
        time.sleep(0.3)
    raise AssertionError(f"no request held from {record.name} after {seconds} s")


def leftovers(record: ProcessRecord) -> list[Path]:
    """Whatever is under a process's working directory or temp dir."""
    return sorted(p for place in (record.cwd, record.tmp) for p in place.rglob("*"))
