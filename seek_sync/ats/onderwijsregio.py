"""The Onderwijsregio v2 target: find or create the candidate, append files, learn outcomes.

- A candidate is found by email (else phone). If absent, it is created with the first files inline
  and marked `pending_create`; no second create is sent while one is in flight, and the candidate's
  other files wait until its id is known (from the callback or a later `find`).
- The resume goes to `curriculumVitae`, everything else to `otherAttachments`, at most 5 per field
  per request. A file up to the data limit travels as a base64 data URI, a bigger one as a signed,
  expiring URL to the stored blob; a disallowed type or a file over the URL limit is rejected with
  its reason and never sent.
- Idempotency keys are deterministic per (target, hirer, application, attachment set, failures), so
  a retry after a lost 202 re-sends the same key and is applied once.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from seek_sync.ats.base import (
    AtsCandidate,
    AtsFile,
    BlobSource,
    CallbackResult,
    CandidateRecord,
    PushResult,
    Reporting,
    UploadRecord,
    idempotency_key,
    upload_record,
)
from seek_sync.ats.onderwijsregio_api import OnderwijsregioClient, OrCandidate, RefusedError
from seek_sync.seek.errors import SeekError

log = logging.getLogger("seek_sync.ats.onderwijsregio")

KIND = "onderwijsregio"
CV_FIELD, OTHER_FIELD = "curriculumVitae", "otherAttachments"
SETTLED = frozenset({"accepted", "confirmed", "rejected"})


class OnderwijsregioTarget(Reporting):
    kind = KIND

    def __init__(
        self, client: OnderwijsregioClient, blobs: BlobSource, *, callback_url: str | None
    ) -> None:
        self.client = client
        self.blobs = blobs
        self.callback_url = callback_url
        settings = client.settings
        self.data_limit = settings.onderwijsregio_data_limit_bytes
        self.url_limit = settings.onderwijsregio_url_limit_bytes
        self.per_field = settings.onderwijsregio_max_files_per_field
        self.allowed = frozenset(settings.onderwijsregio_allowed_types)
        self.names = (
            settings.onderwijsregio_filename_field,
            settings.onderwijsregio_data_field,
            settings.onderwijsregio_url_field,
        )

    # --- what goes where --------------------------------------------------------------------
    def rejection(self, file: AtsFile) -> str | None:
        if file.content_type not in self.allowed:
            return f"type {file.content_type} is not on Onderwijsregio's allow-list"
        if file.size > self.url_limit:
            return f"{file.size} bytes is over the {self.url_limit}-byte URL limit"
        return None

    def item(self, file: AtsFile) -> dict[str, str]:
        name_field, data_field, url_field = self.names
        if file.size <= self.data_limit:
            encoded = base64.b64encode(self.blobs.read_bytes(file.blob_key)).decode()
            return {
                name_field: file.filename,
                data_field: f"data:{file.content_type};base64,{encoded}",
            }
        return {
            name_field: file.filename,
            url_field: self.blobs.signed_url(file.blob_key, file.content_type),
        }

    def batches(self, files: Sequence[AtsFile]) -> list[list[AtsFile]]:
        """Requests of at most `per_field` files per field, resumes and others side by side."""
        cvs = [f for f in files if f.role == "Resume"]
        others = [f for f in files if f.role != "Resume"]
        n = self.per_field
        count = max(-(-len(cvs) // n), -(-len(others) // n))
        return [cvs[i * n : (i + 1) * n] + others[i * n : (i + 1) * n] for i in range(count)]

    def fields(self, batch: Sequence[AtsFile]) -> dict[str, list[dict[str, str]]]:
        out: dict[str, list[dict[str, str]]] = {}
        for file in batch:
            out.setdefault(CV_FIELD if file.role == "Resume" else OTHER_FIELD, []).append(
                self.item(file)
            )
        return out

    def key(
        self, candidate: AtsCandidate, batch: Sequence[AtsFile], records: Mapping[str, UploadRecord]
    ) -> str:
        generation = max((records[f.attachment_id].failures for f in batch), default=0)
        ids = sorted(f.attachment_id for f in batch)
        return idempotency_key(
            KIND, candidate.hirer_id, candidate.profile_id, *ids, attempt=generation
        )

    # --- push ---------------------------------------------------------------------------------
    async def _find(self, candidate: AtsCandidate) -> OrCandidate | None:
        if candidate.email:
            return await self.client.find_by_email(candidate.email)
        return None

    def _person(self, candidate: AtsCandidate) -> dict[str, Any]:
        person = {"firstName": candidate.given_name, "lastName": candidate.family_name}
        if candidate.email:
            person["email"] = candidate.email
        if candidate.phone:
            person["phone"] = candidate.phone
        return person

    async def push(
        self,
        candidate: AtsCandidate,
        files: Sequence[AtsFile],
        current: CandidateRecord | None,
        uploads: Mapping[str, UploadRecord],
    ) -> PushResult:
        records = {f.attachment_id: upload_record(KIND, candidate, f, uploads) for f in files}
        todo = []
        for file in files:
            record = records[file.attachment_id]
            if record.state in SETTLED:
                continue
            reason = self.rejection(file)
            if reason:
                record.state, record.last_error = "rejected", reason
            else:
                todo.append(file)
        record_out = current or CandidateRecord(
            target=KIND,
            hirer_id=candidate.hirer_id,
            seek_candidate_id=candidate.seek_candidate_id,
            state="failed",
        )
        result = PushResult(record_out.model_copy(), list(records.values()))
        if not todo:
            return result
        cand = result.candidate
        try:
            if cand.state in ("failed", "pending_create"):
                found = await self._find(candidate)
                if found is not None:
                    cand.state, cand.ats_id, cand.error = "exists", found.id, None
                    if current is None:  # the ATS knows them and we knew nothing: re-derived
                        todo = self._already_stored(found, todo, records, uploads)
                        if not todo:
                            return result
                elif cand.state == "failed":
                    await self._create(candidate, todo, records, cand)
                    return result
                else:
                    return result  # a create is in flight: the other files wait for its id
            for batch in self.batches(todo):
                await self._append(candidate, cand, batch, records)
        except SeekError as error:
            # The class only: the service's message may echo an email or a filename back.
            log.warning(
                "onderwijsregio push for %s stopped: %s", candidate.profile_id, type(error).__name__
            )
            cand.error = str(error)
        return result

    @staticmethod
    def _already_stored(
        found: OrCandidate,
        todo: Sequence[AtsFile],
        records: Mapping[str, UploadRecord],
        uploads: Mapping[str, UploadRecord],
    ) -> list[AtsFile]:
        """The files still to send. A file we hold no record of that the candidate already has
        (same name, and same size where the ATS gives one) is confirmed, not sent again: its
        earlier send's key would now come with another payload (create vs append, a fresh
        signed URL) and be refused, and a fresh key would store it twice."""
        stored = found.attachments()
        left = []
        for file in todo:
            match = next(
                (s for s in stored if s.filename == file.filename and s.size in (None, file.size)),
                None,
            )
            if match is None or file.attachment_id in uploads:
                left.append(file)
                continue
            stored.remove(match)
            record = records[file.attachment_id]
            record.state, record.outcome_unknown, record.last_error = "confirmed", False, None
        return left

    async def _create(
        self,
        candidate: AtsCandidate,
        todo: Sequence[AtsFile],
        records: Mapping[str, UploadRecord],
        cand: CandidateRecord,
    ) -> None:
        first = self.batches(todo)[0]
        key = self.key(candidate, first, records)
        payload = {**self._person(candidate), **self.fields(first)}
        self._mark_sent(first, records, key)
        # No report before the create: an upload record without its candidate would make a
        # resumed push append under the create's key (refused as reuse): a lost create is
        # found by email or replayed under the same key instead.
        try:
            await self.client.create(payload, key=key, callback_url=self.callback_url)
        except RefusedError as error:
            self._mark_failed(first, records, str(error))
            cand.state, cand.error = "failed", str(error)
            self.report(cand, records.values())
            return
        cand.state, cand.idempotency_key, cand.error = "pending_create", key, None
        self._mark_accepted(first, records)
        self.report(cand, records.values())  # create accepted

    async def _append(
        self,
        candidate: AtsCandidate,
        cand: CandidateRecord,
        batch: Sequence[AtsFile],
        records: Mapping[str, UploadRecord],
    ) -> None:
        key = self.key(candidate, batch, records)
        self._mark_sent(batch, records, key)
        self.report(cand, records.values())  # sent, outcome unknown
        try:
            await self.client.add_attachments(
                cand.ats_id or "", self.fields(batch), key=key, callback_url=self.callback_url
            )
        except RefusedError as error:
            self._mark_failed(batch, records, str(error))
        else:
            self._mark_accepted(batch, records)
        self.report(cand, records.values())

    @staticmethod
    def _mark_sent(batch: Sequence[AtsFile], records: Mapping[str, UploadRecord], key: str) -> None:
        for file in batch:
            record = records[file.attachment_id]
            record.idempotency_key, record.attempts = key, record.attempts + 1
            record.outcome_unknown = True  # until the 202 (or a refusal) is read

    @staticmethod
    def _mark_accepted(batch: Sequence[AtsFile], records: Mapping[str, UploadRecord]) -> None:
        for file in batch:
            record = records[file.attachment_id]
            record.state, record.outcome_unknown, record.last_error = "accepted", False, None

    @staticmethod
    def _mark_failed(
        batch: Sequence[AtsFile], records: Mapping[str, UploadRecord], error: str
    ) -> None:
        for file in batch:
            record = records[file.attachment_id]
            record.state, record.outcome_unknown, record.last_error = "failed", False, error
            record.failures += 1

    # --- outcomes -----------------------------------------------------------------------------
    async def reconcile(
        self,
        candidate: AtsCandidate,
        files: Sequence[AtsFile],
        current: CandidateRecord,
        uploads: Mapping[str, UploadRecord],
        callbacks: Sequence[CallbackResult],
    ) -> PushResult:
        """Apply callbacks; where none came, read the candidate back and match files by name."""
        by_key = {c.idempotency_key: c for c in callbacks}
        cand = current.model_copy()
        records = {k: v.model_copy() for k, v in uploads.items()}
        created = by_key.get(cand.idempotency_key or "")
        if cand.state == "pending_create" and created is not None:
            if created.succeeded and created.candidate_ids:
                cand.state, cand.ats_id = "exists", created.candidate_ids[0]
            elif not created.succeeded:
                cand.state, cand.error = "failed", created.error or "create failed"
        for record in records.values():
            outcome = by_key.get(record.idempotency_key or "")
            if record.state == "accepted" and outcome is not None:
                if outcome.succeeded:
                    record.state = "confirmed"
                else:
                    record.state, record.last_error = "failed", outcome.error or "mutation failed"
                    record.failures += 1
        try:
            if cand.state == "pending_create":
                found = await self._find(candidate)
                if found is not None:
                    cand.state, cand.ats_id = "exists", found.id
            if cand.state == "exists" and any(r.state == "accepted" for r in records.values()):
                stored = await self.client.get(cand.ats_id or "")
                names = {a.filename for a in stored.attachments()} if stored else set()
                for file in files:
                    record = records.get(file.attachment_id)
                    if record and record.state == "accepted" and file.filename in names:
                        record.state = "confirmed"
        except SeekError as error:
            cand.error = str(error)
        return PushResult(cand, list(records.values()))
