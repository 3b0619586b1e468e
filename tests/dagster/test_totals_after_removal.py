"""After a purge or a retention run, each affected hirer's latest materialization of every hirer
asset tells the warehouse's current totals (rows, and rows per state), as after a sync, and every
check has a result on it."""

from __future__ import annotations

import dagster as dg
import pytest

from seek_sync.assets.checks import CHECKS
from seek_sync.definitions import defs
from seek_sync.local_stack import LocalStack
from seek_sync.pipeline.totals import STATE_OF
from seek_sync.runstate.hirer_keys import HirerKeys
from tests.dagster.conftest import drive_until_settled, inbox_of, warehouse_of


def _warehouse_rows(stack: LocalStack, hirer_id: str) -> dict[str, int]:
    with warehouse_of(stack).connect() as db:
        return {
            stage: db.execute(
                f"SELECT COUNT(*) FROM {stage} WHERE hirer_id = ?", [hirer_id]
            ).fetchone()[0]  # type: ignore[index]
            for stage in STATE_OF
        }


def _latest_rows(instance: dg.DagsterInstance, key: str) -> dict[str, int]:
    """Each hirer asset's latest `dagster/row_count` in the hirer's partition (`key`)."""
    found = {}
    for stage in STATE_OF:
        [record] = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(stage), asset_partitions=[key]),
            limit=1,
        ).records
        found[stage] = record.asset_materialization.metadata["dagster/row_count"].value  # type: ignore[union-attr]
    return found


def test_a_purge_and_a_retention_run_leave_the_latest_totals_equal_to_the_warehouse(
    stack: LocalStack, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    drive_until_settled(stack, instance)
    hirer = sorted(stack.targets)[0]
    with warehouse_of(stack).connect() as db:
        [candidate] = db.execute(
            "SELECT p.candidate_id FROM candidate_profiles p JOIN ats_uploads u USING (hirer_id) "
            "WHERE p.hirer_id = ? ORDER BY ALL LIMIT 1",
            [hirer],
        ).fetchone()  # type: ignore[misc]
    before = _warehouse_rows(stack, hirer)
    config = {"candidate_id": candidate, "hirer_id": hirer, "dry_run": False}
    purged = defs.resolve_job_def("purge").execute_in_process(
        run_config={"ops": {"purge_data": {"config": config}}}, instance=instance
    )
    assert purged.success
    after = _warehouse_rows(stack, hirer)
    assert after["candidate_profiles"] < before["candidate_profiles"]
    keys = HirerKeys(inbox_of(stack)).all()
    assert _latest_rows(instance, keys[hirer]) == after
    for check in CHECKS:  # each check evaluated on the new materializations: none "missing"
        key = dg.AssetCheckKey(dg.AssetKey(check.asset), check.name)
        infos = instance.event_log_storage.get_asset_check_partition_info([key])
        assert keys[hirer] in {i.partition_key for i in infos if i.is_current}, check.name

    monkeypatch.setenv("SEEK_SYNC_RETENTION_PROFILE_DAYS", "0")
    retained = defs.resolve_job_def("retention").execute_in_process(
        run_config={"ops": {"apply_retention_limits": {"config": {"dry_run": False}}}},
        instance=instance,
    )
    assert retained.success
    for hirer_id in stack.targets:
        assert _warehouse_rows(stack, hirer_id)["candidate_profiles"] == 0
        assert _latest_rows(instance, keys[hirer_id]) == _warehouse_rows(stack, hirer_id)
