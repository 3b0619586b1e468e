"""Stages 5 and 6: resolve each applicant in the hirer's ATS, push the stored files, learn outcomes.

A SEEK candidate's applications are handled one after another (so a second application sees the
first one's `pending_create` and creates nothing); candidates run concurrently, bounded. Only
applications with a file not yet confirmed or rejected cost a request.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from seek_sync.ats import callbacks as callback_bodies
from seek_sync.ats.base import (
    WAITING,
    AtsCandidate,
    AtsFile,
    AtsTarget,
    CallbackResult,
)
from seek_sync.file_policy import refusal
from seek_sync.pipeline.ats_callbacks import callbacks_for, waiting_keys
from seek_sync.pipeline.ats_state import (
    AtsState,
    Creates,
    Progress,
    claimed_ids,
    stage_reports,
)
from seek_sync.pipeline.files import ON_DEMAND, mode
from seek_sync.pipeline.on_demand import KEY_PREFIX, OnDemand
from seek_sync.pipeline.report import StageReport
from seek_sync.pipeline.stores import Stores
from seek_sync.runstate.create_claims import CreateClaims
from seek_sync.seek.models import CandidateProfile
from seek_sync.seek.sniff import HEAD_BYTES
from seek_sync.store.blobs import BlobStore
from seek_sync.store.warehouse import Reader, records_of


def ats_candidate(hirer_id: str, row: dict[str, Any]) -> AtsCandidate:
    profile = CandidateProfile.model_validate(json.loads(row["raw_json"]))
    person = profile.candidate.person
    return AtsCandidate(
        hirer_id=hirer_id,
        seek_candidate_id=row["candidate_id"] or row["profile_id"],
        profile_id=row["profile_id"],
        given_name=person.name.given or "",
        family_name=person.name.family or "",
        email=person.communication.email[0].address if person.communication.email else None,
        phone=(
            person.communication.phone[0].formatted_number if person.communication.phone else None
        ),
        job_reference=row["job_reference"],
    )


def ats_file(hirer_id: str, row: dict[str, Any], blob_key: str) -> AtsFile:
    return AtsFile(
        attachment_id=row["attachment_id"],
        hirer_id=hirer_id,
        profile_id=row["profile_id"],
        role=row["role"],
        filename=row["safe_filename"],
        content_type=row["content_type"],
        size=int(row["bytes"]),
        sha256=row["sha256"],
        blob_key=blob_key,
    )


def load_work(
    warehouse: Reader,
    blobs: BlobStore,
    hirer_id: str,
    state: AtsState,
    on_demand: OnDemand | None = None,
) -> dict[str, list[tuple[AtsCandidate, list[AtsFile]]]]:
    """SEEK candidate -> its applications (oldest first) with a file (stored, or known on
    demand) not yet confirmed or rejected, each with all its files; settled applications cost
    no profile parsing."""
    profiles = records_of(
        warehouse.query(
            "SELECT profile_id, candidate_id, job_reference, raw_json FROM candidate_profiles "
            "WHERE hirer_id = ? AND status = 'ok' ORDER BY created_at, profile_id",
            [hirer_id],
        )
    )
    files = records_of(
        warehouse.query(
            "SELECT m.attachment_id, m.profile_id, m.role, m.url, f.safe_filename, f.bytes, "
            "f.sha256, f.sniffed_type, f.status, "
            "COALESCE(f.sniffed_type, f.declared_type, 'application/octet-stream') AS content_type "
            "FROM attachment_manifest m JOIN attachment_files f USING (attachment_id) "
            f"WHERE m.hirer_id = ? AND f.status IN ('stored', '{ON_DEMAND}') "
            "ORDER BY m.attachment_id",
            [hirer_id],
        )
    )
    by_profile: dict[str, list[AtsFile]] = {}
    for row in files:
        if row["status"] != ON_DEMAND:
            key = blobs.key_for(hirer_id, row["sha256"])
        elif on_demand is not None:
            key = on_demand.register(state, row)
        else:
            continue  # on demand, with no SEEK client here to fetch it
        file = ats_file(hirer_id, row, key)
        if not state.settled(file.attachment_id):
            state.sniffed[file.attachment_id] = row["sniffed_type"]
        by_profile.setdefault(row["profile_id"], []).append(file)
    work: dict[str, list[tuple[AtsCandidate, list[AtsFile]]]] = {}
    for row in profiles:
        found = by_profile.get(row["profile_id"], [])
        if all(state.settled(f.attachment_id) for f in found):
            continue  # no file, or every file confirmed or rejected
        candidate = ats_candidate(hirer_id, row)
        work.setdefault(candidate.seek_candidate_id, []).append((candidate, found))
    return work


def apply_file_policy(
    blobs: BlobStore, state: AtsState, work: list[list[tuple[AtsCandidate, list[AtsFile]]]]
) -> None:
    """Our own file policy (executables and archives, by content) before any target's rules:
    a refused file is recorded `rejected` with the reason and taken out of the work."""
    for applications in work:
        for _, files in applications:
            for file in list(files):
                if file.attachment_id not in state.sniffed or file.blob_key.startswith(KEY_PREFIX):
                    continue  # settled; or on demand: checked from SEEK's bytes at push time
                try:
                    with blobs.open(file.blob_key) as handle:
                        head = handle.read(HEAD_BYTES)
                except FileNotFoundError:
                    continue  # the target reports the missing blob
                reason = refusal(state.sniffed[file.attachment_id], head)
                if reason:
                    state.refuse(file, reason)
                    files.remove(file)


async def _one_candidate(
    target: AtsTarget,
    state: AtsState,
    applications: Sequence[tuple[AtsCandidate, list[AtsFile]]],
    callbacks: Sequence[CallbackResult],
    progress: Progress,
    creates: Creates,
    on_demand: OnDemand | None,
) -> None:
    for candidate, files in applications:
        known = state.candidates.get(candidate.seek_candidate_id)
        if known is not None and known.state == "exists":
            creates.exists(target.kind, candidate)  # settled elsewhere: its claim goes back
            await _one_application(target, state, candidate, files, callbacks, progress, on_demand)
            continue
        # No ATS record yet (or a create failed or in flight): one create per person at a time,
        # across the hirers sharing the tenant.
        async with creates.locks[creates.key(target.kind, candidate)]:
            if creates.waits(target.kind, candidate):
                return  # another hirer's create for this person is in flight: next run
            if not await asyncio.to_thread(creates.claim, target.kind, candidate):
                return  # a hirer of another process claimed this person's create: next run
            await _one_application(target, state, candidate, files, callbacks, progress, on_demand)
            if state.candidates[candidate.seek_candidate_id].state == "pending_create":
                creates.started(target.kind, candidate)
            else:
                creates.ended(target.kind, candidate)


async def _one_application(
    target: AtsTarget,
    state: AtsState,
    candidate: AtsCandidate,
    files: list[AtsFile],
    callbacks: Sequence[CallbackResult],
    progress: Progress,
    on_demand: OnDemand | None,
) -> None:
    """Reconcile what is waiting, then push: one application's conversation with the ATS
    (files on demand fetched from SEEK first, and let go once the push returned)."""
    current = state.candidates.get(candidate.seek_candidate_id)
    uploads = {
        f.attachment_id: state.uploads[f.attachment_id]
        for f in files
        if f.attachment_id in state.uploads
    }
    waiting = any(u.state in WAITING for u in uploads.values())
    try:
        if on_demand is not None:
            await on_demand.prepare(target, state, files, uploads, progress.journal)
        if current is not None and (waiting or current.state == "pending_create"):
            result = await target.reconcile(candidate, files, current, uploads, callbacks)
            current = result.candidate
            uploads.update({u.attachment_id: u for u in result.uploads})
            if on_demand is not None:  # what the reconcile put back to send
                await on_demand.prepare(target, state, files, uploads, progress.journal)
        result = await target.push(candidate, files, current, uploads)
    finally:
        if on_demand is not None:
            on_demand.release(files)
    state.candidates[candidate.seek_candidate_id] = result.candidate
    state.uploads.update({u.attachment_id: u for u in result.uploads})
    progress.record(candidate.seek_candidate_id, files)


def _capped(
    work: dict[str, list[tuple[AtsCandidate, list[AtsFile]]]], limit: int | None
) -> tuple[list[list[tuple[AtsCandidate, list[AtsFile]]]], int]:
    """Whole candidates, oldest application first, up to `limit` applications; and how many
    applications were left for a later run."""
    taken: list[list[tuple[AtsCandidate, list[AtsFile]]]] = []
    count = left = 0
    for applications in work.values():
        if limit is not None and count >= limit:
            left += len(applications)
            continue
        taken.append(applications)
        count += len(applications)
    return taken, left


async def sync_ats(
    targets: Mapping[str, AtsTarget],
    stores: Stores,
    *,
    concurrency: int = 8,
    limit: int | None = None,
    read_back_all: bool = False,
    on_demand: OnDemand | None = None,
    callback_wait: float = 0.0,
) -> tuple[dict[str, tuple[StageReport, StageReport]], dict[str, str]]:
    """Push each hirer's applications with unsettled files (at most `limit` per hirer) to its
    target, journaling each application's records as its calls return (`read_back_all`: read
    back every accepted upload, not only those past the confirm wait; `callback_wait`: seconds
    to wait for the callbacks of the sends left waiting, applied in this run: `ats_callbacks`).
    Returns per hirer the candidates' and uploads' reports, and the hirers whose push failed
    (with the reason)."""
    states: dict[str, AtsState] = {}
    work: dict[str, list[list[tuple[AtsCandidate, list[AtsFile]]]]] = {}
    left: dict[str, int] = {}
    with stores.warehouse.session() as db:  # every hirer's records in one short read
        kinds = {t.kind for t in targets.values()}
        creates, claimed = Creates.load(db, kinds), claimed_ids(db, kinds)
        creates.use_claims(CreateClaims(stores.inbox), list(targets), db)
        for hirer_id, target in targets.items():
            states[hirer_id] = AtsState(db, target.kind, hirer_id)
            found = load_work(db, stores.blobs, hirer_id, states[hirer_id], on_demand)
            work[hirer_id], left[hirer_id] = _capped(found, limit)
    for hirer_id, state in states.items():  # blobs are read with the warehouse let go
        apply_file_policy(stores.blobs, state, work[hirer_id])
        if state.refused:
            Progress(stores, state).journal(None, state.refused)
    gate, errors = asyncio.Semaphore(concurrency), {}

    async def push(hirer_id: str, target: AtsTarget) -> None:
        state, progress = states[hirer_id], Progress(stores, states[hirer_id])
        target.progress = progress.journal  # each call's outcome journaled as it returns
        target.claimed = claimed[target.kind]  # one set per target kind, across hirers
        target.read_back_all = read_back_all
        stored = await asyncio.to_thread(stores.inbox.callbacks_for_hirer, hirer_id, target.kind)
        callbacks = callback_bodies.results([c.raw for c in stored])

        async def bounded(
            applications: list[tuple[AtsCandidate, list[AtsFile]]],
            callbacks: Sequence[CallbackResult],
        ) -> None:
            async with gate:
                await _one_candidate(
                    target, state, applications, callbacks, progress, creates, on_demand
                )

        earlier = set().union(*(waiting_keys(state, a) for a in work[hirer_id]))
        applied: set[str] = set()
        try:
            await asyncio.gather(*(bounded(apps, callbacks) for apps in work[hirer_id]))
            deadline = time.monotonic() + callback_wait
            # The sends this run left waiting: their callbacks, applied in this run if they come
            # in time (a send of an earlier run is not waited for: its callback may be lost).
            while waiting := [a for a in work[hirer_id] if waiting_keys(state, a)]:
                keys = set().union(*(waiting_keys(state, a) for a in waiting))
                left = deadline - time.monotonic()
                if left <= 0 or not keys - earlier:
                    break
                results = await callbacks_for(
                    stores.inbox, hirer_id, target.kind, keys - earlier, left
                )
                came = keys & {r.idempotency_key for r in results} - applied
                if not came:
                    break
                applied |= came  # each callback gets one more pass, however it ends
                again = [a for a in waiting if waiting_keys(state, a) & came]
                await asyncio.gather(*(bounded(apps, results) for apps in again))
        except Exception as failure:  # one hirer's ATS failing never stops the others
            errors[hirer_id] = f"{type(failure).__name__}: {failure}"[:500]

    await asyncio.gather(*(push(h, t) for h, t in targets.items()))
    stores.merge()
    creates.release_settled()  # settled creates are in the warehouse now: others find them
    reports = {h: stage_reports(states[h], t.kind, h, mode(stores, h)) for h, t in targets.items()}
    for hirer_id, count in left.items():
        if count:
            reports[hirer_id][1].notes.append(f"{count} application(s) left for the next run (cap)")
    return reports, errors
