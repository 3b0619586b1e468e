"""The one small protocol every ATS target implements, and the records it reads and returns.

A target resolves the ATS candidate (or application) of one SEEK candidate of one hirer, pushes
that candidate's files, and learns outcomes. State is keyed by (target, hirer, SEEK candidate) and
never merged across hirers; the caller persists the records a target returns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

CandidateState = Literal["pending_create", "exists", "failed"]
UploadState = Literal["pending", "accepted", "confirmed", "failed", "rejected"]
# Where uploads stand, in words each defined here once (tests/ats/test_state_words.py pins them).
# A push sends only `pending` uploads; a reconcile reads back, or re-sends, the waiting ones.
SETTLED: frozenset[UploadState] = frozenset({"confirmed", "rejected", "failed"})  # outcome is final
UNSETTLED: frozenset[UploadState] = frozenset({"pending", "accepted"})  # to send, or waiting
WAITING: frozenset[UploadState] = frozenset({"accepted"})  # sent, taken; outcome not known yet
NOT_SENT: frozenset[UploadState] = frozenset({"rejected", "failed"})  # settled; the ATS lacks it
Role = Literal["Resume", "CoverLetter", "SelectionCriteria"] | None


class AtsCandidate(BaseModel):
    """What an ATS needs to know of a SEEK applicant (one hirer's candidate)."""

    model_config = ConfigDict(frozen=True)

    hirer_id: str
    seek_candidate_id: str
    profile_id: str
    given_name: str
    family_name: str
    email: str | None
    phone: str | None
    job_reference: str | None = None


class AtsFile(BaseModel):
    """One stored attachment ready to push."""

    model_config = ConfigDict(frozen=True)

    attachment_id: str
    hirer_id: str
    profile_id: str
    role: Role
    filename: str
    content_type: str
    size: int
    sha256: str
    blob_key: str


class CandidateRecord(BaseModel):
    """The ATS side of one (target, hirer, SEEK candidate)."""

    target: str
    hirer_id: str
    seek_candidate_id: str
    state: CandidateState
    ats_id: str | None = None
    idempotency_key: str | None = None
    error: str | None = None


class UploadRecord(BaseModel):
    """The ATS side of one attachment pushed to one target.

    `pending` (to send) -> `accepted` (a 202: the ATS queued it) -> `confirmed` (the ATS shows our
    file: evidence). A send whose outcome is unknown (`outcome_unknown`) is re-sent under the same
    key with the same payload; a send the ATS said failed is re-sent under a fresh key. After
    `max_sends` sends the upload is `failed`, with the reason. `rejected` files are never sent.
    """

    target: str
    hirer_id: str
    attachment_id: str
    state: UploadState = "pending"
    idempotency_key: str | None = None
    attempts: int = 0  # sends, replays included
    failures: int = 0  # sends known to have failed: the next send needs a fresh key
    last_error: str | None = None
    ats_attachment_id: str | None = None  # the ATS's id of our file: no other upload claims it
    outcome_unknown: bool = False
    sent_at: datetime | None = None  # the last send: the wait for an outcome starts here
    key_sent_at: datetime | None = None  # the current key's first send: pins its payload

    def sent(self, key: str, now: datetime) -> None:
        if key != self.idempotency_key or self.key_sent_at is None:
            self.key_sent_at = now
        self.idempotency_key, self.sent_at = key, now
        self.attempts += 1
        self.outcome_unknown = True  # until the ATS's answer is read

    def accepted(self) -> None:
        self.state, self.outcome_unknown, self.last_error = "accepted", False, None

    def confirmed(self, ats_attachment_id: str | None) -> None:
        self.state, self.outcome_unknown, self.last_error = "confirmed", False, None
        self.ats_attachment_id = ats_attachment_id or self.ats_attachment_id

    def send_failed(self, reason: str, max_sends: int) -> None:
        """The ATS said this send failed (nothing applied): a fresh key, or `failed` at the cap."""
        self.failures += 1
        self.outcome_unknown, self.last_error = False, reason
        self.state = "failed" if self.attempts >= max_sends else "pending"

    def refused(self, reason: str) -> None:
        """Refused at request time (the same payload would be refused again): `failed`."""
        self.failures += 1
        self.state, self.outcome_unknown, self.last_error = "failed", False, reason

    def not_applied(self, reason: str, max_sends: int, *, replay: bool) -> None:
        """Accepted, yet no outcome and no file after the wait: re-sent under the same key
        (`replay`) below the cap, else `failed` with the reason."""
        self.last_error = reason
        if replay and self.attempts < max_sends:
            self.state, self.outcome_unknown = "pending", True
        else:
            self.state, self.outcome_unknown = "failed", False

    def rejected(self, reason: str) -> None:
        self.state, self.outcome_unknown, self.last_error = "rejected", False, reason

    @property
    def replayed(self) -> bool:
        """The current key was sent more than once."""
        return bool(self.sent_at and self.key_sent_at and self.sent_at > self.key_sent_at)

    def waited(self, now: datetime, timeout_seconds: float) -> bool:
        """The wait for this send's outcome is over."""
        return self.sent_at is None or (now - self.sent_at).total_seconds() >= timeout_seconds


@dataclass(frozen=True)
class CallbackResult:
    """A mutation outcome reported by the ATS (from the inbox's callback rows)."""

    idempotency_key: str
    succeeded: bool
    candidate_ids: tuple[str, ...] = ()
    attachment_ids: tuple[str, ...] = ()
    error: str | None = None


@dataclass
class PushResult:
    candidate: CandidateRecord
    uploads: list[UploadRecord] = field(default_factory=list)


class BlobSource(Protocol):
    """Where a target reads file bytes, or gets a short-lived URL for a big file."""

    def read_bytes(self, blob_key: str) -> bytes: ...

    def signed_url(self, blob_key: str, content_type: str, *, now: float | None = None) -> str:
        """A URL valid for a while from `now` (default: the present)."""
        ...


# Called with the records as each call's outcome becomes known (and before a write whose outcome
# may be lost), so the caller can journal them at once: (candidate or None, upload records).
ProgressHook = Callable[["CandidateRecord | None", Sequence["UploadRecord"]], None]


class Reporting:
    """What every target shares: reporting records to the caller's progress hook, and the ATS
    attachment ids already claimed by an upload of this target (any hirer: one tenant may serve
    several hirers, and one hirer's file must never confirm another's upload)."""

    progress: ProgressHook | None = None
    claimed: dict[str, str]  # ATS attachment id -> our attachment id (`evidence.Claims`)
    read_back_all: bool = False  # read back every accepted upload, waited for or not

    def report(self, candidate: CandidateRecord | None, uploads: Iterable[UploadRecord]) -> None:
        if self.progress is not None:
            self.progress(candidate, list(uploads))


class AtsTarget(Protocol):
    kind: str
    progress: ProgressHook | None
    claimed: dict[str, str]
    read_back_all: bool

    async def push(
        self,
        candidate: AtsCandidate,
        files: Sequence[AtsFile],
        current: CandidateRecord | None,
        uploads: Mapping[str, UploadRecord],
    ) -> PushResult:
        """Resolve the ATS candidate and push every file not yet accepted, confirmed or rejected."""

    async def reconcile(
        self,
        candidate: AtsCandidate,
        files: Sequence[AtsFile],
        current: CandidateRecord,
        uploads: Mapping[str, UploadRecord],
        callbacks: Sequence[CallbackResult],
    ) -> PushResult:
        """Learn outcomes: from callbacks where they came, else by reading the ATS back."""

    async def withdraw(self, ats_id: str, ats_attachment_ids: Sequence[str]) -> str | None:
        """Delete files we sent (SEEK deleted their application); None, or why it cannot."""


def upload_record(
    kind: str, candidate: AtsCandidate, file: AtsFile, uploads: Mapping[str, UploadRecord]
) -> UploadRecord:
    """A working copy of the file's stored record, or a fresh `pending` one."""
    known = uploads.get(file.attachment_id)
    if known is not None:
        return known.model_copy()
    return UploadRecord(target=kind, hirer_id=candidate.hirer_id, attachment_id=file.attachment_id)


def idempotency_key(*parts: str, attempt: int = 0) -> str:
    """A deterministic key per (target, hirer, application, attachment set[, retry attempt])."""
    text = "\x1f".join([*parts, str(attempt)])
    return "seek-sync-" + hashlib.sha256(text.encode()).hexdigest()[:40]
