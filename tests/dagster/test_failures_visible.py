"""Uploads the ATS refused are visible in Dagster: a warning check per hirer with counts by
reason, the reasons table in the materialization's metadata, and a warning log line."""

from __future__ import annotations

import dagster as dg

from seek_sync.local_stack import LocalStack
from seek_sync.runstate.hirer_keys import HirerKeys
from tests.dagster.conftest import drive_until_settled, inbox_of

CHECK = "no_upload_needs_action"


def test_uploads_kombo_refused_show_as_a_failed_check_with_their_reason(
    stack: LocalStack, instance: dg.DagsterInstance
) -> None:
    kombo = stack.sandbox.state.fakes["kombo"]
    kombo.add_fault("REMOTE.INPUT_INVALID", times=2, route="kombo.add_attachment")
    drive_until_settled(stack, instance)

    evaluations = [
        entry.dagster_event.event_specific_data
        for run in instance.get_runs()
        for entry in instance.all_logs(
            run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
        )
        if entry.dagster_event is not None
    ]
    failing = [
        ev
        for ev in evaluations
        if ev.check_name == CHECK and not ev.passed  # type: ignore[union-attr]
    ]
    assert failing, "no failed check for the refused uploads"
    counts = failing[-1].metadata["counts"].value  # type: ignore[union-attr]
    assert sum(counts.values()) == 2
    assert all(k.startswith("failed: ") and "INPUT_INVALID" in k for k in counts), counts
    hirer = failing[-1].metadata["hirer_id"].value  # type: ignore[union-attr]
    assert stack.targets[hirer] == "kombo"
    key = failing[-1].partition  # type: ignore[union-attr]
    assert key == HirerKeys(inbox_of(stack)).all()[hirer]  # the hirer's partition
    others = [ev for ev in evaluations if ev.check_name == CHECK and ev.passed]  # type: ignore[union-attr]
    assert others  # hirers with nothing refused pass

    materializations = [
        m
        for m in instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("ats_uploads"), asset_partitions=[key]),
            limit=100,
        ).records
    ]
    tables = [
        r.asset_materialization.metadata["not_sent"].value  # type: ignore[union-attr]
        for r in materializations
        if "not_sent" in r.asset_materialization.metadata  # type: ignore[union-attr]
    ]
    assert tables and sum(row.data["uploads"] for row in tables[0].records) == 2

    warnings = [
        entry.user_message
        for run in instance.get_runs()
        for entry in instance.all_logs(run.run_id)
        if "upload(s) failed" in entry.user_message
    ]
    assert warnings and all("INPUT_INVALID" in w for w in warnings), warnings
