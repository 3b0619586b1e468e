# ruff: noqa: F401, F811 (the `stack` and `world` fixtures are imported, then used as parameters)
"""Onderwijsregio uploads reach a terminal state with evidence (against the fake, real HTTP):
never confirmed by name alone, repeated under the same key when the outcome is unknown, a fresh
key only after a reported failure, `failed` with the reason when repeating cannot help."""

from __future__ import annotations

import asyncio

import pytest

from seek_sync.ats.base import AtsFile, PushResult, UploadRecord
from tests.ats.test_onderwijsregio_http import (  # the sandbox, receiver and target fixtures
    CANDIDATE,
    World,
    by_id,
    settle,
    stack,
    stored_file,
    world,
)

WAIT = 0.35  # past the fixture's 0.2 s confirm wait


async def _resolve(
    world: World, result: PushResult, files: list[AtsFile], count: int
) -> PushResult:
    """Let the fake apply and call back, then reconcile with what arrived."""
    await asyncio.sleep(WAIT)
    results = await settle(world, count) if count else []
    return await world.target.reconcile(
        CANDIDATE, files, result.candidate, by_id(result.uploads), results
    )


OTHER_HIRER = "seekAnzPublicTest:organization:seek:BBBB2222"


def _of_other_hirer(file: AtsFile, name: str) -> AtsFile:
    return file.model_copy(update={"hirer_id": OTHER_HIRER, "profile_id": "p-2", "filename": name})


async def _first_hirer_confirmed(world: World) -> tuple[AtsFile, PushResult]:
    """Hirer A's `document-0.pdf` (6,000 bytes) is confirmed on the person's ATS candidate."""
    theirs = stored_file(world, 0, "Resume", size=6000)
    created = await world.target.push(CANDIDATE, [theirs], None, {})
    known = await _resolve(world, created, [theirs], 1)
    record = by_id(known.uploads)["att-0"]
    assert record.state == "confirmed" and record.ats_attachment_id  # the callback's id, claimed
    return theirs, known


@pytest.mark.parametrize("size", [7000, 6000], ids=["other-size", "same-size"])
async def test_one_hirers_file_never_confirms_anothers_upload(world: World, size: int) -> None:
    """Two hirers share the tenant; the person applied to both, each with a `document-0.pdf`.
    Hirer B knows nothing of the person yet: found by email (one record for both hirers), its
    file is not taken for A's (other size; or same size, but A's file is claimed), so it is
    sent; accepted and lost, the read-back again does not confirm it by A's file."""
    theirs, _ = await _first_hirer_confirmed(world)
    ours = _of_other_hirer(stored_file(world, 1, "Resume", size=size), theirs.filename)
    other = CANDIDATE.model_copy(update={"hirer_id": OTHER_HIRER, "profile_id": "p-2"})
    world.fake.lose_callbacks = 1
    world.fake.fail_after_accept = 1  # B's append fails after its 202, its callback lost
    sent = await world.target.push(other, [ours], None, {})
    assert sent.candidate.state == "exists"  # the person A created, found by email
    assert by_id(sent.uploads)["att-1"].state == "accepted"  # sent, not confirmed by A's file
    await asyncio.sleep(WAIT)
    checked = await world.target.reconcile(other, [ours], sent.candidate, by_id(sent.uploads), [])
    record = by_id(checked.uploads)["att-1"]
    assert record.state == "pending" and record.outcome_unknown  # not confirmed by A's file
    assert "not on the candidate" in (record.last_error or "")
    again = await world.target.push(other, [ours], checked.candidate, by_id(checked.uploads))
    assert by_id(again.uploads)["att-1"].idempotency_key == record.idempotency_key  # same key
    assert world.fake.replayed >= 1


async def test_a_reported_failure_is_sent_again_under_a_fresh_key_and_confirmed_once(
    world: World,
) -> None:
    files = [stored_file(world, 0, "Resume")]
    created = await world.target.push(CANDIDATE, files, None, {})
    known = await _resolve(world, created, files, 1)
    extra = [stored_file(world, 1, None)]
    world.fake.fail_after_accept = 1
    sent = await world.target.push(CANDIDATE, extra, known.candidate, {})
    first_key = by_id(sent.uploads)["att-1"].idempotency_key
    failed = await _resolve(world, sent, extra, 2)
    record = by_id(failed.uploads)["att-1"]
    assert (record.state, record.failures) == ("pending", 1)
    again = await world.target.push(CANDIDATE, extra, failed.candidate, by_id(failed.uploads))
    assert by_id(again.uploads)["att-1"].idempotency_key != first_key
    done = await _resolve(world, again, extra, 3)
    final = by_id(done.uploads)["att-1"]
    assert final.state == "confirmed" and final.ats_attachment_id
    assert [u["filename"] for u in world.fake.uploads].count("document-1.pdf") == 1


async def _lost_for_good(world: World, *, reruns: bool) -> tuple[UploadRecord, PushResult]:
    """An append that fails after its 202; no callback ever comes, a repeat gets none either."""
    world.fake.engine.failed_key_reruns = reruns
    world.fake.engine.replay_callbacks = False
    world.target.outcomes.reruns = reruns
    files = [stored_file(world, 0, "Resume")]
    created = await world.target.push(CANDIDATE, files, None, {})
    known = await _resolve(world, created, files, 1)
    extra = [stored_file(world, 1, None)]
    world.fake.lose_callbacks, world.fake.fail_after_accept = 10, 1
    result = await world.target.push(CANDIDATE, extra, known.candidate, {})
    for _ in range(4):  # wait, read back, repeat
        result = await _resolve(world, result, extra, 0)
        if by_id(result.uploads)["att-1"].state in ("confirmed", "failed"):
            break
        result = await world.target.push(CANDIDATE, extra, result.candidate, by_id(result.uploads))
    return by_id(result.uploads)["att-1"], result


async def test_when_a_failed_key_keeps_its_result_one_repeat_then_failed_with_the_reason(
    world: World,
) -> None:
    record, _ = await _lost_for_good(world, reruns=False)
    assert record.state == "failed" and record.attempts == 2
    assert "FAILED_KEY_RERUNS" in (record.last_error or "")
    assert world.fake.uploads_received("document-1.pdf") == 0  # nothing half-sent, no copy


async def test_when_a_failed_key_runs_again_the_repeat_stores_it_once(world: World) -> None:
    record, _ = await _lost_for_good(world, reruns=True)
    assert record.state == "confirmed" and record.ats_attachment_id
    assert world.fake.uploads_received("document-1.pdf") == 1
