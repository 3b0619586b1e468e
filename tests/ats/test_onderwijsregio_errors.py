"""Onderwijsregio's failures over real HTTP are reported, logged and retried as Onderwijsregio's,
never as SEEK's: the shared HTTP layer names the service it is talking to."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from seek_sync.ats.errors import AtsError, AtsStatusError, RetryableAtsStatus
from tests.ats.onderwijsregio_stack import CANDIDATE, onderwijsregio_stack

LOGGER = "seek_sync.ats.onderwijsregio"


async def test_a_500_is_reported_as_onderwijsregio_and_not_retried(tmp_path: Path) -> None:
    async with onderwijsregio_stack(tmp_path) as stack:
        stack.sandbox.add_fault("onderwijsregio.find", "error", status=500)
        with pytest.raises(AtsStatusError) as raised:
            await stack.client.find_by_email(CANDIDATE.email or "")
        message = str(raised.value)
        assert message.startswith("HTTP 500 from Onderwijsregio (request id ")
        assert "SEEK" not in message
        assert raised.value.status == 500 and raised.value.service == "Onderwijsregio"
        assert stack.sandbox.count("onderwijsregio.find") == 1


async def test_a_push_stopped_by_a_500_records_onderwijsregio_as_the_cause(
    tmp_path: Path,
) -> None:
    async with onderwijsregio_stack(tmp_path) as stack:
        stack.sandbox.add_fault("onderwijsregio.find", "error", status=500)
        pushed = await stack.target.push(CANDIDATE, [stack.small_file(0, "Resume")], None, {})
        error = pushed.candidate.error or ""
        assert error.startswith("HTTP 500 from Onderwijsregio") and "SEEK" not in error
        assert stack.writes() == []  # stopped before any create


async def test_503s_are_retried_and_logged_as_onderwijsregio(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with onderwijsregio_stack(tmp_path, retry_max_attempts=3) as stack:
        stack.sandbox.add_fault("onderwijsregio.find", "error", status=503, times=None)
        with caplog.at_level(logging.WARNING, logger=LOGGER), pytest.raises(AtsError) as raised:
            await stack.client.find_by_email(CANDIDATE.email or "")
        assert isinstance(raised.value, RetryableAtsStatus)
        assert str(raised.value).startswith("HTTP 503 from Onderwijsregio (request id ")
        assert stack.sandbox.count("onderwijsregio.find") == 3
    lines = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert [line.split(" (")[0] for line in lines] == ["Onderwijsregio call failed"] * 2
    assert "(attempt 1, RetryableAtsStatus, request id " in lines[0]
    assert "(attempt 2, RetryableAtsStatus, request id " in lines[1]
    assert not any("SEEK" in r.getMessage() for r in caplog.records)


async def test_a_429_waits_for_retry_after_then_succeeds(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with onderwijsregio_stack(tmp_path) as stack:
        stack.sandbox.add_fault("onderwijsregio.find", "rate_limit", retry_after=0.2)
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            found = await stack.client.find_by_email(CANDIDATE.email or "")
        assert found is None  # nobody there yet: answered after the retry
        assert stack.sandbox.count("onderwijsregio.find") == 2
    [line] = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert line.startswith("Onderwijsregio call failed (attempt 1, RetryableAtsStatus")
    assert line.endswith("retrying in 0.20 s")
