"""Which answers are worth retrying, and how long the server asked us to wait (Retry-After)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from seek_sync.http.errors import RetryableStatusError

RETRY_STATUSES = frozenset({429, 502, 503, 504})


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


def raise_for_retryable(
    response: httpx.Response,
    request_id: str,
    error: type[RetryableStatusError],
    *,
    service: str | None = None,
) -> None:
    """Raise the caller's `error` class for a status worth retrying; otherwise do nothing."""
    if response.status_code in RETRY_STATUSES:
        raise error(
            response.status_code,
            retry_after=retry_after_seconds(response),
            service=service,
            request_id=request_id,
        )
