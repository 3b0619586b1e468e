"""Retention over the sandbox, files and applications: the `retention` job deletes confirmed
files' blobs and keeps the ones an unsettled upload needs, and purges applications past their
limit unless an unsettled upload needs them; nothing comes back, and the materializations carry
counts, never personal data."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pytest

from seek_sync.local_stack import LocalStack
from seek_sync.pipeline.checks import blobs_match, files_accounted_for
from seek_sync.pipeline.owed import owed_by_hirer
from seek_sync.store.summary import per_hirer
from tests.dagster.conftest import (
    BOTH_BACKENDS,
    blobs_of,
    drive_until_settled,
    inbox_of,
    warehouse_of,
)
from tests.dagster.retention_helpers import (
    ENV,
    ONE,
    blob,
    per_hirer_metadata,
    personal,
    quiet_afterwards,
    retain,
    rows,
    shows_none_of,
    write,
)

pytestmark = BOTH_BACKENDS


def test_confirmed_files_lose_their_blob_and_unsettled_ones_are_kept(
    stack: LocalStack, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    drive_until_settled(stack, instance)
    confirmed = rows(
        stack,
        "SELECT f.attachment_id, f.hirer_id, f.sha256 FROM attachment_files f "
        "JOIN ats_uploads u USING (attachment_id) WHERE f.status = 'stored' "
        "AND u.state = 'confirmed' ORDER BY f.attachment_id",
    )
    assert len(confirmed) > 3 and len({h for _, h, _ in confirmed}) > 1
    accepted, pending, elsewhere = (c[0] for c in confirmed[:3])
    ((target,),) = rows(stack, f"SELECT target FROM ats_uploads WHERE {ONE}", [elsewhere])
    write(stack, f"UPDATE ats_uploads SET state = 'accepted' WHERE {ONE}", [accepted])
    write(stack, f"UPDATE ats_uploads SET state = 'pending' WHERE {ONE}", [pending])
    # No upload to the hirer's current target yet (its target changed): still needed.
    write(stack, f"UPDATE ats_uploads SET target = 'other' WHERE {ONE}", [elsewhere])
    needles = personal(stack)
    monkeypatch.setenv(ENV + "FILE_DAYS_AFTER_CONFIRMED", "0")

    result = retain(instance)

    kept = {accepted, pending, elsewhere}
    status = dict(rows(stack, "SELECT attachment_id, status FROM attachment_files"))
    assert {a for a, s in status.items() if s == "expired"} == {c[0] for c in confirmed} - kept
    assert all(status[a] == "stored" for a in kept)
    still = {(h, s) for a, h, s in confirmed if a in kept}
    for attachment_id, hirer_id, sha256 in confirmed:  # a blob a kept file shares stays
        assert blob(stack, hirer_id, sha256) == ((hirer_id, sha256) in still), attachment_id
    errors = rows(stack, "SELECT DISTINCT error FROM attachment_files WHERE status = 'expired'")
    assert len(errors) == 1 and "after its upload was confirmed" in errors[0][0]
    assert rows(stack, "SELECT COUNT(*) FROM candidate_profiles")[0][0] > 0  # profiles stay

    metadata = per_hirer_metadata(result, stack)
    assert sum(m["files_expired"] for m in metadata.values()) == len(confirmed) - 3
    assert all(m["bytes_freed"] > 0 and m["profiles_removed"] == 0 for m in metadata.values())
    assert set(metadata) == {h for a, h, _ in confirmed if a not in kept}
    shows_none_of(result, needles, stack.dagster_home)
    summary = per_hirer(warehouse_of(stack))
    assert int(summary["expired"].sum()) == len(confirmed) - 3

    # Not owed, checks pass, and nothing is fetched or sent again.
    write(stack, f"UPDATE ats_uploads SET target = ? WHERE {ONE}", [target, elsewhere])
    for attachment_id in (accepted, pending):
        write(stack, f"UPDATE ats_uploads SET state = 'confirmed' WHERE {ONE}", [attachment_id])
    hirers = sorted(stack.targets)
    owed = owed_by_hirer(warehouse_of(stack), hirers, with_target=hirers)
    assert all(o.backlog == 0 and o.retry == 0 for o in owed.values()), owed
    blobs = blobs_of(stack)
    with warehouse_of(stack).session() as db:
        assert all(o.passed for o in files_accounted_for(db, hirers).values())
        assert all(o.passed for o in blobs_match(db, blobs, hirers).values())
    quiet_afterwards(stack, instance)


def _cutoff_days(stack: LocalStack) -> tuple[float, list[str], list[str]]:
    """A profile limit that splits the applications at their widest gap: (days, older, newer)."""
    born = rows(
        stack,
        "SELECT profile_id, COALESCE(created_at, fetched_at) FROM candidate_profiles ORDER BY 2, 1",
    )
    gaps = [(born[i][1] - born[i - 1][1], i) for i in range(len(born) // 4, 3 * len(born) // 4)]
    _, split = max(gaps)
    cutoff = born[split - 1][1] + (born[split][1] - born[split - 1][1]) / 2
    days = (datetime.now(UTC) - cutoff).total_seconds() / 86_400
    return days, [p for p, _ in born[:split]], [p for p, _ in born[split:]]


def test_applications_past_their_limit_are_purged_unless_an_upload_needs_them(
    stack: LocalStack, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    drive_until_settled(stack, instance)
    days, older, newer = _cutoff_days(stack)
    held_file, held = rows(
        stack,
        "SELECT u.attachment_id, m.profile_id FROM ats_uploads u JOIN attachment_manifest m "
        "USING (attachment_id) WHERE u.state = 'confirmed' AND m.profile_id IN "
        "(SELECT UNNEST(?::VARCHAR[])) ORDER BY 1 LIMIT 1",
        [older],
    )[0]
    write(stack, f"UPDATE ats_uploads SET state = 'accepted' WHERE {ONE}", [held_file])
    purged = [p for p in older if p != held]
    files = rows(
        stack,
        "SELECT f.hirer_id, f.sha256, m.profile_id FROM attachment_files f JOIN "
        "attachment_manifest m USING (attachment_id) WHERE f.status = 'stored'",
    )
    needles = personal(stack)
    monkeypatch.setenv(ENV + "PROFILE_DAYS", f"{days:.9f}")

    result = retain(instance)

    left = {r[0] for r in rows(stack, "SELECT profile_id FROM candidate_profiles")}
    assert left == {*newer, held}
    assert not rows(
        stack,
        "SELECT 1 FROM application_events WHERE profile_id IN (SELECT UNNEST(?::VARCHAR[]))",
        [purged],
    )
    kept_blobs = {(h, s) for h, s, p in files if p in left}
    for hirer_id, sha256, profile_id in files:
        gone = profile_id in purged and (hirer_id, sha256) not in kept_blobs
        assert blob(stack, hirer_id, sha256) != gone
    assert rows(stack, "SELECT kind, reason, dry_run FROM purges") == [
        ("profiles", "retention", False)
    ]
    metadata = per_hirer_metadata(result, stack)
    assert sum(m["profiles_removed"] for m in metadata.values()) == len(purged)
    assert sum(m["profiles_held"] for m in metadata.values()) == 1
    assert sum(m["files_purged"] for m in metadata.values()) == sum(
        1 for _, _, p in files if p in purged
    )
    assert not [e for e in inbox_of(stack).events_after(0) if e.profile_id in purged]
    shows_none_of(result, needles, stack.dagster_home)

    write(stack, f"UPDATE ats_uploads SET state = 'confirmed' WHERE {ONE}", [held_file])
    world = stack.sandbox.state.world
    reads = sum(world.profile_reads[p] for p in purged)
    assert reads >= len(purged)  # positive control: the counter saw our fetches
    quiet_afterwards(stack, instance)
    assert sum(world.profile_reads[p] for p in purged) == reads  # no purged profile fetched
