"""The sandbox's data: hirers, jobs, candidates, applications, attachments and the event stream.

Everything is generated from one seed (`world_gen.py`); attachments are metadata only, their bytes
are rendered by `files.py` on download. Run-time changes (new applications, a removed relationship
or attachment, replayed events, a deleted candidate or application: `world_deletion.py`) take the
world's lock and publish new containers (copy on write), so a reader never sees a dict or list
change under it: it reads `world.events`, `world.applications`, ... once and keeps that snapshot.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from seek_sync.sandbox import world_deletion
from seek_sync.sandbox.questionnaire import Questionnaire, Submission

if TYPE_CHECKING:
    from seek_sync.sandbox.world_gen import Generator

SCHEME_ID = "seekAnzPublicTest"
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
APPLICATION_EXPORT = "ApplicationExport"
JOB_POSTING = "JobPosting"


@dataclass
class Hirer:
    id: str
    name: str
    relationship: bool  # an ApplicationExport relationship with us (the partner)
    job_posting: bool = False  # a JobPosting relationship as well
    advertiser_id: int | None = None  # SEEK ANZ legacy advertiser id

    @property
    def relationship_codes(self) -> list[str]:
        return [APPLICATION_EXPORT] * self.relationship + [JOB_POSTING] * self.job_posting


@dataclass
class Job:
    id: str
    hirer_id: str
    title: str
    seek_hirer_job_reference: str
    position_uri: str
    work_type: str = "FullTime"
    ad_type: str = "Classic"
    posted: datetime = datetime(2026, 10, 1, tzinfo=UTC)
    closes: datetime = datetime(2026, 10, 31, tzinfo=UTC)
    questionnaire: Questionnaire | None = None


@dataclass
class Person:
    given: str
    family: str | None
    email: str
    phone: str
    line: str
    city: str
    state: str
    postcode: str
    country: str  # ISO 3166-1 alpha-2
    latitude: float = 0.0
    longitude: float = 0.0
    extended_lines: list[str] = field(default_factory=list)

    @property
    def formatted_name(self) -> str:
        return f"{self.given} {self.family}" if self.family else self.given

    @property
    def formatted_address(self) -> str:
        return ", ".join(
            [*self.extended_lines, self.line, f"{self.city} {self.state} {self.postcode}"]
        )


@dataclass
class Candidate:
    id: str
    hirer_id: str
    person: Person  # shared by this person's candidates at other hirers
    deleted: bool = False  # SEEK deleted the person: redacted (world_deletion.py)


@dataclass
class PositionHistory:
    title: str
    start: str  # HistoryDate
    end: str | None
    current: bool | None
    descriptions: list[str]


@dataclass
class EmployerHistory:
    organization: str
    positions: list[PositionHistory]


@dataclass
class EducationDegree:
    name: str
    granted_status: str  # "Granted" | "InProgress"
    date: str | None  # HistoryDate: YYYY or YYYY-MM


@dataclass
class EducationAttendance:
    institution: str
    degrees: list[EducationDegree]
    descriptions: list[str]


@dataclass
class Certification:
    name: str
    issuing_authority: str | None
    issued: str | None  # HistoryDate
    valid_to: str | None  # HistoryDate
    descriptions: list[str]


@dataclass
class AttachmentRecord:
    id: str
    application_id: str
    profile_id: str
    hirer_id: str
    role: str | None  # "Resume" | "CoverLetter" | "SelectionCriteria" | None (other documents)
    filename: str
    declared_type: str  # the Content-Type the fake serves
    kind: str  # the real format of the bytes: pdf docx rtf txt png jpeg zip exe
    size: int
    seed: int
    title: str
    lines: list[str]
    descriptions: list[str]
    removed: bool = False


@dataclass
class Application:
    """A candidate application: SEEK's `CandidateProfile` (a snapshot taken when applying)."""

    profile_id: str
    application_id: str  # the 22-character last segment of the profile id
    candidate_id: str
    hirer_id: str
    job_id: str
    create_date_time: datetime
    update_date_time: datetime
    employment: list[EmployerHistory] = field(default_factory=list)
    education: list[EducationAttendance] = field(default_factory=list)
    certifications: list[Certification] = field(default_factory=list)
    qualifications: list[str] = field(default_factory=list)
    submission: Submission | None = None
    attachments: list[AttachmentRecord] = field(default_factory=list)
    deleted: bool = False  # SEEK deleted it or its candidate: redacted (world_deletion.py)


@dataclass
class StreamEvent:
    id: str
    type_code: str  # "CandidateApplicationCreated" | "HirerRelationshipChanged"
    create_date_time: datetime
    stream_date_time: datetime
    hirer_id: str
    profile_id: str | None = None
    candidate_id: str | None = None


class World:
    """All sandbox data keyed by SEEK ids; `events` is the stream in ascending stream order."""

    def __init__(self, scheme_id: str = SCHEME_ID) -> None:
        self.scheme_id = scheme_id
        self.hirers: dict[str, Hirer] = {}
        self.jobs: dict[str, Job] = {}
        self.candidates: dict[str, Candidate] = {}
        self.applications: dict[str, Application] = {}  # by profile id
        self.by_application_id: dict[str, Application] = {}
        self.events: list[StreamEvent] = []
        self.edge_cases: dict[str, tuple[str, str]] = {}  # name -> (application id, attachment id)
        self.profile_reads: Counter[str] = Counter()  # candidateProfile queries per profile id
        self.lock = threading.RLock()
        self.generator: Generator | None = None

    # --- reads (no lock: containers are never changed in place once published) -----------------
    def attachment(self, application_id: str, attachment_id: str) -> AttachmentRecord | None:
        application = self.by_application_id.get(application_id)
        if application is None:
            return None
        return next((a for a in application.attachments if a.id == attachment_id), None)

    def has_relationship(self, hirer_id: str) -> bool:
        """An ApplicationExport relationship: what candidate data and its events need."""
        hirer = self.hirers.get(hirer_id)
        return bool(hirer and hirer.relationship)

    def has_any_relationship(self, hirer_id: str) -> bool:
        """Any relationship at all: what the hirer itself and its job ads need."""
        hirer = self.hirers.get(hirer_id)
        return bool(hirer and hirer.relationship_codes)

    def profiles_of(self, candidate_id: str) -> list[Application]:
        mine = [a for a in self.applications.values() if a.candidate_id == candidate_id]
        return sorted(mine, key=lambda a: a.create_date_time)

    # --- writes -------------------------------------------------------------------------------
    def publish(
        self,
        candidates: Iterable[Candidate] = (),
        applications: Iterable[Application] = (),
        events: Iterable[StreamEvent] = (),
    ) -> list[StreamEvent]:
        """Add objects and append events (stream times never go backwards); returns the events."""
        with self.lock:
            self.candidates = {**self.candidates, **{c.id: c for c in candidates}}
            applications = list(applications)
            self.applications = {**self.applications, **{a.profile_id: a for a in applications}}
            self.by_application_id = {
                **self.by_application_id,
                **{a.application_id: a for a in applications},
            }
            added, last = [], self.events[-1].stream_date_time if self.events else None
            for event in events:
                if last is not None and event.stream_date_time < last:
                    event.stream_date_time = last
                last = event.stream_date_time
                added.append(event)
            self.events = [*self.events, *added]
            return added

    def add_applications(
        self, count: int, hirers: Iterable[str] | None = None
    ) -> list[StreamEvent]:
        """New applications and their events at the end of the stream, stamped about now, to
        `hirers` only if given (those with the relationship; by default the busy hirers)."""
        with self.lock:
            assert self.generator is not None
            chosen = None if hirers is None else set(hirers)
            return self.generator.add_applications(count, datetime.now(UTC), chosen)

    def replay_events(self, event_ids: list[str]) -> list[StreamEvent]:
        """Fault: the same events (same ids) appear again at the end of the stream."""
        with self.lock:
            by_id = {e.id: e for e in self.events}
            now = datetime.now(UTC)
            again = [replace(by_id[i], stream_date_time=now) for i in event_ids if i in by_id]
            return self.publish(events=again)

    def remove_relationship(self, hirer_id: str) -> StreamEvent:
        """The hirer removes our ApplicationExport relationship: HirerRelationshipChanged."""
        with self.lock:
            assert self.generator is not None
            self.hirers[hirer_id].relationship = False
            now = datetime.now(UTC)
            event = StreamEvent(
                self.generator.event_id(), "HirerRelationshipChanged", now, now, hirer_id
            )
            return self.publish(events=[event])[0]

    def remove_attachment(self, application_id: str, attachment_id: str) -> None:
        """The file goes (downloads answer 404); the attachment stays listed on the profile."""
        with self.lock:
            record = self.attachment(application_id, attachment_id)
            if record is not None:
                record.removed = True

    # SEEK deletes a candidate (the person, at every hirer) or one application: redacted, no event.
    delete_candidate = world_deletion.delete_candidate
    delete_application = world_deletion.delete_application


def build_world(
    seed: int = 7,
    applications: int = 60,
    hirers: int = 4,
    *,
    edge_cases: bool = True,
    now: datetime | None = None,
    busy: int | None = None,
    people: int | None = None,
) -> World:
    """A deterministic world for `seed`: hirers (the last one, if there are 2 to 10, without a
    relationship; above 10 every one has it), 2–4 job ads each, and `applications` applications
    from two days before `now` (default 2026-11-20 09:00 UTC, fixed so that times are deterministic
    too), spread over every related hirer or, with `busy`, over the first `busy` of them; with
    `people`, from at most that many people (each then applying to several hirers)."""
    from seek_sync.sandbox.world_gen import Generator

    world = World()
    world.generator = Generator(world, seed)
    start = (now or datetime(2026, 11, 20, 9, 0, tzinfo=UTC)) - timedelta(days=2)
    world.generator.populate(
        applications, hirers, edge_cases=edge_cases, start=start, busy=busy, people=people
    )
    return world
