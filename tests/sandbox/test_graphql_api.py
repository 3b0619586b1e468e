"""The fake SEEK GraphQL API, executed directly (no HTTP): SEEK's queries, errors and paging."""

from __future__ import annotations

import re
from typing import Any

import pytest

from seek_sync.sandbox.graphql_api import RequestContext, execute_graphql
from seek_sync.sandbox.world import Hirer, World, build_world

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


def lonely_hirer(world: World) -> Hirer:
    return next(h for h in world.hirers.values() if not h.relationship_codes)


async def test_seed_001_query_verbatim(world: World) -> None:
    for application in world.applications.values():
        result = await run(world, SEED_001_QUERY, id=application.profile_id)
        assert "errors" not in result
        profile = result["data"]["candidateProfile"]
        assert profile["profileId"]["value"] == application.profile_id
        person = world.candidates[application.candidate_id].person
        assert profile["candidate"]["person"]["name"] == {
            "given": person.given,
            "family": person.family,
        }
        assert profile["candidate"]["person"]["communication"] == {
            "phone": [{"formattedNumber": person.phone}],
            "email": [{"address": person.email}],
        }
        position = profile["associatedPositionProfile"]
        job = world.jobs[application.job_id]
        assert position["positionOrganizations"][0]["id"]["value"] == application.hirer_id
        assert (position["seekHirerJobReference"], position["positionUri"]) == (
            job.seek_hirer_job_reference,
            job.position_uri,
        )
        assert profile["employment"] and profile["education"] and profile["qualifications"]
        for cert in profile["certifications"]:
            assert cert["effectiveTimePeriod"] is None or cert["effectiveTimePeriod"]["validTo"]


async def test_date_times_and_history_dates_are_seek_shaped(world: World) -> None:
    query = """query ($id: String!) { candidateProfile(id: $id) {
      createDateTime updateDateTime
      employment { positionHistories { start end } }
      education { educationDegrees { date } }
      certifications { issued effectiveTimePeriod { validTo } } } }"""
    forms: set[int] = set()
    for application in world.applications.values():
        data = (await run(world, query, id=application.profile_id))["data"]["candidateProfile"]
        for stamp in (data["createDateTime"], data["updateDateTime"]):
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp)
        dates = [h["start"] for e in data["employment"] for h in e["positionHistories"]]
        dates += [h["end"] for e in data["employment"] for h in e["positionHistories"]]
        dates += [d["date"] for e in data["education"] for d in e["educationDegrees"]]
        dates += [c["issued"] for c in data["certifications"]]
        for value in filter(None, dates):
            assert re.fullmatch(r"\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?", value)
            forms.add(len(value))
    assert forms == {4, 7, 10}


PROFILE_EXTRAS = """query ($id: String!) { candidateProfile(id: $id) {
  updateDateTime candidateSources { name type } positionPreferences { locations {
    referenceLocation { city } } } seekActions { code }
  candidate { documentId { value } distributionGuidelines { seekProductCodes }
    person { name { formattedName } communication { address { formattedAddress line city
      postalCode countryCode countrySubDivisions { type value } } } }
    profiles(last: 10) { profileId { value } } }
  associatedPositionProfile { positionTitle seekTypeCode
    seekApplicationQuestionnaire { id { value } }
    postingInstructions { start end } }
  attachments { id { value } url descriptions seekRoleCode }
  seekQuestionnaireSubmission { score
    questionnaire { id { value } hirer { id { value } } components { id { value }
      componentTypeCode value
      ... on ApplicationQuestion { questionHtml responseTypeCode sourceCode
        responseChoice { id { value } text value preferredIndicator selectedIndicator } }
      ... on ApplicationPrivacyConsent { privacyPolicyUrl { url } descriptionHtml } } }
    responses { componentTypeCode component { id { value } }
      ... on ApplicationQuestionResponse { answers { answer choice { text } } score }
      ... on ApplicationPrivacyConsentResponse { consentGivenIndicator } } } } }"""


async def test_profile_attachments_questionnaire_and_candidate(world: World) -> None:
    application = next(a for a in world.applications.values() if a.submission)
    result = await run(world, PROFILE_EXTRAS, id=application.profile_id)
    assert "errors" not in result
    data = result["data"]["candidateProfile"]
    assert data["candidateSources"] == [{"name": "SEEK", "type": "SeekApplication"}]
    assert data["positionPreferences"] == [] and data["seekActions"] == []
    profiles = [p["profileId"]["value"] for p in data["candidate"]["profiles"]]
    assert application.profile_id in profiles
    address = data["candidate"]["person"]["communication"]["address"][0]
    assert address["countryCode"] in {"AU", "NZ"} and address["countrySubDivisions"]
    urls = [a["url"] for a in data["attachments"]]
    assert urls == [
        f"{ORIGIN}/anzPublicTest/applications/{application.application_id}/attachments/{r.id}"
        for r in application.attachments
    ]
    assert {a["seekRoleCode"] for a in data["attachments"]} <= {
        "Resume",
        "CoverLetter",
        "SelectionCriteria",
        None,
    }
    submission = data["seekQuestionnaireSubmission"]
    questionnaire = data["associatedPositionProfile"]["seekApplicationQuestionnaire"]
    assert submission["questionnaire"]["id"] == questionnaire["id"]
    assert submission["questionnaire"]["hirer"]["id"]["value"] == application.hirer_id
    components = submission["questionnaire"]["components"]
    assert [c.get("responseTypeCode") for c in components] == [
        "FreeText",
        "SingleSelect",
        "MultiSelect",
        None,
    ]
    assert components[0]["responseChoice"] == [] and components[3]["privacyPolicyUrl"]["url"]
    for choice in components[1]["responseChoice"] + components[2]["responseChoice"]:
        assert choice["selectedIndicator"] == choice["preferredIndicator"]
    free, single, multi, consent = submission["responses"]
    assert [r["component"]["id"] for r in submission["responses"]] == [c["id"] for c in components]
    assert free["score"] is None and free["answers"][0]["choice"] is None
    assert single["score"] in (0.0, 1.0) and len(single["answers"]) == 1
    assert 0 <= multi["score"] <= 1 and consent["consentGivenIndicator"] in (True, False)
    assert submission["score"] == pytest.approx((single["score"] + multi["score"]) / 2, abs=1e-3)


async def test_a_removed_attachment_is_still_listed() -> None:
    world = build_world(seed=2, applications=3, edge_cases=False)
    application = next(a for a in world.applications.values() if a.attachments)
    world.remove_attachment(application.application_id, application.attachments[0].id)
    query = "query ($id: String!) { candidateProfile(id: $id) { attachments { id { value } } } }"
    data = (await run(world, query, id=application.profile_id))["data"]["candidateProfile"]
    assert len(data["attachments"]) == len(application.attachments)


@pytest.mark.parametrize(
    "query",
    [
        "query ($id: String!) { candidateProfile(id: $id) { profileId { value } } }",
        "query ($id: String!) { candidate(id: $id) { documentId { value } } }",
        "query ($id: String!) { positionProfile(id: $id) { positionTitle } }",
        "query ($id: String!) { hiringOrganization(id: $id) { name } }",
        "query ($id: String!) { event(id: $id) { id { value } } }",
    ],
)
async def test_unknown_ids_are_null_without_errors(world: World, query: str) -> None:
    result = await run(world, query, id="seekAnzPublicTest:candidate:feed:missing")
    assert result == {"data": {query.split("{ ")[1].split("(")[0]: None}}


async def test_no_relationship_means_forbidden_and_null(world: World) -> None:
    hirer = lonely_hirer(world)
    job = next(j for j in world.jobs.values() if j.hirer_id == hirer.id)
    for field, value in (("positionProfile", job.id), ("hiringOrganization", hirer.id)):
        query = f"query ($id: String!) {{ version {field}(id: $id) {{ __typename }} }}"
        result = await run(world, query, id=value)
        assert result["data"] == {"version": "sandbox-1.0.0", field: None}
        (error,) = result["errors"]
        assert error["extensions"] == {"code": "FORBIDDEN"} and error["path"] == [field]
        assert error["message"] and error["locations"]


async def test_a_removed_relationship_hides_candidate_data_but_keeps_events() -> None:
    world = build_world(seed=11, applications=12, edge_cases=False)
    first = next(e for e in world.events if e.type_code == "CandidateApplicationCreated")
    hirer = world.hirers[first.hirer_id]
    change = world.remove_relationship(hirer.id)
    for field, value in (("candidateProfile", first.profile_id), ("candidate", first.candidate_id)):
        result = await run(
            world, f"query ($id: String!) {{ {field}(id: $id) {{ __typename }} }}", id=value
        )
        assert result["data"] == {field: None} and codes(result) == ["FORBIDDEN"]
    result = await run(world, POLL, first=100)
    edges = result["data"]["events"]["edges"]
    assert [e["node"]["id"]["value"] for e in edges] == [e.id for e in world.events]
    hidden = [i for i, e in enumerate(world.events) if e.hirer_id == hirer.id and e.profile_id]
    assert hidden and all(edges[i]["node"]["candidateApplicationProfile"] is None for i in hidden)
    assert all(edges[i]["node"]["candidateApplicationProfileId"] for i in hidden)
    paths = sorted(e["path"] for e in result["errors"])
    assert paths == sorted(
        ["events", "edges", i, "node", "candidateApplicationProfile"] for i in hidden
    )
    assert set(codes(result)) == {"FORBIDDEN"}
    query = """query ($id: String!) { event(id: $id) {
      ... on HirerRelationshipChangedEvent { hirerId hirer { name } } } }"""
    changed = await run(world, query, id=change.id)
    if hirer.job_posting:  # another relationship remains: the hirer is still visible
        assert changed == {"data": {"event": {"hirerId": hirer.id, "hirer": {"name": hirer.name}}}}
    else:
        assert changed["data"]["event"] == {"hirerId": hirer.id, "hirer": None}
        assert codes(changed) == ["FORBIDDEN"]


POLL = """query ($schemeId: String! = "seekAnzPublicTest", $first: Int, $after: String) {
  events(schemeId: $schemeId, first: $first, after: $after) {
    edges { cursor streamDateTime node { id { value } typeCode createDateTime
      ... on CandidateApplicationCreatedEvent { candidateApplicationProfileId candidateId
        candidateApplicationProfile { associatedPositionProfile {
          positionOrganizations { id { value } name } seekHirerJobReference } } }
      ... on HirerRelationshipChangedEvent { hirerId } } }
    pageInfo { hasNextPage endCursor } } }"""


async def test_the_polling_query_gives_each_events_hirer(world: World) -> None:
    result = await run(world, POLL, first=100)
    assert "errors" not in result
    for edge, event in zip(result["data"]["events"]["edges"], world.events, strict=True):
        node = edge["node"]
        assert node["typeCode"] == event.type_code and node["createDateTime"].endswith("Z")
        if event.profile_id:
            position = node["candidateApplicationProfile"]["associatedPositionProfile"]
            assert position["positionOrganizations"][0]["id"]["value"] == event.hirer_id
            assert node["candidateId"] == event.candidate_id
        else:
            assert node["hirerId"] == event.hirer_id
