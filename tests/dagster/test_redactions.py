"""SEEK deletes a candidate (the sandbox redacts their profiles, as SEEK documents, and sends no
event): the scheduled re-check notices within its budget, purges our copies, audits it, and with
the setting on withdraws the files from the Onderwijsregio fake."""

from __future__ import annotations

import dagster as dg
import pytest

from seek_sync.assets.dry_runs import REAL_RUN
from seek_sync.definitions import defs
from seek_sync.local_stack import LocalStack
from seek_sync.store.warehouse import IN_LIST
from tests.dagster.conftest import BOTH_BACKENDS, drive_until_settled, rows, write


def _candidate_at_onderwijsregio(stack: LocalStack) -> tuple[str, list[str], list[str]]:
    """A candidate with files confirmed at the Onderwijsregio fake: (id, profiles, ATS file ids)."""
    ((candidate_id,),) = rows(
        stack,
        "SELECT p.candidate_id FROM candidate_profiles p JOIN attachment_manifest m "
        "USING (profile_id) JOIN ats_uploads u USING (attachment_id) "
        "WHERE u.target = 'onderwijsregio' AND u.state = 'confirmed' "
        "AND u.ats_attachment_id IS NOT NULL ORDER BY 1 LIMIT 1",
    )
    query = "SELECT profile_id FROM candidate_profiles WHERE candidate_id = ?"
    profiles = [r[0] for r in rows(stack, query, [candidate_id])]
    sent = [r[0] for r in rows(
        stack,
        "SELECT u.ats_attachment_id FROM ats_uploads u JOIN attachment_manifest m "
        f"USING (attachment_id) WHERE m.profile_id IN {IN_LIST} "
        "AND u.ats_attachment_id IS NOT NULL", [profiles]
    )]  # fmt: skip
    return candidate_id, profiles, sent


def _recheck(instance: dg.DagsterInstance) -> dict[str, int]:
    result = defs.resolve_job_def("seek_deletions").execute_in_process(
        instance=instance, run_config={"ops": {"follow_seek_deletions": {"config": REAL_RUN}}}
    )
    assert result.success
    return result.output_for_node("follow_seek_deletions")  # type: ignore[no-any-return]


def _held_at_onderwijsregio(stack: LocalStack) -> set[str]:
    fake = stack.sandbox.state.fakes["onderwijsregio"]
    return {f["id"] for c in fake.candidates() for name in ("curriculumVitae", "otherAttachments")
            for f in c[name]}  # fmt: skip


@BOTH_BACKENDS
@pytest.mark.parametrize("withdraw", [False, True], ids=["kept-at-ats", "withdrawn-from-ats"])
def test_a_candidate_seek_deleted_is_purged_here_and_optionally_at_the_ats(
    stack: LocalStack,
    instance: dg.DagsterInstance,
    monkeypatch: pytest.MonkeyPatch,
    withdraw: bool,
) -> None:
    monkeypatch.setenv("SEEK_SYNC_ATS_DELETE_ON_SEEK_DELETION", str(withdraw).lower())
    drive_until_settled(stack, instance)
    candidate_id, profiles, sent = _candidate_at_onderwijsregio(stack)
    assert sent and set(sent) <= _held_at_onderwijsregio(stack)
    ((stored,),) = rows(stack, "SELECT COUNT(*) FROM candidate_profiles")

    first = _recheck(instance)  # SEEK still holds everyone: nothing goes, all checked
    assert (first["checked"], first["deleted_at_seek"]) == (stored, 0)

    stack.sandbox.state.world.delete_candidate(candidate_id)
    assert _recheck(instance)["checked"] == 0  # checked within the last day: not read again
    # A day later.
    write(stack, "UPDATE candidate_profiles SET checked_at = checked_at - INTERVAL '2 days'")
    found = _recheck(instance)
    assert found["deleted_at_seek"] == len(profiles)
    assert found["ats_files_withdrawn"] == (len(sent) if withdraw else 0)

    ((left,),) = rows(
        stack, "SELECT COUNT(*) FROM candidate_profiles WHERE candidate_id = ?", [candidate_id]
    )
    audit = rows(stack, "SELECT kind, reason, counts FROM purges")
    assert left == 0
    assert [(kind, reason) for kind, reason, _ in audit] == [
        ("profiles", "SEEK deleted the application")
    ]
    stack.wait_for_fakes()
    held = _held_at_onderwijsregio(stack)
    if withdraw:
        assert not set(sent) & held  # the fake applied our DELETE
    else:
        assert set(sent) <= held  # left in the ATS: the setting is off


def test_the_recheck_reads_at_most_its_budget_oldest_first(
    stack: LocalStack, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEEK_SYNC_REDACTION_RECHECK_PER_RUN", "5")
    drive_until_settled(stack, instance)
    ((stored,),) = rows(stack, "SELECT COUNT(*) FROM candidate_profiles")
    assert stored > 10
    seen = [_recheck(instance)["checked"] for _ in range(-(-stored // 5) + 1)]
    assert seen[:-1] == [5] * (stored // 5) + ([stored % 5] if stored % 5 else [])
    assert seen[-1] == 0  # every profile checked once: nothing due until a day has passed
