"""seek-sync: keeps applicant tracking systems in step with job applications on SEEK."""

from importlib.metadata import PackageNotFoundError, version

from seek_sync.logs import redact_http_logs

try:
    __version__ = version("seek-sync")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"

# The HTTP libraries' records lose query strings and headers in every process that runs our code.
redact_http_logs()
