"""Logging of the long-running commands: the HTTP libraries never print request URLs."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest

from seek_sync.logs import QUIET_LOGGERS, configure_logging

SIGNED = "http://receiver.test/blobs/h/abc?expires=1&type=application%2Fpdf&signature=s3cr3t"


@pytest.fixture
def restore_levels() -> Iterator[None]:
    before = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    yield
    for name, level in before.items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.usefixtures("restore_levels")
def test_httpx_request_lines_are_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200)

    with httpx.Client(transport=httpx.MockTransport(answer)) as http:
        logging.getLogger("httpx").setLevel(logging.NOTSET)
        with caplog.at_level(logging.INFO):
            http.get(SIGNED)
        assert any("s3cr3t" in r.getMessage() for r in caplog.records)  # httpx does log it
        caplog.clear()
        configure_logging()
        with caplog.at_level(logging.INFO):
            http.get(SIGNED)
            logging.getLogger("seek_sync.receiver").info("ours still shows")
    assert [r.getMessage() for r in caplog.records] == ["ours still shows"]
    assert all(logging.getLogger(n).level == logging.WARNING for n in QUIET_LOGGERS)
