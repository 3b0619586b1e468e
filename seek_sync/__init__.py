"""seek-sync: keeps applicant tracking systems in step with job applications on SEEK."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("seek-sync")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"
