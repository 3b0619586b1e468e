"""Short-lived signed URLs for stored blobs, so an ATS can fetch a file too big to send inline.

A URL is `{public_base}/blobs/{key}?expires={unix}&type={mime}&signature={hex}` where the
signature is HMAC-SHA256 over the path, the expiry and the content type to serve, keyed with the
blob signing secret. The receiver app
serves a blob only for a valid signature and an unexpired time.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import quote, urlencode

from seek_sync.store.blobs import BlobStore

BLOB_PREFIX = "/blobs/"


def _signature(secret: bytes, path: str, expires: int, content_type: str) -> str:
    message = f"{path}\n{expires}\n{content_type}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def blob_path(key: str) -> str:
    """The URL path of a blob key (each segment percent-encoded, slashes kept)."""
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in key.split("/")):
        raise ValueError("blob key must be a relative path without empty, . or .. segments")
    return BLOB_PREFIX + quote(key, safe="/")


def sign_blob_url(
    public_base: str,
    key: str,
    secret: bytes,
    *,
    ttl_seconds: int,
    content_type: str = "application/octet-stream",
    now: float | None = None,
) -> str:
    """A URL for `key`, served as `content_type`, that stops working `ttl_seconds` from now."""
    path = blob_path(key)
    expires = int((time.time() if now is None else now) + ttl_seconds)
    signature = _signature(secret, path, expires, content_type)
    query = urlencode({"expires": expires, "type": content_type, "signature": signature})
    return f"{public_base.rstrip('/')}{path}?{query}"


def verify_blob_request(
    path: str,
    expires: str | None,
    content_type: str | None,
    signature: str | None,
    secret: bytes,
    now: float | None = None,
) -> bool:
    """Whether a request for `path` carries a valid, unexpired signature (constant-time)."""
    if not expires or not signature or not expires.isdigit() or content_type is None:
        return False
    if int(expires) < (time.time() if now is None else now):
        return False
    expected = _signature(secret, path, int(expires), content_type)
    return hmac.compare_digest(expected.encode(), signature.encode())


class SignedBlobSource:
    """The blobs an ATS target reads: bytes for small files, a signed, expiring URL for big ones."""

    def __init__(self, store: BlobStore, *, public_base: str, secret: bytes | None, ttl: int):
        self.store, self.public_base, self.secret, self.ttl = store, public_base, secret, ttl

    def read_bytes(self, blob_key: str) -> bytes:
        return self.store.read_bytes(blob_key)

    def signed_url(self, blob_key: str, content_type: str, *, now: float | None = None) -> str:
        """Valid for at least `ttl` seconds and the same URL throughout one `ttl` window, so a
        retried request (same idempotency key) carries the same payload as the first one."""
        if self.secret is None:
            raise ValueError("SEEK_SYNC_BLOB_SIGNING_SECRET is not set: no blob URL can be signed")
        window = int(time.time() if now is None else now) // self.ttl + 1
        return sign_blob_url(
            self.public_base,
            blob_key,
            self.secret,
            ttl_seconds=self.ttl,
            content_type=content_type,
            now=window * self.ttl,
        )
