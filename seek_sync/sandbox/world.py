"""The sandbox's data: hirers, jobs, candidates, applications, attachments and the event stream.

Everything is generated from a seed (no file bytes: attachments are specs that `files.py` renders on
download). Mutations at run time (new applications, removed relationships or attachments, replayed
events) take a lock; readers take snapshots.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

SCHEME_ID = "seekAnzPublicTest"
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


@dataclass
class Hirer:
    id: str
    name: str
    relationship: bool


@dataclass
class Job:
    id: str
    hirer_id: str
    title: str
    seek_hirer_job_reference: str
    position_uri: str


@dataclass
class Candidate:
    id: str
    hirer_id: str
    person: dict[str, Any]  # GraphQL-shaped: {name: {...}, communication: {...}}


@dataclass
class AttachmentRecord:
    id: str
    application_id: str
    profile_id: str
    hirer_id: str
    role: str | None
    filename: str
    declared_type: str
    kind: str
    size: int
    seed: int
    title: str
    lines: list[str]
    descriptions: list[str]
    removed: bool = False


@dataclass
class Application:
    profile_id: str
    application_id: str
    candidate_id: str
    hirer_id: str
    job_id: str
    create_date_time: datetime
    update_date_time: datetime
    content: dict[
        str, Any
    ]  # employment, education, certifications, qualifications (GraphQL-shaped)
    questionnaire: dict[str, Any] | None
    attachments: list[AttachmentRecord] = field(default_factory=list)


@dataclass
class StreamEvent:
    id: str
    type_code: str
    create_date_time: datetime
    stream_date_time: datetime
    hirer_id: str
    profile_id: str | None = None
    candidate_id: str | None = None


class World:
    """All sandbox data, keyed by SEEK ids; `events` is the stream in ascending order."""

    def __init__(self, scheme_id: str = SCHEME_ID) -> None:
        self.scheme_id = scheme_id
        self.hirers: dict[str, Hirer] = {}
        self.jobs: dict[str, Job] = {}
        self.candidates: dict[str, Candidate] = {}
        self.applications: dict[str, Application] = {}  # by profile id
        self.by_application_id: dict[str, Application] = {}
        self.events: list[StreamEvent] = []
        self.edge_cases: dict[str, tuple[str, str]] = {}
        self.lock = threading.RLock()
        self.generator: Any = None  # set by build_world: makes new applications on demand

    # --- reads --------------------------------------------------------------------------------
    def attachment(self, application_id: str, attachment_id: str) -> AttachmentRecord | None:
        application = self.by_application_id.get(application_id)
        if application is None:
            return None
        return next((a for a in application.attachments if a.id == attachment_id), None)

    def events_snapshot(self) -> list[StreamEvent]:
        with self.lock:
            return list(self.events)

    def has_relationship(self, hirer_id: str) -> bool:
        hirer = self.hirers.get(hirer_id)
        return bool(hirer and hirer.relationship)

    # --- writes -------------------------------------------------------------------------------
    def add_application(self, application: Application) -> None:
        with self.lock:
            self.applications[application.profile_id] = application
            self.by_application_id[application.application_id] = application

    def append_event(self, event: StreamEvent) -> StreamEvent:
        with self.lock:
            if self.events and event.stream_date_time < self.events[-1].stream_date_time:
                event.stream_date_time = self.events[-1].stream_date_time
            self.events.append(event)
        return event

    def add_applications(self, count: int) -> list[StreamEvent]:
        """New applications (and their events) at the end of the stream, stamped now."""
        with self.lock:
            return [self.generator.new_application(datetime.now(UTC)) for _ in range(count)]

    def replay_events(self, event_ids: list[str]) -> list[StreamEvent]:
        """Fault: the same events (same ids) appear again at the end of the stream."""
        with self.lock:
            by_id = {e.id: e for e in self.events}
            now = datetime.now(UTC)
            return [
                self.append_event(
                    StreamEvent(
                        id=e.id,
                        type_code=e.type_code,
                        create_date_time=e.create_date_time,
                        stream_date_time=now,
                        hirer_id=e.hirer_id,
                        profile_id=e.profile_id,
                        candidate_id=e.candidate_id,
                    )
                )
                for e in (by_id[i] for i in event_ids if i in by_id)
            ]

    def remove_relationship(self, hirer_id: str) -> StreamEvent:
        with self.lock:
            self.hirers[hirer_id].relationship = False
            now = datetime.now(UTC)
            return self.append_event(
                StreamEvent(
                    id=self.generator.event_id(),
                    type_code="HirerRelationshipChanged",
                    create_date_time=now,
                    stream_date_time=now,
                    hirer_id=hirer_id,
                )
            )

    def remove_attachment(self, application_id: str, attachment_id: str) -> None:
        record = self.attachment(application_id, attachment_id)
        if record is not None:
            record.removed = True


def build_world(
    seed: int = 7,
    applications: int = 60,
    hirers: int = 4,
    *,
    edge_cases: bool = True,
    now: datetime | None = None,
) -> World:
    """A deterministic world: `hirers` hirers (the last without a relationship), applications."""
    from seek_sync.sandbox.world_gen import Generator

    world = World()
    generator = Generator(world, seed)
    world.generator = generator
    generator.populate(
        applications=applications,
        hirers=hirers,
        edge_cases=edge_cases,
        start=(now or datetime(2026, 11, 20, 9, 0, tzinfo=UTC)) - timedelta(days=2),
    )
    return world
