"""One retry policy (tenacity) for every remote call: backoff with jitter, capped attempts, a
total deadline per logical call, and the server's Retry-After honoured.

Retried by default: every `RetryableError` (network errors, truncated bodies, 429/502/503/504) and
a bare `httpx.TransportError`; a caller with its own rules passes `retry`. Each retry is logged on
the caller's logger under the caller's service name ("Onderwijsregio call failed (attempt 2, ...)").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import httpx
import tenacity

from seek_sync.http.errors import RetryableError


class RetrySettings(Protocol):
    """The settings a policy is read from (`seek_sync.settings.Settings` has them)."""

    @property
    def retry_max_attempts(self) -> int: ...
    @property
    def retry_initial_backoff_seconds(self) -> float: ...
    @property
    def retry_max_backoff_seconds(self) -> float: ...
    @property
    def retry_deadline_seconds(self) -> float: ...


def is_retryable(error: BaseException) -> bool:
    """The default rule: our retryable errors and a connection that failed under us."""
    return isinstance(error, RetryableError | httpx.TransportError)


def error_name(error: BaseException) -> str:
    """The default description of a failed attempt in the retry log line: its class."""
    return type(error).__name__


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff with jitter, capped attempts, and a total deadline for one logical call."""

    max_attempts: int = 5
    initial_backoff: float = 0.5
    max_backoff: float = 30.0
    deadline: float = 120.0

    @classmethod
    def from_settings(cls, settings: RetrySettings) -> RetryPolicy:
        return cls(
            max_attempts=settings.retry_max_attempts,
            initial_backoff=settings.retry_initial_backoff_seconds,
            max_backoff=settings.retry_max_backoff_seconds,
            deadline=settings.retry_deadline_seconds,
        )

    def wait(self, state: tenacity.RetryCallState) -> float:
        """Exponential backoff with jitter, or the error's `retry_after` kept within bounds."""
        backoff = tenacity.wait_exponential_jitter(
            multiplier=self.initial_backoff, max=self.max_backoff
        )(state)
        error = state.outcome.exception() if state.outcome else None
        retry_after = getattr(error, "retry_after", None)
        if isinstance(retry_after, int | float):
            return max(min(float(retry_after), self.max_backoff), self.initial_backoff)
        return backoff

    def retrying(
        self,
        service: str,
        log: logging.Logger,
        *,
        retry: Callable[[BaseException], bool] = is_retryable,
        describe: Callable[[BaseException], str] = error_name,
    ) -> tenacity.AsyncRetrying:
        """Attempts of one call to `service`; each retry is logged on `log` as `describe` says."""
        return tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception(retry),
            wait=self.wait,
            stop=tenacity.stop_after_attempt(self.max_attempts)
            | tenacity.stop_before_delay(self.deadline),
            before_sleep=_logger(service, log, describe),
            reraise=True,
        )


def _logger(
    service: str, log: logging.Logger, describe: Callable[[BaseException], str]
) -> Callable[[tenacity.RetryCallState], None]:
    def before_sleep(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        request_id = getattr(error, "request_id", None)
        log.warning(
            "%s call failed (attempt %d, %s%s); retrying in %.2f s",
            service,
            state.attempt_number,
            describe(error) if error is not None else "no error",
            f", request id {request_id}" if request_id else "",
            state.upcoming_sleep,
        )

    return before_sleep
