"""Every create the Onderwijsregio fake accepted, from its request's arrival until its mutation ran.

Hirers sharing one tenant must create one person once. A create is asynchronous: it is visible to
a find-by-email only once its mutation has run, so two creates of one person whose spans overlap
(each arrived before the other ran) are the race a client has to prevent. The fake keeps each
attempt (its request's arrival, before any injected latency; its 202; the end of its mutation),
the case-folded emails it creates and, with `record_callers`, the pid of the local process that
sent it (a scan of the host's connections, so off by default), and serves them with the overlaps
counted at `GET /_sandbox/onderwijsregio/creates`. A replayed key is kept but creates nothing.
"""

from __future__ import annotations

import asyncio
import time
from itertools import combinations
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from seek_sync.sandbox.kill import peer_pid


class CreateAttempt(BaseModel):
    key: str  # the idempotency key
    emails: list[str]  # case-folded, of the candidates in the request
    pid: int | None = None  # the caller (with `record_callers`)
    started: float  # the request arrived (epoch seconds)
    accepted: float  # the 202 was ready
    ended: float | None = None  # its mutation ran (None: queued or running)
    status: str = "queued"  # queued, succeeded or failed (of its last run)
    replayed: bool = False  # a known key: it created nothing

    def overlaps(self, other: CreateAttempt) -> bool:
        """Both were in flight at one moment (an attempt not yet ended is still in flight)."""
        inf = float("inf")
        return self.started < (other.ended or inf) and other.started < (self.ended or inf)


class CreateAttempts(BaseModel):
    """Body of `GET /_sandbox/onderwijsregio/creates`."""

    attempts: list[CreateAttempt]
    overlapping: int  # pairs of creates in flight at once
    overlapping_across_processes: int  # ... sent by two different processes (pids known)
    overlapping_same_person: int  # ... creating one email: each makes a candidate of its own


def count(attempts: list[CreateAttempt]) -> CreateAttempts:
    live = [a for a in attempts if not a.replayed]
    pairs = [(a, b) for a, b in combinations(live, 2) if a.overlaps(b)]
    return CreateAttempts(
        attempts=attempts,
        overlapping=len(pairs),
        overlapping_across_processes=sum(
            a.pid is not None and b.pid is not None and a.pid != b.pid for a, b in pairs
        ),
        overlapping_same_person=sum(bool(set(a.emails) & set(b.emails)) for a, b in pairs),
    )


def emails_of(body: Any) -> list[str]:
    """The case-folded emails of a create's candidates (a list of candidates, or one)."""
    people = body if isinstance(body, list) else [body]
    return [
        str(p["email"]).strip().casefold()
        for p in people
        if isinstance(p, dict) and isinstance(p.get("email"), str)
    ]


class CreateLog:
    """The attempts, in arrival order; written on the server's event loop only."""

    def __init__(self, record_callers: bool = False) -> None:
        self.record_callers = record_callers
        self.attempts: list[CreateAttempt] = []
        self._open: dict[str, CreateAttempt] = {}  # key -> its attempt whose mutation is to run

    async def accepted(
        self, request: web.Request, key: str, emails: list[str], started: float, replayed: bool
    ) -> None:
        attempt = CreateAttempt(
            key=key, emails=emails, started=started, accepted=time.time(), replayed=replayed
        )
        self.attempts.append(attempt)
        if not replayed:
            self._open[key] = attempt
        if self.record_callers:  # while the caller's connection is still open
            peer = request.transport.get_extra_info("peername") if request.transport else None
            if peer:
                attempt.pid = await asyncio.to_thread(peer_pid, str(peer[0]), int(peer[1]))

    def ran(self, key: str, status: str) -> None:
        """A create's mutation finished: from now on a find sees its candidate (if it succeeded)."""
        attempt = self._open.pop(key, None)
        if attempt is not None:
            attempt.ended, attempt.status = time.time(), status
