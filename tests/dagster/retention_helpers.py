"""Helpers of the retention tests: run the `retention` job, read its materializations, read and
edit the warehouse, and search for personal data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg

from seek_sync.definitions import defs
from seek_sync.local_stack import LocalStack
from seek_sync.store.blobs import BlobStore
from tests.dagster.conftest import drive_until_settled, inbox_of, warehouse_of

OP = "apply_retention_limits"
ENV = "SEEK_SYNC_RETENTION_"
ONE = "attachment_id = ?"


def retain(instance: dg.DagsterInstance, *, dry_run: bool = False) -> dg.ExecuteInProcessResult:
    result = defs.resolve_job_def("retention").execute_in_process(
        instance=instance, run_config={"ops": {OP: {"config": {"dry_run": dry_run}}}}
    )
    assert result.success
    return result


def per_hirer_metadata(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    """Each materialization's partition -> its metadata values."""
    found: dict[str, dict[str, Any]] = {}
    for event in result.asset_materializations_for_node(OP):
        assert event.asset_key == dg.AssetKey("attachment_files")
        assert event.partition is not None and event.partition not in found
        found[event.partition] = {k: v.value for k, v in event.metadata.items()}
    return found


def rows(stack: LocalStack, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with warehouse_of(stack).connect(read_only=True) as db:
        return db.execute(sql, params or []).fetchall()


def write(stack: LocalStack, sql: str, params: list[Any]) -> None:
    with warehouse_of(stack).connect() as db:
        db.execute(sql, params)


def blob(stack: LocalStack, hirer_id: str, sha256: str) -> bool:
    blobs = BlobStore(stack.settings.blob_url)
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
    for hirer_id in driver.hirers():
        assert job.execute_in_process(instance=instance, partition_key=hirer_id).success
    assert stack.sandbox.state.log.counts().get("attachment", 0) == downloads
    assert stack.files_at_fakes() == uploads


def inbox_rows(stack: LocalStack) -> dict[str, int]:
    """Events and callbacks in the inbox, per hirer."""
    found = inbox_of(stack).read(
        "SELECT hirer_id, COUNT(*) AS n FROM (SELECT hirer_id FROM events UNION ALL "
        "SELECT hirer_id FROM callbacks) GROUP BY hirer_id"
    )
    return {r["hirer_id"]: int(r["n"]) for r in found}
