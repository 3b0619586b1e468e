"""Logging policy: HTTP library records redacted everywhere, quieted in long-running commands.

httpx logs each request line with its full URL at INFO, and httpcore traces every response's
headers at DEBUG. Query strings carry candidate emails (the Onderwijsregio and Kombo lookups by
email) and signatures (signed blob URLs, a bearer credential until they expire); a download's
`Content-Disposition` carries the file's name, often the candidate's. `redact_http_logs()` (run
when the package is imported, so in every Dagster process) keeps those records but without query
strings or headers, whatever level a deployment turns them up to. Our own modules log ids and
counts.
"""

from __future__ import annotations

import logging
import sys
from urllib.parse import urlsplit, urlunsplit

QUIET_LOGGERS = ("httpx", "httpcore")
# Each logger that emits the records (a filter on a parent logger does not see its children's).
HTTP_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)
HTTPX_REQUEST_LINE = 'HTTP Request: %s %s "%s %d %s"'
HEADERS_TRACE = "receive_response_headers.complete"


def redacted_url(url: object) -> str:
    """`url` without user info, query or fragment; a removed query shows as `?<redacted>`."""
    parts = urlsplit(str(url))
    bare = urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
    return bare + ("?<redacted>" if parts.query else "")


class HttpLogRedactor(logging.Filter):
    """Rewrites httpx's request line without the URL's query, httpcore's header trace without
    the headers; every other record passes unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == HTTPX_REQUEST_LINE and isinstance(record.args, tuple):
            method, url, *rest = record.args
            record.args = (method, redacted_url(url), *rest)
        elif isinstance(record.msg, str) and record.msg.startswith(HEADERS_TRACE):
            record.msg, record.args = f"{HEADERS_TRACE} (headers not logged)", ()
        return True


REDACTOR = HttpLogRedactor()


def redact_http_logs() -> None:
    """Put the redactor on each HTTP library logger (idempotent)."""
    for name in HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if REDACTOR not in logger.filters:
            logger.addFilter(REDACTOR)


def quiet_http_loggers() -> None:
    """Raise the HTTP client libraries' loggers to WARNING."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def configure_logging() -> None:
    """INFO lines with a timestamp on stderr, without the HTTP libraries' request lines."""
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(message)s")
    quiet_http_loggers()
    redact_http_logs()
