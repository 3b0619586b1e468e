"""Signed tokens of the attachment proxy: which file an ATS may fetch, for whom, until when.

A token is `{payload}.{signature}`: the payload is base64url JSON naming the hirer, the candidate
profile, the attachment, SEEK's download URL, the target and an expiry (unix seconds); the
signature is hex HMAC-SHA256 of the payload text with the URL signing key. `verify` checks the
signature (constant time) before it reads anything else, then the expiry. Tokens carry ids and a
URL, never a credential; the key never leaves the run steps and the proxy.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time

from pydantic import BaseModel, ConfigDict, Field, ValidationError

PROXY_PREFIX = "/attachments/"


class ProxyClaims(BaseModel):
    """What one token allows: one attachment of one hirer, for one target, until `expires`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hirer_id: str = Field(min_length=1)
    profile_id: str = Field(min_length=1)
    attachment_id: str = Field(min_length=1)
    url: str = Field(min_length=1)
    target: str = Field(min_length=1)
    expires: int


class TokenRefused(Exception):
    """A token that is malformed, wrongly signed or expired; `reason` is one stable word."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"proxy token refused: {reason}")


def _signature(secret: bytes, payload: str) -> str:
    return hmac.new(secret, payload.encode("ascii"), hashlib.sha256).hexdigest()


def sign_token(claims: ProxyClaims, secret: bytes) -> str:
    raw = json.dumps(claims.model_dump(), separators=(",", ":"), sort_keys=True).encode()
    payload = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
    return f"{payload}.{_signature(secret, payload)}"


def proxy_url(public_base: str, claims: ProxyClaims, secret: bytes) -> str:
    """The URL an ATS fetches the attachment from."""
    return f"{public_base.rstrip('/')}{PROXY_PREFIX}{sign_token(claims, secret)}"


def expiry(ttl_seconds: int, *, now: float | None = None) -> int:
    """An expiry at least `ttl_seconds` away that stays the same throughout one `ttl` window, so a
    retried request (same idempotency key) carries the same URL as the first one."""
    window = int(time.time() if now is None else now) // ttl_seconds + 2
    return window * ttl_seconds


def verify_token(token: str, secret: bytes, *, now: float | None = None) -> ProxyClaims:
    """The claims of a valid, unexpired token, or `TokenRefused`."""
    payload, dot, signature = token.partition(".")
    if not dot or not payload.isascii() or not signature.isascii():
        raise TokenRefused("malformed")
    if not hmac.compare_digest(_signature(secret, payload).encode(), signature.encode()):
        raise TokenRefused("bad_signature")
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = ProxyClaims.model_validate(json.loads(raw))
    except (binascii.Error, ValueError, ValidationError):
        raise TokenRefused("malformed") from None
    if claims.expires < (time.time() if now is None else now):
        raise TokenRefused("expired")
    return claims
