"""The error hierarchy every HTTP client of ours shares, named after the service it talks to.

A client subclasses these once for its side (SEEK, the ATSs) and mixes in its own base, so its
callers catch one family while the retry policy classifies by the neutral classes here: every
`RetryableError` is retried, nothing else is. `service` is a class default ("SEEK") that an
instance may override ("Onderwijsregio"), and it names the service in every message. Messages
carry the request id, never a token or secret.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every error talking to a remote service."""

    service: str = "the remote service"

    def __init__(
        self, message: str, *, service: str | None = None, request_id: str | None = None
    ) -> None:
        self._name(service)
        self.request_id = request_id
        suffix = f" (request id {request_id})" if request_id else ""
        super().__init__(message + suffix)

    def _name(self, service: str | None) -> str:
        """The service this error is about (the class default unless `service` is given)."""
        if service is not None:
            self.service = service
        return self.service


class RetryableError(ServiceError):
    """A failure worth another attempt; the retry policy retries this and every subclass."""


class ServiceTransportError(RetryableError):
    """The connection failed or dropped (reset, timeout, incomplete body); retried."""

    def __init__(
        self, error: Exception, *, service: str | None = None, request_id: str | None = None
    ) -> None:
        name = self._name(service)
        super().__init__(
            f"network error talking to {name}: {type(error).__name__}",
            service=service,
            request_id=request_id,
        )


class ServiceStatusError(ServiceError):
    """A status that is neither success nor worth retrying; `what` says which call."""

    def __init__(
        self,
        status: int,
        what: str = "",
        *,
        service: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.status = status
        name = self._name(service)
        call = f" {what}" if what else ""
        super().__init__(f"HTTP {status} from {name}{call}", service=service, request_id=request_id)


class RetryableStatusError(RetryableError):
    """A status worth retrying (429, 502, 503, 504), with the server's Retry-After if any."""

    def __init__(
        self,
        status: int,
        *,
        retry_after: float | None = None,
        service: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.status = status
        self.retry_after = retry_after
        name = self._name(service)
        super().__init__(f"HTTP {status} from {name}", service=service, request_id=request_id)
