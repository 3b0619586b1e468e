"""The fake's decisions where the reference is silent about the Mutation Engine (idempotency,
replays, where control values travel, status endpoint, upsert), each by name over real HTTP, and
its faults: those of the SEEK sandbox on every Onderwijsregio route, plus its own three."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from seek_sync.ats.onderwijsregio_api import RefusedError
from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.onderwijsregio_schema import (
    CALLBACK_BODY_FIELD,
    CALLBACK_HEADER,
    IDEMPOTENCY_BODY_FIELD,
    IDEMPOTENCY_HEADER,
    INFLIGHT_REPLAY_STATUS,
    UPSERT_TAKES_ATTACHMENTS,
    OnderwijsregioConfig,
)
from tests.ats.onderwijsregio_stack import onderwijsregio_stack
from tests.sandbox.onderwijsregio_helpers import endpoint, item, running_api

SLOW = 1.0  # seconds a mutation waits in the queue: room for a second request while in flight


def test_assumption_key_is_generated_when_none_is_sent() -> None:
    with running_api() as api:
        person = {"firstName": "A", "email": "a@example.com"}
        first, second = api.create(person), api.create(person)
        keys = [r.json()["data"]["idempotencyKey"] for r in (first, second)]
        assert all(keys) and keys[0] != keys[1]
        assert "Idempotent-Replayed" not in second.headers
        api.fake.wait_idle()
        assert api.fake.mutations_applied == 2  # no key, no de-duplication


def test_assumption_inflight_replay_answers_202() -> None:
    assert INFLIGHT_REPLAY_STATUS == 202
    with running_api(
        SandboxConfig(
            applications=1, onderwijsregio=OnderwijsregioConfig(mutation_delay_seconds=SLOW)
        )
    ) as api:
        person = {"firstName": "A", "curriculumVitae": [item()]}
        first = api.create(person, **{IDEMPOTENCY_HEADER: "k"})
        again = api.create(person, **{IDEMPOTENCY_HEADER: "k"})  # the first is still queued
        assert api.fake.mutations_applied == 0
        assert (first.status_code, again.status_code) == (202, 202)
        assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
        api.fake.wait_idle()
        assert api.fake.mutations_applied == 1 and api.fake.uploads_received("cv.pdf") == 1


async def test_assumption_inflight_replay_as_409_is_a_refusal_for_our_client(
    tmp_path: Path,
) -> None:
    """If the real API answers 409 while the first is running, our client reports a refusal
    (docs/ats.md lists this as the one reading that would need a client change)."""
    config = OnderwijsregioConfig(mutation_delay_seconds=SLOW, inflight_replay_status=409)
    async with onderwijsregio_stack(tmp_path, fake=config) as stack:
        assert await stack.client.create({"firstName": "A"}, key="k", callback_url=None) == "k"
        with pytest.raises(RefusedError) as refused:
            await stack.client.create({"firstName": "A"}, key="k", callback_url=None)
        assert refused.value.status == 409 and "still processing" in str(refused.value)
        await stack.fake.settled()
        again = await stack.client.create({"firstName": "A"}, key="k", callback_url=None)
        assert again == "k" and stack.fake.mutations_applied == 1


def test_assumption_same_key_with_another_payload_is_422_at_any_time() -> None:
    with running_api() as api:
        key = {IDEMPOTENCY_HEADER: "k"}
        assert api.create({"firstName": "A"}, **key).status_code == 202
        api.fake.wait_idle()
        other = api.create({"firstName": "B"}, **key)
        assert other.status_code == 422
        assert other.json()["errors"] == [
            {"field": "idempotencyKey", "message": "reused with a different payload"}
        ]
        api.fake.wait_idle()
        assert [c["firstName"] for c in api.fake.candidates()] == ["A"]


def test_assumption_header_wins_over_body_for_the_idempotency_key() -> None:
    with running_api() as api:
        candidate_id = api.created()["id"]
        path = f"/candidates/{candidate_id}/attachments"
        body = {"otherAttachments": [item()], IDEMPOTENCY_BODY_FIELD: "from-body"}
        alone = api.http.post(path, json=body)
        assert alone.json()["data"]["idempotencyKey"] == "from-body"
        both = api.http.post(path, json=body, headers={IDEMPOTENCY_HEADER: "from-header"})
        assert both.json()["data"]["idempotencyKey"] == "from-header"
        assert "Idempotent-Replayed" not in both.headers  # not a replay of "from-body"
        api.fake.wait_idle()
        keys = set(api.fake.engine.stores[False].mutations)
        assert {"from-body", "from-header"} <= keys and api.fake.uploads_received("cv.pdf") == 2


def test_assumption_header_wins_over_body_for_the_callback_url() -> None:
    with running_api() as api, endpoint() as receiver:
        candidate_id = api.created()["id"]
        path = f"/candidates/{candidate_id}/attachments"
        body = {"otherAttachments": [item()], CALLBACK_BODY_FIELD: receiver.base_url + "/body"}
        api.http.post(path, json=body)
        api.http.post(path, json=body, headers={CALLBACK_HEADER: receiver.base_url + "/header"})
        receiver.wait(2)
        api.fake.wait_idle()
        assert sorted(r.path for r in receiver.received) == ["/body", "/header"]
        assert api.fake.callbacks_sent == 2


def test_assumption_no_mutation_status_endpoint() -> None:
    with running_api() as api:
        key = api.create({"firstName": "A"}).json()["data"]["idempotencyKey"]
        for path in (f"/mutations/{key}", f"/mutation/{key}", f"/candidates/mutations/{key}"):
            answer = api.http.get(path)
            assert answer.status_code == 404, path
            assert answer.json()["data"] is None


def test_assumption_upsert_takes_inline_attachments() -> None:
    assert UPSERT_TAKES_ATTACHMENTS is True
    person = {"firstName": "A", "email": "a@example.com", "curriculumVitae": [item()]}
    with running_api() as api:
        assert api.http.post("/candidates/upsert", json=person).status_code == 202
        api.fake.wait_idle()
        assert [u["operation"] for u in api.fake.uploads] == ["upsert"]
    without = OnderwijsregioConfig(upsert_takes_attachments=False)
    with running_api(SandboxConfig(applications=1, onderwijsregio=without)) as api:
        refused = api.http.post("/candidates/upsert", json=person)
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "curriculumVitae"


@pytest.mark.parametrize(
    "kind", ["error", "reset", "truncate", "lose_response", "rate_limit", "latency", "slow_body"]
)
async def test_seek_sandbox_faults_apply_to_onderwijsregio_routes(
    tmp_path: Path, kind: str
) -> None:
    """Set through `/_sandbox/faults` like the SEEK faults; our client retries with the same key
    and the mutation is applied once."""
    async with onderwijsregio_stack(tmp_path) as stack:
        fault = {"endpoint": "onderwijsregio.create", "kind": kind, "retry_after": 0.05,
                 "delay": 0.2}  # fmt: skip
        async with httpx.AsyncClient() as admin:
            added = await admin.post(stack.sandbox.base_url + "/_sandbox/faults", json=fault)
        assert added.json() == {"added": 1}
        accepted = await stack.client.create({"firstName": "A"}, key="k", callback_url=None)
        assert accepted == "k"
        requests = stack.sandbox.requests("onderwijsregio.create")
        assert requests[0].fault == kind
        transient = kind not in ("latency", "slow_body")
        assert len(requests) == (2 if transient else 1)
        await stack.fake.settled()
        assert stack.fake.mutations_applied == 1


def test_own_faults_over_the_admin_endpoint() -> None:
    """Callback lost, callback late and failing after the 202, set over HTTP."""
    with running_api() as api, endpoint() as receiver:
        faults = api.sandbox.base_url + "/_sandbox/onderwijsregio/faults"
        bad = httpx.post(faults, json={"lose_callbacks": -1})
        assert bad.status_code == 400
        set_ = httpx.post(faults, json={"late_callbacks": 0.3, "fail_after_accept": 1})
        assert set_.json() == {
            "lose_callbacks": 0,
            "late_callbacks": 0.3,
            "fail_after_accept": 1,
            "failed_key_reruns": False,
            "replay_callbacks": True,
        }
        started = time.time()
        api.create({"firstName": "A"}, **{CALLBACK_HEADER: receiver.base_url + "/cb"})
        [late] = receiver.wait(1)
        assert late.at - started >= 0.3
        assert late.json()["status"] == "failed" and "after it was accepted" in late.json()["error"]
        httpx.post(faults, json={"late_callbacks": 0, "lose_callbacks": 1})
        api.create({"firstName": "B"}, **{CALLBACK_HEADER: receiver.base_url + "/cb"})
        api.fake.wait_idle()
        state = httpx.get(api.sandbox.base_url + "/_sandbox/onderwijsregio/state").json()
        assert (state["callbacks_lost"], state["mutations_failed"], state["candidates"]) == (
            1,
            1,
            1,
        )
        assert len(receiver.received) == 1
