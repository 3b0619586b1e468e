"""The Onderwijsregio fake's Mutation Engine over HTTP: idempotency, URL files, callbacks, faults"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterator

import httpx
import pytest

from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.onderwijsregio_callbacks import callback_signing_string
from seek_sync.sandbox.onderwijsregio_schema import (
    CALLBACK_BODY_FIELD,
    CALLBACK_HEADER,
    DELETE_IDS_FIELD,
    IDEMPOTENCY_BODY_FIELD,
    IDEMPOTENCY_HEADER,
    INFLIGHT_REPLAY_STATUS,
    OnderwijsregioConfig,
)
from tests.sandbox.onderwijsregio_helpers import (
    PDF,
    Api,
    Endpoint,
    Received,
    endpoint,
    item,
    running_api,
)

RESULT_FIELDS = {
    "idempotencyKey", "status", "operation", "candidateIds", "attachmentIds", "error", "completedAt"
}  # fmt: skip


@pytest.fixture
def api() -> Iterator[Api]:
    with running_api() as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[Endpoint]:
    with endpoint() as running:
        yield running


def verify(secret: str, received: Received) -> bool:
    """Check a callback's signature with the fake's own signing-string function."""
    h = received.headers
    stamp, nonce = h["x-mutationengine-timestamp"], h["x-mutationengine-nonce"]
    signed = callback_signing_string(received.path, received.body, stamp, nonce)
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return h["x-mutationengine-signature"] == "v2=" + base64.b64encode(digest).decode()


def test_callbacks_are_signed_and_carry_the_result(api: Api, receiver: Endpoint) -> None:
    """ASSUMPTION CALLBACK_BODY_FIELD / callback_signing_string."""
    assert CALLBACK_BODY_FIELD == "callbackUrl"
    callback = receiver.base_url + "/callbacks/onderwijsregio?hirer=h1&x=%2F"
    person = {"firstName": "A", "email": "a@example.com", "phone": "0612345678",
              "curriculumVitae": [item()], CALLBACK_BODY_FIELD: callback}  # fmt: skip
    assert api.http.post("/candidates/upsert", json=person).status_code == 202
    (got,) = receiver.wait(1)
    assert got.path == "/callbacks/onderwijsregio?hirer=h1&x=%2F"
    assert verify(api.info["onderwijsregio_callback_secret"], got)
    assert not verify("another secret", got)
    result = got.json()
    assert set(result) == RESULT_FIELDS and result["status"] == "succeeded"
    assert result["operation"] == "upsert" and result["error"] is None
    (stored,) = api.fake.candidates()
    assert result["candidateIds"] == [stored["id"]]
    assert result["attachmentIds"] == [a["id"] for a in stored["curriculumVitae"]]
    assert abs(int(got.headers["x-mutationengine-timestamp"]) - time.time()) < 5
    api.fake.wait_idle()  # the receiver has it before the engine has read the answer
    assert api.fake.callbacks_sent == 1


def test_upsert_updates_by_email_or_phone_and_appends_files(api: Api, receiver: Endpoint) -> None:
    """ASSUMPTION UPSERT_TAKES_ATTACHMENTS."""
    first = api.created({"firstName": "A", "email": "a@example.com", "phone": "06-1234 5678"})
    again = {
        "firstName": "A",
        "email": "A@Example.com",
        "city": "Delft",
        "otherAttachments": [item()],
    }
    assert api.http.post("/candidates/upsert", json=again).status_code == 202
    by_phone = {"firstName": "A", "phone": "+0612345678", "lastName": "B"}
    assert api.http.post("/candidates/upsert", json=by_phone).status_code == 202
    api.fake.wait_idle()
    (one,) = api.fake.candidates()
    assert one["id"] == first["id"] and (one["city"], one["lastName"]) == ("Delft", "B")
    assert [a["operation"] for a in one["otherAttachments"]] == ["upsert"]
    assert api.http.post("/candidates/upsert", json={"firstName": "X"}).status_code == 422


def test_url_attachment_is_fetched_when_the_mutation_runs(api: Api, receiver: Endpoint) -> None:
    candidate_id = api.created()["id"]
    receiver.files["cv.pdf"] = ("application/pdf", PDF * 1000, False)
    body = {"curriculumVitae": [{"filename": "remote.pdf", "url": receiver.base_url + "/f/cv.pdf"}]}
    headers = {CALLBACK_HEADER: receiver.base_url + "/cb"}
    assert api.http.post(f"/candidates/{candidate_id}/attachments", json=body,
                         headers=headers).status_code == 202  # fmt: skip
    (got,) = receiver.wait(1)
    assert got.json()["status"] == "succeeded" and got.json()["operation"] == "attachments"
    (upload,) = [u for u in api.fake.uploads if u["filename"] == "remote.pdf"]
    assert upload["source"] == "url" and upload["sha256"] == hashlib.sha256(PDF * 1000).hexdigest()
    assert upload["candidate_id"] == candidate_id and upload["field"] == "curriculumVitae"
    assert api.sandbox.count("onderwijsregio.attachments") == 1


@pytest.mark.parametrize(
    ("name", "content_type", "size", "send_length", "says"),
    [
        ("big.pdf", "application/pdf", 25_000_001, True, "25000000-byte URL limit"),
        ("big-stream.pdf", "application/pdf", 25_000_001, False, "25000000-byte URL limit"),
        ("a.zip", "application/zip", 100, True, "'application/zip' is not allowed"),
        ("missing.pdf", "", 0, True, "answered 404"),
    ],
)
def test_url_attachment_failing_after_the_202_stores_nothing(
    api: Api, receiver: Endpoint, name: str, content_type: str, size: int, send_length: bool,
    says: str,
) -> None:  # fmt: skip
    """ASSUMPTION URL_LIMIT_BYTES: 25 MB means 25_000_000 bytes, checked after the 202."""
    candidate_id = api.created()["id"]
    if content_type:
        receiver.files[name] = (content_type, b"\0" * size, send_length)
    files = [item("ok.pdf"), {"filename": name, "url": f"{receiver.base_url}/f/{name}"}]
    body = {"otherAttachments": files, CALLBACK_BODY_FIELD: receiver.base_url + "/cb"}
    assert api.http.post(f"/candidates/{candidate_id}/attachments", json=body).status_code == 202
    result = receiver.wait(1)[0].json()
    assert result["status"] == "failed" and result["candidateIds"] == []
    assert result["error"].startswith("otherAttachments[1].url") and says in result["error"]
    assert api.fake.uploads_received("ok.pdf") == 0 and api.fake.uploads_received(name) == 0
    shown = api.http.get(f"/candidates/{candidate_id}").json()["data"]
    assert shown["otherAttachments"] == []


def test_same_key_same_payload_is_applied_once(receiver: Endpoint) -> None:
    """ASSUMPTION IDEMPOTENCY_HEADER / IDEMPOTENCY_BODY_FIELD / INFLIGHT_REPLAY_STATUS."""
    assert (IDEMPOTENCY_HEADER, IDEMPOTENCY_BODY_FIELD, INFLIGHT_REPLAY_STATUS) == (
        "Idempotency-Key", "idempotencyKey", 202)  # fmt: skip
    slow = OnderwijsregioConfig(mutation_delay_seconds=0.3)
    with running_api(SandboxConfig(applications=1, onderwijsregio=slow)) as api:
        person = {"firstName": "A", "email": "a@example.com", "curriculumVitae": [item()]}
        key = {IDEMPOTENCY_HEADER: "key-1"}
        first = api.create(person, **key)
        in_flight = api.create(person, **key)  # the first is still queued
        assert first.status_code == in_flight.status_code == 202
        assert in_flight.json()["data"]["idempotencyKey"] == "key-1"
        assert in_flight.headers["Idempotent-Replayed"] == "true"
        api.fake.wait_idle()
        after = api.create(person, **key)
        assert after.status_code == 202 and after.json() == first.json()
        api.fake.wait_idle()
        assert api.fake.mutations_applied == 1 and api.fake.mutations_replayed == 2
        assert len(api.fake.candidates()) == 1 and api.fake.uploads_received("cv.pdf") == 1
        other = api.create({**person, "city": "Delft"}, **key)
        assert other.status_code == 422
        assert other.json()["message"] == "idempotency key reused with a different payload"
        # In an object body the key may travel as a field; a header wins over it.
        cid = api.fake.candidates()[0]["id"]
        body = {"otherAttachments": [item()], IDEMPOTENCY_BODY_FIELD: "from-body"}
        sent = api.http.post(f"/candidates/{cid}/attachments", json=body)
        assert sent.json()["data"]["idempotencyKey"] == "from-body"
        won = api.http.post(f"/candidates/{cid}/attachments", json=body, headers={
            IDEMPOTENCY_HEADER: "from-header"})  # fmt: skip
        assert won.json()["data"]["idempotencyKey"] == "from-header"
        generated = api.create({"firstName": "B"}).json()["data"]["idempotencyKey"]
        assert generated and generated != "key-1"


def test_lost_response_on_create_still_applies_once(api: Api) -> None:
    api.sandbox.add_fault("onderwijsregio.create", "lose_response")
    person = {"firstName": "A", "email": "a@example.com", "curriculumVitae": [item()]}
    with pytest.raises(httpx.TransportError):
        api.create(person, **{IDEMPOTENCY_HEADER: "lost-1"})
    retry = api.create(person, **{IDEMPOTENCY_HEADER: "lost-1"})
    assert retry.status_code == 202
    api.fake.wait_idle()
    assert api.sandbox.count("onderwijsregio.create") == 2
    assert api.fake.mutations_applied == 1 and api.fake.mutations_replayed == 1
    assert len(api.fake.candidates()) == 1


def test_callback_faults_lost_late_retried_and_failing_after_accept(
    api: Api, receiver: Endpoint
) -> None:
    faults = api.sandbox.base_url + "/_sandbox/onderwijsregio/faults"
    assert httpx.post(faults, json={"lose_callbacks": 1}).json()["lose_callbacks"] == 1
    cb = {CALLBACK_HEADER: receiver.base_url + "/cb"}
    assert api.create({"firstName": "Lost"}, **cb).status_code == 202
    api.fake.wait_idle()
    assert receiver.received == [] and api.fake.callbacks_lost == 1
    assert len(api.fake.candidates()) == 1  # applied all the same
    api.fake.set_faults(late_callbacks=0.4)
    receiver.fail_next = 2  # delivered on the third attempt
    started = time.time()
    api.create({"firstName": "Late"}, **cb)
    (late,) = receiver.wait(1)
    api.fake.wait_idle()
    assert late.at - started >= 0.4 and late.json()["status"] == "succeeded"
    assert api.fake.engine.callbacks.outcomes[-1]["attempts"] == 3
    api.fake.set_faults(late_callbacks=0, fail_after_accept=1)
    assert api.create({"firstName": "Fails"}, **cb).status_code == 202
    failed = receiver.wait(2)[1].json()
    api.fake.wait_idle()
    assert failed["status"] == "failed" and "after it was accepted" in failed["error"]
    assert [c["firstName"] for c in api.fake.candidates()] == ["Lost", "Late"]
    state = httpx.get(api.sandbox.base_url + "/_sandbox/onderwijsregio/state").json()
    assert (state["callbacks_sent"], state["callbacks_lost"], state["mutations_failed"]) == (
        2,
        1,
        1,
    )


def test_delete_attachments_by_id(api: Api, receiver: Endpoint) -> None:
    """ASSUMPTION DELETE_IDS_FIELD: the body is {attachmentIds: [...]}."""
    assert DELETE_IDS_FIELD == "attachmentIds"
    person = {
        "firstName": "A",
        "email": "a@example.com",
        "curriculumVitae": [item(), item("b.pdf")],
    }
    candidate = api.created(person)
    first, second = (a["id"] for a in candidate["curriculumVitae"])
    path, cb = f"/candidates/{candidate['id']}/attachments", {CALLBACK_HEADER: receiver.base_url}
    gone = api.http.request("DELETE", path, json={DELETE_IDS_FIELD: [first]}, headers=cb)
    assert gone.status_code == 202
    unknown = api.http.request("DELETE", path, json={DELETE_IDS_FIELD: ["attNOPE"]}, headers=cb)
    assert unknown.status_code == 202
    failed, ok = sorted((r.json() for r in receiver.wait(2)), key=lambda r: r["status"])
    assert ok["status"] == "succeeded" and ok["attachmentIds"] == [first]
    assert failed["status"] == "failed" and "attNOPE" in failed["error"]
    shown = api.http.get(f"/candidates/{candidate['id']}").json()["data"]
    assert [a["id"] for a in shown["curriculumVitae"]] == [second]
    nobody = api.http.request(
        "DELETE", "/candidates/recNOPE/attachments", json={DELETE_IDS_FIELD: [second]}
    )
    assert nobody.status_code == 404
    assert api.http.request("DELETE", path, json={}).status_code == 422
    assert api.sandbox.count("onderwijsregio.delete_attachments") == 4
