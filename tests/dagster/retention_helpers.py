"""Helpers of the retention tests: run the `retention` job, read its materializations, read and
edit the warehouse, and search for personal data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg

from seek_sync.definitions import defs
from seek_sync.local_stack import LocalStack
from seek_sync.runstate.hirer_keys import HirerKeys
from tests.dagster.conftest import blobs_of, drive_until_settled, inbox_of, rows, write

__all__ = ["rows", "write"]  # the conftest's, imported from here by the retention tests

OP = "apply_retention_limits"
ENV = "SEEK_SYNC_RETENTION_"
ONE = "attachment_id = ?"


def retain(
    instance: dg.DagsterInstance, *, dry_run: bool | None = False
) -> dg.ExecuteInProcessResult:
    """A retention run; `dry_run=None`: with the job's default config (what the Launchpad opens)."""
    config = {} if dry_run is None else {"ops": {OP: {"config": {"dry_run": dry_run}}}}
    result = defs.resolve_job_def("retention").execute_in_process(
        instance=instance, run_config=config
    )
    assert result.success
    return result


def per_hirer_metadata(
    result: dg.ExecuteInProcessResult, stack: LocalStack
) -> dict[str, dict[str, Any]]:
    """Each `attachment_files` materialization's hirer (its partition's) -> its metadata values
    (what retention removed; with the hirer's totals unless it was purged whole)."""
    hirer_of = {key: hirer_id for hirer_id, key in HirerKeys(inbox_of(stack)).all().items()}
    found: dict[str, dict[str, Any]] = {}
    for event in result.asset_materializations_for_node(OP):
        if event.asset_key != dg.AssetKey("attachment_files"):
            continue
        assert event.partition in hirer_of and hirer_of[event.partition] not in found
        found[hirer_of[event.partition]] = {k: v.value for k, v in event.metadata.items()}
    return found


def blob(stack: LocalStack, hirer_id: str, sha256: str) -> bool:
    blobs = blobs_of(stack)
    return blobs.exists(blobs.key_for(hirer_id, sha256))


def personal(stack: LocalStack) -> set[str]:
    """Emails, full names and file names the warehouse holds (what metadata must never show)."""
    found = {r[0] for r in rows(stack, "SELECT safe_filename FROM attachment_files") if r[0]}
    for (raw,) in rows(stack, "SELECT raw_json FROM candidate_profiles WHERE status = 'ok'"):
        person = json.loads(raw)["candidate"]["person"]
        found |= {e["address"] for e in person["communication"]["email"]}
        found.add(person["name"]["formattedName"])
    assert found
    return {n for n in found if len(n) >= 8}


def shows_none_of(result: dg.ExecuteInProcessResult, needles: set[str], home: Path) -> None:
    logged = repr([e.event_specific_data for e in result.all_events]) + repr(
        [e.message for e in result.all_events]
    )
    assert not [n for n in needles if n in logged]
    stored = b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())
    assert not [n for n in needles if n.encode() in stored]


def quiet_afterwards(stack: LocalStack, instance: dg.DagsterInstance) -> None:
    """A tick and a backfill of every hirer afterwards: no download, no upload."""
    downloads = stack.sandbox.state.log.counts().get("attachment", 0)
    uploads = stack.files_at_fakes()
    driver = drive_until_settled(stack, instance)
    job = defs.resolve_job_def("hirer_sync")
    for key in driver.partition_keys():
        assert job.execute_in_process(instance=instance, partition_key=key).success
    assert stack.sandbox.state.log.counts().get("attachment", 0) == downloads
    assert stack.files_at_fakes() == uploads


def inbox_rows(stack: LocalStack) -> dict[str, int]:
    """Events and callbacks in the inbox, per hirer."""
    found = inbox_of(stack).read(
        "SELECT hirer_id, COUNT(*) AS n FROM (SELECT hirer_id FROM events UNION ALL "
        "SELECT hirer_id FROM callbacks) GROUP BY hirer_id"
    )
    return {r["hirer_id"]: int(r["n"]) for r in found}
