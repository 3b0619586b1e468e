"""What every SEEK request shares: tracing headers and one retry policy (tenacity).

Retried: network errors, truncated bodies, and HTTP 429/502/503/504 (honouring Retry-After), with
exponential backoff and jitter, within a total deadline per call. Never retried: GraphQL FORBIDDEN
or BAD_USER_INPUT, refused credentials, other statuses.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
import tenacity

from seek_sync import __version__
from seek_sync.seek.errors import RetryableHTTPError, SeekTransportError, TruncatedDownloadError
from seek_sync.settings import Settings

log = logging.getLogger("seek_sync.seek")

RETRY_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class Tracing:
    """SEEK's tracing conventions: `User-Agent`, a fresh `X-Request-Id`, the caller's session."""

    session_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    user_agent: str = f"seek-sync/{__version__}"

    def headers(self, session_id: str | None = None) -> dict[str, str]:
        return {
            "User-Agent": self.user_agent,
            "X-Request-Id": str(uuid.uuid4()),
            "X-Session-Id": session_id or self.session_id,
        }


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Retry-After as seconds, from either of its forms (delta-seconds or an HTTP date)."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def raise_for_retryable(response: httpx.Response, request_id: str) -> None:
    if response.status_code in RETRY_STATUSES:
        raise RetryableHTTPError(
            response.status_code,
            retry_after=retry_after_seconds(response),
            request_id=request_id,
        )


def _retryable(error: BaseException) -> bool:
    return isinstance(
        error,
        SeekTransportError | httpx.TransportError | RetryableHTTPError | TruncatedDownloadError,
    )


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff with jitter, capped attempts, and a total deadline for one logical call."""

    max_attempts: int = 5
    initial_backoff: float = 0.5
    max_backoff: float = 30.0
    deadline: float = 120.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            max_attempts=settings.retry_max_attempts,
            initial_backoff=settings.retry_initial_backoff_seconds,
            max_backoff=settings.retry_max_backoff_seconds,
            deadline=settings.retry_deadline_seconds,
        )

    def _wait(self, state: tenacity.RetryCallState) -> float:
        backoff = tenacity.wait_exponential_jitter(
            multiplier=self.initial_backoff, max=self.max_backoff
        )(state)
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RetryableHTTPError) and error.retry_after is not None:
            return max(min(error.retry_after, self.max_backoff), self.initial_backoff)
        return backoff

    def retrying(self) -> tenacity.AsyncRetrying:
        return tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception(_retryable),
            wait=self._wait,
            stop=tenacity.stop_after_attempt(self.max_attempts)
            | tenacity.stop_before_delay(self.deadline),
            before_sleep=_log_retry,
            reraise=True,
        )


def _log_retry(state: tenacity.RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    request_id = getattr(error, "request_id", None)
    log.warning(
        "SEEK call failed (attempt %d, %s%s); retrying in %.2f s",
        state.attempt_number,
        type(error).__name__,
        f", request id {request_id}" if request_id else "",
        state.upcoming_sleep,
    )
