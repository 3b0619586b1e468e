"""Errors of the SEEK client. Messages carry the request id and never a token or secret.

Every one is a `SeekError`; the transport and status ones are also the neutral classes of
`seek_sync.http.errors`, which is how the shared retry policy knows to retry them.
"""

from __future__ import annotations

from seek_sync.http.errors import (
    RetryableError,
    RetryableStatusError,
    ServiceError,
    ServiceStatusError,
    ServiceTransportError,
)


class SeekError(ServiceError):
    """Base of every SEEK client error."""

    service = "SEEK"


class SeekAuthError(SeekError):
    """The token endpoint refused our credentials or audience; retrying will not help."""


class SeekForbiddenError(SeekError):
    """SEEK refused a request for a hirer (no relationship, or the token may not); not retried."""


class RetryableHTTPError(SeekError, RetryableStatusError):
    """A status worth retrying (429, 502, 503, 504), with the server's Retry-After if any."""


class UnexpectedStatusError(SeekError, ServiceStatusError):
    """A status that is neither success nor worth retrying."""


class SeekGraphQLError(SeekError):
    """GraphQL `errors[]`: the first error's code (FORBIDDEN, BAD_USER_INPUT, ...) and message."""

    def __init__(
        self, code: str, message: str, *, path: list[str | int] | None, request_id: str | None
    ) -> None:
        self.code = code
        self.path = path
        super().__init__(f"SEEK GraphQL {code}: {message}", request_id=request_id)


class MalformedResponseError(SeekError):
    """A response that does not have the shape SEEK documents."""


class DownloadRefusedError(SeekError):
    """The URL is not on an allow-listed SEEK origin; no request was made."""


class DownloadError(SeekError):
    """An attachment could not be downloaded; `reason` is a stable status word."""

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        request_id: str | None = None,
        status: int | None = None,
    ) -> None:
        self.reason = reason
        self.status = status  # SEEK's HTTP status, when it answered one
        super().__init__(message, request_id=request_id)


class TruncatedDownloadError(DownloadError, RetryableError):
    """Fewer bytes arrived than Content-Length promised (retried)."""

    def __init__(self, received: int, expected: int, *, request_id: str | None = None) -> None:
        super().__init__(
            "truncated",
            f"download truncated: {received} of {expected} bytes",
            request_id=request_id,
        )


class SeekTransportError(SeekError, ServiceTransportError):
    """The connection failed or dropped (reset, timeout, incomplete body); retried."""
