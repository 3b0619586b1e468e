"""Tokens of the fake SEEK: partner tokens (`POST /oauth/token`, client-credentials, JSON body)
and browser tokens (`POST /auth/token`: a partner token exchanged for one hirer, user and scope)."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    expires_in: int
    token_type: str = "Bearer"


@dataclass(frozen=True)
class BrowserToken:
    """What a browser token may do: one hirer's data, within its scopes, until it expires."""

    hirer_id: str
    scopes: frozenset[str]
    user_id: str
    expires_at: float


def _bearer(authorization: str | None) -> str | None:
    if not authorization or not authorization.startswith("Bearer "):
        return None
    return authorization.removeprefix("Bearer ").strip()


class TokenIssuer:
    """Issues opaque bearer tokens with configurable lifetimes; can revoke them all at once."""

    def __init__(self, lifetime_seconds: int, browser_lifetime_seconds: int = 3600) -> None:
        self.lifetime_seconds = lifetime_seconds
        self.browser_lifetime_seconds = browser_lifetime_seconds
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}
        self._browser: dict[str, BrowserToken] = {}
        self.issued = 0
        self.browser_issued = 0

    def issue(self) -> TokenGrant:
        token = "sbx." + secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            # Forget long-dead tokens so a long soak does not grow without bound.
            self._expiry = {t: e for t, e in self._expiry.items() if e > now - 3600}
            self._expiry[token] = now + self.lifetime_seconds
            self.issued += 1
        return TokenGrant(access_token=token, expires_in=self.lifetime_seconds)

    def valid(self, authorization: str | None) -> bool:
        """Whether an `Authorization` header carries a live partner token of ours."""
        token = _bearer(authorization)
        with self._lock:
            expiry = self._expiry.get(token or "")
        return expiry is not None and expiry > time.monotonic()

    def issue_browser(self, hirer_id: str, scopes: frozenset[str], user_id: str) -> TokenGrant:
        token = "sbxb." + secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            self._browser = {t: b for t, b in self._browser.items() if b.expires_at > now - 3600}
            expires_at = now + self.browser_lifetime_seconds
            self._browser[token] = BrowserToken(hirer_id, scopes, user_id, expires_at)
            self.browser_issued += 1
        return TokenGrant(access_token=token, expires_in=self.browser_lifetime_seconds)

    def browser(self, authorization: str | None) -> BrowserToken | None:
        """The live browser token an `Authorization` header carries, if any."""
        token = _bearer(authorization)
        with self._lock:
            grant = self._browser.get(token or "")
        return grant if grant is not None and grant.expires_at > time.monotonic() else None

    def expire_all(self) -> None:
        """Make every issued token expired (the "token expiry mid-run" fault)."""
        with self._lock:
            self._expiry = dict.fromkeys(self._expiry, 0.0)
            self._browser = {
                t: BrowserToken(b.hirer_id, b.scopes, b.user_id, 0.0)
                for t, b in self._browser.items()
            }
