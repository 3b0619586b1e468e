"""Hirer ids are checked wherever one enters: the validator, webhooks, the poller, the inbox and
the sensor's partitions. A malformed id (NUL, a right-to-left override, `../`) never becomes a
routing key, and is logged only as a short ASCII repr."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from seek_sync.ids import (
    InvalidHirerIdError,
    check_hirer_id,
    hirer_label,
    hirer_token,
    is_hirer_id,
    shown,
)
from seek_sync.partitions import HIRER_TAG, HIRERS_TAG, hirer_tags
from seek_sync.pipeline.naming import KeyMaker
from seek_sync.poller import inbox_rows, poll
from seek_sync.receiver.app import running_receiver
from seek_sync.runstate.inbox import UNKNOWN_HIRER, Inbox, InboxCallback, InboxEvent
from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.server import SandboxServer
from seek_sync.sandbox.world import StreamEvent
from seek_sync.seek.client import SeekClient
from seek_sync.seek.events import PolledEvent
from seek_sync.settings import load_receiver_settings
from tests.seek.test_client_http import client_settings

GOOD = "seekAnzPublicTest:organization:seek:93WyyF1h"
HOSTILE = "seekAnzPublicTest:organization:seek:\x00\u202e../../etc/passwd"
SECRET = "s" * 32

MALFORMED = [
    "",
    "unknown_hirer",
    HOSTILE,
    "\x00",
    "\u202e",
    "../",
    "seekAnzPublicTest:organization:seek:../x",
    "seekAnzPublicTest:organization:seek:",
    "seekAnzPublicTest:organization:seek:abc\n",
    "seekAnzPublicTest:organization:seek:ab c",
    "seekAnzPublicTest:organization:seek:ab\u0661",  # a non-ASCII digit
    "seekAnzPublicTest:organization:seek:" + "a" * 65,
    "seekAnz:organization:seek:abc:def",
    "otherScheme:organization:seek:abc",
    "seekAnz:candidate:feed:abc",
    " seekAnz:organization:seek:abc",
]


@pytest.mark.parametrize(
    "value",
    [
        GOOD,
        "seekAnz:organization:seek:93WyyF1h",
        "global:organization:seek:A",
        "globalPublicTest:organization:seek:" + "z9" * 32,
    ],
)
def test_hirer_ids_of_every_scheme_are_valid(value: str) -> None:
    assert is_hirer_id(value) and check_hirer_id(value) == value


@pytest.mark.parametrize("value", [*MALFORMED, None, 7, b"seekAnz:organization:seek:abc"])
def test_malformed_hirer_ids_are_refused(value: object) -> None:
    assert not is_hirer_id(value)
    with pytest.raises(InvalidHirerIdError) as caught:
        check_hirer_id(value)
    assert isinstance(caught.value, ValueError)
    assert str(caught.value).isascii() and "\x00" not in str(caught.value)


def test_shown_is_short_ascii() -> None:
    text = shown(HOSTILE + "x" * 10_000)
    assert text.isascii() and text.isprintable() and len(text) <= 200
    assert "\\x00" in text and "\\u202e" in text


# --- the inbox: the last line of defence ------------------------------------------------------


def test_inbox_stores_no_malformed_hirer(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path / "inbox.sqlite3")
    good = InboxEvent("e1", "CandidateApplicationCreated", "poll", GOOD, "p1")
    bad = InboxEvent("e2", "CandidateApplicationCreated", "poll", HOSTILE, "p2")
    with pytest.raises(InvalidHirerIdError):
        inbox.add_events([good, bad], cursor=("seek_events", "c1"))
    assert inbox.counts()["events"] == 0 and inbox.get_cursor("seek_events") is None
    unknown = InboxEvent("e3", "CandidateApplicationCreated", "poll", UNKNOWN_HIRER, "p3")
    assert inbox.add_events([good, unknown]) == 2  # the placeholder stays allowed
    with pytest.raises(InvalidHirerIdError):
        inbox.add_callbacks([InboxCallback("c1", "onderwijsregio", hirer_id="../x")])
    assert inbox.add_callbacks([InboxCallback("c2", "onderwijsregio")]) == 1
    with pytest.raises(InvalidHirerIdError):
        inbox.resolve_hirer("e3", "\u202e")
    assert inbox.resolve_hirer("e3", GOOD)
    assert {e.hirer_id for e in inbox.events_after(0)} == {GOOD}


# --- webhooks -----------------------------------------------------------------------------------


def event(n: int, hirer: str | None) -> dict[str, Any]:
    return {
        "id": f"seekAnzPublicTest:event:events:E{n}",
        "type": "CandidateApplicationCreated",
        "createDateTime": "2026-03-01T10:00:00.000Z",
        "candidateApplicationProfileId": f"seekAnzPublicTest:candidateProfile:apply:P{n}",
        **({"hirerId": hirer} if hirer is not None else {}),
    }


def delivery(*events: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"events": list(events), "subscriptionId": "sub-1"}).encode()
    signature = hmac.new(SECRET.encode(), body, hashlib.sha512).hexdigest()
    return body, {"Seek-Signature": signature, "Content-Type": "application/json"}


@pytest.fixture
def webhook(tmp_path: Path) -> Iterator[tuple[httpx.Client, Inbox]]:
    settings = load_receiver_settings(seek_webhook_secret=SECRET, home=tmp_path)
    inbox = Inbox(tmp_path / "inbox.sqlite3")
    with running_receiver(settings, inbox) as url, httpx.Client(base_url=url) as http:
        yield http, inbox


def test_a_signed_event_with_a_hostile_hirer_is_rejected_and_the_rest_stored(
    webhook: tuple[httpx.Client, Inbox], caplog: pytest.LogCaptureFixture
) -> None:
    http, inbox = webhook
    caplog.set_level(logging.INFO, logger="seek_sync.receiver")
    body, headers = delivery(event(1, GOOD), event(2, HOSTILE), event(3, None), event(4, "../"))
    assert http.post("/webhooks/seek", content=body, headers=headers).status_code == 204
    stored = {e.event_id[-2:]: e.hirer_id for e in inbox.events_after(0)}
    assert stored == {"E1": GOOD, "E3": UNKNOWN_HIRER}
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert text.count("is not a SEEK hirer id") == 2
    assert "status=204 events=2 new=2 rejected=2" in text
    assert "\x00" not in text and "\u202e" not in text and "\\u202e" in text


def test_a_delivery_whose_every_hirer_is_malformed_is_400(
    webhook: tuple[httpx.Client, Inbox],
) -> None:
    http, inbox = webhook
    body, headers = delivery(event(1, "\x00"), event(2, "\u202e"), event(3, "../"))
    answer = http.post("/webhooks/seek", content=body, headers=headers)
    assert answer.status_code == 400
    assert inbox.counts()["events"] == 0


# --- the poller ---------------------------------------------------------------------------------


def polled(n: int, hirer: str | None) -> PolledEvent:
    return PolledEvent(f"ev{n}", "CandidateApplicationCreated", hirer, f"p{n}", None, "t", "t", {})


def test_poller_drops_events_with_a_malformed_hirer() -> None:
    rows, rejected = inbox_rows([polled(1, GOOD), polled(2, HOSTILE), polled(3, None)])
    assert [(r.event_id, r.hirer_id) for r in rows] == [("ev1", GOOD), ("ev3", UNKNOWN_HIRER)]
    assert rejected == 1


async def test_poller_against_the_sandbox_skips_a_hostile_hirer_event(tmp_path: Path) -> None:
    with SandboxServer(SandboxConfig(applications=5, edge_cases=False)) as sandbox:
        world = sandbox.state.world
        now = datetime.now(UTC)
        world.publish(events=[StreamEvent("bad-1", "HirerRelationshipChanged", now, now, HOSTILE)])
        inbox = Inbox(tmp_path / "inbox.sqlite3")
        async with httpx.AsyncClient(timeout=30) as http:
            client = SeekClient(http, client_settings(sandbox, tmp_path))
            report = await poll(client, inbox, budget_seconds=30)
        assert report.rejected == 1 and not report.errors
        stored = inbox.events_after(0)
        assert [e.event_id for e in stored] == [e.id for e in world.events if e.id != "bad-1"]
        assert all(is_hirer_id(e.hirer_id) for e in stored)
        assert inbox.get_cursor("seek_events") == report.cursor  # the page still counts as read


# --- the sensor's partitions ------------------------------------------------------------------


def test_only_hirer_ids_become_partitions(caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    log = logging.getLogger("test.partitions")
    maker = KeyMaker(Inbox(tmp_path / "inbox.sqlite3"), lambda: {GOOD: "Good Co"}, log)
    with caplog.at_level(logging.WARNING, logger="test.partitions"):
        assert maker.unready([GOOD, HOSTILE, "../"]) == {HOSTILE, "../"}
    assert list(maker.keys) == [GOOD]  # only the SEEK hirer id got a key
    assert len(caplog.records) == 2
    assert all(r.getMessage().isascii() for r in caplog.records)


# --- how hirers are named in tags, previews and checks ------------------------------------------


def test_hirer_labels_keep_the_distinguishing_token_and_drop_hostile_characters() -> None:
    assert hirer_label(GOOD, "Acme Pty Ltd") == f"Acme Pty Ltd ({hirer_token(GOOD)})"
    assert hirer_label(GOOD, None) == hirer_token(GOOD) == GOOD.rsplit(":", 1)[1]
    hostile = hirer_label(GOOD, "Evil\u202eCorp\n\tLtd\x00")
    assert hostile == f"EvilCorp Ltd ({hirer_token(GOOD)})"
    long = hirer_label(GOOD, "x" * 500)
    assert len(long) < 80 and long.endswith(f"… ({hirer_token(GOOD)})")


def test_hirer_tags_name_a_run_of_one_hirer_by_its_key_and_count_the_others() -> None:
    keys = [f"hirer-number-{i}-H{i:03d}" for i in range(50)]
    assert hirer_tags(keys[:1]) == {HIRERS_TAG: "1", HIRER_TAG: "hirer-number-0-H000"}
    assert hirer_tags(keys) == {HIRERS_TAG: "50"}  # a list would be cut in the runs list
