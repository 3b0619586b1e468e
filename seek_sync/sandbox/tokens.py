"""Partner tokens of the sandbox's fake `POST /oauth/token` (client-credentials, JSON body)."""

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


class TokenIssuer:
    """Issues opaque bearer tokens with a configurable lifetime; can revoke them all at once."""

    def __init__(self, lifetime_seconds: int) -> None:
        self.lifetime_seconds = lifetime_seconds
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}
        self.issued = 0

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
        """Whether an `Authorization` header carries a live token of ours."""
        if not authorization or not authorization.startswith("Bearer "):
            return False
        token = authorization.removeprefix("Bearer ").strip()
        with self._lock:
            expiry = self._expiry.get(token)
        return expiry is not None and expiry > time.monotonic()

    def expire_all(self) -> None:
        """Make every issued token expired (the "token expiry mid-run" fault)."""
        with self._lock:
            self._expiry = dict.fromkeys(self._expiry, 0.0)
