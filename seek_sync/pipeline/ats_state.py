"""The ATS records a run works on: each hirer's stored state, what it journals as calls return,
and the creates in flight that other hirers' applications for the same person must wait for."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from seek_sync.ats.base import (
    NOT_SENT,
    SETTLED,
    AtsCandidate,
    AtsFile,
    CandidateRecord,
    UploadRecord,
)
from seek_sync.pipeline.report import StageReport
from seek_sync.pipeline.stores import Stores
from seek_sync.runstate.create_claims import CreateClaims
from seek_sync.store.sql import json_text
from seek_sync.store.warehouse import IN_LIST, Reader, records_of


class AtsState:
    """The hirer's stored ATS records for one target, read once per run and updated in memory."""

    def __init__(self, warehouse: Reader, target: str, hirer_id: str) -> None:
        self.target, self.hirer_id = target, hirer_id
        self.refused: list[UploadRecord] = []  # refused by our file policy this run
        self.sniffed: dict[str, str | None] = {}  # unsettled file -> its sniffed type
        args = [target, hirer_id]
        where = "WHERE target = ? AND hirer_id = ?"
        self.candidates = {
            r["seek_candidate_id"]: CandidateRecord.model_validate(r)
            for r in records_of(warehouse.query(f"SELECT * FROM ats_candidates {where}", args))
        }
        self.uploads = {
            r["attachment_id"]: UploadRecord.model_validate(
                {**r, "outcome_unknown": bool(r["outcome_unknown"])}
            )
            for r in records_of(warehouse.query(f"SELECT * FROM ats_uploads {where}", args))
        }
        self.uploads_before = {k: v.model_dump() for k, v in self.uploads.items()}
        self.candidates_before = {k: v.model_dump() for k, v in self.candidates.items()}

    def refuse(self, file: AtsFile, reason: str) -> None:
        """Record a file our policy refuses as `rejected`, with the reason; it is never sent."""
        record = UploadRecord(
            target=self.target,
            hirer_id=self.hirer_id,
            attachment_id=file.attachment_id,
            state="rejected",
            last_error=reason,
        )
        self.uploads[file.attachment_id] = record
        self.refused.append(record)

    def settled(self, attachment_id: str) -> bool:
        record = self.uploads.get(attachment_id)
        return record is not None and record.state in SETTLED


class Progress:
    """Journals an application's ATS records the moment its push or reconcile returns."""

    def __init__(self, stores: Stores, state: AtsState) -> None:
        self.stores, self.state = stores, state

    def journal(self, candidate: CandidateRecord | None, uploads: Sequence[UploadRecord]) -> None:
        """A target's records as a call's outcome becomes known (the target's progress hook),
        candidate and uploads in one transaction."""
        now = datetime.now(UTC)
        candidates = [candidate] if candidate is not None else []
        self.stores.journal.record_tables(
            {
                "ats_candidates": [{**c.model_dump(), "updated_at": now} for c in candidates],
                "ats_uploads": [{**u.model_dump(), "updated_at": now} for u in uploads],
            }
        )

    def record(self, seek_candidate_id: str, files: Sequence[AtsFile]) -> None:
        """An application's records once its push (or reconcile) returned."""
        uploads = [self.state.uploads[f.attachment_id] for f in files]
        self.journal(self.state.candidates[seek_candidate_id], uploads)


EMAIL = "$.candidate.person.communication.email[0].address"

IN_FLIGHT_SQL = """
SELECT DISTINCT lower({email}) AS email, c.hirer_id
FROM ats_candidates c JOIN candidate_profiles p
  ON c.hirer_id = p.hirer_id AND c.seek_candidate_id = COALESCE(p.candidate_id, p.profile_id)
WHERE c.target = ? AND c.state = 'pending_create'
"""

# The persons whose candidate exists (a create settled and merged) for hirers holding claims.
SETTLED_SQL = """
SELECT c.target, c.hirer_id, c.seek_candidate_id, {email} AS email
FROM ats_candidates c JOIN candidate_profiles p
  ON c.hirer_id = p.hirer_id AND c.seek_candidate_id = COALESCE(p.candidate_id, p.profile_id)
WHERE c.state = 'exists' AND c.hirer_id IN {hirers}
"""


class Creates:
    """Creates in flight per (target, email), across every hirer of the target.

    Hirers may share one ATS tenant (a region's school boards in one Onderwijsregio), where the
    same person must be one candidate. A person's application for a hirer whose own create is not
    the one in flight waits while another hirer's create for the same email is (its find-by-email
    could not see it yet), and two hirers never create the same email at once. Across processes
    the claim of each create is taken in the inbox database before the call (`claims`), since
    another process's create shows in the warehouse only after its merge."""

    def __init__(self, in_flight: dict[str, dict[str, set[str]]]) -> None:
        self.in_flight = in_flight  # kind -> email -> hirers whose create is in flight
        self.locks: defaultdict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)
        self.claims: CreateClaims | None = None
        self.held: set[tuple[str, str, str]] = set()  # claims the run's hirers held at its start
        self.settled: list[tuple[str, str, str]] = []  # claims to give back after the merge

    @classmethod
    def load(cls, db: Reader, kinds: set[str]) -> Creates:
        found: dict[str, dict[str, set[str]]] = {}
        for kind in kinds:
            sql = IN_FLIGHT_SQL.format(email=json_text(db.dialect, "p.raw_json", EMAIL))
            rows = db.query(sql, [kind]).dropna().itertuples(index=False)
            for email, hirer_id in rows:
                found.setdefault(kind, {}).setdefault(str(email), set()).add(str(hirer_id))
        return cls(found)

    def key(self, kind: str, candidate: AtsCandidate) -> tuple[str, str]:
        return kind, (candidate.email or f"no-email:{candidate.seek_candidate_id}").casefold()

    def _hirers(self, kind: str, candidate: AtsCandidate) -> set[str]:
        return self.in_flight.setdefault(kind, {}).setdefault(self.key(kind, candidate)[1], set())

    def waits(self, kind: str, candidate: AtsCandidate) -> bool:
        """Another hirer's create for this person is in flight."""
        return bool(self._hirers(kind, candidate) - {candidate.hirer_id})

    def started(self, kind: str, candidate: AtsCandidate) -> None:
        self._hirers(kind, candidate).add(candidate.hirer_id)

    def ended(self, kind: str, candidate: AtsCandidate) -> None:
        self._hirers(kind, candidate).discard(candidate.hirer_id)
        self.settled.append((kind, self.key(kind, candidate)[1], candidate.hirer_id))

    def use_claims(self, claims: CreateClaims, hirer_ids: list[str], db: Reader) -> None:
        """Claims the run's hirers hold; those whose create already settled into the warehouse
        go back at once. A run that died after merging its creates (or whose journal another
        run merged) gave none back, and the hirer's later runs skip its settled applications:
        without this its claims would hold the tenant's other hirers off for the claims' TTL."""
        self.claims, self.held = claims, claims.held_by(hirer_ids)
        holders = sorted({hirer for _, _, hirer in self.held})
        if not holders:
            return
        sql = SETTLED_SQL.format(email=json_text(db.dialect, "p.raw_json", EMAIL), hirers=IN_LIST)
        settled = []
        for kind, hirer_id, candidate_id, email in db.query(sql, [holders]).itertuples(index=False):
            person = (email if isinstance(email, str) else f"no-email:{candidate_id}").casefold()
            if claims.holds(self.held, kind, person, hirer_id):
                settled.append((kind, person, hirer_id))
        claims.release(settled)
        self.held -= {(*claims.keys(kind, person), hirer) for kind, person, hirer in settled}

    def exists(self, kind: str, candidate: AtsCandidate) -> None:
        """The candidate exists in the ATS: a claim its hirer still holds for it goes back."""
        person = self.key(kind, candidate)[1]
        if self.claims and self.claims.holds(self.held, kind, person, candidate.hirer_id):
            self.settled.append((kind, person, candidate.hirer_id))

    def claim(self, kind: str, candidate: AtsCandidate) -> bool:
        """Take the database claim of this person's create for the candidate's hirer (False: a
        hirer of another process holds it)."""
        if self.claims is None:
            return True
        return self.claims.take(kind, self.key(kind, candidate)[1], candidate.hirer_id)

    def release_settled(self) -> None:
        """Give back the claims of creates that settled, once their records are merged."""
        if self.claims is not None:
            self.claims.release(self.settled)
        self.settled = []


CLAIMED_SQL = """
SELECT ats_attachment_id, attachment_id FROM ats_uploads
WHERE target = ? AND ats_attachment_id IS NOT NULL
"""


def claimed_ids(db: Reader, kinds: set[str]) -> dict[str, dict[str, str]]:
    """Per target, the ATS attachment ids our uploads (of every hirer) hold, with their holder."""
    claims = {}
    for kind in kinds:
        rows = db.query(CLAIMED_SQL, [kind]).itertuples(index=False)
        claims[kind] = {str(ats_id): str(ours) for ats_id, ours in rows}
    return claims


def _reason(record: dict[str, Any]) -> tuple[str, str] | None:
    """(state, reason) of an upload not sent or given up; None for any other."""
    if record.get("state") not in NOT_SENT:
        return None
    return str(record["state"]), str(record.get("last_error") or "no reason recorded")[:200]


def stage_reports(
    state: AtsState, target: str, hirer_id: str, attachments: str
) -> tuple[StageReport, StageReport]:
    """The candidates' and uploads' reports of one hirer's pass (`attachments`: its mode)."""
    reports = (
        StageReport("ats_candidates", hirer_id),
        StageReport("ats_uploads", hirer_id, attachments=attachments),
    )
    for report, records, before in (
        (reports[0], state.candidates, state.candidates_before),
        (reports[1], state.uploads, state.uploads_before),
    ):
        for key, record in records.items():
            dumped = record.model_dump()
            reason = _reason(dumped)
            if reason:
                report.reasons[reason] += 1
            if before.get(key) == dumped:
                report.unchanged += 1
                continue
            report.states[str(dumped["state"])] += 1  # this pass; `describe` adds the totals
            if reason and (before.get(key) or {}).get("state") != dumped["state"]:
                report.new_reasons[reason] += 1
            if key in before:
                report.updated += 1
            else:
                report.new += 1
            report.add_preview({"id": key, "target": target, "state": dumped["state"]})
    return reports
