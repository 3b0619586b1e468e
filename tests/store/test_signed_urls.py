"""Signed blob URLs: valid until expiry, bound to their path and secret."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from seek_sync.store.blobs import BlobStore
from seek_sync.store.signed_urls import (
    SignedBlobSource,
    blob_path,
    sign_blob_url,
    verify_blob_request,
)

SECRET = b"blob-signing-secret-for-tests"


def parts(url: str) -> tuple[str, str, str, str]:
    split = urlsplit(url)
    query = parse_qs(split.query)
    return split.path, query["expires"][0], query["type"][0], query["signature"][0]


def test_valid_until_expiry() -> None:
    url = sign_blob_url(
        "http://127.0.0.1:8701/",
        "h1/ab/abcdef",
        SECRET,
        ttl_seconds=60,
        now=1000,
        content_type="application/pdf",
    )
    path, expires, kind, signature = parts(url)
    assert url.startswith("http://127.0.0.1:8701/blobs/h1/ab/abcdef?")
    assert kind == "application/pdf"
    assert verify_blob_request(path, expires, kind, signature, SECRET, now=1059)
    assert not verify_blob_request(path, expires, kind, signature, SECRET, now=1061)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p, e, t, s: ("/blobs/h2/ab/abcdef", e, t, s),  # another hirer's blob
        lambda p, e, t, s: (p, str(int(e) + 3600), t, s),  # a later expiry
        lambda p, e, t, s: (p, e, "text/html", s),  # another content type
        lambda p, e, t, s: (p, e, t, s[:-1] + ("0" if s[-1] != "0" else "1")),  # forged
        lambda p, e, t, s: (p, None, t, s),
        lambda p, e, t, s: (p, e, t, None),
        lambda p, e, t, s: (p, "-5", t, s),
    ],
)
def test_tampering_is_refused(tamper) -> None:  # type: ignore[no-untyped-def]
    path, expires, kind, signature = parts(
        sign_blob_url("http://x", "h1/ab/abcdef", SECRET, ttl_seconds=60, now=1000)
    )
    assert verify_blob_request(path, expires, kind, signature, SECRET, now=1001)
    assert not verify_blob_request(*tamper(path, expires, kind, signature), SECRET, now=1001)


def test_other_secret_refused() -> None:
    path, expires, kind, signature = parts(sign_blob_url("http://x", "k", SECRET, ttl_seconds=60))
    assert verify_blob_request(path, expires, kind, signature, SECRET)
    assert not verify_blob_request(path, expires, kind, signature, b"another-secret")


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "./a"])
def test_bad_keys(key: str) -> None:
    with pytest.raises(ValueError, match="blob key"):
        blob_path(key)


def test_keys_are_percent_encoded() -> None:
    assert blob_path("h 1/é.pdf") == "/blobs/h%201/%C3%A9.pdf"


def test_blob_source_urls_repeat_within_a_window_and_stay_valid_for_a_ttl(tmp_path: Path) -> None:
    source = SignedBlobSource(
        BlobStore(tmp_path.as_uri()), public_base="http://r", secret=SECRET, ttl=900
    )
    first = source.signed_url("h/ab/abc", "application/pdf", now=9_000.0)
    assert source.signed_url("h/ab/abc", "application/pdf", now=9_899.0) == first  # a retry
    assert source.signed_url("h/ab/abc", "application/pdf", now=9_900.0) != first  # next window
    path, expires, content_type, signature = parts(first)
    assert int(expires) - 9_899 >= 900  # valid for a whole ttl however late in the window
    assert verify_blob_request(path, expires, content_type, signature, SECRET, now=9_899.0)
