"""The Kombo target: resolve (or create) the application, upload each file once, read back.

- The application is found through `GET /ats/candidates?email=` (the candidate's applications by
  job id) for the job the hirer map gives the SEEK `seekHirerJobReference`; when missing it is
  created with `POST /ats/jobs/{job_id}/applications`, and `ATS.APPLICATION_ALREADY_EXISTS` means
  "read it again". The Kombo candidate id is kept in `CandidateRecord.ats_id`; the application id
  is re-resolved on every push (one read), since one SEEK candidate may apply to two jobs.
- Files go to `POST /ats/applications/{id}/attachments` as `CV` / `COVER_LETTER` / `OTHER`, inline
  base64 up to the data limit, a signed short-lived `data_url` above it. The integration's per-type
  restrictions (read once per target) reject a file before it is ever sent.
- Kombo has no idempotency: an upload whose outcome is unknown (dropped connection, timeout, or
  `outcome_unknown` in its stored record) is first looked for in the application's attachments
  (same file name and type) and only re-sent when it is not there.
- An upload answered 200 is `confirmed` (Kombo forwards it to the ATS before answering). A refusal
  is `failed` with its code and is not retried automatically; give-ups on retryable codes and
  unknown outcomes stay `pending` with the reason, for the next push or `reconcile`.
"""

from __future__ import annotations

import asyncio
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
    upload_record,
)
from seek_sync.ats.evidence import Claims
from seek_sync.ats.kombo_api import (
    ALREADY_EXISTS,
    KomboApi,
    KomboCallError,
    KomboPerson,
    pick_person,
)
from seek_sync.ats.kombo_files import (
    Restrictions,
    candidate_record,
    kombo_type,
    match_stored,
    mime_of,
    person_fields,
    rejection,
)
from seek_sync.ats.targets import HirerTarget

log = logging.getLogger("seek_sync.ats.kombo")

KIND = "kombo"


class KomboTarget(Reporting):
    kind = KIND

    def __init__(
        self,
        api: KomboApi,
        blobs: BlobSource,
        *,
        hirer: HirerTarget,
        data_limit_bytes: int = 10_000_000,
        max_sends: int = 5,
    ) -> None:
        self.api = api
        self.blobs = blobs
        self.hirer = hirer
        self.data_limit = data_limit_bytes
        self.max_sends = max_sends
        self.claimed: Claims = {}
        self._restrictions: Restrictions | None = None
        self._restrictions_lock = asyncio.Lock()

    async def restrictions(self) -> Restrictions:
        """The integration's attachment restrictions, read once per target instance."""
        async with self._restrictions_lock:
            if self._restrictions is None:
                try:
                    self._restrictions = await self.api.restrictions()
                except KomboCallError as error:
                    if error.retryable:
                        raise
                    log.warning("Kombo restrictions unreadable (%s); Kombo will check", error.code)
                    self._restrictions = Restrictions()
            return self._restrictions

    # --- what is sent ------------------------------------------------------------------------
    def _payload(self, file: AtsFile) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": file.filename,
            "type": kombo_type(file),
            "content_type": mime_of(file),
        }
        if file.size > self.data_limit:
            body["data_url"] = self.blobs.signed_url(file.blob_key, file.content_type)
        else:
            body["data"] = base64.b64encode(self.blobs.read_bytes(file.blob_key)).decode()
        return body

    def _unusable(self, candidate: AtsCandidate) -> str | None:
        if not candidate.email:
            return "the candidate has no email address; Kombo needs one to create an application"
        if not self.hirer.job_for(candidate.job_reference):
            ref = candidate.job_reference or "(none)"
            return f"no Kombo job for job reference {ref} and no default job for this hirer"
        return None

    # --- push and reconcile ------------------------------------------------------------------
    async def push(
        self,
        candidate: AtsCandidate,
        files: Sequence[AtsFile],
        current: CandidateRecord | None,
        uploads: Mapping[str, UploadRecord],
    ) -> PushResult:
        """Resolve or create the application, then upload every `pending` file."""
        return await self._run(candidate, files, current, uploads, reconciling=False)

    async def reconcile(
        self,
        candidate: AtsCandidate,
        files: Sequence[AtsFile],
        current: CandidateRecord,
        uploads: Mapping[str, UploadRecord],
        callbacks: Sequence[CallbackResult],
    ) -> PushResult:
        """Read the application's attachments back, confirm what is there, retry the rest.

        Kombo sends no callbacks, so `callbacks` is unused."""
        return await self._run(candidate, files, current, uploads, reconciling=True)

    async def _run(
        self,
        candidate: AtsCandidate,
        files: Sequence[AtsFile],
        current: CandidateRecord | None,
        uploads: Mapping[str, UploadRecord],
        *,
        reconciling: bool,
    ) -> PushResult:
        records = {f.attachment_id: upload_record(KIND, candidate, f, uploads) for f in files}
        cand = (current or candidate_record(candidate)).model_copy()
        result = PushResult(cand, list(records.values()))
        todo = [f for f in files if records[f.attachment_id].state == "pending"]
        unconfirmed = [f for f in files if _lacks_id(records[f.attachment_id])]
        if not todo and not (reconciling and unconfirmed):
            return result
        problem = self._unusable(candidate)
        if problem:
            cand.state, cand.error = "failed", problem
            for file in todo:
                records[file.attachment_id].last_error = problem
            return result
        try:
            restrictions = await self.restrictions()
            for file in list(todo):
                reason = rejection(file, restrictions)
                if reason:
                    record = records[file.attachment_id]
                    record.rejected(reason)
                    todo.remove(file)
            if not todo and not reconciling:
                return result
            application = await self._application(candidate, cand, create=bool(todo))
            if application is None:
                return result
            application_id, created = application
            self.report(cand, [])  # the application resolved (or created)
            # Read back first when an earlier write may have landed: its outcome is unknown, or
            # the application already existed and we hold no record of the file at all (a
            # re-derived warehouse, or state lost): Kombo has no idempotency to fall back on.
            if reconciling or (
                not created
                and any(
                    records[f.attachment_id].outcome_unknown or f.attachment_id not in uploads
                    for f in todo
                )
            ):
                stored = await self.api.attachments(application_id)
                todo = [f for f in todo if not match_stored(f, records, stored, self.claimed)]
                for file in todo:  # read back and not there: the earlier write did not land
                    _not_landed(records[file.attachment_id])
                for file in unconfirmed:
                    match_stored(file, records, stored, self.claimed)
            await self._send_all(application_id, todo, records)
        except KomboCallError as error:
            log.warning("Kombo push for profile %s stopped: %s", candidate.profile_id, error.code)
            cand.error = str(error)
            if cand.state != "exists":
                cand.state = "failed"
            for file in todo:
                record = records[file.attachment_id]
                if record.state == "pending" and not record.last_error:
                    record.last_error = str(error)
        return result

    async def _application(
        self, candidate: AtsCandidate, cand: CandidateRecord, *, create: bool
    ) -> tuple[str, bool] | None:
        """The application id for the candidate's job, and whether this call created it."""
        email = candidate.email or ""
        job_id = self.hirer.job_for(candidate.job_reference) or ""
        person = pick_person(await self.api.find_by_email(email), job_id, cand.ats_id)
        created = False
        if person is None or job_id not in person.applications:
            if not create:
                return None
            try:
                candidate_id, application_id = await self.api.create_application(
                    job_id, person_fields(candidate)
                )
                person = KomboPerson(id=candidate_id, applications={job_id: application_id})
                created = True
            except KomboCallError as error:
                if error.code != ALREADY_EXISTS:
                    raise
                person = pick_person(await self.api.find_by_email(email), job_id, cand.ats_id)
                if person is None or job_id not in person.applications:
                    raise KomboCallError(
                        "Kombo says the application exists but the candidate lookup lacks it",
                        code=ALREADY_EXISTS,
                    ) from None
        cand.state, cand.ats_id, cand.error = "exists", person.id or cand.ats_id, None
        return person.applications[job_id], created

    async def _send_all(
        self, application_id: str, todo: Sequence[AtsFile], records: Mapping[str, UploadRecord]
    ) -> None:
        if not todo:
            return
        await asyncio.gather(*(self._send(application_id, f, records) for f in todo))
        sent = [f for f in todo if _lacks_id(records[f.attachment_id])]
        if sent:
            try:  # one read to learn the new attachments' Kombo ids
                stored = await self.api.attachments(application_id)
            except KomboCallError as error:
                log.warning("Kombo attachment ids not read back: %s", error.code or error.status)
                return
            for file in sent:
                match_stored(file, records, stored, self.claimed)

    async def _send(
        self, application_id: str, file: AtsFile, records: Mapping[str, UploadRecord]
    ) -> None:
        record = records[file.attachment_id]
        if record.failures >= self.max_sends:  # that many sends were lost without a trace
            record.state, record.outcome_unknown = "failed", False
            record.last_error = (
                f"{record.failures} sends with no answer and no file on the application "
                f"(SEEK_SYNC_ATS_MAX_SENDS); last: {record.last_error or 'outcome unknown'}"
            )
            return
        try:
            async for attempt in self.api.retrying(safe=False, unknown=True):
                with attempt:
                    await self._attempt(application_id, file, records)
        except KomboCallError as error:
            record.last_error = str(error)
            if not (error.retryable or error.unknown):
                record.refused(str(error))

    async def _attempt(
        self, application_id: str, file: AtsFile, records: Mapping[str, UploadRecord]
    ) -> None:
        record = records[file.attachment_id]
        if record.outcome_unknown:
            stored = await self.api.attachments(application_id)
            if match_stored(file, records, stored, self.claimed):
                return
            _not_landed(record)
        record.attempts += 1
        record.outcome_unknown = True
        self.report(None, [record])  # sent, outcome unknown: a resend reads back first
        try:
            warnings = await self.api.add_attachment(application_id, lambda: self._payload(file))
        except KomboCallError as error:
            if not error.unknown:
                record.outcome_unknown = False  # answered: the write did not happen
            raise
        record.state, record.outcome_unknown, record.last_error = "confirmed", False, None
        self.report(None, [record])  # stored
        for warning in warnings:
            log.warning(
                "Kombo warning on attachment %s: %s",
                file.attachment_id,
                warning.replace(file.filename, "<file name>")[:300],
            )

    async def withdraw(self, ats_id: str, ats_attachment_ids: Sequence[str]) -> str | None:
        return "Kombo's API has no attachment delete: remove the files in the ATS itself"


def _not_landed(record: UploadRecord) -> None:
    """A send whose answer was lost, read back and not there: counted against the cap (retryable
    refusals, which certainly stored nothing, are not: the run model's backoff retries them)."""
    record.outcome_unknown, record.failures = False, record.failures + 1


def _lacks_id(record: UploadRecord) -> bool:
    return record.state == "confirmed" and not record.ats_attachment_id
