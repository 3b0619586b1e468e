"""Each asset through `dg.materialize` on a real instance, against the sandbox over HTTP."""

from __future__ import annotations

from typing import Any

import dagster as dg
import pytest

from seek_sync.assets import checks
from seek_sync.assets.ats import ats_push
from seek_sync.assets.files import attachment_files
from seek_sync.assets.seek import (
    application_events,
    attachment_manifest,
    candidate_profiles,
    hirers,
)
from seek_sync.local_stack import LocalStack
from tests.dagster.conftest import BOTH_BACKENDS, RESOURCES, inbox_of, poll_inbox, warehouse_of

pytestmark = BOTH_BACKENDS

STAGES: list[Any] = [
    application_events,
    candidate_profiles,
    attachment_manifest,
    attachment_files,
    checks.every_file_accounted_for,
    checks.blobs_intact,
    ats_push,
    checks.uploads_settle_in_time,
]


def materialization(result: dg.ExecuteInProcessResult, key: str) -> dict[str, Any]:
    found = [
        e.materialization
        for e in result.get_asset_materialization_events()
        if e.materialization.asset_key == dg.AssetKey(key)
    ]
    assert len(found) == 1, key
    return {k: v.value for k, v in found[0].metadata.items()}


@pytest.fixture
def hirer(stack: LocalStack, instance: dg.DagsterInstance) -> str:
    """An Onderwijsregio hirer with applications, its partition added, events in the inbox."""
    assert poll_inbox().events_new > 0
    world = stack.sandbox.state.world
    hirer_id = next(
        h
        for h, kind in stack.targets.items()
        if kind == "onderwijsregio" and any(a.hirer_id == h for a in world.applications.values())
    )
    instance.add_dynamic_partitions("hirer", [hirer_id])
    return hirer_id


def test_hirers_asset_records_each_hirer_with_its_target(
    stack: LocalStack, instance: dg.DagsterInstance, hirer: str
) -> None:
    result = dg.materialize([hirers], instance=instance, resources=RESOURCES)
    assert result.success
    meta = materialization(result, "hirers")
    table = warehouse_of(stack).query("SELECT hirer_id, relationship, target FROM hirers")
    assert meta["rows_new"] == len(table) > 0
    assert set(table["hirer_id"]) <= set(stack.targets)
    assert dict(zip(table["hirer_id"], table["target"], strict=True))[hirer] == "onderwijsregio"
    assert set(table["relationship"]) == {"active"}
    assert meta["endpoints"] == "sandbox"


def test_each_stage_materializes_and_a_second_run_changes_nothing(
    stack: LocalStack, instance: dg.DagsterInstance, hirer: str
) -> None:
    world = stack.sandbox.state.world
    apps = [a for a in world.applications.values() if a.hirer_id == hirer]
    files = [f for a in apps for f in a.attachments]

    result = dg.materialize(STAGES, partition_key=hirer, instance=instance, resources=RESOURCES)
    assert result.success
    events = materialization(result, "application_events")
    assert events["rows_new"] == len(inbox_of(stack).events_for_hirer(hirer))
    assert events["state_CandidateApplicationCreated"] == len(apps)
    profiles = materialization(result, "candidate_profiles")
    assert profiles["rows_new"] == len(apps) and profiles["state_ok"] == len(apps)
    assert materialization(result, "attachment_manifest")["rows_new"] == len(files)
    downloaded = materialization(result, "attachment_files")
    assert downloaded["state_stored"] == len(files)
    assert downloaded["bytes_downloaded"] == sum(f.size for f in files)
    uploads = materialization(result, "ats_uploads")
    assert uploads["rows_new"] == len(files)
    assert uploads.get("state_accepted", 0) + uploads.get("state_confirmed", 0) + uploads.get(
        "state_rejected", 0
    ) == len(files)
    candidates = materialization(result, "ats_candidates")
    # An applicant with no file has nothing to push and is not created in the ATS.
    assert candidates["rows_new"] == len({a.candidate_id for a in apps if a.attachments})
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == 3 and all(e.passed for e in evaluations)

    stack_fake = stack.sandbox.state.fakes["onderwijsregio"]
    assert stack.wait_for_fakes(20)
    again = dg.materialize(STAGES, partition_key=hirer, instance=instance, resources=RESOURCES)
    assert again.success
    before = len(stack_fake.uploads)
    for key in ("application_events", "candidate_profiles", "attachment_manifest"):
        assert materialization(again, key)["rows_new"] == 0, key
    assert materialization(again, "attachment_files")["rows_new"] == 0
    final = materialization(again, "ats_uploads")
    assert final["rows_new"] == 0
    assert final.get("state_confirmed", 0) + final.get("state_rejected", 0) == len(files)
    assert len(stack_fake.uploads) == before  # nothing uploaded twice


def test_metadata_previews_hold_ids_and_states_never_personal_data(
    stack: LocalStack, instance: dg.DagsterInstance, hirer: str
) -> None:
    result = dg.materialize(STAGES, partition_key=hirer, instance=instance, resources=RESOURCES)
    assert result.success
    world = stack.sandbox.state.world
    people = [c.person for c in world.candidates.values()]
    text = " ".join(
        str(v.value)
        for e in result.get_asset_materialization_events()
        for v in e.materialization.metadata.values()
    )
    assert "|" in text  # previews are there (markdown tables)
    for person in people:
        assert person.email not in text
        assert not person.family or person.family not in text
