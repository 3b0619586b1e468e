"""Memory of a live process as /proc reports it, for the benchmarks."""

from __future__ import annotations

from pathlib import Path


def _status_mb(pid: int, field: str) -> float:
    """A `/proc/<pid>/status` size field in MiB; 0 once the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the peak resident set so far."""
    return _status_mb(pid, "VmHWM")


def rss_mb(pid: int) -> float:
    """VmRSS: the resident set now."""
    return _status_mb(pid, "VmRSS")
