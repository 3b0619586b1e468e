"""The receiver over real HTTP: signed SEEK webhooks land in the inbox once; nothing else does."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from seek_sync.receiver.app import running_receiver
from seek_sync.runstate.inbox import Inbox
from seek_sync.settings import ReceiverSettings, load_receiver_settings

SECRET = "s" * 32


def hirer_id(n: int | str) -> str:
    return f"seekAnzPublicTest:organization:seek:HIRER{n}"


@pytest.fixture
def settings(tmp_path: Path) -> ReceiverSettings:
    return load_receiver_settings(seek_webhook_secret=SECRET, home=tmp_path)


@pytest.fixture
def inbox(settings: ReceiverSettings) -> Inbox:
    assert settings.inbox_path is not None
    return Inbox(settings.inbox_path)


@pytest.fixture
def http(settings: ReceiverSettings, inbox: Inbox) -> Iterator[httpx.Client]:
    with (
        running_receiver(settings, inbox) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        yield client


def item(n: int, hirer: str | None = hirer_id(1), **extra: Any) -> dict[str, Any]:
    event = {
        "id": f"seekAnzPublicTest:event:events:E{n}",
        "type": "CandidateApplicationCreated",
        "createDateTime": "2026-03-01T10:00:00.000Z",
        "candidateApplicationProfileId": f"seekAnzPublicTest:candidateProfile:apply:P{n}",
        "candidateId": f"seekAnzPublicTest:candidate:feed:C{n}",
        **extra,
    }
    if hirer:
        event["hirerId"] = hirer
    return event


def body_of(*events: dict[str, Any], **extra: Any) -> bytes:
    payload = {
        "events": list(events),
        "subscriptionId": "seekAnzPublicTest:webhookSubscription:events:S1",
        "url": "https://example.test/webhooks/seek",
        "expireDateTime": "2026-03-08T10:00:00.000Z",
        **extra,
    }
    return json.dumps(payload).encode()


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    signature = hmac.new(secret.encode(), body, hashlib.sha512).hexdigest()
    return {
        "Seek-Signature": signature,
        "X-Request-Id": "req-123",
        "Content-Type": "application/json",
    }


def post(http: httpx.Client, body: bytes, headers: dict[str, Any]) -> httpx.Response:
    return http.post("/webhooks/seek", content=body, headers=headers)


def test_signed_delivery_is_stored(http: httpx.Client, inbox: Inbox) -> None:
    body = body_of(item(1), item(2, hirer=hirer_id(2)))
    response = post(http, body, signed(body))
    assert response.status_code == 204 and response.content == b""
    rows = inbox.events_after(0)
    assert [(r.event_id, r.hirer_id, r.source) for r in rows] == [
        ("seekAnzPublicTest:event:events:E1", hirer_id(1), "webhook"),
        ("seekAnzPublicTest:event:events:E2", hirer_id(2), "webhook"),
    ]
    first = rows[0]
    assert first.type_code == "CandidateApplicationCreated"
    assert first.profile_id == "seekAnzPublicTest:candidateProfile:apply:P1"
    assert first.candidate_id == "seekAnzPublicTest:candidate:feed:C1"
    assert first.created_at == "2026-03-01T10:00:00.000Z"
    assert first.raw == item(1)


@pytest.mark.parametrize(
    "headers",
    [
        signed(body_of(item(9))),  # a signature of another body: the body was tampered with
        {"X-Request-Id": "r"},  # no signature at all
        signed(body_of(item(1)), secret="w" * 32),  # signed with the wrong secret
        {"Seek-Signature": ""},
        {"Seek-Signature": "not-hex-at-all-\xe9".encode("latin-1")},
        {"Seek-Signature": "00" * 64},
    ],
    ids=["tampered", "missing", "wrong-secret", "empty", "garbage", "zeros"],
)
def test_bad_signature_is_401_and_stores_nothing(
    http: httpx.Client, inbox: Inbox, headers: dict[str, str | bytes]
) -> None:
    body = body_of(item(1))
    response = post(http, body, headers)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid signature"}
    assert inbox.counts()["events"] == 0


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b"[]",
        b"{}",
        body_of(),  # no events
        body_of(*[item(n) for n in range(11)]),  # more than SEEK's 10 per attempt
        body_of({"type": "CandidateApplicationCreated", "createDateTime": "x"}),  # no id
        body_of(item(1, id=7)),  # id is not a string
        body_of(item(1), events="nope"),
        b"[" * 100_000,  # deeper than the JSON parser goes
        json.dumps({"events": [item(1)]}).encode(),  # no subscriptionId
    ],
    ids=[
        "text",
        "bad-utf8",
        "list",
        "empty",
        "no-events",
        "eleven",
        "no-id",
        "int-id",
        "events-string",
        "deep",
        "no-sub",
    ],
)
def test_signed_but_not_a_seek_webhook_is_401(
    http: httpx.Client, inbox: Inbox, body: bytes
) -> None:
    response = post(http, body, signed(body))
    assert response.status_code == 401
    assert "error" in response.json()
    assert inbox.counts()["events"] == 0


def test_same_delivery_twice_is_stored_once(http: httpx.Client, inbox: Inbox) -> None:
    body = body_of(item(1), item(2))
    assert post(http, body, signed(body)).status_code == 204
    before = inbox.events_after(0)
    assert post(http, body, signed(body)).status_code == 204
    overlapping = body_of(item(2), item(3))
    assert post(http, overlapping, signed(overlapping)).status_code == 204
    rows = inbox.events_after(0)
    assert rows[:2] == before  # same seq, same row
    assert [r.event_id[-2:] for r in rows] == ["E1", "E2", "E3"]


def test_a_full_batch_of_ten(http: httpx.Client, inbox: Inbox) -> None:
    body = body_of(*[item(n, hirer=hirer_id(n % 3)) for n in range(10)])
    assert post(http, body, signed(body)).status_code == 204
    assert inbox.counts()["events"] == 10
    assert inbox.pending_hirer_counts(0) == {hirer_id(0): 4, hirer_id(1): 3, hirer_id(2): 3}


def test_events_without_a_hirer_are_kept_as_unknown(http: httpx.Client, inbox: Inbox) -> None:
    body = body_of(item(1, hirer=None), item(2))
    assert post(http, body, signed(body)).status_code == 204
    assert [e.event_id[-2:] for e in inbox.unknown_hirer_events()] == ["E1"]
    assert inbox.counts() == {"events": 2, "callbacks": 0, "unknown_hirer": 1}


def test_unknown_fields_are_tolerated_and_kept(http: httpx.Client, inbox: Inbox) -> None:
    event = item(1, somethingNew={"a": 1})
    body = body_of(event, newTopLevel=True)
    assert post(http, body, signed(body)).status_code == 204
    [row] = inbox.events_after(0)
    assert row.raw == event


def test_wrong_method_and_oversize_body(http: httpx.Client, inbox: Inbox) -> None:
    assert http.get("/webhooks/seek").status_code == 405
    huge = b"x" * 2_000_001
    assert post(http, huge, signed(huge)).status_code == 413
    assert inbox.counts()["events"] == 0


def test_healthz(http: httpx.Client) -> None:
    body = body_of(item(1))
    post(http, body, signed(body))
    response = http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "inbox": {"events": 1, "callbacks": 0, "unknown_hirer": 0},
    }


def test_logs_name_the_request_but_never_the_secret_or_body(
    http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="seek_sync.receiver")
    body = body_of(item(1))
    post(http, body, signed(body))
    post(http, body, signed(body, secret="w" * 32))
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert text.count("request_id=req-123") == 2
    assert "status=204 events=1 new=0" not in text and "status=204 events=1 new=1" in text
    assert "status=401" in text
    for leak in (SECRET, "candidateProfile", hirer_id(1), signed(body)["Seek-Signature"]):
        assert leak not in text


async def test_concurrent_overlapping_deliveries(settings: ReceiverSettings, inbox: Inbox) -> None:
    rng = random.Random(7)
    bodies = [body_of(*[item(n) for n in rng.sample(range(100), 10)]) for _ in range(60)]
    with running_receiver(settings, inbox) as url:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            responses = await asyncio.gather(
                *[client.post("/webhooks/seek", content=b, headers=signed(b)) for b in bodies]
            )
    assert {r.status_code for r in responses} == {204}
    sent = {e["id"] for b in bodies for e in json.loads(b)["events"]}
    stored = [r.event_id for r in inbox.events_after(0)]
    assert sorted(stored) == sorted(sent)


class BrokenInbox(Inbox):
    def add_events(self, *args: Any, **kwargs: Any) -> int:
        raise sqlite3.OperationalError("database is locked")


def test_inbox_failure_is_503_so_seek_retries(settings: ReceiverSettings, tmp_path: Path) -> None:
    body = body_of(item(1))
    with running_receiver(settings, BrokenInbox(tmp_path / "broken.sqlite3")) as url:
        response = httpx.post(f"{url}/webhooks/seek", content=body, headers=signed(body))
    assert response.status_code == 503
    assert response.json() == {"error": "inbox unavailable"}
