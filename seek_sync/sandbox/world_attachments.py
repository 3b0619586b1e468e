"""Attachment metadata for generated applications, and the named edge-case attachments.

Only metadata is made here (kind, exact size, seed, visible text); `files.py` renders the bytes when
an attachment is downloaded, so building a world never produces a file.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from seek_sync.sandbox import corpus
from seek_sync.sandbox.files import EXTENSION, MIME
from seek_sync.sandbox.world import Application, AttachmentRecord, Person, World

# name -> (kind, exact size, declared Content-Type or None for the true one, filename, removed)
EDGE_CASES: dict[str, tuple[str, int, str | None, str, bool]] = {
    "data_limit_under": ("pdf", 4_999_999, None, "Portfolio part 1.pdf", False),
    "data_limit_over": ("pdf", 5_000_001, None, "Portfolio part 2.pdf", False),
    "data_limit_over_mib": ("docx", 5_242_881, None, "Teaching portfolio.docx", False),
    "url_limit_under": ("pdf", 24_999_999, None, "Design portfolio (print).pdf", False),
    "url_limit_over": ("pdf", 25_000_001, None, "Scanned certificates.pdf", False),
    "url_limit_over_mib": ("pdf", 26_214_401, None, "Full portfolio 300dpi.pdf", False),
    "type_mismatch": ("docx", 48_213, "application/pdf", "resume.pdf", False),
    "disallowed_zip": ("zip", 22_104, None, "certificates.zip", False),
    "disallowed_exe": ("exe", 9_216, "application/octet-stream", "setup.exe", False),
    "exe_as_pdf": ("exe", 10_240, "application/pdf", "Signed references.pdf", False),
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
MANY_OTHERS = 6  # one application carries this many "other" documents (more than 5 per field)
EDGE_HOSTS = 8  # the edge cases are spread over the first applications of related hirers

# role -> (chance, kinds to draw from, description)
PLAN: list[tuple[str | None, float, list[str], str]] = [
    ("Resume", 0.95, ["pdf"] * 12 + ["docx"] * 6 + ["rtf", "txt"], "Candidate resume"),
    ("CoverLetter", 0.6, ["pdf", "pdf", "docx", "docx", "txt"], "Cover letter"),
    ("SelectionCriteria", 0.2, ["pdf", "docx"], "Selection criteria"),
]


def _size(rng: random.Random, kind: str) -> int:
    """Typical upload sizes: documents 20 KB-600 KB, images 50 KB-600 KB, plain text smaller."""
    low = {"txt": 4096, "rtf": 8192, "png": 50_000, "jpeg": 50_000}.get(kind, 20_000)
    return min(600_000, max(low, int(rng.lognormvariate(11.4, 0.7))))


def _filename(rng: random.Random, role: str | None, person: Person, stem: str, kind: str) -> str:
    name, family = person.formatted_name, person.family or person.given
    options = {
        "Resume": [f"{name} CV", f"{person.given}_{family}_Resume_2026", "Resume", f"CV - {name}"],
        "CoverLetter": ["Cover Letter", f"{family} cover letter", f"Cover letter – {name}"],
        "SelectionCriteria": ["Selection criteria response", f"{family} - KSC"],
    }.get(role or "", [stem, f"{stem} ({family})"])
    return rng.choice(options) + EXTENSION[kind]


def _text(role: str | None, application: Application, person: Person, stem: str) -> list[str]:
    if role == "CoverLetter":
        return [*corpus.COVER_LETTER_LINES, person.formatted_name]
    if role == "SelectionCriteria":
        return list(corpus.SELECTION_CRITERIA_LINES)
    if role is None:
        return [f"{stem} for {person.formatted_name}."]
    lines = [f"{person.email} | {person.phone} | {person.city} {person.state}", "", "Experience"]
    for employer in application.employment:
        for position in employer.positions:
            lines.append(f"{position.title}, {employer.organization} ({position.start}–)")
    lines += ["", "Education"] + [
        f"{e.degrees[0].name}, {e.institution}" for e in application.education
    ]
    return [*lines, "", "Skills: " + ", ".join(application.qualifications)]


def record(
    rng: random.Random,
    token: Callable[[int], str],
    application: Application,
    person: Person,
    role: str | None,
    kind: str,
    size: int,
    stem: str,
    description: str,
) -> AttachmentRecord:
    return AttachmentRecord(
        id=token(44),
        application_id=application.application_id,
        profile_id=application.profile_id,
        hirer_id=application.hirer_id,
        role=role,
        filename=_filename(rng, role, person, stem, kind),
        declared_type=MIME[kind],
        kind=kind,
        size=size,
        seed=rng.randrange(2**31),
        title=f"{description} — {person.formatted_name}",
        lines=_text(role, application, person, stem),
        descriptions=[description],
    )


def make_attachments(
    rng: random.Random, token: Callable[[int], str], application: Application, person: Person
) -> list[AttachmentRecord]:
    """A resume almost always, often a cover letter, sometimes criteria and other documents."""
    found = []
    for role, chance, kinds, description in PLAN:
        if rng.random() < chance:
            kind = rng.choice(kinds)
            found.append(
                record(
                    rng,
                    token,
                    application,
                    person,
                    role,
                    kind,
                    _size(rng, kind),
                    description,
                    description,
                )
            )
    if rng.random() < 0.25:
        for stem, kinds in rng.sample(corpus.OTHER_DOCUMENTS, k=rng.randint(1, 2)):
            kind = rng.choice(kinds)
            found.append(
                record(rng, token, application, person, None, kind, _size(rng, kind), stem, stem)
            )
    return found


def add_edge_cases(world: World, rng: random.Random, token: Callable[[int], str]) -> None:
    """Attach each named edge case to one of the first applications of related hirers."""
    hosts = [a for a in world.applications.values() if world.has_relationship(a.hirer_id)]
    if not hosts:
        return
    for index, (name, (kind, size, declared, filename, removed)) in enumerate(EDGE_CASES.items()):
        application = hosts[index % min(len(hosts), EDGE_HOSTS)]
        person = world.candidates[application.candidate_id].person
        extra = record(
            rng,
            token,
            application,
            person,
            None,
            kind,
            size,
            "Supporting document",
            "Supporting document",
        )
        extra.declared_type, extra.filename, extra.removed = (
            declared or extra.declared_type,
            filename,
            removed,
        )
        application.attachments.append(extra)
        world.edge_cases[name] = (application.application_id, extra.id)
    many = hosts[min(len(hosts) - 1, EDGE_HOSTS)]
    person = world.candidates[many.candidate_id].person
    others = [
        record(
            rng,
            token,
            many,
            person,
            None,
            "pdf",
            8_192 + i,
            f"Certificate {i + 1}",
            "Supporting document",
        )
        for i in range(MANY_OTHERS)
    ]
    many.attachments.extend(others)
    world.edge_cases["many_others"] = (many.application_id, others[0].id)
