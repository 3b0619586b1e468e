"""SEEK's deletions in process (`World.delete_candidate`, `World.delete_application`): permanent,
copy on write, no event, and the generator never sends a deleted person's candidate again."""

from __future__ import annotations

from collections import Counter

import pytest

from seek_sync.sandbox.world import build_world
from seek_sync.sandbox.world_deletion import REDACTED, Deleted


def test_deleting_in_process_redacts_and_keeps_readers_snapshots() -> None:
    world = build_world(seed=5, applications=30)
    people = Counter(id(c.person) for c in world.candidates.values())
    chosen = next(c for c in world.candidates.values() if people[id(c.person)] == 1)
    profiles = [a.profile_id for a in world.profiles_of(chosen.id)]
    held, events = world.applications, list(world.events)

    deleted = world.delete_candidate(chosen.id)

    assert deleted == Deleted([chosen.id], profiles)
    assert world.candidates[chosen.id].deleted
    assert world.candidates[chosen.id].person.formatted_name == REDACTED
    assert world.candidates[chosen.id].person.family is None
    for profile_id in profiles:
        now = world.applications[profile_id]
        assert now.deleted and world.by_application_id[now.application_id] is now
        assert (now.employment, now.education, now.certifications) == ([], [], [])
        assert (now.qualifications, now.attachments, now.submission) == ([], [], None)
        assert held[profile_id].attachments  # a reader's snapshot is never changed under it
        assert world.attachment(now.application_id, held[profile_id].attachments[0].id) is None
    assert world.events == events  # no event
    assert world.delete_candidate(chosen.id) == Deleted([], [])


def test_deleting_one_application_in_process() -> None:
    world = build_world(seed=5, applications=30)
    application = next(iter(world.applications.values()))
    assert world.delete_application(application.profile_id) == Deleted([], [application.profile_id])
    assert world.applications[application.profile_id].deleted
    assert not world.candidates[application.candidate_id].deleted
    assert world.delete_application(application.profile_id) == Deleted([], [])


def test_unknown_ids_raise_key_error() -> None:
    world = build_world(seed=5, applications=5)
    with pytest.raises(KeyError):
        world.delete_candidate("seekAnzPublicTest:candidate:feed:nobody")
    with pytest.raises(KeyError):
        world.delete_application("seekAnzPublicTest:candidateProfile:apply:nothing")


def test_a_deleted_person_never_applies_again_as_their_deleted_candidate() -> None:
    world = build_world(seed=5, applications=30)
    for candidate_id in list(world.candidates):
        world.delete_candidate(candidate_id)
    gone = set(world.candidates)

    added = world.add_applications(40)

    assert len(added) == 40
    new = [world.applications[e.profile_id or ""] for e in added]
    assert all(a.candidate_id not in gone and not a.deleted for a in new)
    assert all(world.candidates[a.candidate_id].person.given != REDACTED for a in new)
    assert all(world.candidates[c].deleted for c in gone)  # the redaction is permanent
