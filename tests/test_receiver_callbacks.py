"""Onderwijsregio callbacks into the receiver: signature good, tampered, stale and replayed."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path

import httpx

from seek_sync.ats import callbacks
from seek_sync.inbox import Inbox
from seek_sync.receiver import running_receiver
from seek_sync.settings import load_settings

SECRET = "onderwijsregio-callback-secret-for-tests"
PATH = "/callbacks/onderwijsregio?hirer=h1"


def post(
    base: str,
    body: bytes,
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
    secret: str = SECRET,
    path: str = PATH,
) -> httpx.Response:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(8)
    headers = {
        callbacks.TIMESTAMP_HEADER: stamp,
        callbacks.NONCE_HEADER: nonce,
        callbacks.SIGNATURE_HEADER: callbacks.sign(secret.encode(), path, body, stamp, nonce),
        "Content-Type": "application/json",
    }
    return httpx.post(base + PATH, content=body, headers=headers)


def test_callbacks(tmp_path: Path) -> None:
    settings = load_settings(
        seek_client_id="x",
        seek_client_secret="y",
        seek_webhook_secret="w" * 32,
        onderwijsregio_callback_secret=SECRET,
        home=tmp_path,
    )
    inbox = Inbox(settings.inbox_path)  # type: ignore[arg-type]
    body = json.dumps(
        {"idempotencyKey": "k1", "status": "succeeded", "candidateIds": ["rec123"]}
    ).encode()
    with running_receiver(settings, inbox) as base:
        assert post(base, body, nonce="n1").status_code == 204
        assert post(base, body, nonce="n1").status_code == 409  # the same nonce again
        assert post(base, body + b" ", nonce="n2").status_code == 204  # new nonce, new delivery
        tampered = post(base, body, nonce="n3", path="/callbacks/onderwijsregio?hirer=h2")
        assert tampered.status_code == 401
        assert post(base, body, nonce="n4", secret="another-secret").status_code == 401
        stale = post(base, body, nonce="n5", timestamp=int(time.time()) - 3600)
        assert stale.status_code == 401
        missing = httpx.post(base + PATH, content=body)
        assert missing.status_code == 401
        assert post(base, b'{"status": 1}', nonce="n6").status_code == 400
    stored = inbox.callbacks_after(0)
    assert [c.callback_id for c in stored] == ["onderwijsregio:n1", "onderwijsregio:n2"]
    assert stored[0].idempotency_key == "k1" and stored[0].status == "succeeded"
    [result] = callbacks.results([stored[0].raw])
    assert result.succeeded and result.candidate_ids == ("rec123",)
