"""Onderwijsregio's signed mutation callbacks: verification and parsing (no HTTP, no Dagster).

The Mutation Engine POSTs each result to our `callbackUrl` with `x-mutationengine-timestamp`,
`x-mutationengine-nonce` and `x-mutationengine-signature: v2=<base64 HMAC-SHA256>`. The HMAC covers
the callback URL's path and query, the raw body, the timestamp and the nonce (ats-apis.md, O6); the
exact layout of the signed string is unconfirmed and lives in `signing_string` alone.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from seek_sync.ats.base import CallbackResult

TIMESTAMP_HEADER = "x-mutationengine-timestamp"
NONCE_HEADER = "x-mutationengine-nonce"
SIGNATURE_HEADER = "x-mutationengine-signature"


def signing_string(path_and_query: str, body: bytes, timestamp: str, nonce: str) -> bytes:
    """ASSUMPTION (unconfirmed layout): `{timestamp}.{nonce}.{path?query}.` followed by the body."""
    return f"{timestamp}.{nonce}.{path_and_query}.".encode() + body


def sign(secret: bytes, path_and_query: str, body: bytes, timestamp: str, nonce: str) -> str:
    digest = hmac.new(
        secret, signing_string(path_and_query, body, timestamp, nonce), hashlib.sha256
    )
    return "v2=" + base64.b64encode(digest.digest()).decode()


def verify(
    secret: bytes,
    path_and_query: str,
    body: bytes,
    headers: dict[str, str],
    *,
    tolerance_seconds: float,
    now: float | None = None,
) -> str | None:
    """None when the callback is authentic and fresh; else the reason to refuse it."""
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    nonce = headers.get(NONCE_HEADER, "")
    signature = headers.get(SIGNATURE_HEADER, "")
    if not (timestamp.isdigit() and nonce and signature):
        return "missing signature headers"
    if abs((time.time() if now is None else now) - int(timestamp)) > tolerance_seconds:
        return "timestamp outside the tolerance window"
    expected = sign(secret, path_and_query, body, timestamp, nonce)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return "invalid signature"
    return None


class MutationCallback(BaseModel):
    """The callback body (field names as the sandbox sends them; unknown fields kept)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    idempotency_key: str = Field(alias="idempotencyKey", min_length=1)
    status: str
    candidate_ids: list[str] = Field(default_factory=list, alias="candidateIds")
    attachment_ids: list[str] = Field(default_factory=list, alias="attachmentIds")
    error: str | None = None

    def result(self) -> CallbackResult:
        return CallbackResult(
            idempotency_key=self.idempotency_key,
            succeeded=self.status == "succeeded",
            candidate_ids=tuple(self.candidate_ids),
            attachment_ids=tuple(self.attachment_ids),
            error=self.error,
        )


def results(raw_bodies: list[dict[str, Any]]) -> list[CallbackResult]:
    """Stored callback bodies (from the inbox) as outcomes; malformed ones are skipped."""
    found = []
    for raw in raw_bodies:
        try:
            found.append(MutationCallback.model_validate(raw).result())
        except ValueError:
            continue
    return found
