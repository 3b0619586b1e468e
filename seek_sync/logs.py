"""Logging set-up of the long-running commands (`seek-sync poll`, `seek-sync receiver serve`)."""

from __future__ import annotations

import logging
import sys

# At INFO these log every request line with its full URL: signed blob URLs (a bearer credential
# until they expire), attachment URLs and filenames. Our own modules log what is needed instead.
QUIET_LOGGERS = ("httpx", "httpcore")


def quiet_http_loggers() -> None:
    """Raise the HTTP client libraries' loggers to WARNING."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def configure_logging() -> None:
    """INFO lines with a timestamp on stderr, without the HTTP libraries' request lines."""
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(message)s")
    quiet_http_loggers()
