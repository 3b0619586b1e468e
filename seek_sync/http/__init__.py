"""What every HTTP client of ours shares, SEEK's and the ATSs' alike: tracing headers, one error
hierarchy named after the service, which answers are worth retrying, and one retry policy."""

from seek_sync.http.errors import (
    RetryableError,
    RetryableStatusError,
    ServiceError,
    ServiceStatusError,
    ServiceTransportError,
)
from seek_sync.http.retry import RetryPolicy, RetrySettings
from seek_sync.http.status import RETRY_STATUSES, raise_for_retryable, retry_after_seconds
from seek_sync.http.tracing import Tracing, request_headers

__all__ = [
    "RETRY_STATUSES",
    "RetryPolicy",
    "RetrySettings",
    "RetryableError",
    "RetryableStatusError",
    "ServiceError",
    "ServiceStatusError",
    "ServiceTransportError",
    "Tracing",
    "raise_for_retryable",
    "request_headers",
    "retry_after_seconds",
]
