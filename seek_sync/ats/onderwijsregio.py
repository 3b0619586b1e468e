"""The Onderwijsregio v2 target: find or create the candidate, append files, learn outcomes.

- A candidate is found by email. If absent, it is created with the first files inline and marked
  `pending_create`; no second create is sent while one is in flight, and the candidate's other
  files wait until its id is known (from the callback or a later `find`).
- The resume goes to `curriculumVitae`, everything else to `otherAttachments`, at most 5 per field
  per request. A file up to the data limit travels as a base64 data URI, a bigger one as a signed,
  expiring URL to the stored blob; a disallowed type or a file over the URL limit is rejected with
  its reason and never sent.
- Keys are deterministic per (target, hirer, application, attachment set, failures). A send whose
  outcome is unknown (a lost 202, or accepted with no outcome and no file after the wait) is sent
  again as it was: same files, same key, same payload (a signed URL is pinned to the key's first
  send), which the ATS applies at most once. Only a send the ATS said failed (which applied
  nothing) gets a fresh key. So a resend never leaves two copies. Outcomes:
  `onderwijsregio_outcomes`.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
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
from seek_sync.ats.errors import AtsError
from seek_sync.ats.evidence import Claims, claim, claims_of
from seek_sync.ats.onderwijsregio_api import OnderwijsregioClient, OrCandidate, RefusedError
from seek_sync.ats.onderwijsregio_outcomes import Outcomes, seen_on

log = logging.getLogger("seek_sync.ats.onderwijsregio")

KIND = "onderwijsregio"
CV_FIELD, OTHER_FIELD = "curriculumVitae", "otherAttachments"


class OnderwijsregioTarget(Reporting):
    kind = KIND

    def __init__(
        self, client: OnderwijsregioClient, blobs: BlobSource, *, callback_url: str | None
    ) -> None:
        self.client = client
        self.blobs = blobs
        self.callback_url = callback_url
        self.claimed: Claims = {}
        settings = client.settings
        self.data_limit = settings.onderwijsregio_data_limit_bytes
        self.url_limit = settings.onderwijsregio_url_limit_bytes
        self.per_field = settings.onderwijsregio_max_files_per_field
        self.allowed = frozenset(settings.onderwijsregio_allowed_types)
        self.max_sends = settings.ats_max_sends
        self.outcomes = Outcomes(
            client,
            confirm_timeout=settings.ats_confirm_timeout_seconds,
            max_sends=settings.ats_max_sends,
            reruns=settings.onderwijsregio_failed_key_reruns,
        )
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

    def item(self, file: AtsFile, record: UploadRecord | None = None) -> dict[str, str]:
        name_field, data_field, url_field = self.names
        if file.size <= self.data_limit:
            encoded = base64.b64encode(self.blobs.read_bytes(file.blob_key)).decode()
            return {
                name_field: file.filename,
                data_field: f"data:{file.content_type};base64,{encoded}",
            }
        # Pinned to the key's first send, so a resend under the same key is the same payload.
        issued = record.key_sent_at.timestamp() if record and record.key_sent_at else None
        url = self.blobs.signed_url(file.blob_key, file.content_type, now=issued)
        return {name_field: file.filename, url_field: url}

    def batches(self, files: Sequence[AtsFile]) -> list[list[AtsFile]]:
        """Requests of at most `per_field` files per field, resumes and others side by side."""
        cvs = [f for f in files if f.role == "Resume"]
        others = [f for f in files if f.role != "Resume"]
        n = self.per_field
        count = max(-(-len(cvs) // n), -(-len(others) // n))
        return [cvs[i * n : (i + 1) * n] + others[i * n : (i + 1) * n] for i in range(count)]

    def requests(
        self, files: Sequence[AtsFile], records: Mapping[str, UploadRecord]
    ) -> list[list[AtsFile]]:
        """Files whose last send's outcome is unknown go again exactly as they went (grouped by
        their key); the rest in fresh batches."""
        again: dict[str, list[AtsFile]] = {}
        fresh = []
        for file in files:
            record = records[file.attachment_id]
            if record.outcome_unknown and record.idempotency_key:
                again.setdefault(record.idempotency_key, []).append(file)
            else:
                fresh.append(file)
        return [*again.values(), *self.batches(fresh)]

    def fields(
        self, batch: Sequence[AtsFile], records: Mapping[str, UploadRecord] | None = None
    ) -> dict[str, list[dict[str, str]]]:
        out: dict[str, list[dict[str, str]]] = {}
        for file in batch:
            slot = CV_FIELD if file.role == "Resume" else OTHER_FIELD
            record = (records or {}).get(file.attachment_id)
            out.setdefault(slot, []).append(self.item(file, record))
        return out

    def key(
        self, candidate: AtsCandidate, batch: Sequence[AtsFile], records: Mapping[str, UploadRecord]
    ) -> str:
        first = records[batch[0].attachment_id]
        if first.outcome_unknown and first.idempotency_key:
            return first.idempotency_key  # sent before, outcome unknown: the same key again
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
            if record.state != "pending":  # settled, or waiting (a reconcile's)
                continue
            reason = self.rejection(file)
            if reason:
                record.rejected(reason)
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
                elif cand.state == "failed":
                    await self._create(candidate, self.requests(todo, records)[0], records, cand)
                    return result
                else:  # a create is in flight: a due resend of it, else the files wait its id
                    again = [f for f in todo if records[f.attachment_id].outcome_unknown]
                    if again:
                        await self._create(candidate, again, records, cand)
                    return result
            for batch in self.requests(todo, records):
                await self._append(candidate, cand, batch, records)
        except AtsError as error:
            # The class only: the service's message may echo an email or a filename back.
            log.warning(
                "onderwijsregio push for %s stopped: %s", candidate.profile_id, type(error).__name__
            )
            cand.error = str(error)
        return result

    def _already_stored(
        self,
        found: OrCandidate,
        todo: Sequence[AtsFile],
        records: Mapping[str, UploadRecord],
        uploads: Mapping[str, UploadRecord],
    ) -> list[AtsFile]:
        """The files still to send. A file we hold no record of that the person already has
        (name and size, unclaimed by any upload of any hirer) is confirmed, not sent again: a
        fresh key would store it twice."""
        seen = seen_on(found)
        self.claimed.update(claims_of(records.values()))
        left = []
        for file in todo:
            record = records[file.attachment_id]
            known = file.attachment_id in uploads
            if known or not claim(file, record, seen, self.claimed, need_size=True):
                left.append(file)
        return left

    async def _create(
        self,
        candidate: AtsCandidate,
        batch: Sequence[AtsFile],
        records: Mapping[str, UploadRecord],
        cand: CandidateRecord,
    ) -> None:
        key = self.key(candidate, batch, records)
        self._sent(batch, records, key)
        payload = {**self._person(candidate), **self.fields(batch, records)}
        # No report before the create: an upload record without its candidate would make a
        # resumed push append under the create's key (refused as reuse): a lost create is
        # found by email or resent under the same key instead.
        try:
            await self.client.create(payload, key=key, callback_url=self.callback_url)
        except RefusedError as error:
            self._failed(batch, records, str(error))
            cand.state, cand.error = "failed", str(error)
            self.report(cand, records.values())
            return
        cand.state, cand.idempotency_key, cand.error = "pending_create", key, None
        for file in batch:
            records[file.attachment_id].accepted()
        self.report(cand, records.values())  # create accepted

    async def _append(
        self,
        candidate: AtsCandidate,
        cand: CandidateRecord,
        batch: Sequence[AtsFile],
        records: Mapping[str, UploadRecord],
    ) -> None:
        key = self.key(candidate, batch, records)
        self._sent(batch, records, key)
        fields = self.fields(batch, records)
        self.report(cand, records.values())  # sent, outcome unknown
        try:
            await self.client.add_attachments(
                cand.ats_id or "", fields, key=key, callback_url=self.callback_url
            )
        except RefusedError as error:
            self._failed(batch, records, str(error))
        else:
            for file in batch:
                records[file.attachment_id].accepted()
        self.report(cand, records.values())

    @staticmethod
    def _sent(batch: Sequence[AtsFile], records: Mapping[str, UploadRecord], key: str) -> None:
        now = datetime.now(UTC)
        for file in batch:
            records[file.attachment_id].sent(key, now)

    @staticmethod
    def _failed(batch: Sequence[AtsFile], records: Mapping[str, UploadRecord], error: str) -> None:
        """Refused at request time: the same payload would be refused again."""
        for file in batch:
            records[file.attachment_id].refused(error)

    async def withdraw(self, ats_id: str, ats_attachment_ids: Sequence[str]) -> str | None:
        """`DELETE /candidates/{id}/attachments` (a 202: applied later, like every mutation)."""
        key = idempotency_key(KIND, "withdraw", ats_id, *sorted(ats_attachment_ids))
        await self.client.delete_attachments(
            ats_id, ats_attachment_ids, key=key, callback_url=self.callback_url
        )
        return None

    # --- outcomes -----------------------------------------------------------------------------
    async def reconcile(
        self,
        candidate: AtsCandidate,
        files: Sequence[AtsFile],
        current: CandidateRecord,
        uploads: Mapping[str, UploadRecord],
        callbacks: Sequence[CallbackResult],
    ) -> PushResult:
        """Apply callbacks; past the wait, read the candidate back (`Outcomes.settle`)."""
        cand = current.model_copy()
        records = {k: v.model_copy() for k, v in uploads.items()}
        try:
            await self.outcomes.settle(
                candidate, files, cand, records, callbacks, self.claimed, self.read_back_all
            )
        except AtsError as error:
            cand.error = str(error)
        return PushResult(cand, list(records.values()))
