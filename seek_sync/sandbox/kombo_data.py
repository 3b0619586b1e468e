"""The Kombo fake's settings, its fault rules and its store of jobs, candidates and applications.

Seeded from `KomboConfig` (and the SEEK world's `seekHirerJobReference`s) only, so ids and data are
the same on every start. Ids are 24-character base58 strings like Kombo's; remote ids are the ATS's.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from seek_sync.sandbox.faults import take_rule
from seek_sync.sandbox.received import ReceivedFiles

AttachmentType = Literal["CV", "COVER_LETTER", "OTHER"]
ATTACHMENT_TYPES: tuple[AttachmentType, ...] = ("CV", "COVER_LETTER", "OTHER")
DOCUMENT_MIME_TYPES = [
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/rtf",
    "text/rtf",
    "text/plain",
]
# Kombo's ATS error codes and the HTTP status the fake answers each with: Kombo documents only
# "branch on the code", so the statuses are the fake's choice (setup codes 409, as since 2026-05).
_CODES_BY_STATUS: dict[int, str] = {
    400: "PLATFORM.INPUT_INVALID REMOTE.INPUT_INVALID ATS.JOB_CLOSED",
    401: "PLATFORM.AUTHENTICATION_INVALID",
    403: "PLATFORM.INTEGRATION_NOT_FOUND PLATFORM.IP_NOT_WHITELISTED INTEGRATION.PERMISSION_MISSING"
    " INTEGRATION.AUTHENTICATION_INVALID INTEGRATION.INACTIVE INTEGRATION.MODEL_NOT_AVAILABLE"
    " INTEGRATION.MODEL_DISABLED INTEGRATION.ACTION_NOT_AVAILABLE INTEGRATION.ACTION_DISABLED",
    409: "ATS.APPLICATION_ALREADY_EXISTS INTEGRATION.QA_FAILED INTEGRATION.SETUP_SYNC_PENDING"
    " INTEGRATION.SETUP_INCOMPLETE",
    429: "PLATFORM.RATE_LIMIT_EXCEEDED PLATFORM.CONCURRENCY_LIMIT_EXCEEDED"
    " REMOTE.RATE_LIMIT_EXCEEDED",
    500: "PLATFORM.UNKNOWN_ERROR",
    502: "REMOTE.UNKNOWN_HTTP_ERROR",
    503: "REMOTE.SERVICE_UNAVAILABLE",
    504: "PLATFORM.TASK_TIMED_OUT",
}
CODE_STATUS: dict[str, int] = {c: s for s, cs in _CODES_BY_STATUS.items() for c in cs.split()}
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
EPOCH = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
PEOPLE = [
    ("Ava", "Nguyen", "ava.nguyen@example.com"),
    ("Liam", "O'Brien", "liam.obrien@example.org"),
    ("Mia", "Kowalski", "Mia.Kowalski@Example.net"),
    ("Noah", "Tanaka", "noah.tanaka@example.com"),
    ("Zara", "Patel", "zara.patel@example.org"),
    ("Oscar", "Fernández", "oscar.fernandez@example.com"),
]
JOB_NAMES = ["Registered Nurse", "Site Supervisor", "Graduate Accountant", "Warehouse Lead"]


class TypeRestriction(BaseModel):
    """One attachment type's limits, as `GET /ats/actions/ats_add_application_attachment`."""

    is_supported: bool = True
    max_file_size_bytes: int | None = Field(default=None, ge=0)
    accepted_mime_types: list[str] | None = None


def default_restrictions() -> dict[AttachmentType, TypeRestriction]:
    document = TypeRestriction(
        max_file_size_bytes=10_485_760, accepted_mime_types=DOCUMENT_MIME_TYPES
    )
    return {
        "CV": document,
        "COVER_LETTER": document.model_copy(deep=True),
        "OTHER": TypeRestriction(max_file_size_bytes=10_000_000, accepted_mime_types=None),
    }


class KomboConfig(BaseModel):
    """The fake Kombo integration: credentials, limits and seeded data."""

    api_key: str = "sandbox-kombo-api-key-0123456789"
    integration_id: str = "greenhouse:SandboxIntegration01"
    max_concurrent_writes: int = Field(default=30, ge=1, description="in flight per integration")
    job_remote_ids: list[str] = Field(
        default_factory=lambda: ["REQ-2026-0417", "REQ-2026-0418", "REQ-2026-0502"]
    )
    closed_job_remote_ids: list[str] = Field(default_factory=lambda: ["REQ-2025-0999"])
    mirror_world_jobs: bool = Field(
        default=True, description="one open job per SEEK job's seekHirerJobReference as well"
    )
    seeded_candidates: int = Field(default=4, ge=0, le=len(PEOPLE))
    restrictions: dict[AttachmentType, TypeRestriction] = Field(
        default_factory=default_restrictions
    )
    duplicate_application_status: int = Field(default=409, ge=400, le=499)
    data_url_timeout_seconds: float = Field(default=10.0, gt=0)
    max_download_bytes: int = Field(default=64 * 1024**2, ge=1)


class KomboFault(BaseModel):
    """Injected Kombo behaviour: an error `code`, or `timeout_after_write`, or `slow_write`."""

    code: str | None = Field(default=None, description="one of CODE_STATUS")
    route: str = Field(default="kombo", description="`kombo` matches every `kombo.*` route")
    times: int | None = Field(default=1, ge=1, description="None = every matching request")
    skip: int = Field(default=0, ge=0)
    status: int | None = Field(default=None, ge=400, le=599, description="override the code's")
    retry_after: float | None = Field(default=None, ge=0, description="adds Retry-After")
    message: str | None = None
    timeout_after_write: int | None = Field(
        default=None, ge=1, description="next N writes on `route` are stored, then the link drops"
    )
    slow_write: float | None = Field(default=None, ge=0, description="seconds every write waits")

    @model_validator(mode="after")
    def _one_thing(self) -> KomboFault:
        if self.code is not None and self.code not in CODE_STATUS:
            raise ValueError(f"unknown Kombo error code {self.code!r}")
        if self.code is None and self.timeout_after_write is None and self.slow_write is None:
            raise ValueError("give `code`, `timeout_after_write` or `slow_write`")
        return self


class KomboFaults:
    """Error-code rules consumed in order, lost-response counters and the slow-write delay."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[list[Any]] = []  # [fault, skip_left, times_left]
        self._timeouts: Counter[str] = Counter()
        self.slow_write = 0.0

    def add(self, fault: KomboFault) -> None:
        with self._lock:
            if fault.code is not None:
                self._rules.append([fault, fault.skip, fault.times])
            if fault.timeout_after_write is not None:
                route = "kombo.add_attachment" if fault.route == "kombo" else fault.route
                self._timeouts[route] += fault.timeout_after_write
            if fault.slow_write is not None:
                self.slow_write = fault.slow_write

    def take(self, endpoint: str) -> KomboFault | None:
        with self._lock:
            return take_rule(self._rules, endpoint, lambda f: f.route)  # type: ignore[no-any-return]

    def take_timeout(self, endpoint: str) -> bool:
        with self._lock:
            if self._timeouts[endpoint] > 0:
                self._timeouts[endpoint] -= 1
                return True
            return False

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._timeouts.clear()
            self.slow_write = 0.0

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "rules": [r[0].model_dump(exclude_none=True) for r in self._rules],
                "timeout_after_write": {k: v for k, v in self._timeouts.items() if v},
                "slow_write": self.slow_write,
            }


def kombo_id(seed: int, kind: str, n: int) -> str:
    number = int.from_bytes(hashlib.sha256(f"{seed}:{kind}:{n}".encode()).digest(), "big")
    chars = []
    while len(chars) < 24:
        number, digit = divmod(number, 58)
        chars.append(BASE58[digit])
    return "".join(chars)


@dataclass
class KomboJob:
    id: str
    remote_id: str
    name: str
    status: str
    opened_at: datetime
    stage_ids: list[str]
    question_ids: list[str]


@dataclass
class KomboCandidate:
    id: str
    remote_id: str
    first_name: str
    last_name: str
    email: str
    phone: str | None
    created_at: datetime
    changed_at: datetime


@dataclass
class KomboApplication:
    id: str
    remote_id: str
    candidate_id: str
    job_id: str
    stage_id: str
    created_at: datetime
    changed_at: datetime
    screening_question_answers: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Upload:
    """A validated file on its way in (from `data`, a downloaded `data_url`, or the seed)."""

    name: str
    type: AttachmentType
    content_type: str
    data: bytes = field(repr=False)
    via: Literal["data", "data_url", "seed"] = "data"


@dataclass(frozen=True)
class StoredAttachment:
    """What the fake ATS keeps of one attachment: size and digest (the bytes only if spilled)."""

    id: str
    remote_id: str
    application_id: str
    created_at: datetime
    via: Literal["data", "data_url", "seed"]
    size: int
    sha256: str
    name: str = ""
    type: AttachmentType = "OTHER"
    content_type: str = ""

    def summary(self) -> dict[str, Any]:
        keep = ("id", "application_id", "name", "type", "content_type", "size", "sha256", "via")
        return {k: getattr(self, k) for k in keep}


class DuplicateApplication(Exception):
    """The candidate (by email) already has an application for that job."""


class KomboStore:
    """Every record the fake holds; thread-safe (routes run on the server loop, tests elsewhere)."""

    def __init__(self, seed: int, received: ReceivedFiles | None = None) -> None:
        self.seed = seed
        self.received = received or ReceivedFiles()
        self.lock = threading.RLock()
        self.jobs: dict[str, KomboJob] = {}
        self.candidates: dict[str, KomboCandidate] = {}
        self.applications: dict[str, KomboApplication] = {}
        self.attachments: dict[str, list[StoredAttachment]] = {}
        self.uploads_received: Counter[str] = Counter()
        self.applications_created = 0
        self._n: Counter[str] = Counter()

    def new_id(self, kind: str) -> tuple[str, str]:
        """A Kombo id and a numeric remote id for the next record of this kind."""
        with self.lock:
            self._n[kind] += 1
            n = self._n[kind]
        base = {"job": 10, "candidate": 40, "application": 50, "attachment": 60, "stage": 70}
        return kombo_id(self.seed, kind, n), str(base.get(kind, 90) * 1_000_000 + n)

    def add_job(self, remote_id: str, name: str, status: str, opened_at: datetime) -> KomboJob:
        stages = [self.new_id("stage")[0] for _ in range(4)]
        questions = [kombo_id(self.seed, f"question:{remote_id}", i) for i in range(2)]
        job = KomboJob(self.new_id("job")[0], remote_id, name, status, opened_at, stages, questions)
        with self.lock:
            self.jobs[job.id] = job
        return job

    def candidate_by_email(self, email: str) -> KomboCandidate | None:
        wanted = email.casefold()
        return next((c for c in self.candidates.values() if c.email.casefold() == wanted), None)

    def create_application(
        self,
        job: KomboJob,
        person: dict[str, Any],
        answers: list[dict[str, Any]],
        at: datetime,
        stage_id: str | None = None,
    ) -> KomboApplication:
        """Candidate (reused by email) plus application; DuplicateApplication on a repeat."""
        with self.lock:
            candidate = self.candidate_by_email(person["email_address"])
            if candidate and any(
                a.job_id == job.id and a.candidate_id == candidate.id
                for a in self.applications.values()
            ):
                raise DuplicateApplication(candidate.id)
            if candidate is None:
                cid, remote = self.new_id("candidate")
                names = (person["first_name"], person["last_name"], person["email_address"])
                phone = person.get("phone_number")
                candidate = KomboCandidate(cid, remote, *names, phone, at, at)
                self.candidates[cid] = candidate
            candidate.changed_at = at
            aid, remote = self.new_id("application")
            application = KomboApplication(
                aid, remote, candidate.id, job.id, stage_id or job.stage_ids[0], at, at, answers
            )
            self.applications[aid] = application
            self.applications_created += 1
            return application

    def add_attachment(self, application_id: str, upload: Upload, at: datetime) -> StoredAttachment:
        aid, remote = self.new_id("attachment")
        kept = self.received.take(upload.data)
        stored = StoredAttachment(
            aid, remote, application_id, at, upload.via, kept.size, kept.sha256,
            upload.name, upload.type, upload.content_type,
        )  # fmt: skip
        with self.lock:
            self.attachments.setdefault(application_id, []).append(stored)
            self.applications[application_id].changed_at = at
        return stored

    def seed_data(self, config: KomboConfig, world_jobs: list[tuple[str, str]]) -> None:
        """Jobs from the config and the SEEK world, then a few candidates with applications."""
        seen: set[str] = set()
        planned = [
            (r, JOB_NAMES[i % len(JOB_NAMES)], "OPEN") for i, r in enumerate(config.job_remote_ids)
        ]
        planned += [(r, "Retail Assistant", "CLOSED") for r in config.closed_job_remote_ids]
        if config.mirror_world_jobs:
            planned += [(ref, title, "OPEN") for ref, title in world_jobs]
        for i, (remote_id, name, status) in enumerate(planned):
            if remote_id not in seen:
                seen.add(remote_id)
                self.add_job(remote_id, name, status, EPOCH.replace(day=1 + i % 28))
        open_jobs = [j for j in self.jobs.values() if j.status == "OPEN"]
        for i, (first, last, email) in enumerate(PEOPLE[: config.seeded_candidates]):
            if not open_jobs:
                break
            person = {"first_name": first, "last_name": last, "email_address": email}
            person["phone_number"] = f"+61 400 000 {100 + i}"
            at = EPOCH.replace(day=2 + i, hour=10)
            application = self.create_application(open_jobs[i % len(open_jobs)], person, [], at)
            if i == 0:
                text = b"%PDF-1.4\n% sandbox seeded resume\n%%EOF\n"
                cv = Upload(f"{first} {last} CV.pdf", "CV", "application/pdf", text, "seed")
                self.add_attachment(application.id, cv, at)
        self.applications_created = 0
