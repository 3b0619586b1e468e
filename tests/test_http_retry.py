"""The shared HTTP layer (`seek_sync.http`): Retry-After, the retry log line, deadlines, errors."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import tenacity

from seek_sync.http import (
    RetryableStatusError,
    RetryPolicy,
    ServiceStatusError,
    ServiceTransportError,
    raise_for_retryable,
    retry_after_seconds,
)
from seek_sync.settings import Settings

LOG = logging.getLogger("tests.http_retry")


def answer(status: int = 503, retry_after: str | None = None) -> httpx.Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return httpx.Response(status, headers=headers)


class Flaky:
    """Fails with `errors` in turn, then answers "ok"; counts its attempts."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.attempts = 0

    async def __call__(self) -> str:
        self.attempts += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


async def run(policy: RetryPolicy, call: Flaky, service: str = "Onderwijsregio") -> str:
    async for attempt in policy.retrying(service, LOG):
        with attempt:
            return await call()
    raise AssertionError("unreachable")


def test_retry_after_in_delta_seconds() -> None:
    assert retry_after_seconds(answer(retry_after="3")) == 3.0
    assert retry_after_seconds(answer(retry_after="0.25")) == 0.25
    assert retry_after_seconds(answer(retry_after="-4")) == 0.0


def test_retry_after_as_an_http_date() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    seconds = retry_after_seconds(answer(retry_after=later))
    assert seconds is not None and 28 <= seconds <= 30
    earlier = format_datetime(datetime.now(UTC) - timedelta(seconds=30), usegmt=True)
    assert retry_after_seconds(answer(retry_after=earlier)) == 0.0


def test_retry_after_missing_or_unreadable() -> None:
    assert retry_after_seconds(answer()) is None
    assert retry_after_seconds(answer(retry_after="soon")) is None


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_retryable_statuses_raise_the_callers_class_named_after_its_service(status: int) -> None:
    with pytest.raises(RetryableStatusError) as raised:
        raise_for_retryable(answer(status, "2"), "req-1", RetryableStatusError, service="Kombo")
    error = raised.value
    assert (error.status, error.retry_after, error.service) == (status, 2.0, "Kombo")
    assert str(error) == f"HTTP {status} from Kombo (request id req-1)"


@pytest.mark.parametrize("status", [200, 400, 404, 500, 501])
def test_other_statuses_are_left_to_the_caller(status: int) -> None:
    raise_for_retryable(answer(status, "2"), "req-1", RetryableStatusError, service="Kombo")


def test_the_wait_honours_retry_after_within_the_backoff_bounds() -> None:
    policy = RetryPolicy(initial_backoff=0.5, max_backoff=10.0)

    def wait_for(retry_after: float) -> float:
        error = RetryableStatusError(503, retry_after=retry_after, service="X")
        return policy.wait(_state_after(error))

    assert wait_for(4.0) == 4.0
    assert wait_for(60.0) == 10.0  # capped at max_backoff
    assert wait_for(0.0) == 0.5  # never sooner than the initial backoff


def _state_after(error: BaseException) -> tenacity.RetryCallState:
    state = tenacity.RetryCallState(tenacity.Retrying(), fn=None, args=(), kwargs={})
    state.set_exception((type(error), error, None))
    return state


async def test_retries_are_logged_under_the_callers_service_and_logger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    policy = RetryPolicy(initial_backoff=0.01, max_backoff=0.05)
    call = Flaky(
        RetryableStatusError(503, service="Onderwijsregio", request_id="req-9"),
        ServiceTransportError(httpx.ConnectError("down"), service="Onderwijsregio"),
    )
    with caplog.at_level(logging.WARNING, logger=LOG.name):
        assert await run(policy, call) == "ok"
    assert call.attempts == 3
    lines = [r.getMessage() for r in caplog.records if r.name == LOG.name]
    assert len(lines) == 2
    assert lines[0].startswith(
        "Onderwijsregio call failed (attempt 1, RetryableStatusError, request id req-9)"
    )
    assert lines[1].startswith("Onderwijsregio call failed (attempt 2, ServiceTransportError)")
    assert not any("SEEK" in line for line in lines)


async def test_a_bare_httpx_transport_error_is_retried() -> None:
    call = Flaky(httpx.ReadError("reset"))
    assert await run(RetryPolicy(initial_backoff=0.01), call) == "ok"
    assert call.attempts == 2


async def test_a_status_not_worth_retrying_is_raised_at_once() -> None:
    call = Flaky(ServiceStatusError(500, service="Onderwijsregio"))
    with pytest.raises(ServiceStatusError, match="HTTP 500 from Onderwijsregio"):
        await run(RetryPolicy(initial_backoff=0.01), call)
    assert call.attempts == 1


async def test_attempts_are_capped() -> None:
    call = Flaky(*(RetryableStatusError(502, service="X") for _ in range(5)))
    with pytest.raises(RetryableStatusError):
        await run(RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.01), call)
    assert call.attempts == 3


async def test_the_deadline_stops_retrying_before_a_wait_would_pass_it() -> None:
    # The server asks for 5 s; the call's deadline is 1 s: give up now rather than sleep past it.
    call = Flaky(*(RetryableStatusError(429, retry_after=5, service="X") for _ in range(5)))
    policy = RetryPolicy(max_attempts=10, initial_backoff=0.01, max_backoff=30, deadline=1.0)
    started = time.monotonic()
    with pytest.raises(RetryableStatusError):
        await run(policy, call)
    assert call.attempts == 1
    assert time.monotonic() - started < 0.5


async def test_the_deadline_bounds_the_whole_call() -> None:
    call = Flaky(*(RetryableStatusError(503, service="X") for _ in range(50)))
    policy = RetryPolicy(max_attempts=50, initial_backoff=0.05, max_backoff=0.05, deadline=0.3)
    started = time.monotonic()
    with pytest.raises(RetryableStatusError):
        await run(policy, call)
    assert 2 <= call.attempts < 50
    assert time.monotonic() - started < 0.6


def test_a_policy_is_read_from_the_retry_settings() -> None:
    settings = Settings.model_construct(
        retry_max_attempts=7,
        retry_initial_backoff_seconds=0.2,
        retry_max_backoff_seconds=9.0,
        retry_deadline_seconds=42.0,
    )
    assert RetryPolicy.from_settings(settings) == RetryPolicy(7, 0.2, 9.0, 42.0)
