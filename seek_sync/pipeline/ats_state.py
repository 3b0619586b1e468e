"""The ATS records a run works on: each hirer's stored state, what it journals as calls return,
and the creates in flight that other hirers' applications for the same person must wait for."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

from seek_sync.ats.base import SETTLED, AtsCandidate, AtsFile, CandidateRecord, UploadRecord
from seek_sync.pipeline.stores import Stores
from seek_sync.store.warehouse import Reader, records_of


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


IN_FLIGHT_SQL = """
SELECT DISTINCT lower(json_extract_string(p.raw_json,
       '$.candidate.person.communication.email[0].address')) AS email, c.hirer_id
FROM ats_candidates c JOIN candidate_profiles p
  ON c.hirer_id = p.hirer_id AND c.seek_candidate_id = COALESCE(p.candidate_id, p.profile_id)
WHERE c.target = ? AND c.state = 'pending_create'
"""


class Creates:
    """Creates in flight per (target, email), across every hirer of the target.

    Hirers may share one ATS tenant (a region's school boards in one Onderwijsregio), where the
    same person must be one candidate. A person's application for a hirer whose own create is not
    the one in flight waits while another hirer's create for the same email is (its find-by-email
    could not see it yet), and two hirers never create the same email at once."""

    def __init__(self, in_flight: dict[str, dict[str, set[str]]]) -> None:
        self.in_flight = in_flight  # kind -> email -> hirers whose create is in flight
        self.locks: defaultdict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)

    @classmethod
    def load(cls, db: Reader, kinds: set[str]) -> Creates:
        found: dict[str, dict[str, set[str]]] = {}
        for kind in kinds:
            rows = db.query(IN_FLIGHT_SQL, [kind]).dropna().itertuples(index=False)
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
