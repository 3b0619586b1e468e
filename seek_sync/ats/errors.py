"""Errors of the ATS clients, each naming its service ("HTTP 500 from Onderwijsregio").

Every one is an `AtsError`; the transport and status ones are also the neutral classes of
`seek_sync.http.errors`, which is how the shared retry policy knows to retry them. An ATS client
passes its name as `service=`; Kombo's `KomboCallError` is an `AtsError` too. Onderwijsregio's
`RefusedError` (our input was refused) is deliberately not one: see its docstring.
"""

from __future__ import annotations

from seek_sync.http.errors import (
    RetryableStatusError,
    ServiceError,
    ServiceStatusError,
    ServiceTransportError,
)


class AtsError(ServiceError):
    """Base of the errors talking to an ATS: it failed us, or answered outside its contract."""

    service = "the ATS"


class AtsTransportError(AtsError, ServiceTransportError):
    """The connection failed or dropped (reset, timeout, incomplete body); retried."""


class AtsStatusError(AtsError, ServiceStatusError):
    """A status that is neither success nor worth retrying (a 5xx, or a 4xx without a body)."""


class RetryableAtsStatus(AtsError, RetryableStatusError):
    """A status worth retrying (429, 502, 503, 504), with the server's Retry-After if any."""


class AtsMalformedResponse(AtsError):
    """An answer that does not have the shape the ATS documents."""
