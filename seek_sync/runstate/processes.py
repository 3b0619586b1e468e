"""Which process holds a lease or runs a run: its pid, start time and host, and whether it lives.

A pid alone is not an identity (pids are reused), so a holder is the pid plus the process's start
time on the host. On another host the pid says nothing: there the holder's presence token counts
(on PostgreSQL a session lock that dies with its connection: `Database.presence`), else only its
heartbeat. No Dagster here.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from functools import cache

import psutil


@cache
def _host() -> str:
    return socket.gethostname()


@dataclass(frozen=True)
class Holder:
    """A process somewhere: pid, its start time (epoch seconds), host name, presence token."""

    pid: int
    started: float
    host: str
    presence: str | None = None

    @classmethod
    def me(cls) -> Holder:
        return cls(os.getpid(), process_started(os.getpid()) or time.time(), _host())

    def on_this_host(self) -> bool:
        return self.host == _host()

    def alive(self) -> bool | None:
        """True or False on this host; None on another host (the caller then uses heartbeats)."""
        if not self.on_this_host():
            return None
        started = process_started(self.pid)
        return started is not None and abs(started - self.started) < 1.0


def process_started(pid: int) -> float | None:
    """The start time of `pid` on this host, or None when no such process (or a zombie) exists."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        return float(process.create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
