"""Each unconfirmed Onderwijsregio wire assumption (docs/ats.md "ATS assumptions"), by name, over
real HTTP: our client against the sandbox fake, and where a setting holds the assumption, the same
setting changed on both sides moves the behaviour (and changed on one side only breaks it)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from seek_sync.ats.onderwijsregio_api import RefusedError
from seek_sync.sandbox.onderwijsregio_schema import OnderwijsregioConfig
from tests.ats.onderwijsregio_stack import CANDIDATE, Stack, onderwijsregio_stack

PDF = b"%PDF-1.4\n% assumption test\n"


def pdf_item(name: str = "cv.pdf", names: tuple[str, str] = ("filename", "data")) -> dict[str, str]:
    return {
        names[0]: name,
        names[1]: "data:application/pdf;base64," + base64.b64encode(PDF).decode(),
    }


async def existing(stack: Stack, *files: dict[str, str]) -> dict[str, Any]:
    """A candidate created straight at the fake (not by our client), as GET shows it."""
    person = {"firstName": "Eva", "email": "eva@example.com", "curriculumVitae": list(files)}
    assert (await stack.raw.post("/candidates", json=[person])).status_code == 202
    await stack.fake.settled()
    found = await stack.raw.get("/candidates/find", params={"email": "eva@example.com"})
    return dict(found.json()["data"])


async def test_assumption_attachment_item_field_names_come_from_settings(tmp_path: Path) -> None:
    renamed = OnderwijsregioConfig(filename_field="name", data_field="content", url_field="link")
    names = {
        "onderwijsregio_filename_field": "name",
        "onderwijsregio_data_field": "content",
        "onderwijsregio_url_field": "link",
        "onderwijsregio_data_limit_bytes": 10_000,  # so the second file goes by URL
    }
    async with onderwijsregio_stack(tmp_path / "both", fake=renamed, **names) as stack:
        small, big = stack.small_file(0, "Resume"), stack.small_file(1, None, size=20_000)
        pushed = await stack.target.push(CANDIDATE, [small, big], None, {})
        assert pushed.candidate.state == "pending_create", pushed.candidate.error
        [person] = stack.writes()[0].json()
        assert set(person["curriculumVitae"][0]) == {"name", "content"}
        assert set(person["otherAttachments"][0]) == {"name", "link"}
        await stack.fake.settled()
        stored = {u["filename"]: (u["source"], u["sha256"]) for u in stack.fake.uploads}
        assert stored == {small.filename: ("data", small.sha256), big.filename: ("url", big.sha256)}
    # The fake renamed, our settings not: every write is refused, naming the item.
    async with onderwijsregio_stack(tmp_path / "fake-only", fake=renamed) as stack:
        refused = await stack.target.push(CANDIDATE, [stack.small_file(0, "Resume")], None, {})
        assert refused.candidate.state == "failed"
        assert "HTTP 422" in (refused.candidate.error or "")
        assert "[0].curriculumVitae[0]" in (refused.candidate.error or "")
        assert stack.fake.uploads == []


async def test_assumption_data_uri_is_data_mime_base64(tmp_path: Path) -> None:
    async with onderwijsregio_stack(tmp_path) as stack:
        cv = stack.small_file(0, "Resume")
        await stack.target.push(CANDIDATE, [cv], None, {})
        item = stack.writes()[0].json()[0]["curriculumVitae"][0]
        assert set(item) == {"filename", "data"}  # the default field names
        head, _, encoded = item["data"].partition(",")
        assert head == "data:application/pdf;base64"
        assert base64.b64decode(encoded, validate=True) == stack.blobs.read_bytes(cv.blob_key)
        await stack.fake.settled()
        [stored] = stack.fake.uploads
        assert (stored["sha256"], stored["type"], stored["source"]) == (cv.sha256, cv.content_type,
                                                                        "data")  # fmt: skip
        # The fake takes MIME parameters and refuses bare base64 (no `data:` prefix).
        path = f"/candidates/{stored['candidate_id']}/attachments"
        text = base64.b64encode(b"hello").decode()
        params = {"filename": "a.txt", "data": f"data:text/plain;charset=utf-8;base64,{text}"}
        assert (await stack.raw.post(path, json={"otherAttachments": [params]})).status_code == 202
        bare = {"filename": "b.txt", "data": text}
        refused = await stack.raw.post(path, json={"otherAttachments": [bare]})
        assert refused.status_code == 422
        assert refused.json()["errors"] == [
            {"field": "otherAttachments[0].data", "message": "must be a data URI: "
             "data:<mime type>;base64,<data>"}
        ]  # fmt: skip
        await stack.fake.settled()
        assert [u["type"] for u in stack.fake.uploads if u["filename"] == "a.txt"] == ["text/plain"]


async def test_assumption_idempotency_key_travels_in_a_header(tmp_path: Path) -> None:
    async with onderwijsregio_stack(tmp_path / "default") as stack:
        pushed = await stack.target.push(CANDIDATE, [stack.small_file(0, "Resume")], None, {})
        key = pushed.candidate.idempotency_key
        assert key
        [create] = stack.writes()
        assert create.headers["idempotency-key"] == key
        assert "idempotencyKey" not in json.dumps(create.json())  # never in the body
        [logged] = stack.sandbox.requests("onderwijsregio.create")
        assert logged.headers["idempotency-key"] == key  # as the fake saw it
        await stack.fake.settled()
        assert list(stack.fake.engine.stores[False].mutations) == [key]
    moved = OnderwijsregioConfig(idempotency_header="X-Mutation-Key")
    setting = {"onderwijsregio_idempotency_header": "X-Mutation-Key"}
    async with onderwijsregio_stack(tmp_path / "moved", fake=moved, **setting) as stack:
        assert await stack.client.create({"firstName": "A"}, key="k-1", callback_url=None) == "k-1"
        assert stack.writes()[0].headers["x-mutation-key"] == "k-1"
    async with onderwijsregio_stack(tmp_path / "fake-only", fake=moved) as stack:
        # The fake never sees our key, so it makes its own: retries would no longer dedupe.
        assert await stack.client.create({"firstName": "A"}, key="k-2", callback_url=None) != "k-2"


async def test_assumption_callback_url_travels_in_a_header(tmp_path: Path) -> None:
    async with onderwijsregio_stack(tmp_path / "default") as stack:
        await stack.target.push(CANDIDATE, [stack.small_file(0, "Resume")], None, {})
        [create] = stack.writes()
        assert create.headers["x-callback-url"] == stack.callback_url
        assert "callbackUrl" not in json.dumps(create.json())
        [result] = await stack.callbacks(1)
        assert result.succeeded and result.idempotency_key == create.headers["idempotency-key"]
    moved = OnderwijsregioConfig(callback_header="X-Notify-Url")
    setting = {"onderwijsregio_callback_url_header": "X-Notify-Url"}
    async with onderwijsregio_stack(tmp_path / "moved", fake=moved, **setting) as stack:
        await stack.client.create({"firstName": "A"}, key="k-1", callback_url=stack.callback_url)
        [result] = await stack.callbacks(1)
        assert result.idempotency_key == "k-1"
    async with onderwijsregio_stack(tmp_path / "fake-only", fake=moved) as stack:
        await stack.client.create({"firstName": "A"}, key="k-2", callback_url=stack.callback_url)
        await stack.fake.settled()
        assert stack.fake.mutations_applied == 1 and stack.inbox.callbacks_after(0) == []


async def test_assumption_delete_body_is_attachment_ids_from_settings(tmp_path: Path) -> None:
    async with onderwijsregio_stack(tmp_path / "default") as stack:
        candidate = await existing(stack, pdf_item("a.pdf"), pdf_item("b.pdf"))
        first, second = (a["id"] for a in candidate["curriculumVitae"])
        key = await stack.client.delete_attachments(
            candidate["id"], [first], key="del-1", callback_url=stack.callback_url
        )
        assert key == "del-1"
        [delete] = stack.writes()
        assert delete.method == "DELETE" and delete.json() == {"attachmentIds": [first]}
        [result] = await stack.callbacks(1)
        assert result.succeeded and result.idempotency_key == "del-1"
        after = await stack.client.get(candidate["id"])
        assert after is not None and [a.id for a in after.attachments()] == [second]
    moved = OnderwijsregioConfig(delete_ids_field="ids")
    async with onderwijsregio_stack(
        tmp_path / "moved", fake=moved, onderwijsregio_delete_field="ids"
    ) as stack:
        candidate = await existing(stack, pdf_item())
        ids = [a["id"] for a in candidate["curriculumVitae"]]
        await stack.client.delete_attachments(candidate["id"], ids, key="d", callback_url=None)
        assert stack.writes()[0].json() == {"ids": ids}
    async with onderwijsregio_stack(tmp_path / "fake-only", fake=moved) as stack:
        candidate = await existing(stack, pdf_item())
        ids = [a["id"] for a in candidate["curriculumVitae"]]
        with pytest.raises(RefusedError) as refused:
            await stack.client.delete_attachments(candidate["id"], ids, key="d", callback_url=None)
        assert refused.value.status == 422 and "attachmentIds" in str(refused.value)


async def test_assumption_validation_failure_is_422_naming_the_field(tmp_path: Path) -> None:
    async with onderwijsregio_stack(tmp_path / "default") as stack:
        with pytest.raises(RefusedError) as refused:
            await stack.client.create({"firstName": ""}, key="k", callback_url=None)
        assert refused.value.status == 422
        assert "[0].firstName: must not be empty" in str(refused.value)
    as_400 = OnderwijsregioConfig(validation_status=400)
    async with onderwijsregio_stack(tmp_path / "moved", fake=as_400) as stack:
        with pytest.raises(RefusedError) as refused:
            await stack.client.create({"firstName": ""}, key="k", callback_url=None)
        assert refused.value.status == 400
        await stack.fake.settled()
        assert stack.fake.engine.stores[False].mutations == {}  # refused before the queue


async def test_assumption_unknown_candidate_is_404_at_request_time(tmp_path: Path) -> None:
    async with onderwijsregio_stack(tmp_path) as stack:
        path = "/candidates/recNOPE0000000000/attachments"
        answer = await stack.raw.post(path, json={"curriculumVitae": [pdf_item()]})
        assert answer.status_code == 404
        assert answer.json()["statusCode"] == 404 and answer.json()["data"] is None
        with pytest.raises(RefusedError) as refused:
            await stack.client.add_attachments(
                "recNOPE0000000000",
                {"curriculumVitae": [pdf_item()]},
                key="k",
                callback_url=stack.callback_url,
            )
        assert refused.value.status == 404
        await stack.fake.settled()
        assert stack.fake.engine.stores[False].mutations == {}
        assert stack.inbox.callbacks_after(0) == []


async def test_assumption_find_without_a_match_is_404(tmp_path: Path) -> None:
    async with onderwijsregio_stack(tmp_path) as stack:
        answer = await stack.raw.get("/candidates/find", params={"email": "nobody@example.com"})
        assert answer.status_code == 404 and answer.json()["data"] is None
        assert await stack.client.find_by_email("nobody@example.com") is None
        await existing(stack, pdf_item())
        found = await stack.client.find_by_email("EVA@example.com")  # email is case-insensitive
        assert found is not None and found.email == "eva@example.com"


async def test_assumption_read_back_lists_attachments_with_id_filename_size(
    tmp_path: Path,
) -> None:
    async with onderwijsregio_stack(tmp_path) as stack:
        cv = stack.small_file(0, "Resume")
        await stack.target.push(CANDIDATE, [cv], None, {})
        [result] = await stack.callbacks(1)
        [candidate_id] = result.candidate_ids
        assert re.fullmatch(r"rec[A-Za-z0-9]{14}", candidate_id)
        stored = await stack.client.get(candidate_id)
        assert stored is not None and stored.email == CANDIDATE.email
        [attachment] = stored.attachments()
        assert re.fullmatch(r"att[A-Za-z0-9]{14}", attachment.id)
        assert (attachment.filename, attachment.size) == (cv.filename, cv.size)
        raw = (await stack.raw.get(f"/candidates/{candidate_id}")).json()["data"]
        assert set(raw["curriculumVitae"][0]) == {"id", "filename", "size", "type", "url"}


async def test_assumption_rate_limit_is_429_with_retry_after(tmp_path: Path) -> None:
    async with onderwijsregio_stack(tmp_path) as stack:
        stack.sandbox.add_fault("onderwijsregio.create", "rate_limit", retry_after=0.2)
        pushed = await stack.target.push(CANDIDATE, [stack.small_file(0, "Resume")], None, {})
        assert pushed.candidate.state == "pending_create"
        limited, retried = stack.sandbox.requests("onderwijsregio.create")
        assert limited.fault == "rate_limit" and retried.fault is None
        assert retried.at - limited.at >= 0.2  # Retry-After honoured
        assert limited.headers["idempotency-key"] == retried.headers["idempotency-key"]
        await stack.fake.settled()
        assert len(stack.fake.candidates()) == 1
