"""The fake SEEK GraphQL API, executed directly (no HTTP): SEEK's queries, errors and paging."""

from __future__ import annotations

import re
from typing import Any

import pytest

from seek_sync.sandbox.graphql_api import RequestContext, execute_graphql
from seek_sync.sandbox.world import World, build_world

ORIGIN = "http://127.0.0.1:9999"

# Seed 001 (SEEK's "Exporting candidate profiles" page): the candidateProfile query exactly as
# the documentation prints it, indentation included.
SEED_001_QUERY = """query ($id: String!) {
        candidateProfile(id: $id) {
          profileId {
            value
          }
          createDateTime
          candidate {
            person {
              name {
                given
                family
              }
              communication {
                phone {
                  formattedNumber
                }
                email {
                  address
                }
              }
            }
          }
          associatedPositionProfile {
            seekHirerJobReference
            positionOrganizations {
              id {
                value
              }
              name
            }
            positionUri
          }
          employment {
            organization {
              name
            }
            positionHistories {
              start
              end
              title
            }
          }
          education {
            institution {
              name
            }
            educationDegrees {
              name
              degreeGrantedStatus
              date
            }
            descriptions
          }
          certifications {
            name
            issued
            effectiveTimePeriod {
              validTo
            }
            issuingAuthority {
              name
            }
            descriptions
          }
          qualifications {
            competencyName
          }
        }
      }"""


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(seed=11, applications=40)


async def run(world: World, query: str, **variables: Any) -> dict[str, Any]:
    return await execute_graphql(
        RequestContext(world, ORIGIN), {"query": query, "variables": variables}
    )


def codes(result: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in result.get("errors", [])]


async def test_seed_001_query_verbatim(world: World) -> None:
    application = next(iter(world.applications.values()))
    result = await run(world, SEED_001_QUERY, id=application.profile_id)
    assert "errors" not in result
    profile = result["data"]["candidateProfile"]
    assert profile["profileId"]["value"] == application.profile_id
    assert profile["createDateTime"].endswith("Z")
    person = world.candidates[application.candidate_id].person
    assert profile["candidate"]["person"]["name"]["given"] == person["name"]["given"]
    organizations = profile["associatedPositionProfile"]["positionOrganizations"]
    assert organizations[0]["id"]["value"] == application.hirer_id
    assert profile["employment"] and profile["education"] and profile["qualifications"]


async def test_history_dates_and_date_times_are_seek_shaped(world: World) -> None:
    query = """query ($id: String!) { candidateProfile(id: $id) {
      createDateTime updateDateTime
      employment { positionHistories { start end } }
      education { educationDegrees { date } } } }"""
    seen: set[int] = set()
    for application in world.applications.values():
        data = (await run(world, query, id=application.profile_id))["data"]["candidateProfile"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", data["createDateTime"])
        dates = [h["start"] for e in data["employment"] for h in e["positionHistories"]]
        dates += [d["date"] for e in data["education"] for d in e["educationDegrees"]]
        for value in filter(None, dates):
            assert re.fullmatch(r"\d{4}(-\d\d(-\d\d)?)?", value)
            seen.add(len(value))
    assert seen == {4, 7, 10}  # all three HistoryDate forms occur


async def test_attachments_and_questionnaire(world: World) -> None:
    query = """query ($id: String!) { candidateProfile(id: $id) {
      attachments { id { value } url descriptions seekRoleCode }
      seekQuestionnaireSubmission { score
        questionnaire { components { componentTypeCode
          ... on ApplicationQuestion { responseTypeCode questionHtml }
          ... on ApplicationPrivacyConsent { privacyPolicyUrl { url } } } }
        responses { componentTypeCode
          ... on ApplicationQuestionResponse { answers { answer } score }
          ... on ApplicationPrivacyConsentResponse { consentGivenIndicator } } } } }"""
    application = next(a for a in world.applications.values() if a.questionnaire)
    data = (await run(world, query, id=application.profile_id))["data"]["candidateProfile"]
    first = application.attachments[0]
    assert data["attachments"][0]["url"] == (
        f"{ORIGIN}/anzPublicTest/applications/{application.application_id}/attachments/{first.id}"
    )
    assert {a["seekRoleCode"] for a in data["attachments"]} <= {
        "Resume", "CoverLetter", "SelectionCriteria", None,
    }  # fmt: skip
    submission = data["seekQuestionnaireSubmission"]
    types = [c.get("responseTypeCode") for c in submission["questionnaire"]["components"]]
    assert types == ["FreeText", "SingleSelect", "MultiSelect", None]
    free, single, multi, consent = submission["responses"]
    assert free["score"] is None and single["score"] in (0.0, 1.0)
    assert 0 <= multi["score"] <= 1 and consent["consentGivenIndicator"] is True
    assert 0 <= submission["score"] <= 1


async def test_forbidden_without_relationship_and_null_for_unknown(world: World) -> None:
    query = "query ($id: String!) { candidate(id: $id) { documentId { value } } }"
    unknown = await run(world, query, id="seekAnzPublicTest:candidate:feed:nope")
    assert unknown == {"data": {"candidate": None}}
    hirer = next(h for h in world.hirers.values() if h.relationship)
    candidate = next(c for c in world.candidates.values() if c.hirer_id == hirer.id)
    hirer.relationship = False
    try:
        forbidden = await run(world, query, id=candidate.id)
    finally:
        hirer.relationship = True
    assert forbidden["data"] == {"candidate": None}
    assert codes(forbidden) == ["FORBIDDEN"] and forbidden["errors"][0]["path"] == ["candidate"]


async def test_event_of_a_removed_relationship_keeps_the_event(world: World) -> None:
    query = """{ events(schemeId: "seekAnzPublicTest", first: 5) { edges { node {
      id { value } ... on CandidateApplicationCreatedEvent { candidateApplicationProfileId
        candidateApplicationProfile { associatedPositionProfile {
          positionOrganizations { id { value } } } } } } } } }"""
    hirer = world.hirers[world.events[0].hirer_id]
    hirer.relationship = False
    try:
        result = await run(world, query)
    finally:
        hirer.relationship = True
    nodes = [edge["node"] for edge in result["data"]["events"]["edges"]]
    assert len(nodes) == 5 and nodes[0]["candidateApplicationProfile"] is None
    assert nodes[0]["candidateApplicationProfileId"] == world.events[0].profile_id
    assert set(codes(result)) == {"FORBIDDEN"}


EVENTS = """query ($after: String, $first: Int, $filter: EventsFilterInput) {
  events(schemeId: "seekAnzPublicTest", first: $first, after: $after, filter: $filter) {
    edges { cursor streamDateTime node { id { value } typeCode } }
    pageInfo { hasNextPage endCursor } } }"""


async def sweep(world: World, size: int, **variables: Any) -> list[tuple[str, str]]:
    found, after = [], None
    while True:
        page = (await run(world, EVENTS, first=size, after=after, **variables))["data"]["events"]
        found += [(e["cursor"], e["node"]["id"]["value"]) for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


async def test_paging_is_complete_and_resumable_from_any_cursor(world: World) -> None:
    by_seven = await sweep(world, 7)
    by_hundred = await sweep(world, 100)
    assert by_seven == by_hundred
    assert [i for _, i in by_seven] == [e.id for e in world.events]
    ids = [i for _, i in by_seven]
    for position, (cursor, _) in enumerate(by_seven):
        rest = await run(world, EVENTS, first=100, after=cursor)
        assert [e["node"]["id"]["value"] for e in rest["data"]["events"]["edges"]] == ids[
            position + 1 :
        ]


async def test_many_events_share_a_stream_second(world: World) -> None:
    times = [e.stream_date_time for e in world.events]
    assert len(set(times)) < len(times)


async def test_filters(world: World) -> None:
    pivot = world.events[10].stream_date_time
    iso = pivot.isoformat().replace("+00:00", "Z")
    after = await sweep(world, 50, filter={"afterDateTime": iso})
    assert [i for _, i in after] == [e.id for e in world.events if e.stream_date_time >= pivot]
    before = await sweep(world, 50, filter={"beforeDateTime": iso})
    assert [i for _, i in before] == [e.id for e in world.events if e.stream_date_time < pivot]
    none = await sweep(world, 50, filter={"eventTypeCodes": ["PositionProfilePosted"]})
    assert none == []


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ('{ events(schemeId: "seekAnz") { edges { cursor } } }', {}),
        ('{ events(schemeId: "seekAnzPublicTest", first: 101) { edges { cursor } } }', {}),
        ('{ events(schemeId: "seekAnzPublicTest", first: 0) { edges { cursor } } }', {}),
        ('{ events(schemeId: "seekAnzPublicTest", first: 1, last: 1) { edges { cursor } } }', {}),
        ('{ events(schemeId: "seekAnzPublicTest", after: "garbage") { edges { cursor } } }', {}),
        ("{ nope }", {}),
        ("{ version ", {}),
        (EVENTS, {"filter": {"afterDateTime": "yesterday"}}),
        (EVENTS, {"first": "ten"}),
        (
            '{ hiringOrganizations(schemeId: "seekAnzPublicTest", first: 500) { edges { cursor } }'
            " }",
            {},
        ),
    ],
)
async def test_bad_user_input(world: World, query: str, variables: dict[str, Any]) -> None:
    assert codes(await run(world, query, **variables)) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("body", [None, [], {"query": 5}, {"query": "{ version }", "variables": 3}])
async def test_malformed_bodies(world: World, body: Any) -> None:
    result = await execute_graphql(RequestContext(world, ORIGIN), body)
    assert codes(result) == ["BAD_USER_INPUT"]


async def test_hiring_organizations_alphabetical_and_filtered(world: World) -> None:
    query = """query ($filter: HiringOrganizationsFilterInput) {
      hiringOrganizations(schemeId: "seekAnzPublicTest", first: 100, filter: $filter) {
        edges { node { name id { value } } } } }"""
    every = (await run(world, query))["data"]["hiringOrganizations"]["edges"]
    names = [e["node"]["name"] for e in every]
    assert names == sorted(names, key=str.lower) and len(names) == len(world.hirers)
    export = await run(world, query, filter={"relationshipTypeCodes": ["ApplicationExport"]})
    related = {e["node"]["id"]["value"] for e in export["data"]["hiringOrganizations"]["edges"]}
    assert related == {h.id for h in world.hirers.values() if h.relationship}
    word = names[0].split()[0].lower()
    search = await run(world, query, filter={"nameSearch": word.upper()})
    assert all(
        word in e["node"]["name"].lower() for e in search["data"]["hiringOrganizations"]["edges"]
    )


def test_world_is_deterministic_and_realistic() -> None:
    one, two = build_world(seed=3, applications=50), build_world(seed=3, applications=50)
    assert [e.id for e in one.events] == [e.id for e in two.events]
    assert list(one.applications) == list(two.applications)
    assert [e.id for e in build_world(seed=4, applications=50).events] != [e.id for e in one.events]
    no_relationship = [h.id for h in one.hirers.values() if not h.relationship]
    assert no_relationship and not [e for e in one.events if e.hirer_id in no_relationship]
    per_candidate: dict[str, int] = {}
    for application in one.applications.values():
        per_candidate[application.candidate_id] = per_candidate.get(application.candidate_id, 0) + 1
    assert max(per_candidate.values()) >= 2  # someone applied twice to one hirer
    people = {}
    for candidate in one.candidates.values():
        people.setdefault(candidate.person["name"]["formattedName"], set()).add(candidate.hirer_id)
    assert any(len(hirers) > 1 for hirers in people.values())  # one person, two hirers


def test_edge_cases_have_exact_sizes() -> None:
    world = build_world()
    sizes = {
        "data_limit_under": 4_999_999,
        "data_limit_over": 5_000_001,
        "data_limit_over_mib": 5_242_881,
        "url_limit_under": 24_999_999,
        "url_limit_over": 25_000_001,
        "url_limit_over_mib": 26_214_401,
    }
    for name, size in sizes.items():
        assert world.attachment(*world.edge_cases[name]).size == size  # type: ignore[union-attr]
    mismatch = world.attachment(*world.edge_cases["type_mismatch"])
    assert mismatch is not None and (mismatch.kind, mismatch.declared_type) == (
        "docx",
        "application/pdf",
    )
    many = world.by_application_id[world.edge_cases["many_others"][0]]
    assert sum(1 for a in many.attachments if a.role is None) >= 6


def test_runtime_changes() -> None:
    world = build_world(seed=5, applications=10, edge_cases=False)
    added = world.add_applications(3)
    assert world.events[-3:] == added and all(e.profile_id in world.applications for e in added)
    replayed = world.replay_events([added[0].id])
    assert world.events[-1].id == added[0].id == replayed[0].id
    hirer = added[0].hirer_id
    changed = world.remove_relationship(hirer)
    assert changed.type_code == "HirerRelationshipChanged" and not world.hirers[hirer].relationship
    times = [e.stream_date_time for e in world.events]
    assert times == sorted(times)
