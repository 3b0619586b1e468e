"""The sandbox's seeded world: deterministic, realistic, every edge case, safe to change live."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from datetime import UTC

import pytest

from seek_sync.sandbox import files
from seek_sync.sandbox.scalars import check_history_date
from seek_sync.sandbox.world import World, build_world
from seek_sync.sandbox.world_attachments import EDGE_CASES


@pytest.fixture(scope="module")
def world() -> World:
    return build_world()


def ids(world: World) -> list[object]:
    return [
        list(world.hirers),
        list(world.jobs),
        list(world.candidates),
        list(world.applications),
        [e.id for e in world.events],
        [[a.id for a in app.attachments] for app in world.applications.values()],
        sorted(world.edge_cases.items()),
    ]


def test_same_seed_same_world_other_seed_other_world() -> None:
    assert ids(build_world(seed=3, applications=30)) == ids(build_world(seed=3, applications=30))
    assert ids(build_world(seed=4, applications=30)) != ids(build_world(seed=3, applications=30))


def test_building_is_fast_and_makes_no_file_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("building the world must not render files")

    for name in ("render_file", "stream_file", "file_size_floor"):
        monkeypatch.setattr(files, name, refuse)
    started = time.perf_counter()
    world = build_world()
    assert time.perf_counter() - started < 0.8
    assert len(world.applications) == 60


def test_ids_look_like_seeks(world: World) -> None:
    base58 = "[1-9A-HJ-NP-Za-km-z]"
    patterns = {
        "hirers": rf"seekAnzPublicTest:organization:seek:{base58}{{8}}",
        "jobs": rf"seekAnzPublicTest:positionProfile:jobAd:{base58}{{9}}",
        "candidates": rf"seekAnzPublicTest:candidate:feed:{base58}{{30}}",
        "applications": rf"seekAnzPublicTest:candidateProfile:apply:{base58}{{22}}",
    }
    for attribute, pattern in patterns.items():
        assert all(re.fullmatch(pattern, key) for key in getattr(world, attribute))
    assert all(
        re.fullmatch(rf"seekAnzPublicTest:event:events:{base58}{{22}}", e.id) for e in world.events
    )
    for application in world.applications.values():
        assert application.profile_id.endswith(":" + application.application_id)
        assert all(re.fullmatch(f"{base58}{{44}}", a.id) for a in application.attachments)
    for job in world.jobs.values():
        assert re.fullmatch(r"REQ-\d{4}-\d{4}", job.seek_hirer_job_reference)
        assert re.fullmatch(r"https://www\.seek\.com\.au/job/\d{8}", job.position_uri)


def test_hirers_jobs_and_the_hirer_without_a_relationship(world: World) -> None:
    jobs = Counter(j.hirer_id for j in world.jobs.values())
    assert len(world.hirers) == 4 and all(2 <= jobs[h] <= 4 for h in world.hirers)
    lonely = [h for h in world.hirers.values() if not h.relationship]
    assert len(lonely) == 1 and lonely[0].relationship_codes == []
    assert not [e for e in world.events if e.hirer_id == lonely[0].id]
    assert not [a for a in world.applications.values() if a.hirer_id == lonely[0].id]
    assert {e.hirer_id for e in world.events if e.type_code == "HirerRelationshipChanged"} == {
        h.id for h in world.hirers.values() if h.relationship
    }
    assert build_world(hirers=1, applications=3).events  # a single hirer keeps its relationship


def test_repeat_applicants(world: World) -> None:
    per_candidate = Counter(a.candidate_id for a in world.applications.values())
    twice = [c for c, n in per_candidate.items() if n >= 2]
    assert twice  # one Candidate, two profiles with the same hirer
    hirers_of: dict[int, set[str]] = {}
    for candidate in world.candidates.values():
        hirers_of.setdefault(id(candidate.person), set()).add(candidate.id)
    assert any(len(candidates) >= 2 for candidates in hirers_of.values())  # a Candidate per hirer
    for candidate in world.candidates.values():
        profiles = world.profiles_of(candidate.id)
        assert profiles and all(p.hirer_id == candidate.hirer_id for p in profiles)


def test_stream_order_bursts_and_utc(world: World) -> None:
    times = [e.stream_date_time for e in world.events]
    assert times == sorted(times)
    per_second = Counter(t.replace(microsecond=0) for t in times)
    assert max(per_second.values()) >= 3  # many events share a stream second
    assert all(t.tzinfo == UTC for t in times)
    for application in world.applications.values():
        assert application.create_date_time.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
        assert application.update_date_time >= application.create_date_time


def test_profiles_are_realistic(world: World) -> None:
    forms: set[int] = set()
    for application in world.applications.values():
        assert 1 <= len(application.employment) <= 4 and application.education
        histories = [p for e in application.employment for p in e.positions]
        assert sum(1 for p in histories if p.current) <= 1
        for value in [p.start for p in histories] + [p.end for p in histories if p.end]:
            forms.add(len(check_history_date(value)))
        for attendance in application.education:
            for degree in attendance.degrees:
                assert degree.granted_status in {"Granted", "InProgress"}
                assert degree.date is None or len(check_history_date(degree.date)) in (4, 7)
        for cert in application.certifications:
            assert cert.valid_to is None or check_history_date(cert.valid_to)
        assert len(application.qualifications) >= 2
    assert forms == {4, 7, 10}
    people = [c.person for c in world.candidates.values()]
    assert any(not p.formatted_name.isascii() for p in people)
    assert all(
        p.email.split("@")[1] in {"example.com", "example.org", "mail.example.net"} for p in people
    )


def test_questionnaires_belong_to_jobs_and_are_scored(world: World) -> None:
    seen_types: set[str] = set()
    for application in world.applications.values():
        job = world.jobs[application.job_id]
        submission = application.submission
        assert (submission is None) == (job.questionnaire is None)
        if submission is None:
            continue
        assert submission.questionnaire is job.questionnaire
        for response in submission.responses:
            component = response.component
            seen_types.add(component.response_type or component.type_code)
            if component.response_type == "FreeText":
                assert response.score is None and len(response.answers) == 1
            elif component.response_type == "SingleSelect":
                assert response.score in (0.0, 1.0) and len(response.answers) == 1
            elif component.response_type == "MultiSelect":
                assert response.score is not None and 0 <= response.score <= 1
            else:
                assert response.consent_given in (True, False)
        assert submission.score is not None and 0 <= submission.score <= 1
    assert seen_types == {"FreeText", "SingleSelect", "MultiSelect", "PrivacyConsent"}


def test_attachments_are_plausible_and_renderable(world: World) -> None:
    edge_ids = {attachment_id for _, attachment_id in world.edge_cases.values()}
    roles = Counter()
    for application in world.applications.values():
        for record in application.attachments:
            assert record.size >= files.file_size_floor(record.kind, record.title, record.lines)
            assert record.declared_type and record.descriptions and record.filename
            if record.id not in edge_ids and record.size < 4_000_000:
                assert 4096 <= record.size <= 600_000
            roles[record.role] += 1
    assert roles["Resume"] >= 0.85 * len(world.applications)
    assert roles["CoverLetter"] and roles["SelectionCriteria"] and roles[None]


def test_edge_cases_are_all_there_with_exact_sizes(world: World) -> None:
    assert set(EDGE_CASES) | {"many_others"} == set(world.edge_cases)
    for name, (kind, size, declared, filename, removed) in EDGE_CASES.items():
        record = world.attachment(*world.edge_cases[name])
        assert record is not None and world.has_relationship(record.hirer_id)
        assert (record.kind, record.size, record.filename, record.removed) == (
            kind,
            size,
            filename,
            removed,
        )
        assert record.declared_type == (declared or files.MIME[kind])
    sizes = {name: world.attachment(*world.edge_cases[name]).size for name in EDGE_CASES}  # type: ignore[union-attr]
    assert (
        sizes["data_limit_over_mib"] == 5 * 2**20 + 1
        and sizes["url_limit_over_mib"] == 25 * 2**20 + 1
    )
    hostile = world.attachment(*world.edge_cases["hostile_filename"]).filename  # type: ignore[union-attr]
    assert "/" in hostile and "\r\n" in hostile and '"' in hostile
    many = world.by_application_id[world.edge_cases["many_others"][0]]
    assert sum(1 for a in many.attachments if a.role is None) >= 6


def test_runtime_changes() -> None:
    world = build_world(seed=5, applications=10, edge_cases=False)
    before = world.events
    added = world.add_applications(3)
    assert world.events[-3:] == added and len(world.events) == len(before) + 3
    assert all(
        e.profile_id in world.applications and e.candidate_id in world.candidates for e in added
    )
    assert all(world.has_relationship(e.hirer_id) for e in added)
    replayed = world.replay_events([added[0].id, "unknown"])
    assert [e.id for e in replayed] == [added[0].id] and world.events[-1].id == added[0].id
    assert [e.id for e in world.events].count(added[0].id) == 2
    hirer = added[0].hirer_id
    changed = world.remove_relationship(hirer)
    assert changed.type_code == "HirerRelationshipChanged" and changed.hirer_id == hirer
    assert world.events[-1] is changed and not world.hirers[hirer].relationship
    assert all(e.hirer_id != hirer for e in world.add_applications(10))
    times = [e.stream_date_time for e in world.events]
    assert times == sorted(times)
    record = next(a for a in world.applications.values() if a.attachments).attachments[0]
    world.remove_attachment(record.application_id, record.id)
    assert record.removed and world.attachment(record.application_id, record.id) is record
    for hirer_id in list(world.hirers):
        world.remove_relationship(hirer_id)
    assert world.add_applications(2) == []  # no relationship, no events


def test_reads_are_safe_while_the_world_changes() -> None:
    world = build_world(seed=9, applications=20, edge_cases=False)
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(60):
                world.add_applications(2)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    thread = threading.Thread(target=writer)
    thread.start()
    while thread.is_alive():
        assert all(a.profile_id for a in world.applications.values())
        assert all(e.id for e in world.events)
        for candidate in list(world.candidates.values())[:5]:
            world.profiles_of(candidate.id)
    thread.join()
    assert not errors and len(world.applications) == 140
