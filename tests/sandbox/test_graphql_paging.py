"""The fake SEEK's connections: events and hiring organizations, paged by cursor and filtered."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from seek_sync.sandbox.graphql_api import RequestContext, execute_graphql
from seek_sync.sandbox.scalars import serialize_datetime
from seek_sync.sandbox.world import World, build_world
from tests.sandbox.test_graphql_api import ORIGIN, POLL, codes, run


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(seed=11, applications=40)


EVENTS = """query ($first: Int, $last: Int, $after: String, $before: String,
    $filter: EventsFilterInput) {
  events(schemeId: "seekAnzPublicTest", first: $first, last: $last, after: $after,
         before: $before, filter: $filter) {
    edges { cursor streamDateTime node { id { value } typeCode } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""


async def events(world: World, **variables: Any) -> dict[str, Any]:
    result = await run(world, EVENTS, **variables)
    assert "errors" not in result, result
    return result["data"]["events"]


async def sweep(world: World, size: int, **variables: Any) -> list[tuple[str, str]]:
    found, after = [], None
    while True:
        page = await events(world, first=size, after=after, **variables)
        found += [(e["cursor"], e["node"]["id"]["value"]) for e in page["edges"]]
        assert page["pageInfo"]["endCursor"] == (found[-1][0] if page["edges"] else None)
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


async def test_paging_is_complete_and_resumable_from_any_cursor(world: World) -> None:
    by_seven = await sweep(world, 7)
    assert by_seven == await sweep(world, 100)
    ids = [i for _, i in by_seven]
    assert ids == [e.id for e in world.events] and len(ids) > 40
    for position, (cursor, _) in enumerate(by_seven):
        rest = await events(world, first=100, after=cursor)
        assert [e["node"]["id"]["value"] for e in rest["edges"]] == ids[position + 1 :]
        assert rest["pageInfo"]["hasNextPage"] is False
    times = [e.stream_date_time for e in world.events]
    assert len(set(times)) < len(times)  # several events share a stream time: cursors page them


async def test_default_page_and_backwards_paging(world: World) -> None:
    page = await events(world)
    assert len(page["edges"]) == 10 and page["pageInfo"]["hasNextPage"] is True
    assert page["pageInfo"]["hasPreviousPage"] is False
    found, before = [], None
    while True:
        page = await events(world, last=7, before=before)
        found = [e["node"]["id"]["value"] for e in page["edges"]] + found
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert found == [e.id for e in world.events]


async def test_new_events_follow_the_last_cursor() -> None:
    world = build_world(seed=3, applications=8, edge_cases=False)
    end = (await events(world, first=100))["pageInfo"]["endCursor"]
    empty = await events(world, first=100, after=end)
    assert empty["edges"] == [] and empty["pageInfo"]["endCursor"] is None
    assert empty["pageInfo"]["hasNextPage"] is False
    added = world.add_applications(3)
    replayed = world.replay_events([world.events[0].id])
    page = await events(world, first=100, after=end)
    assert [e["node"]["id"]["value"] for e in page["edges"]] == [e.id for e in added + replayed]


async def test_filters_by_type_and_stream_time(world: World) -> None:
    kinds = {"CandidateApplicationCreated", "HirerRelationshipChanged"}
    for kind in kinds:
        found = await sweep(world, 9, filter={"eventTypeCodes": [kind]})
        assert [i for _, i in found] == [e.id for e in world.events if e.type_code == kind]
    assert await sweep(world, 9, filter={"eventTypeCodes": ["PositionProfilePosted"]}) == []
    times = [e.stream_date_time for e in world.events]
    pivot = next(t for t in times if times.count(t) > 1)  # a time several events share
    stamp = serialize_datetime(pivot)
    after = await sweep(world, 5, filter={"afterDateTime": stamp})  # exclusive ("succeed")
    assert [i for _, i in after] == [e.id for e in world.events if e.stream_date_time > pivot]
    before = await sweep(world, 5, filter={"beforeDateTime": stamp})  # exclusive ("precede")
    assert [i for _, i in before] == [e.id for e in world.events if e.stream_date_time < pivot]
    window = {
        "afterDateTime": serialize_datetime(pivot - timedelta(microseconds=1000)),
        "beforeDateTime": serialize_datetime(pivot + timedelta(microseconds=1000)),
    }
    assert len(await sweep(world, 1, filter=window)) == times.count(pivot)
    edges = (await events(world, first=100))["edges"]
    assert [e["streamDateTime"] for e in edges] == [serialize_datetime(t) for t in times]


async def test_cursors_are_opaque_and_checked(world: World) -> None:
    cursor = (await events(world, first=1))["edges"][0]["cursor"]
    assert world.events[0].id not in cursor and not cursor.isdigit()
    other = build_world(seed=12, applications=40)
    result = await run(other, EVENTS, after=cursor)
    assert result.get("data") is None and codes(result) == ["BAD_USER_INPUT"]


HIRERS = """query ($first: Int, $after: String, $filter: HiringOrganizationsFilterInput) {
  hiringOrganizations(schemeId: "seekAnzPublicTest", first: $first, after: $after,
                      filter: $filter) {
    edges { cursor node { id { value } name seekApiCapabilities { relationshipTypeCodes } } }
    pageInfo { hasNextPage endCursor } } }"""


async def hirers(world: World, **variables: Any) -> list[dict[str, Any]]:
    found, after = [], None
    while True:
        result = await run(world, HIRERS, after=after, **variables)
        page = result["data"]["hiringOrganizations"]
        found += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


async def test_hiring_organizations_alphabetical_and_filtered() -> None:
    world = build_world(seed=11, applications=5, hirers=8)
    every = await hirers(world, first=1)
    names = [h["name"] for h in every]
    assert names == sorted(names, key=str.casefold)
    related = {h.id for h in world.hirers.values() if h.relationship_codes}
    assert {h["id"]["value"] for h in every} == related and len(related) == 7
    for code in ("ApplicationExport", "JobPosting"):
        chosen = await hirers(world, first=3, filter={"relationshipTypeCodes": [code]})
        assert chosen and all(
            code in h["seekApiCapabilities"]["relationshipTypeCodes"] for h in chosen
        )
        assert {h["id"]["value"] for h in chosen} == {
            h.id for h in world.hirers.values() if code in h.relationship_codes
        }
    word = names[0].split()[0]
    found = await hirers(world, filter={"nameSearch": word.swapcase()})
    assert found and all(word.casefold() in h["name"].casefold() for h in found)


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ('{ events(schemeId: "seekAnz") { edges { cursor } } }', {}),
        (EVENTS, {"first": 101}),
        (EVENTS, {"first": 0}),
        (EVENTS, {"last": 101}),
        (EVENTS, {"first": 1, "last": 1}),
        (EVENTS, {"after": "garbage"}),
        (EVENTS, {"before": "aG8xfHNlZWtBbnpQdWJsaWNUZXN0"}),
        (EVENTS, {"filter": {"afterDateTime": "yesterday"}}),
        (EVENTS, {"filter": {"subscriptionId": "seekAnzPublicTest:webhookSubscription:x"}}),
        (HIRERS, {"first": 500}),
        (HIRERS, {"after": "garbage"}),
        ('{ hiringOrganizations(schemeId: "global") { edges { cursor } } }', {}),
    ],
)
async def test_bad_user_input(world: World, query: str, variables: dict[str, Any]) -> None:
    result = await run(world, query, **variables)
    assert codes(result) == ["BAD_USER_INPUT"] and not (result.get("data") or {}).get("events")


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ nope }", {}),
        ("{ version ", {}),
        ("query ($id: String!) { candidateProfile(id: $id) { profileId { value } } }", {}),
        (POLL, {"first": "ten"}),
        (POLL, {"schemeId": None}),
    ],
)
async def test_invalid_documents_and_variables(
    world: World, query: str, variables: dict[str, Any]
) -> None:
    result = await run(world, query, **variables)
    assert "data" not in result and codes(result) and set(codes(result)) == {"BAD_USER_INPUT"}


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "{ version }",
        {"query": 5},
        {"query": "{ version }", "variables": 3},
        {"query": "{ version }", "operationName": 1},
    ],
)
async def test_malformed_bodies(world: World, body: Any) -> None:
    result = await execute_graphql(RequestContext(world, ORIGIN), body)
    assert list(result) == ["errors"] and codes(result) == ["BAD_USER_INPUT"]


async def test_version_and_operation_name(world: World) -> None:
    body = {"query": "query A { version } query B { v: version }", "operationName": "B"}
    assert await execute_graphql(RequestContext(world, ORIGIN), body) == {
        "data": {"v": "sandbox-1.0.0"}
    }


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2026-11-20T03:04:05Z", True),
        ("2026-11-20T13:04:05.123456789+10:00", True),
        ("2026-11-20T03:04:05", False),
        ("2026-11-20", False),
        ("yesterday", False),
        ("2026-13-01T00:00:00Z", False),
    ],
)
async def test_date_time_input_is_strict(world: World, value: str, ok: bool) -> None:
    query = """query ($t: DateTime) { events(schemeId: "seekAnzPublicTest",
      filter: { afterDateTime: $t }) { edges { cursor } } }"""
    result = await run(world, query, t=value)
    assert ("errors" not in result) is ok
    if not ok:
        assert codes(result) == ["BAD_USER_INPUT"]
