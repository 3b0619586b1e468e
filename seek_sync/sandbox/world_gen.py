"""Seeded generation of the sandbox world: realistic, fictional, and identical for one seed.

Every id and value comes from one `random.Random(seed)`. Each person's profile (employment,
education, certifications, skills) is drawn once and snapshotted into each of their applications.
Some people apply twice to one hirer (one Candidate, two profiles) and some to two hirers (a
Candidate per hirer). Applications arrive in bursts that share a stream second, so that only
cursors, never times, can page the stream exactly. A world of more hirers than the corpus names
(a benchmark) names the rest as branches and relates every hirer; `busy` keeps its applications
to the first few related hirers; past `people` applicants, each new application is one of them
applying to another hirer (school boards sharing one ATS tenant see the same person).
"""

from __future__ import annotations

import random
import unicodedata
from collections import Counter
from collections.abc import Collection
from datetime import datetime, timedelta

from seek_sync.sandbox import corpus
from seek_sync.sandbox.questionnaire import make_questionnaire, make_submission
from seek_sync.sandbox.world import (
    BASE58,
    Application,
    Candidate,
    Certification,
    EducationAttendance,
    EducationDegree,
    EmployerHistory,
    Hirer,
    Job,
    Person,
    PositionHistory,
    StreamEvent,
    World,
)
from seek_sync.sandbox.world_attachments import add_edge_cases, make_attachments

Profile = tuple[list[EmployerHistory], list[EducationAttendance], list[Certification], list[str]]
Made = tuple[Candidate | None, Application, StreamEvent]


class Generator:
    """Makes the world's objects; `World` publishes them."""

    def __init__(self, world: World, seed: int) -> None:
        self.world = world
        self.rng = random.Random(seed)
        self.people: list[tuple[Person, Profile]] = []
        self.candidate_of: dict[tuple[str, int], str] = {}  # (hirer, person index) -> candidate
        self.first_job: dict[int, Job] = {}  # person index -> job of their first application
        self.sector: dict[str, str] = {}  # hirer id -> its sector (corpus.SECTORS)
        self.references: Counter[str] = Counter()  # seekHirerJobReferences drawn, kept unique
        self.busy: set[str] | None = None  # the hirers that get applications (None: every one)
        self.max_people: int | None = None  # applicants at most (None: new people keep coming)

    # --- ids ------------------------------------------------------------------------------------
    def token(self, length: int) -> str:
        return "".join(self.rng.choice(BASE58) for _ in range(length))

    def event_id(self) -> str:
        return f"{self.world.scheme_id}:event:events:{self.token(22)}"

    # --- the seeded world -----------------------------------------------------------------------
    def populate(
        self,
        applications: int,
        hirers: int,
        *,
        edge_cases: bool,
        start: datetime,
        busy: int | None = None,
        people: int | None = None,
    ) -> None:
        self.max_people = people
        rng, world, scheme = self.rng, self.world, self.world.scheme_id
        names = rng.sample(corpus.HIRERS, k=min(hirers, len(corpus.HIRERS)))
        names += [corpus.branch_hirer(index) for index in range(len(names), hirers)]
        events: list[StreamEvent] = []
        for index, (name, sector) in enumerate(names):
            # With 2 to len(corpus.HIRERS) hirers the last has no relationship at all (no events,
            # FORBIDDEN); a bigger (benchmark) world relates every hirer.
            related = hirers > len(corpus.HIRERS) or len(names) < 2 or index < len(names) - 1
            hirer = Hirer(
                id=f"{scheme}:organization:seek:{self.token(8)}",
                name=name,
                relationship=related,
                job_posting=related and index % 2 == 0,  # some also post their job ads through us
                advertiser_id=rng.randint(10**6, 6 * 10**7),
            )
            world.hirers[hirer.id] = hirer
            self.sector[hirer.id] = sector
            for _ in range(rng.randint(2, 4)):
                job = self.job(hirer, start)
                world.jobs[job.id] = job
            if related:  # the relationship was added before the stream we serve begins
                moment = start - timedelta(hours=6, minutes=len(names) - index)
                events.append(
                    StreamEvent(
                        self.event_id(), "HirerRelationshipChanged", moment, moment, hirer.id
                    )
                )
        if busy is not None:  # the first `busy` related hirers get every application
            self.busy = set([h.id for h in world.hirers.values() if h.relationship][:busy])
        jobs = self.open_jobs(self.busy)
        made: list[Made] = []
        moment, burst = start, 0
        for index in range(applications):
            if burst == 0:  # a new burst of 1-5 applications in one stream second
                moment += timedelta(minutes=rng.randint(1, 50), seconds=rng.randint(0, 59))
                moment = moment.replace(microsecond=0)
                burst = rng.randint(1, 5)
            burst -= 1
            moment += timedelta(milliseconds=rng.choice([0, 0, 0, 125, 250]))
            person, job = self.plan(index, jobs)
            made.append(self.application(moment, job, person))
        candidates = [c for c, _, _ in made if c is not None]
        world.publish(candidates, [a for _, a, _ in made], [*events, *(e for _, _, e in made)])
        if edge_cases:
            add_edge_cases(world, self.rng, self.token)

    def job(self, hirer: Hirer, start: datetime) -> Job:
        rng, scheme = self.rng, self.world.scheme_id
        posted = (start - timedelta(days=rng.randint(3, 25), hours=rng.randint(0, 23))).replace(
            minute=0, second=0, microsecond=0
        )
        job_id = f"{scheme}:positionProfile:jobAd:{self.token(9)}"
        title = rng.choice(corpus.SECTORS[self.sector[hirer.id]].job_titles)
        drawn = f"REQ-{posted.year}-{rng.randint(1, 9999):04d}"
        self.references[drawn] += 1  # a repeat gets a suffix: each maps to a Kombo job of its own
        reference = f"{drawn}-{self.references[drawn]}" if self.references[drawn] > 1 else drawn
        return Job(
            id=job_id,
            hirer_id=hirer.id,
            title=title,
            seek_hirer_job_reference=reference,
            position_uri=f"https://www.seek.com.au/job/{rng.randint(10**7, 10**8 - 1)}",
            work_type=rng.choice(corpus.WORK_TYPES),
            ad_type=rng.choice(corpus.AD_TYPES),
            posted=posted,
            closes=posted + timedelta(days=30),
            questionnaire=make_questionnaire(rng, scheme, hirer.id, self.token),
        )

    def open_jobs(self, hirers: Collection[str] | None = None) -> list[Job]:
        """Jobs of hirers with the relationship (and among `hirers`, if given), in world order."""
        related = (j for j in self.world.jobs.values() if self.world.has_relationship(j.hirer_id))
        return [j for j in related if hirers is None or j.hirer_id in hirers]

    def plan(self, index: int, jobs: list[Job]) -> tuple[int | None, Job]:
        """Who applies to which of `jobs`: a few planned repeat applicants, the rest at random."""
        rng = self.rng
        if index == 4 and len(self.people) > 0:  # applies again to the same hirer
            first = self.first_job[0]
            return 0, rng.choice([j for j in jobs if j.hirer_id == first.hirer_id])
        if index == 7 and len(self.people) > 1:  # applies to a second hirer
            others = [j for j in jobs if j.hirer_id != self.first_job[1].hirer_id]
            if others:
                return 1, rng.choice(others)
        if self.max_people is not None and len(self.people) >= self.max_people:
            person = rng.randrange(len(self.people))  # again: to a hirer not yet applied to
            applied = {hirer for hirer, index in self.candidate_of if index == person}
            return person, rng.choice([j for j in jobs if j.hirer_id not in applied] or jobs)
        if self.people and rng.random() < 0.12:
            return rng.randrange(len(self.people)), rng.choice(jobs)
        return None, rng.choice(jobs)

    def add_applications(
        self, count: int, now: datetime, hirers: Collection[str] | None = None
    ) -> list[StreamEvent]:
        """Applications arriving now to `hirers` (default: the busy ones, else every hirer) that
        still have the relationship."""
        jobs = self.open_jobs(self.busy if hirers is None else set(hirers))
        if not jobs:
            return []  # SEEK sends no events for hirers without the relationship
        made: list[Made] = []
        for index in range(count):
            person = (
                self.rng.randrange(len(self.people)) if self.people and index % 4 == 3 else None
            )
            made.append(
                self.application(now + timedelta(milliseconds=index), self.rng.choice(jobs), person)
            )
        candidates = [c for c, _, _ in made if c is not None]
        return self.world.publish(candidates, [a for _, a, _ in made], [e for _, _, e in made])

    def application(self, moment: datetime, job: Job, person_index: int | None) -> Made:
        scheme, rng = self.world.scheme_id, self.rng
        if person_index is None:  # most people apply for jobs in their own field
            sector = self.sector[job.hirer_id] if rng.random() < 0.85 else None
            self.people.append(
                (self.person(), self.profile(sector or rng.choice(list(corpus.SECTORS))))
            )
            person_index = len(self.people) - 1
        self.first_job.setdefault(person_index, job)
        person, (employment, education, certifications, skills) = self.people[person_index]
        key, candidate = (job.hirer_id, person_index), None
        if key not in self.candidate_of:
            candidate = Candidate(f"{scheme}:candidate:feed:{self.token(30)}", job.hirer_id, person)
            self.candidate_of[key] = candidate.id
        application_id = self.token(22)
        created = moment - timedelta(seconds=rng.randint(0, 90), milliseconds=rng.randint(0, 999))
        application = Application(
            profile_id=f"{scheme}:candidateProfile:apply:{application_id}",
            application_id=application_id,
            candidate_id=self.candidate_of[key],
            hirer_id=job.hirer_id,
            job_id=job.id,
            create_date_time=created,
            update_date_time=created + timedelta(seconds=rng.randint(0, 3)),
            employment=employment,
            education=education,
            certifications=certifications,
            qualifications=skills,
            submission=make_submission(rng, job.questionnaire),
        )
        application.attachments = make_attachments(rng, self.token, application, person)
        event = StreamEvent(
            self.event_id(),
            "CandidateApplicationCreated",
            created,
            moment,
            job.hirer_id,
            application.profile_id,
            application.candidate_id,
        )
        return candidate, application, event

    # --- people and their profiles --------------------------------------------------------------
    def person(self) -> Person:
        rng = self.rng
        given = rng.choice(corpus.GIVEN)
        family = None if rng.random() < 0.03 else rng.choice(corpus.FAMILY)
        city, state, postcode, country, latitude, longitude = rng.choice(corpus.PLACES)
        plain = unicodedata.normalize("NFKD", f"{given}.{family or ''}").encode("ascii", "ignore")
        local = "".join(c for c in plain.decode().lower() if c.isalnum() or c == ".").strip(".")
        email = f"{local}{rng.randint(1, 99) if rng.random() < 0.5 else ''}@"
        email += rng.choice(corpus.EMAIL_DOMAINS)
        if country == "AU":
            phone = f"+61 4{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}"
        else:
            phone = f"+64 21 {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
        return Person(
            given=given,
            family=family,
            email=email,
            phone=phone,
            line=f"{rng.randint(1, 240)} {rng.choice(corpus.STREETS)}",
            city=city,
            state=state,
            postcode=postcode,
            country=country,
            latitude=latitude,
            longitude=longitude,
            extended_lines=[rng.choice(corpus.EXTENDED_LINES)] if rng.random() < 0.2 else [],
        )

    def history_date(self, year: int, forms: tuple[int, ...] = (4, 7, 7, 7, 10)) -> str:
        """A HistoryDate: `YYYY`, `YYYY-MM` (the usual) or `YYYY-MM-DD`."""
        month, day = self.rng.randint(1, 12), self.rng.randint(1, 28)
        return f"{year}-{month:02d}-{day:02d}"[: self.rng.choice(forms)]

    def profile(self, sector_name: str) -> Profile:
        rng, year, sector = self.rng, 2026, corpus.SECTORS[sector_name]
        employment, employed = [], rng.random() < 0.8
        for index in range(rng.randint(1, 4)):
            start = year - rng.randint(1, 4)
            current = employed and index == 0
            # Newest first; a promotion splits the time at one employer into two positions.
            promoted = year - start >= 2 and rng.random() < 0.25
            spans = [(start + 1, year), (start, start + 1)] if promoted else [(start, year)]
            positions = [
                PositionHistory(
                    title=title,
                    start=self.history_date(begin),
                    end=None if current and n == 0 else self.history_date(end),
                    current=(current and n == 0) if rng.random() < 0.9 else None,
                    descriptions=rng.sample(sector.descriptions, k=rng.randint(0, 2)),
                )
                for n, (title, (begin, end)) in enumerate(
                    zip(rng.sample(sector.positions, k=len(spans)), spans, strict=True)
                )
            ]
            employment.append(EmployerHistory(rng.choice(sector.employers), positions))
            year = start
        education = []
        for _ in range(rng.randint(1, 2)):
            status = rng.choice(corpus.DEGREE_STATUSES)
            when = rng.randint(2027, 2028) if status == "InProgress" else year - rng.randint(0, 3)
            date = None if rng.random() < 0.1 else self.history_date(when, (4, 7))
            degree = EducationDegree(rng.choice(sector.degrees), status, date)
            notes = rng.sample(corpus.EDUCATION_DESCRIPTIONS, k=rng.randint(0, 1))
            education.append(EducationAttendance(rng.choice(corpus.INSTITUTIONS), [degree], notes))
        certifications = []
        held = rng.sample(sector.certifications, k=rng.randint(0, len(sector.certifications)))
        for name, authority in held:
            issued_year = rng.randint(2016, 2026)
            valid_to = None
            if rng.random() < 0.6:
                valid_to = self.history_date(issued_year + rng.randint(1, 5), (7, 10))
            issued = self.history_date(issued_year) if rng.random() < 0.9 else None
            notes = rng.sample(corpus.CERTIFICATION_DESCRIPTIONS, k=rng.randint(0, 1))
            certifications.append(Certification(name, authority, issued, valid_to, notes))
        skills = rng.sample(sector.skills, k=rng.randint(2, len(sector.skills)))
        skills += [c for c in rng.sample(corpus.COMPETENCIES, k=2) if c not in skills]
        return employment, education, certifications, skills
