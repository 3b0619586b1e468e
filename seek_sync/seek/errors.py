"""Errors of the SEEK client. Messages carry the request id and never a token or secret."""

from __future__ import annotations


class SeekError(Exception):
    """Base of every SEEK client error."""

    def __init__(self, message: str, *, request_id: str | None = None) -> None:
        self.request_id = request_id
        suffix = f" (request id {request_id})" if request_id else ""
        super().__init__(message + suffix)


class SeekAuthError(SeekError):
    """The token endpoint refused our credentials or audience; retrying will not help."""


class RetryableHTTPError(SeekError):
    """A status worth retrying (429, 502, 503, 504), with the server's Retry-After if any."""

    def __init__(
        self, status: int, *, retry_after: float | None = None, request_id: str | None = None
    ) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(f"HTTP {status} from SEEK", request_id=request_id)


class UnexpectedStatusError(SeekError):
    """A status that is neither success nor worth retrying."""

    def __init__(self, status: int, what: str, *, request_id: str | None = None) -> None:
        self.status = status
        super().__init__(f"HTTP {status} from SEEK {what}", request_id=request_id)


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

    def __init__(self, reason: str, message: str, *, request_id: str | None = None) -> None:
        self.reason = reason
        super().__init__(message, request_id=request_id)


class TruncatedDownloadError(DownloadError):
    """Fewer bytes arrived than Content-Length promised (retried)."""

    def __init__(self, received: int, expected: int, *, request_id: str | None = None) -> None:
        super().__init__(
            "truncated",
            f"download truncated: {received} of {expected} bytes",
            request_id=request_id,
        )


class SeekTransportError(SeekError):
    """The connection failed or dropped (reset, timeout, incomplete body); retried."""

    def __init__(self, error: Exception, *, request_id: str | None = None) -> None:
        super().__init__(
            f"network error talking to SEEK: {type(error).__name__}", request_id=request_id
        )
