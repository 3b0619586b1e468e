"""The Onderwijsregio v2 fake over HTTP: auth, envelope, schema, validation, reads, sandbox mode."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.onderwijsregio_schema import (
    ALLOWED_MIME_TYPES,
    ATTACHMENT_DATA_FIELD,
    ATTACHMENT_FILENAME_FIELD,
    OnderwijsregioConfig,
)
from seek_sync.sandbox.onderwijsregio_validation import SchemaValidator
from tests.sandbox.onderwijsregio_helpers import PDF, Api, data_uri, item, running_api

ENVELOPE = {"statusCode", "message", "data", "meta"}


@pytest.fixture
def api() -> Iterator[Api]:
    with running_api(SandboxConfig(applications=2, keep_received_files=True)) as running:
        yield running


def test_api_key_is_required_and_every_answer_is_an_envelope(api: Api) -> None:
    for headers in ({}, {"x-api-key": "wrong"}):
        answer = httpx.get(api.url + "/candidates/find?email=a@b.nl", headers=headers)
        assert answer.status_code == 401
        body = answer.json()
        assert set(body) == ENVELOPE and body["statusCode"] == 401 and body["data"] is None
        assert body["meta"] == {"sandboxEnabled": False}
    deprecated = {"api-key": api.info["onderwijsregio_api_key"]}
    assert httpx.get(api.url + "/schema", headers=deprecated).status_code == 200
    missing = api.http.get("/candidates/recAAAAAAAAAAAAAA")
    assert missing.status_code == 404 and set(missing.json()) == ENVELOPE
    assert api.http.get("/no/such/route").json()["statusCode"] == 404
    assert api.sandbox.count("onderwijsregio.find") == 2
    assert api.sandbox.count("onderwijsregio.get") == 1


def test_schema_is_served_and_requests_are_validated_against_it(api: Api) -> None:
    served = api.http.get("/schema").json()["data"]
    Draft202012Validator.check_schema(served)
    assert served["$ref"] == "#/$defs/candidate"
    update = api.http.get("/schema", params={"operation": "update"}).json()["data"]
    assert update["$ref"] == "#/$defs/candidateUpdate" and update["$defs"] == served["$defs"]
    assert api.http.get("/schema", params={"operation": "nope"}).status_code == 400
    bad = [{"firstName": "A", "curriculumVitae": [item(f"{n}.pdf") for n in range(6)]}]
    refused = api.create(*bad)
    assert refused.status_code == 422
    errors = refused.json()["errors"]
    assert errors == [{"field": "[0].curriculumVitae", "message": "at most 5 files per field"}]
    # The same payload against the served document: ours and a stock validator agree.
    mine = SchemaValidator(served)
    assert [e.as_dict() for e in mine.errors("createRequest", bad)] == errors
    stock = Draft202012Validator({**served, "$ref": "#/$defs/createRequest"})
    assert [list(e.absolute_path) for e in stock.iter_errors(bad)] == [[0, "curriculumVitae"]]
    good = [{"firstName": "A", "curriculumVitae": [item()]}]
    assert mine.errors("createRequest", good) == [] and stock.is_valid(good)
    assert api.create(*good).status_code == 202
    assert api.sandbox.count("onderwijsregio.schema") == 3


def _new(api: Api) -> str:
    return str(api.created()["id"])


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"curriculumVitae": [item(f"{n}.pdf") for n in range(6)]}, "curriculumVitae", "at most 5"),
        ({}, "", "at least one of curriculumVitae or otherAttachments"),
        ({"otherAttachments": []}, "otherAttachments", "at least 1"),
        ({"otherAttachments": [item("a.zip", mime="application/zip")]}, "otherAttachments[0].data",
         "'application/zip' is not allowed"),
        ({"otherAttachments": [item(), item("x.exe", mime="application/x-msdownload")]},
         "otherAttachments[1].data", "'application/x-msdownload' is not allowed"),
        ({"otherAttachments": [{"data": data_uri()}]}, "otherAttachments[0].filename", "required"),
        ({"otherAttachments": [{**item(), "url": "https://x.test/a.pdf"}]}, "otherAttachments[0]",
         "exactly one of 'data' or 'url'"),
        ({"otherAttachments": [{"filename": "a"}]}, "otherAttachments[0]", "exactly one of"),
        ({"otherAttachments": [{"filename": "a", "url": "ftp://x.test/a"}]},
         "otherAttachments[0].url", "http(s)"),
        ({"otherAttachments": [{"filename": "a", "data": "aGVsbG8="}]}, "otherAttachments[0].data",
         "must be a data URI"),
        ({"otherAttachments": [{"filename": "a", "data": "data:text/plain;base64,a"}]},
         "otherAttachments[0].data", "not valid base64"),
        ({"curriculumVitae": [item()], "resume": 1}, "resume", "not an allowed field"),
    ],
)  # fmt: skip
def test_attachment_rules_are_enforced_at_request_time(
    api: Api, body: dict[str, Any], field: str, says: str
) -> None:
    candidate_id = _new(api)
    answer = api.http.post(f"/candidates/{candidate_id}/attachments", json=body)
    assert answer.status_code == 422, answer.text
    first = answer.json()["errors"][0]
    assert first["field"] == field and says in first["message"], first
    assert field in answer.json()["message"]
    api.fake.wait_idle()
    assert api.fake.mutations_applied == 1  # only the create


def test_base64_data_limit_is_on_decoded_bytes(api: Api) -> None:
    """ASSUMPTION DATA_LIMIT_BYTES: 5 MB means 5_000_000 decoded bytes."""
    candidate_id = _new(api)
    over = api.http.post(
        f"/candidates/{candidate_id}/attachments",
        json={"otherAttachments": [item("big.pdf", b"x" * 5_000_001)]},
    )
    assert over.status_code == 422
    assert over.json()["errors"][0]["field"] == "otherAttachments[0].data"
    assert "5000000-byte data limit" in over.json()["errors"][0]["message"]
    exact = api.http.post(
        f"/candidates/{candidate_id}/attachments",
        json={"otherAttachments": [item("edge.pdf", b"x" * 5_000_000)]},
    )
    assert exact.status_code == 202
    api.fake.wait_idle()
    assert [u["size"] for u in api.fake.uploads if u["filename"] == "edge.pdf"] == [5_000_000]


def test_created_candidate_reads_back_with_its_attachments(api: Api) -> None:
    person = {"firstName": "Zoë", "lastName": "O'Brien", "email": "Zoe.OBrien@example.com",
              "phone": "+31 (0)6 1234-5678", "city": "Utrecht",
              "curriculumVitae": [item("cv.pdf")],
              "otherAttachments": [item("notes.txt", b"hello", "text/plain")]}  # fmt: skip
    accepted = api.create(person)
    assert accepted.status_code == 202
    data = accepted.json()["data"]
    assert data["status"] == "accepted" and data["idempotencyKey"]
    assert (
        api.http.get("/candidates/find", params={"email": "zoe.obrien@EXAMPLE.com"}).status_code
        == 404
    )
    api.fake.wait_idle()
    found = api.http.get("/candidates/find", params={"email": "zoe.obrien@EXAMPLE.com"}).json()
    by_phone = api.http.get("/candidates/find", params={"phone": "31061234 5678"}).json()
    candidate = found["data"]
    assert by_phone["data"]["id"] == candidate["id"]
    assert candidate["id"].startswith("rec") and len(candidate["id"]) == 17
    assert candidate["city"] == "Utrecht"
    cv = candidate["curriculumVitae"]
    assert [set(a) for a in cv] == [{"id", "filename", "size", "type", "url"}]
    assert (cv[0]["filename"], cv[0]["size"], cv[0]["type"]) == (
        "cv.pdf",
        len(PDF),
        "application/pdf",
    )
    assert httpx.get(cv[0]["url"]).content == PDF
    same = api.http.get(f"/candidates/{candidate['id']}").json()["data"]
    assert same == candidate
    assert api.fake.uploads_received("notes.txt") == 1
    assert [u["operation"] for u in api.fake.uploads] == ["create", "create"]
    assert api.sandbox.count("onderwijsregio.create") == 1


def test_sandbox_prefix_and_header_use_a_separate_store(api: Api) -> None:
    sandbox_url = api.url.replace("/api/v2", "/api/sandbox")
    person = {"firstName": "Sam", "email": "sam@example.com"}
    accepted = api.http.post(sandbox_url + "/candidates", json=[person])
    assert accepted.status_code == 202 and accepted.json()["meta"]["sandboxEnabled"] is True
    api.fake.wait_idle()
    assert api.http.get("/candidates/find", params={"email": "sam@example.com"}).status_code == 404
    header = {"x-api-sandbox": "true"}
    via_header = api.http.get(
        "/candidates/find", params={"email": "sam@example.com"}, headers=header
    )
    assert via_header.status_code == 200 and via_header.json()["meta"]["sandboxEnabled"] is True
    via_prefix = api.http.get(sandbox_url + "/candidates/find", params={"email": "sam@example.com"})
    assert via_prefix.json()["data"]["id"] == via_header.json()["data"]["id"]
    assert api.http.get("/schema", headers=header).json()["meta"]["sandboxEnabled"] is False
    assert len(api.fake.candidates(sandbox=True)) == 1 and api.fake.candidates() == []


def test_list_pages_with_a_cursor_that_ends_null(api: Api) -> None:
    people = [{"firstName": f"P{n}", "email": f"p{n}@example.com"} for n in range(5)]
    assert api.create(*people).status_code == 202
    api.fake.wait_idle()
    seen, cursor, pages = [], None, 0
    while True:
        params = {"pageSize": "2", **({"cursor": cursor} if cursor else {})}
        page = api.http.get("/candidates", params=params).json()
        seen += [c["firstName"] for c in page["data"]]
        cursor, pages = page["meta"]["cursor"], pages + 1
        if cursor is None:
            break
    assert seen == [p["firstName"] for p in people] and pages == 3
    too_big = api.http.get("/candidates", params={"pageSize": "101"})
    assert too_big.status_code == 400 and too_big.json()["errors"][0]["field"] == "pageSize"
    assert api.http.get("/candidates", params={"cursor": "garbage!"}).status_code == 400
    assert api.sandbox.count("onderwijsregio.list") == 5


def test_attachment_item_field_names_are_one_setting() -> None:
    """ASSUMPTION ATTACHMENT_FILENAME_FIELD / ATTACHMENT_DATA_FIELD: renaming moves schema and
    validator together."""
    assert (ATTACHMENT_FILENAME_FIELD, ATTACHMENT_DATA_FIELD) == ("filename", "data")
    assert len(ALLOWED_MIME_TYPES) == 20
    renamed = OnderwijsregioConfig(filename_field="name", data_field="content")
    with running_api(SandboxConfig(applications=1, onderwijsregio=renamed)) as api:
        served = api.http.get("/schema").json()["data"]
        assert set(served["$defs"]["attachment"]["properties"]) == {"name", "content", "url"}
        old = api.create({"firstName": "A", "curriculumVitae": [item()]})
        assert old.status_code == 422
        new = {"name": "cv.pdf", "content": data_uri()}
        assert api.create({"firstName": "A", "curriculumVitae": [new]}).status_code == 202
        api.fake.wait_idle()
        assert api.fake.uploads_received("cv.pdf") == 1
