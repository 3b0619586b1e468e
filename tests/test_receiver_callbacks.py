"""Onderwijsregio callbacks into the receiver: signature good, tampered, stale and replayed."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path

import httpx
import pytest
import yaml

from seek_sync.ats import callbacks
from seek_sync.receiver.app import create_app, running_receiver
from seek_sync.receiver.ats_routes import MAX_CALLBACK_BYTES
from seek_sync.runstate.inbox import Inbox
from seek_sync.settings import SettingsError, load_receiver_settings

SECRET = "onderwijsregio-callback-secret-for-tests"
H1, H2 = (f"seekAnzPublicTest:organization:seek:HIRER{n}" for n in (1, 2))
PATH = f"/callbacks/onderwijsregio?hirer={H1}"


def post(
    base: str,
    body: bytes,
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
    secret: str = SECRET,
    path: str = PATH,
    to: str | None = None,
) -> httpx.Response:
    """A callback signed for `path`, posted to `to` (default: the same path)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(8)
    headers = {
        callbacks.TIMESTAMP_HEADER: stamp,
        callbacks.NONCE_HEADER: nonce,
        callbacks.SIGNATURE_HEADER: callbacks.sign(secret.encode(), path, body, stamp, nonce),
        "Content-Type": "application/json",
    }
    return httpx.post(base + (to or path), content=body, headers=headers)


def test_callbacks(tmp_path: Path) -> None:
    settings = load_receiver_settings(
        seek_webhook_secret="w" * 32, onderwijsregio_callback_secret=SECRET, home=tmp_path
    )
    inbox = Inbox(settings.inbox_path)
    body = json.dumps(
        {"idempotencyKey": "k1", "status": "succeeded", "candidateIds": ["rec123"]}
    ).encode()
    with running_receiver(settings, inbox) as base:
        assert post(base, body, nonce="n1").status_code == 204
        assert post(base, body, nonce="n1").status_code == 409  # the same nonce again
        assert post(base, body + b" ", nonce="n2").status_code == 204  # new nonce, new delivery
        other = f"/callbacks/onderwijsregio?hirer={H2}"
        tampered = post(base, body, nonce="n3", path=other, to=PATH)
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


def test_each_hirer_is_verified_with_the_secret_its_map_entry_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = "hirer-one-own-callback-secret-0123"
    monkeypatch.setenv("SEEK_SYNC_TEST_H1_CALLBACK_SECRET", own)
    targets = {
        "hirers": {
            H1: {
                "target": "onderwijsregio",
                "api_key_env": "SEEK_SYNC_TEST_UNSET_KEY",  # never read by the receiver
                "callback_secret_env": "SEEK_SYNC_TEST_H1_CALLBACK_SECRET",
            }
        }
    }
    (tmp_path / "targets.yaml").write_text(yaml.safe_dump(targets), encoding="utf-8")
    settings = load_receiver_settings(
        seek_webhook_secret="w" * 32,
        onderwijsregio_callback_secret=SECRET,
        hirer_targets_path=tmp_path / "targets.yaml",
        home=tmp_path,
    )
    inbox = Inbox(settings.inbox_path)
    body = json.dumps({"idempotencyKey": "k1", "status": "succeeded"}).encode()
    h2_path = f"/callbacks/onderwijsregio?hirer={H2}"
    with running_receiver(settings, inbox) as base:
        assert post(base, body, secret=SECRET).status_code == 401  # H1 has its own secret
        assert post(base, body, secret=own).status_code == 204
        assert post(base, body, secret=own, path=h2_path).status_code == 401
        assert post(base, body, secret=SECRET, path=h2_path).status_code == 204  # the fallback
    assert [c.hirer_id for c in inbox.callbacks_after(0)] == [H1, H2]
    monkeypatch.delenv("SEEK_SYNC_TEST_H1_CALLBACK_SECRET")
    with pytest.raises(SettingsError, match="SEEK_SYNC_TEST_H1_CALLBACK_SECRET"):
        create_app(settings, inbox)  # a named secret that is not set stops the receiver


@pytest.mark.parametrize(
    "query",
    [
        "hirer=%00",
        "hirer=%E2%80%AE",
        "hirer=..%2F..%2Fx",
        "hirer=unknown_hirer",
        f"hirer={H1}&hirer={H2}",
    ],
    ids=["nul", "rlo", "dotdot", "placeholder", "twice"],
)
def test_a_callback_for_a_malformed_hirer_is_400_and_not_stored(tmp_path: Path, query: str) -> None:
    settings = load_receiver_settings(
        seek_webhook_secret="w" * 32, onderwijsregio_callback_secret=SECRET, home=tmp_path
    )
    inbox = Inbox(settings.inbox_path)
    body = json.dumps({"idempotencyKey": "k1", "status": "succeeded"}).encode()
    with running_receiver(settings, inbox) as base:
        answer = post(base, body, path=f"/callbacks/onderwijsregio?{query}")
    assert answer.status_code == 400
    assert inbox.counts()["callbacks"] == 0


def test_an_oversize_callback_is_413_before_any_check(tmp_path: Path) -> None:
    settings = load_receiver_settings(
        seek_webhook_secret="w" * 32, onderwijsregio_callback_secret=SECRET, home=tmp_path
    )
    big = b"{" + b" " * MAX_CALLBACK_BYTES + b"}"
    with running_receiver(settings, Inbox(settings.inbox_path)) as base:
        assert post(base, big).status_code == 413
        chunked = httpx.post(base + PATH, content=iter([big[:600_000], big[600_000:]]))
        assert chunked.status_code == 413
