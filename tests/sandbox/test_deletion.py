"""SEEK deleting a candidate or an application, over real HTTP: the admin endpoints, the redacted
GraphQL shape (SEEK's schema, field by field), gone attachment URLs, and nothing else changed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.server import SandboxServer
from seek_sync.sandbox.world import Candidate, World
from tests.sandbox.test_seek_http import authed_client, gql

PROFILE_FIELDS = """profileId { value } createDateTime updateDateTime
  associatedPositionProfile { profileId { value } positionTitle positionUri }
  candidateSources { name type }
  employment { organization { name } positionHistories { title start end current descriptions } }
  education { institution { name } descriptions educationDegrees { name degreeGrantedStatus date } }
  certifications { name issued effectiveTimePeriod { validTo } issuingAuthority { name } }
  qualifications { competencyName }
  attachments { id { value } url descriptions seekRoleCode }
  seekQuestionnaireSubmission {
    score questionnaire { id { value } } responses { componentTypeCode } }
"""
PERSON_FIELDS = """person { name { formattedName given family } communication {
  address { formattedAddress city } email { address } phone { formattedNumber }
  seekDoNotContactIndicator } }"""
CANDIDATE_FIELDS = f"documentId {{ value }} {PERSON_FIELDS} profiles {{ profileId {{ value }} }}"
PROFILE = f"""query ($id: String!) {{ candidateProfile(id: $id) {{ {PROFILE_FIELDS}
  candidate {{ {CANDIDATE_FIELDS} }} }} }}"""
CANDIDATE = f"query ($id: String!) {{ candidate(id: $id) {{ {CANDIDATE_FIELDS} }} }}"
EVENT = f"""query ($id: String!) {{ event(id: $id) {{ ... on CandidateApplicationCreatedEvent {{
  candidateApplicationProfile {{ {PROFILE_FIELDS} }} candidate {{ {CANDIDATE_FIELDS} }} }} }} }}"""
EVENT_IDS = """query ($scheme: String!, $after: String) {
  events(schemeId: $scheme, first: 100, after: $after) {
    edges { node { id { value } } } pageInfo { hasNextPage endCursor } } }"""

REDACTED_PERSON = {
    "name": {"formattedName": "redacted", "given": "redacted", "family": None},
    "communication": {"address": [], "email": [], "phone": [], "seekDoNotContactIndicator": None},
}
EMPTIED = {
    "employment": [],
    "education": [],
    "certifications": [],
    "qualifications": [],
    "attachments": [],
    "seekQuestionnaireSubmission": None,
}


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    """A sandbox of its own for every test: deletions are permanent."""
    with SandboxServer(SandboxConfig()) as running:
        yield running


@pytest.fixture
def client(server: SandboxServer) -> Iterator[httpx.Client]:
    with authed_client(server) as authed:
        yield authed


def profile(client: httpx.Client, server: SandboxServer, profile_id: str) -> dict[str, Any]:
    answer = gql(client, server, PROFILE, id=profile_id)
    assert "errors" not in answer
    return answer["data"]["candidateProfile"]


def candidate(client: httpx.Client, server: SandboxServer, candidate_id: str) -> dict[str, Any]:
    answer = gql(client, server, CANDIDATE, id=candidate_id)
    assert "errors" not in answer
    return answer["data"]["candidate"]


def every_profile(client: httpx.Client, server: SandboxServer) -> dict[str, dict[str, Any]]:
    world = server.state.world
    return {
        p: profile(client, server, p)
        for p, a in world.applications.items()
        if world.has_relationship(a.hirer_id)
    }


def event_ids(client: httpx.Client, server: SandboxServer) -> list[str]:
    found, after = [], None
    while True:
        page = gql(client, server, EVENT_IDS, scheme="seekAnzPublicTest", after=after)
        page = page["data"]["events"]
        found += [edge["node"]["id"]["value"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def admin(server: SandboxServer, path: str) -> httpx.Response:
    return httpx.post(f"{server.base_url}/_sandbox{path}", timeout=30)


def person_at_two_hirers(world: World) -> list[Candidate]:
    """The candidates (one per hirer, every hirer related) of someone who applied to two hirers."""
    for first in world.candidates.values():
        mine = [c for c in world.candidates.values() if c.person is first.person]
        if len(mine) > 1 and all(world.has_relationship(c.hirer_id) for c in mine):
            return mine
    raise AssertionError("the seeded world has a person who applied to two related hirers")


def repeat_applicant(world: World) -> Candidate:
    """A candidate with two profiles at one related hirer."""
    return next(
        c
        for c in world.candidates.values()
        if world.has_relationship(c.hirer_id) and len(world.profiles_of(c.id)) > 1
    )


def redacted(before: dict[str, Any]) -> dict[str, Any]:
    """A profile as SEEK answers it once deleted: ids, dates, job ad and source kept."""
    kept = {k: v for k, v in before.items() if k != "candidate"}
    person = {"documentId": before["candidate"]["documentId"], "person": REDACTED_PERSON}
    return kept | EMPTIED | {"candidate": person | {"profiles": []}}


def test_deleting_a_candidate_redacts_every_profile_at_every_hirer(
    server: SandboxServer, client: httpx.Client
) -> None:
    world = server.state.world
    mine = person_at_two_hirers(world)
    ids = {c.id for c in mine}
    profile_ids = [a.profile_id for c in mine for a in world.profiles_of(c.id)]
    before = every_profile(client, server)
    events_before = event_ids(client, server)
    urls = [att["url"] for p in profile_ids for att in before[p]["attachments"]]
    assert urls and any(before[p]["seekQuestionnaireSubmission"] for p in profile_ids)
    assert all(client.get(url).status_code == 200 for url in urls[:2])

    response = admin(server, f"/candidates/{mine[0].id}/delete")

    assert response.status_code == 200
    assert set(response.json()["candidates"]) == ids
    assert sorted(response.json()["applications"]) == sorted(profile_ids)
    after = every_profile(client, server)
    for profile_id in profile_ids:
        assert after[profile_id] == redacted(before[profile_id])
    for candidate_id in ids:
        assert candidate(client, server, candidate_id) == {
            "documentId": {"value": candidate_id},
            "person": REDACTED_PERSON,
            "profiles": [],
        }
    for url in urls:
        assert client.get(url).status_code == 404
        assert client.head(url).status_code == 404
    others = {p: v for p, v in before.items() if p not in profile_ids}
    assert {p: after[p] for p in others} == others
    assert event_ids(client, server) == events_before  # SEEK publishes no deletion event
    summary = httpx.get(f"{server.base_url}/_sandbox/summary").json()
    assert set(summary["deleted_candidates"]) == ids
    assert sorted(summary["deleted_applications"]) == sorted(profile_ids)
    assert summary["events"] == len(events_before)


def test_events_show_a_deleted_candidate_redacted(
    server: SandboxServer, client: httpx.Client
) -> None:
    world = server.state.world
    chosen = person_at_two_hirers(world)[0]
    event = next(e for e in world.events if e.candidate_id == chosen.id)
    before = gql(client, server, EVENT, id=event.id)
    assert "errors" not in before
    before = before["data"]["event"]
    assert before["candidate"]["person"] != REDACTED_PERSON

    assert admin(server, f"/candidates/{chosen.id}/delete").status_code == 200

    after = gql(client, server, EVENT, id=event.id)
    assert "errors" not in after
    after = after["data"]["event"]
    assert after["candidateApplicationProfile"] == before["candidateApplicationProfile"] | EMPTIED
    assert after["candidate"]["person"] == REDACTED_PERSON
    assert after["candidate"]["profiles"] == []


def test_deleting_one_application_leaves_the_candidates_others_intact(
    server: SandboxServer, client: httpx.Client
) -> None:
    world = server.state.world
    chosen = repeat_applicant(world)
    gone, kept = [a.profile_id for a in world.profiles_of(chosen.id)][:2]
    before = every_profile(client, server)
    person_before = candidate(client, server, chosen.id)["person"]
    gone_urls = [att["url"] for att in before[gone]["attachments"]]
    kept_urls = [att["url"] for att in before[kept]["attachments"]]
    assert gone_urls and kept_urls

    response = admin(server, f"/applications/{gone}/delete")

    assert response.status_code == 200
    assert response.json() == {"candidates": [], "applications": [gone]}
    after = every_profile(client, server)
    still = [{"profileId": {"value": kept}}]
    expected = redacted(before[gone])
    expected["candidate"]["profiles"] = still  # the candidate's profiles are filtered
    assert after[gone] == expected
    kept_before = before[kept] | {"candidate": before[kept]["candidate"] | {"profiles": still}}
    assert after[kept] == kept_before
    assert candidate(client, server, chosen.id) == {
        "documentId": {"value": chosen.id},
        "person": person_before,
        "profiles": still,
    }
    event = next(e for e in world.events if e.profile_id == gone)
    via_event = gql(client, server, EVENT, id=event.id)["data"]["event"]
    without_candidate = {k: v for k, v in before[gone].items() if k != "candidate"}
    assert via_event["candidateApplicationProfile"] == without_candidate | EMPTIED
    assert via_event["candidate"] == expected["candidate"]  # redacted as its application shows it
    assert all(client.get(url).status_code == 404 for url in gone_urls)
    assert all(client.head(url).status_code == 200 for url in kept_urls)
    others = {p: v for p, v in before.items() if p not in (gone, kept)}
    assert {p: after[p] for p in others} == others
    summary = httpx.get(f"{server.base_url}/_sandbox/summary").json()
    assert summary["deleted_candidates"] == []
    assert summary["deleted_applications"] == [gone]


def test_deleting_again_redacts_nothing_more(server: SandboxServer) -> None:
    world = server.state.world
    chosen = repeat_applicant(world)
    profile_id = world.profiles_of(chosen.id)[0].profile_id
    assert admin(server, f"/applications/{profile_id}/delete").json()["applications"]
    assert admin(server, f"/applications/{profile_id}/delete").json() == {
        "candidates": [],
        "applications": [],
    }
    everywhere = [c.id for c in world.candidates.values() if c.person is chosen.person]
    rest = [a.profile_id for c in everywhere for a in world.profiles_of(c)]
    rest.remove(profile_id)
    first = admin(server, f"/candidates/{chosen.id}/delete").json()
    assert first["candidates"] == everywhere
    assert sorted(first["applications"]) == sorted(rest)  # the one deleted before is not again
    again = admin(server, f"/candidates/{chosen.id}/delete")
    assert again.status_code == 200
    assert again.json() == {"candidates": [], "applications": []}


def test_unknown_ids_answer_404_and_change_nothing(server: SandboxServer) -> None:
    world = server.state.world
    unknown_profile = "seekAnzPublicTest:candidateProfile:apply:1111111111111111111111"
    unknown_candidate = "seekAnzPublicTest:candidate:feed:111111111111111111111111111111"
    a_candidate = next(iter(world.candidates))
    assert admin(server, f"/candidates/{unknown_candidate}/delete").status_code == 404
    assert admin(server, f"/applications/{unknown_profile}/delete").status_code == 404
    assert admin(server, f"/applications/{a_candidate}/delete").status_code == 404  # wrong kind
    summary = httpx.get(f"{server.base_url}/_sandbox/summary").json()
    assert summary["deleted_candidates"] == summary["deleted_applications"] == []


def test_attachment_urls_of_deleted_applications_can_answer_403() -> None:
    with (
        SandboxServer(SandboxConfig(deleted_attachment_status=403)) as server,
        authed_client(server) as client,
    ):
        world = server.state.world
        chosen = repeat_applicant(world)
        gone = world.profiles_of(chosen.id)[0]
        urls = [att["url"] for att in profile(client, server, gone.profile_id)["attachments"]]
        assert urls
        assert admin(server, f"/applications/{gone.profile_id}/delete").status_code == 200
        assert all(client.get(url).status_code == 403 for url in urls)
        assert all(client.head(url).status_code == 403 for url in urls)
        removed_url = server.base_url + "/anzPublicTest/applications/{}/attachments/{}".format(
            *world.edge_cases["removed"]
        )
        assert client.get(removed_url).status_code == 404  # a removed file, not a deletion
