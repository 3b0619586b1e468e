"""Helpers for tests that run `dagster asset materialize` as real processes against a local stack.

The stack (`seek_sync.local_stack`) has set every `SEEK_SYNC_*` variable and `DAGSTER_HOME`, so a
child process started with this environment works on the same inbox, warehouse, blobs and instance.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import dagster as dg

from seek_sync.backend import open_warehouse
from seek_sync.jobs import HIRER_ASSETS
from seek_sync.local_stack import PROJECT_ROOT, LocalStack

DAGSTER = str(Path(sys.executable).with_name("dagster"))
# The multiprocess executor (one process per step), started from a forkserver that has imported
# the code location once, so each step does not pay for the imports again.
MULTIPROCESS = {"execution": {"config": {"multiprocess": {"start_method": {"forkserver": {}}}}}}
IN_PROCESS = {"execution": {"config": {"in_process": {}}}}
PER_HIRER_TABLES = (
    "application_events",
    "candidate_profiles",
    "attachment_manifest",
    "attachment_files",
    "ats_candidates",
    "ats_uploads",
)
TIMESTAMPS = frozenset({"fetched_at", "downloaded_at", "updated_at", "sent_at", "key_sent_at"})
LOCK_FAILURES = ("could not set lock", "conflicting lock", "lock on file")

Rows = dict[str, list[tuple[Any, ...]]]


def add_hirer_partitions(hirers: list[str]) -> None:
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("hirer", hirers)


def materialize(key: str, run_config: dict[str, Any]) -> subprocess.Popen[str]:
    """`dagster asset materialize` of the hirer_sync assets for one hirer (its partition key),
    as a real process."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH")) if p)
    command = [
        DAGSTER,
        "asset",
        "materialize",
        "-m",
        "seek_sync.definitions",
        "--select",
        ",".join(HIRER_ASSETS),
        "--partition",
        key,
        "--config-json",
        json.dumps(run_config),
    ]
    return subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    """The exit code and the whole output of a `materialize` process."""
    output, _ = process.communicate(timeout=600)
    return process.returncode, output


def materialize_all(run_configs: dict[str, dict[str, Any]]) -> dict[str, tuple[int, str]]:
    """One process per hirer (partition key, with its run config), all started before any is
    waited for."""
    processes = {key: materialize(key, config) for key, config in run_configs.items()}
    return {key: finish(process) for key, process in processes.items()}


def _plain(value: Any, stack: LocalStack) -> Any:
    """A cell without what differs between two stacks of the same seed: base URL and home."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str):
        return value.replace(stack.sandbox.base_url, "<sandbox>").replace(str(stack.home), "<home>")
    return value


def warehouse_rows(stack: LocalStack, *, ignore: frozenset[str] = frozenset()) -> Rows:
    """Every per-hirer table, sorted, without timestamps (and without the `ignore` columns)."""
    warehouse = open_warehouse(stack.settings)
    out: Rows = {}
    with warehouse.connect(read_only=True) as connection:
        for table in PER_HIRER_TABLES:
            frame = connection.execute(f"SELECT * FROM {table}").df()
            frame = frame.drop(columns=[c for c in frame.columns if c in TIMESTAMPS | ignore])
            rows = [
                tuple(_plain(v, stack) for v in row)
                for row in frame.itertuples(index=False, name=None)
            ]
            out[table] = sorted(rows, key=repr)
    return out


def lock_failures(text: str) -> list[str]:
    """Lines of a run's output that report a DuckDB lock failure."""
    return [line for line in text.splitlines() if any(s in line.lower() for s in LOCK_FAILURES)]
