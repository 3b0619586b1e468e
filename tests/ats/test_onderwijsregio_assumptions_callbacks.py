"""Callback assumptions (body shape, signed-string layout, timestamp tolerance, retries), by name,
and a callback signed by the fake itself, forwarded to our receiver: good, tampered, replayed."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from pathlib import Path

import httpx

from seek_sync.ats import callbacks
from seek_sync.receiver.app import running_receiver
from seek_sync.runstate.inbox import Inbox
from seek_sync.sandbox.onderwijsregio_callbacks import callback_signing_string, sign_callback
from seek_sync.settings import load_receiver_settings
from tests.ats.onderwijsregio_stack import onderwijsregio_stack
from tests.sandbox.onderwijsregio_helpers import Endpoint, Received, endpoint

SECRET = "onderwijsregio-callback-secret-for-tests"
PATH = "/callbacks/onderwijsregio?hirer=seekAnzPublicTest:organization:seek:H1"
BODY = b'{"idempotencyKey": "k1", "status": "succeeded", "candidateIds": ["recA"]}'


async def test_assumption_callback_body_shape(tmp_path: Path) -> None:
    async with onderwijsregio_stack(tmp_path) as stack:
        stack.fake.set_faults(fail_after_accept=1)
        await stack.client.create({"firstName": "A"}, key="fails", callback_url=stack.callback_url)
        await stack.fake.settled()
        await stack.client.create({"firstName": "B"}, key="works", callback_url=stack.callback_url)
        failed, succeeded = await stack.callbacks(2)
        rows = stack.inbox.callbacks_after(0)
    assert [(r.idempotency_key, r.status) for r in rows] == [
        ("fails", "failed"),
        ("works", "succeeded"),
    ]
    for row in rows:  # what we rely on, and the fake's extra fields kept as they came
        assert {"idempotencyKey", "status", "candidateIds", "error"} <= set(row.raw)
        assert {"operation", "attachmentIds", "completedAt"} <= set(row.raw)
    assert not failed.succeeded and "after it was accepted" in (failed.error or "")
    assert failed.candidate_ids == ()
    assert succeeded.succeeded and succeeded.error is None
    [candidate] = stack.fake.candidates()
    assert succeeded.candidate_ids == (candidate["id"],)


def test_assumption_callback_signing_string_layout() -> None:
    """`{timestamp}.{nonce}.{path?query}.` + raw body, in the fake and in our client alike."""
    expected = b"1700000000.n0nce." + PATH.encode() + b"." + BODY
    assert callbacks.signing_string(PATH, BODY, "1700000000", "n0nce") == expected
    assert callback_signing_string(PATH, BODY, "1700000000", "n0nce") == expected
    ours = callbacks.sign(SECRET.encode(), PATH, BODY, "1700000000", "n0nce")
    assert ours == sign_callback(SECRET, PATH, BODY, "1700000000", "n0nce")
    assert ours.startswith("v2=")
    headers = {
        callbacks.TIMESTAMP_HEADER: "1700000000",
        callbacks.NONCE_HEADER: "n0nce",
        callbacks.SIGNATURE_HEADER: ours,
    }
    verify = callbacks.verify
    assert verify(SECRET.encode(), PATH, BODY, headers, tolerance_seconds=1, now=1.7e9) is None
    moved = {**headers, callbacks.NONCE_HEADER: "other"}  # each part is covered
    assert verify(SECRET.encode(), PATH, BODY, moved, tolerance_seconds=1, now=1.7e9)
    assert verify(SECRET.encode(), "/callbacks/onderwijsregio", BODY, headers,
                  tolerance_seconds=1, now=1.7e9)  # fmt: skip


def _signed(stamp: int, nonce: str) -> dict[str, str]:
    return {
        callbacks.TIMESTAMP_HEADER: str(stamp),
        callbacks.NONCE_HEADER: nonce,
        callbacks.SIGNATURE_HEADER: sign_callback(SECRET, PATH, BODY, str(stamp), nonce),
    }


def test_assumption_callback_timestamp_tolerance_is_300_seconds(tmp_path: Path) -> None:
    for tolerance, cases in (
        (None, [(-290, 204), (-310, 401), (290, 204), (310, 401), (-3600, 401)]),
        (5000.0, [(-3600, 204), (-5100, 401)]),
    ):
        extra = (
            {} if tolerance is None else {"onderwijsregio_callback_tolerance_seconds": tolerance}
        )
        home = tmp_path / str(tolerance)
        settings = load_receiver_settings(
            seek_webhook_secret="w" * 32,
            onderwijsregio_callback_secret=SECRET,
            home=home,
            **extra,
        )
        assert settings.onderwijsregio_callback_tolerance_seconds == (tolerance or 300)
        with running_receiver(settings, Inbox(settings.inbox_path)) as base:
            for offset, status in cases:
                headers = _signed(int(time.time()) + offset, secrets.token_hex(8))
                answer = httpx.post(base + PATH, content=BODY, headers=headers)
                assert answer.status_code == status, (tolerance, offset, answer.text)
                if status == 401:
                    assert answer.json() == {"error": "timestamp outside the tolerance window"}


def _verified(received: Received, secret: str) -> bool:
    return (
        callbacks.verify(
            secret.encode(), received.path, received.body, received.headers, tolerance_seconds=300
        )
        is None
    )


async def _wait(receiver: Endpoint, count: int) -> None:
    for _ in range(500):
        if len(receiver.received) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("no callback arrived")


async def test_assumption_callbacks_retried_with_a_fresh_timestamp_and_nonce(
    tmp_path: Path,
) -> None:
    async with onderwijsregio_stack(tmp_path) as stack:
        secret = stack.sandbox.info()["onderwijsregio_callback_secret"]
        with endpoint() as receiver:
            receiver.fail_next = 2
            await stack.client.create({"firstName": "A"}, key="k", callback_url=receiver.base_url)
            await _wait(receiver, 1)
            await stack.fake.settled()
        attempts = receiver.attempts
        nonces = [a.headers[callbacks.NONCE_HEADER] for a in attempts]
        [delivered] = receiver.received
        assert len(attempts) == 3 and delivered.headers[callbacks.NONCE_HEADER] == nonces[-1]
        assert len(set(nonces)) == 3
        assert all(_verified(a, secret) for a in attempts)
        assert attempts[0].body == attempts[2].body
        gaps = [b.at - a.at for a, b in itertools.pairwise(attempts)]
        assert gaps[1] > gaps[0]  # exponential backoff


async def test_callback_signed_by_the_fake_good_tampered_and_replayed(tmp_path: Path) -> None:
    async with onderwijsregio_stack(tmp_path) as stack:
        with endpoint() as catcher:
            url = catcher.base_url + PATH
            await stack.client.create({"firstName": "A"}, key="k", callback_url=url)
            await _wait(catcher, 1)
        [got] = catcher.received
        assert got.path == PATH
        keep = (callbacks.TIMESTAMP_HEADER, callbacks.NONCE_HEADER, callbacks.SIGNATURE_HEADER)
        headers = {k: got.headers[k] for k in keep}
        async with httpx.AsyncClient(base_url=stack.receiver) as http:
            tampered = got.body.replace(b'"succeeded"', b'"failed"')
            assert tampered != got.body
            assert (await http.post(PATH, content=tampered, headers=headers)).status_code == 401
            signature = headers[callbacks.SIGNATURE_HEADER]
            forged = {**headers, callbacks.SIGNATURE_HEADER: signature[:-4] + "AAA="}
            assert (await http.post(PATH, content=got.body, headers=forged)).status_code == 401
            renonced = {**headers, callbacks.NONCE_HEADER: "a-fresh-nonce"}
            assert (await http.post(PATH, content=got.body, headers=renonced)).status_code == 401
            other_path = PATH.replace("seek:H1", "seek:H2")
            moved = await http.post(other_path, content=got.body, headers=headers)
            assert moved.status_code == 401
            assert (await http.post(PATH, content=got.body, headers=headers)).status_code == 204
            replayed = await http.post(PATH, content=got.body, headers=headers)
            assert replayed.status_code == 409 and replayed.json() == {"error": "replayed nonce"}
        [row] = stack.inbox.callbacks_after(0)
        assert (row.idempotency_key, row.status) == ("k", "succeeded")
