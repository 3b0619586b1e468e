"""Seeded generation of the sandbox world: realistic, fictional, and identical for one seed."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from seek_sync.sandbox import corpus
from seek_sync.sandbox.files import EXTENSION, MIME
from seek_sync.sandbox.questionnaire import make_questionnaire
from seek_sync.sandbox.world import (
    BASE58,
    Application,
    AttachmentRecord,
    Candidate,
    Hirer,
    Job,
    StreamEvent,
    World,
)

# name -> (kind, size, declared type or None for the true one, filename or None, removed)
EDGE_CASES: dict[str, tuple[str, int, str | None, str | None, bool]] = {
    "data_limit_under": ("pdf", 4_999_999, None, "Portfolio part 1.pdf", False),
    "data_limit_over": ("pdf", 5_000_001, None, "Portfolio part 2.pdf", False),
    "data_limit_over_mib": ("docx", 5_242_881, None, "Teaching portfolio.docx", False),
    "url_limit_under": ("pdf", 24_999_999, None, "Design portfolio (print).pdf", False),
    "url_limit_over": ("pdf", 25_000_001, None, "Scanned certificates.pdf", False),
    "url_limit_over_mib": ("pdf", 26_214_401, None, "Full portfolio 300dpi.pdf", False),
    "type_mismatch": ("docx", 48_213, "application/pdf", "resume.pdf", False),
    "disallowed_zip": ("zip", 22_104, None, "certificates.zip", False),
    "disallowed_exe": ("exe", 9_216, "application/octet-stream", "setup.exe", False),
    "removed": ("pdf", 31_337, None, "Old resume.pdf", True),
    "hostile_filename": ("pdf", 12_288, None, '../../etc/pass\x00wd\r\n"; rm -rf ~.pdf', False),
    "unicode_filename": (
        "pdf",
        40_960,
        None,
        'Curriculum vitæ – Zoë Ñúñez (final) "v2".pdf',
        False,
    ),
    "spaces_filename": ("docx", 36_864, None, "My Resume 2026 final.docx", False),
    "image_png": ("png", 150_000, None, "First aid certificate.png", False),
    "image_jpeg": ("jpeg", 210_000, None, "Licence photo.jpg", False),
    "rtf_cover": ("rtf", 18_000, None, "Cover letter.rtf", False),
    "txt_other": ("txt", 6_000, None, "References.txt", False),
}
MANY_OTHERS = 6  # one application carries this many "other" files (more than 5 per field)


class Generator:
    """Draws every id and value from one `random.Random(seed)`."""

    def __init__(self, world: World, seed: int) -> None:
        self.world = world
        self.rng = random.Random(seed)
        self.people: list[dict[str, Any]] = []
        self.candidate_of: dict[tuple[str, int], str] = {}
        self.clock: datetime | None = None
        self.count = 0

    # --- ids ------------------------------------------------------------------------------------
    def token(self, length: int) -> str:
        return "".join(self.rng.choice(BASE58) for _ in range(length))

    def event_id(self) -> str:
        return f"{self.world.scheme_id}:event:events:{self.token(22)}"

    # --- population -----------------------------------------------------------------------------
    def populate(
        self, *, applications: int, hirers: int, edge_cases: bool, start: datetime
    ) -> None:
        scheme = self.world.scheme_id
        names = self.rng.sample(corpus.HIRER_NAMES, k=min(hirers, len(corpus.HIRER_NAMES)))
        for index, name in enumerate(names):
            # The last hirer has no ApplicationExport relationship: no events, FORBIDDEN reads.
            hirer = Hirer(f"{scheme}:organization:seek:{self.token(8)}", name, index < hirers - 1)
            self.world.hirers[hirer.id] = hirer
            for _ in range(self.rng.randint(2, 4)):
                job = Job(
                    id=f"{scheme}:positionProfile:jobAd:{self.token(9)}",
                    hirer_id=hirer.id,
                    title=self.rng.choice(corpus.JOB_TITLES),
                    seek_hirer_job_reference=f"REQ-2026-{self.rng.randint(1000, 9999)}",
                    position_uri=f"https://www.seek.com.au/job/{self.rng.randint(10**7, 10**8)}",
                )
                self.world.jobs[job.id] = job
        self.clock = start
        for index in range(applications):
            # Three applications share each stream second: cursors, not times, must drive paging.
            moment = start + timedelta(minutes=37 * (index // 3))
            self.new_application(moment)
        if edge_cases:
            self.add_edge_cases()

    def person(self) -> tuple[int, dict[str, Any]]:
        rng = self.rng
        if self.people and rng.random() < 0.2:  # a repeat applicant
            index = rng.randrange(len(self.people))
            return index, self.people[index]
        given, family = rng.choice(corpus.GIVEN), rng.choice(corpus.FAMILY)
        suburb, state, postcode, country = rng.choice(corpus.PLACES)
        local = f"{given}.{family}".lower().replace(" ", "").replace("'", "")
        email = f"{local}{len(self.people)}@{rng.choice(corpus.EMAIL_DOMAINS)}"
        phone = f"+61 4{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}"
        line = f"{rng.randint(1, 200)} {rng.choice(corpus.STREETS)}"
        address = {
            "formattedAddress": f"{line}, {suburb} {state} {postcode}",
            "line": line,
            "city": suburb,
            "postalCode": postcode,
            "countryCode": country,
            "countrySubDivisions": [{"type": "AdminArea1", "value": state}],
        }
        person = {
            "name": {"formattedName": f"{given} {family}", "given": given, "family": family},
            "communication": {
                "email": [{"address": email}],
                "phone": [{"formattedNumber": phone}],
                "address": [address],
            },
        }
        self.people.append(person)
        return len(self.people) - 1, person

    def new_application(self, moment: datetime) -> StreamEvent:
        world, scheme = self.world, self.world.scheme_id
        jobs = [j for j in world.jobs.values() if world.has_relationship(j.hirer_id)]
        job = self.rng.choice(jobs)
        person_index, person = self.person()
        key = (job.hirer_id, person_index)
        if key not in self.candidate_of:
            candidate = Candidate(f"{scheme}:candidate:feed:{self.token(30)}", job.hirer_id, person)
            world.candidates[candidate.id] = candidate
            self.candidate_of[key] = candidate.id
        candidate_id = self.candidate_of[key]
        application_id = self.token(22)
        created = moment - timedelta(seconds=self.rng.randint(0, 5))
        application = Application(
            profile_id=f"{scheme}:candidateProfile:apply:{application_id}",
            application_id=application_id,
            candidate_id=candidate_id,
            hirer_id=job.hirer_id,
            job_id=job.id,
            create_date_time=created,
            update_date_time=created,
            content=self.content(),
            questionnaire=make_questionnaire(self.rng, scheme, self.token),
        )
        application.attachments = self.attachments(application, person)
        world.add_application(application)
        self.count += 1
        return world.append_event(
            StreamEvent(
                id=self.event_id(),
                type_code="CandidateApplicationCreated",
                create_date_time=created,
                stream_date_time=moment,
                hirer_id=job.hirer_id,
                profile_id=application.profile_id,
                candidate_id=candidate_id,
            )
        )

    # --- profile content ------------------------------------------------------------------------
    def history_date(self, year: int) -> str:
        form = self.rng.randrange(3)
        month, day = self.rng.randint(1, 12), self.rng.randint(1, 28)
        return [f"{year}", f"{year}-{month:02d}", f"{year}-{month:02d}-{day:02d}"][form]

    def content(self) -> dict[str, Any]:
        rng = self.rng
        employment, year = [], 2026
        for position in range(rng.randint(1, 4)):
            start = year - rng.randint(1, 4)
            employment.append(
                {
                    "organization": {"name": rng.choice(corpus.EMPLOYERS)},
                    "positionHistories": [
                        {
                            "title": rng.choice(corpus.POSITION_TITLES),
                            "start": self.history_date(start),
                            "end": None if position == 0 else self.history_date(year),
                            "current": position == 0,
                            "descriptions": ["Led a team of four; improved outcomes by 12%."],
                        }
                    ],
                }
            )
            year = start
        education = [
            {
                "institution": {"name": rng.choice(corpus.INSTITUTIONS)},
                "descriptions": ["Graduated with distinction."],
                "educationDegrees": [
                    {
                        "name": rng.choice(corpus.DEGREES),
                        "degreeGrantedStatus": rng.choice(corpus.DEGREE_STATUSES),
                        "date": self.history_date(year - 1),
                    }
                ],
            }
        ]
        certifications = []
        for name, authority in rng.sample(corpus.CERTIFICATIONS, k=rng.randint(0, 2)):
            issued = self.history_date(rng.randint(2018, 2025))
            valid_to = f"{rng.randint(2027, 2030)}-{rng.randint(1, 12):02d}-01"
            certifications.append(
                {
                    "name": name,
                    "issued": issued,
                    "issueDate": None,
                    "effectiveTimePeriod": {"validTo": valid_to if rng.random() < 0.7 else None},
                    "issuingAuthority": {"name": authority},
                    "descriptions": [],
                }
            )
        qualifications = [
            {"competencyName": c} for c in rng.sample(corpus.COMPETENCIES, k=rng.randint(2, 5))
        ]
        return {
            "employment": employment,
            "education": education,
            "certifications": certifications,
            "qualifications": qualifications,
        }

    # --- attachments ------------------------------------------------------------------------------
    def record(
        self,
        application: Application,
        person: dict[str, Any],
        role: str | None,
        kind: str,
        size: int,
    ) -> AttachmentRecord:
        name = person["name"]["formattedName"]
        stem = {
            "Resume": f"{name} CV",
            "CoverLetter": "Cover letter",
            "SelectionCriteria": "Selection criteria",
        }.get(role or "", "Certificate")
        title = {
            "Resume": f"Curriculum Vitae — {name}",
            "CoverLetter": f"Cover letter — {name}",
        }.get(role or "", f"{stem} — {name}")
        lines = [
            f"{p['positionHistories'][0]['title']}, {p['organization']['name']}"
            for p in application.content["employment"]
        ]
        descriptions = {"Resume": ["Candidate resume"], "CoverLetter": ["Cover letter"]}.get(
            role or "", [stem]
        )
        return AttachmentRecord(
            id=self.token(44),
            application_id=application.application_id,
            profile_id=application.profile_id,
            hirer_id=application.hirer_id,
            role=role,
            filename=stem + EXTENSION[kind],
            declared_type=MIME[kind],
            kind=kind,
            size=size,
            seed=self.rng.randrange(2**31),
            title=title,
            lines=lines,
            descriptions=descriptions,
        )

    def attachments(
        self, application: Application, person: dict[str, Any]
    ) -> list[AttachmentRecord]:
        rng, found = self.rng, []
        plan = [
            ("Resume", 0.95, ["pdf"] * 11 + ["docx"] * 6 + ["rtf", "txt"]),
            ("CoverLetter", 0.6, ["pdf", "docx", "txt"]),
            ("SelectionCriteria", 0.2, ["pdf", "docx"]),
            (None, 0.25, ["png", "jpeg", "pdf"]),
        ]
        for role, chance, kinds in plan:
            if rng.random() < chance:
                size = max(4096, int(rng.lognormvariate(11.5, 0.8)) % 600_000)
                found.append(self.record(application, person, role, rng.choice(kinds), size))
        return found

    def add_edge_cases(self) -> None:
        hosts = [
            a for a in self.world.applications.values() if self.world.has_relationship(a.hirer_id)
        ]
        if not hosts:
            return
        for index, (name, (kind, size, declared, filename, removed)) in enumerate(
            EDGE_CASES.items()
        ):
            application = hosts[index % min(len(hosts), 8)]
            person = self.world.candidates[application.candidate_id].person
            record = self.record(application, person, None, kind, size)
            record.declared_type = declared or record.declared_type
            record.filename = filename or record.filename
            record.removed = removed
            application.attachments.append(record)
            self.world.edge_cases[name] = (application.application_id, record.id)
        many = hosts[min(len(hosts) - 1, 8)]
        person = self.world.candidates[many.candidate_id].person
        extra = [self.record(many, person, None, "pdf", 8_192 + i) for i in range(MANY_OTHERS)]
        many.attachments.extend(extra)
        self.world.edge_cases["many_others"] = (many.application_id, extra[0].id)
