"""Signed blob URLs served by the receiver app over real HTTP, from local files or S3."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx

from seek_sync.backend import open_blobs
from seek_sync.receiver.app import running_receiver
from seek_sync.runstate.inbox import Inbox
from seek_sync.settings import ReceiverSettings, load_receiver_settings
from seek_sync.store.signed_urls import sign_blob_url
from tests.backends import Backend

HIRER = "seekAnzPublicTest:organization:seek:AAAA1111"


def settings_for(tmp_path: Path, backend: Backend | None = None) -> ReceiverSettings:
    return load_receiver_settings(
        seek_webhook_secret="w" * 32,
        blob_signing_secret="blob-secret-for-tests-0123456789",
        **{"home": tmp_path, **(backend.overrides if backend else {})},
    )


def stored(settings: ReceiverSettings, data: bytes) -> str:
    store = open_blobs(settings)
    sink = store.sink(HIRER)
    sink.begin()
    sink.write(data)
    return sink.commit(hashlib.sha256(data).hexdigest())


def test_signed_url_serves_the_blob_until_it_expires(tmp_path: Path, backend: Backend) -> None:
    settings = settings_for(tmp_path, backend)
    assert settings.blob_url.startswith("s3://" if backend.is_server else "file://")
    data = b"%PDF-1.4 " + bytes(range(256)) * 4000
    key = stored(settings, data)
    secret = settings.blob_signing_secret.get_secret_value().encode()  # type: ignore[union-attr]
    with running_receiver(settings, Inbox(settings.inbox_path)) as base:
        good = sign_blob_url(base, key, secret, ttl_seconds=60, content_type="application/pdf")
        response = httpx.get(good)
        assert response.status_code == 200 and response.content == data
        assert response.headers["content-type"] == "application/pdf"
        assert int(response.headers["content-length"]) == len(data)
        expired = sign_blob_url(base, key, secret, ttl_seconds=-1)
        assert httpx.get(expired).status_code == 403
        assert (
            httpx.get(good.replace("type=application%2Fpdf", "type=text%2Fhtml")).status_code == 403
        )
        assert httpx.get(f"{base}/blobs/{key}").status_code == 403
        other = sign_blob_url(base, key, b"wrong-secret", ttl_seconds=60)
        assert httpx.get(other).status_code == 403
        missing = sign_blob_url(base, key.replace(key[-4:], "0000"), secret, ttl_seconds=60)
        assert httpx.get(missing).status_code == 404
