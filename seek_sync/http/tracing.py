"""Tracing headers on every request: our `User-Agent`, a fresh `X-Request-Id`, and (for SEEK,
whose conventions ask for it) the caller's `X-Session-Id`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from seek_sync import __version__

USER_AGENT = f"seek-sync/{__version__}"


def request_headers(user_agent: str = USER_AGENT) -> dict[str, str]:
    """`User-Agent` and a fresh `X-Request-Id` (read it back to name the request in errors)."""
    return {"User-Agent": user_agent, "X-Request-Id": str(uuid.uuid4())}


@dataclass(frozen=True)
class Tracing:
    """Request headers plus a session id: the client's own, unless the caller passes theirs."""

    session_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    user_agent: str = USER_AGENT

    def headers(self, session_id: str | None = None) -> dict[str, str]:
        return {**request_headers(self.user_agent), "X-Session-Id": session_id or self.session_id}
