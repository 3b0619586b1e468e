"""Logging: HTTP library records lose queries and headers; long-running commands quiet them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from seek_sync.logs import (
    HEADERS_TRACE,
    HTTP_LOGGERS,
    QUIET_LOGGERS,
    REDACTOR,
    configure_logging,
)

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
        lines = [r.getMessage() for r in caplog.records]
        assert any("http://receiver.test/blobs/h/abc?<redacted>" in m for m in lines)
        assert not any("s3cr3t" in m for m in lines)  # httpx logs the line, not the query
        caplog.clear()
        configure_logging()
        with caplog.at_level(logging.INFO):
            http.get(SIGNED)
            logging.getLogger("seek_sync.receiver").info("ours still shows")
    assert [r.getMessage() for r in caplog.records] == ["ours still shows"]
    assert all(logging.getLogger(n).level == logging.WARNING for n in QUIET_LOGGERS)


class _Disposition(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Disposition", 'attachment; filename="CV - Ana Nguyen.pdf"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def disposition_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Disposition)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.usefixtures("restore_levels")
def test_http_records_keep_no_query_or_header_even_at_debug(
    caplog: pytest.LogCaptureFixture, disposition_server: str
) -> None:
    """A candidate lookup's email and a download's Content-Disposition never reach a record."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    with caplog.at_level(logging.DEBUG), httpx.Client() as http:
        http.get(f"http://user:pw@{disposition_server}/v1/candidates?email=ana%40example.com")
    text = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert f"GET http://{disposition_server}/v1/candidates?<redacted> " in text
    assert f"{HEADERS_TRACE} (headers not logged)" in text  # the trace line itself stays
    assert "example.com" not in text and "Nguyen" not in text and "pw@" not in text
    assert all(REDACTOR in logging.getLogger(n).filters for n in HTTP_LOGGERS)
