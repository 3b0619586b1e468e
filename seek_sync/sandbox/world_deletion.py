"""SEEK deleting a candidate or an application: the profiles are redacted for good, with no event.

SEEK's schema documents the redaction field by field. A deleted profile's `employment`,
`education`, `certifications`, `qualifications` and `attachments` are `[]` and its
`seekQuestionnaireSubmission` "is redacted" (the sandbox answers null, the only empty value of that
nullable object field). Its person's `communication` `address`, `email` and `phone` are `[]`,
`name.given` and `name.formattedName` the static text "redacted" and `name.family` null.
`Candidate.profiles` is empty for a deleted candidate and filtered (deleted profiles left out) for
a candidate with a deleted application. SEEK publishes no event for either deletion.

Nothing is kept to undo it: redacted copies replace the originals (copy on write, like every other
change to the world). A candidate is a person at one hirer, and deleting it deletes the person, so
their candidates at every hirer are redacted with all of their profiles; the generator never sends
that person again (a later application from the same details is a new SEEK account: a new
candidate). An old attachment URL of a deleted application answers 404, or 403 when the sandbox is
configured so (`SandboxConfig.deleted_attachment_status`; SEEK does not document which).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from seek_sync.sandbox.world import Application, Candidate, Person, World

REDACTED = "redacted"


@dataclass(frozen=True)
class Deleted:
    """What one deletion redacted; deleting something already deleted redacts nothing more."""

    candidates: list[str]  # candidate ids
    applications: list[str]  # candidate profile ids


def redacted_person(person: Person) -> Person:
    """The person as a deleted candidate or application shows them: a name of "redacted" only."""
    return replace(
        person,
        given=REDACTED,
        family=None,
        email="",
        phone="",
        line="",
        city="",
        state="",
        postcode="",
        country="",
        latitude=0.0,
        longitude=0.0,
        extended_lines=[],
    )


def redacted(application: Application) -> Application:
    """The profile with everything personal gone; ids, dates, job ad and source stay."""
    return replace(
        application,
        employment=[],
        education=[],
        certifications=[],
        qualifications=[],
        submission=None,
        attachments=[],
        deleted=True,
    )


def seen_through(candidate: Candidate, application: Application | None) -> Candidate:
    """The candidate as reached from `application` (its profile or its event): redacted when that
    application is deleted, even while the candidate's other applications are not."""
    if application is None or not application.deleted or candidate.deleted:
        return candidate
    return replace(candidate, person=redacted_person(candidate.person))


def delete_application(world: World, profile_id: str) -> Deleted:
    """SEEK deletes one application (KeyError for an unknown profile id): that profile is
    redacted; the candidate and their other profiles stay as they are."""
    with world.lock:
        application = world.applications[profile_id]
        if application.deleted:
            return Deleted([], [])
        world.publish(applications=[redacted(application)])
        return Deleted([], [profile_id])


def delete_candidate(world: World, candidate_id: str) -> Deleted:
    """SEEK deletes the person behind a candidate (KeyError for an unknown id): their candidate at
    every hirer and every one of their profiles are redacted."""
    with world.lock:
        candidate = world.candidates[candidate_id]
        if candidate.deleted:
            return Deleted([], [])
        person = candidate.person
        gone = [c for c in world.candidates.values() if c.person is person]
        ids = {c.id for c in gone}
        profiles = [a for a in world.applications.values() if a.candidate_id in ids]
        profiles = [a for a in profiles if not a.deleted]
        nobody = redacted_person(person)
        world.publish(
            candidates=[replace(c, person=nobody, deleted=True) for c in gone],
            applications=[redacted(a) for a in profiles],
        )
        _retire(world, person)
        return Deleted([c.id for c in gone], [a.profile_id for a in profiles])


def _retire(world: World, person: Person) -> None:
    """The generator may send a known person again: a deleted one comes back, if at all, as a new
    SEEK account with the same details (a new Person, so new candidate ids at every hirer)."""
    generator = world.generator
    if generator is None:
        return
    for index, (someone, profile) in enumerate(generator.people):
        if someone is person:
            generator.people[index] = (replace(person), profile)
            for key in [k for k in generator.candidate_of if k[1] == index]:
                del generator.candidate_of[key]


def gone_status(world: World, application_id: str, deleted_status: int) -> int:
    """What a missing or removed attachment's URL answers: `deleted_status` under a deleted
    application, else 404."""
    application = world.by_application_id.get(application_id)
    return deleted_status if application is not None and application.deleted else 404
