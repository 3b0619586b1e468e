"""Retention over the sandbox, the rest: consumed inbox rows past their limit go (the others
stay), a removed hirer is purged after its grace, old runs are deleted, and a dry run removes
nothing."""

from __future__ import annotations

from typing import Any

import dagster as dg
import pytest

from seek_sync.assets.dry_runs import DRY_RUN_TAG, NOTE_TAG
from seek_sync.local_stack import LocalStack
from seek_sync.runstate.hirer_keys import HirerKeys
from seek_sync.runstate.inbox import InboxEvent
from tests.dagster.conftest import drive_until_settled, inbox_of
from tests.dagster.retention_helpers import (
    ENV,
    ONE,
    OP,
    inbox_rows,
    per_hirer_metadata,
    retain,
    rows,
    write,
)


def test_consumed_inbox_rows_past_their_limit_go_and_the_rest_stay(
    stack: LocalStack, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    drive_until_settled(stack, instance)
    inbox = inbox_of(stack)
    hirer = sorted(stack.targets)[0]
    inbox.add_events(
        [
            InboxEvent("late-1", "CandidateApplicationCreated", "webhook", hirer, "late-profile"),
            InboxEvent("orphan-1", "CandidateApplicationCreated", "poll", profile_id="orphan"),
        ]
    )
    waiting = rows(
        stack,
        "SELECT attachment_id, idempotency_key FROM ats_uploads WHERE target = 'onderwijsregio' "
        "AND state = 'confirmed' ORDER BY 1 LIMIT 1",
    )[0]
    write(stack, f"UPDATE ats_uploads SET state = 'accepted' WHERE {ONE}", [waiting[0]])
    callbacks = inbox.callbacks_after(0)
    keep = [c.seq for c in callbacks if c.idempotency_key == waiting[1]]
    assert keep and len(keep) < len(callbacks)
    events_in_warehouse = rows(stack, "SELECT COUNT(*) FROM application_events")[0][0]
    before = inbox_rows(stack)
    monkeypatch.setenv(ENV + "INBOX_DAYS", "0")

    result = retain(instance)

    assert sorted(e.event_id for e in inbox.events_after(0)) == ["late-1", "orphan-1"]
    assert [c.seq for c in inbox.callbacks_after(0)] == keep
    assert rows(stack, "SELECT COUNT(*) FROM application_events")[0][0] == events_in_warehouse
    after = inbox_rows(stack)
    removed = {h: n - after.get(h, 0) for h, n in before.items() if n > after.get(h, 0)}
    assert removed and "unknown_hirer" not in removed
    metadata = per_hirer_metadata(result, stack)
    assert {h: m["inbox_rows_removed"] for h, m in metadata.items()} == removed


def test_a_removed_hirer_is_purged_after_its_grace_not_before(
    stack: LocalStack, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    driver = drive_until_settled(stack, instance)
    gone = sorted(stack.targets)[0]
    stack.sandbox.state.world.remove_relationship(gone)
    driver.tick()  # polls the change; the hirers table records it
    assert rows(stack, "SELECT relationship FROM hirers WHERE hirer_id = ?", [gone]) == [
        ("removed",)
    ]
    count = "SELECT COUNT(*) FROM candidate_profiles WHERE hirer_id = ?"
    profiles = rows(stack, count, [gone])[0][0]
    assert profiles

    assert per_hirer_metadata(retain(instance), stack) == {}  # within the grace (30 days)
    assert rows(stack, count, [gone])[0][0] == profiles

    monkeypatch.setenv(ENV + "REMOVED_HIRER_GRACE_DAYS", "0")
    metadata = per_hirer_metadata(retain(instance), stack)
    assert rows(stack, count, [gone])[0][0] == 0
    assert rows(stack, "SELECT COUNT(*) FROM attachment_files WHERE hirer_id = ?", [gone]) == [(0,)]
    assert not list((stack.home / "blobs").glob(f"*{gone.rsplit(':', 1)[1]}*/*"))
    assert not inbox_of(stack).events_for_hirer(gone)
    key = HirerKeys(inbox_of(stack)).all()[gone]  # the partition the sensor made for it
    assert not instance.has_dynamic_partition("hirer", key)
    assert set(metadata) == {gone}
    assert metadata[gone]["hirer_purged"] and metadata[gone]["profiles_removed"] == profiles
    assert rows(stack, "SELECT kind, reason FROM purges") == [("hirer", "relationship removed")]


def test_a_dry_run_removes_nothing_and_a_real_one_trims_run_history(
    stack: LocalStack, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    driver = drive_until_settled(stack, instance)
    stack.sandbox.state.world.remove_relationship(sorted(stack.targets)[-1])
    driver.tick()
    for name in ("FILE_DAYS_AFTER_CONFIRMED", "PROFILE_DAYS", "INBOX_DAYS", "RUN_HISTORY_DAYS",
                 "REMOVED_HIRER_GRACE_DAYS"):  # fmt: skip
        monkeypatch.setenv(ENV + name, "0")

    def snapshot() -> tuple[Any, ...]:
        tables = ("application_events", "candidate_profiles", "attachment_files", "ats_uploads")
        held = [rows(stack, f"SELECT * FROM {t} ORDER BY ALL") for t in tables]
        blobs = sorted(p for p in (stack.home / "blobs").rglob("*") if p.is_file())
        return held, blobs, inbox_of(stack).counts()

    before, runs = snapshot(), {r.run_id for r in instance.get_runs()}
    dry = retain(instance, dry_run=None)  # launched by hand: the default is a dry run
    assert snapshot() == before
    dry_tags = instance.get_run_by_id(dry.run_id).tags  # type: ignore[union-attr]
    assert dry_tags[DRY_RUN_TAG] == "true" and dry_tags[NOTE_TAG].startswith("dry run:")
    assert {r.run_id for r in instance.get_runs()} == runs | {dry.run_id}
    assert per_hirer_metadata(dry, stack) == {}  # a dry run materializes nothing
    would = dry.output_for_node(OP)
    assert would["profiles_removed"] and would["files_expired"] and would["hirers_purged"] == 1
    assert would["inbox_rows_removed"] and would["runs_deleted"] == len(runs)
    assert {r[0] for r in rows(stack, "SELECT dry_run FROM purges")} == {True}

    done = retain(instance)
    assert instance.get_run_by_id(done.run_id).tags[DRY_RUN_TAG] == "false"  # type: ignore[union-attr]
    assert [r.run_id for r in instance.get_runs()] == [done.run_id]  # the others were old enough
    did = done.output_for_node(OP)
    assert did["runs_deleted"] == len(runs) + 1
    same = ("profiles_removed", "files_expired", "files_purged", "hirers_purged")
    assert {k: did[k] for k in same} == {k: would[k] for k in same}  # the dry run's counts
    assert rows(stack, "SELECT COUNT(*) FROM candidate_profiles")[0][0] == 0
    assert not [p for p in (stack.home / "blobs").rglob("*") if p.is_file()]
