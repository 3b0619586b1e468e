"""Fault injection and request recording for the sandbox.

A fault is a rule "for the next N requests to endpoint E, do K". Rules are set at start (config)
or at run time (admin endpoint or Python API) and consumed in order. Every request is recorded
with its endpoint name and headers so tests can count calls and read tracing headers back.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from signal import SIGKILL
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

FaultKind = Literal[
    "latency",  # sleep `delay` seconds, then answer normally
    "rate_limit",  # 429 with Retry-After: `retry_after`
    "error",  # answer `status` (500, 502, 503, ...)
    "reset",  # drop the connection before any response byte
    "truncate",  # send full headers (Content-Length) but only part of the body, then drop
    "slow_body",  # send the body in small pieces, `delay` seconds apart in total
    "expire_token",  # revoke every issued token, then answer normally
    "lose_response",  # do the work, then drop the connection (the client never hears back)
    "kill",  # do the work, send `signal` (SIGKILL) to process `pid`, then drop the connection
    "hold",  # park the request until released (`held.py`) or `delay` seconds pass, then answer
]


class Fault(BaseModel):
    """One injected fault; `endpoint` is a name such as `graphql`, `token`, `attachment` or `*`."""

    endpoint: str = "*"
    kind: FaultKind
    times: int | None = Field(default=1, ge=1, description="matching requests affected; None=all")
    skip: int = Field(default=0, ge=0, description="matching requests to let through first")
    status: int = Field(default=503, ge=400, le=599)
    retry_after: float = Field(default=1.0, ge=0)
    delay: float = Field(default=0.5, ge=0)
    pid: int | None = Field(default=None, ge=1, description="`kill`: the process to signal")
    callers: list[int] | None = Field(
        default=None,
        description="`kill` the calling process itself, and only when its pid is one of these "
        "(the caller is found from the connection's peer address; loopback clients only)",
    )
    signal: int = Field(default=int(SIGKILL), ge=1, le=64, description="`kill`: which signal")


class RecordedRequest(BaseModel):
    """What the sandbox saw of one request (the Authorization value is never kept)."""

    endpoint: str
    method: str
    path: str
    headers: dict[str, str]
    at: float
    fault: FaultKind | None = None


_REDACTED = {"authorization", "x-api-key"}
RECEIVED = web.RequestKey("received", float)  # when a request arrived (before injected latency)


def _matches(endpoint: str, name: str) -> bool:
    """`kombo.upload` matches the names `kombo.upload`, `kombo` and `*`."""
    return name == "*" or endpoint == name or endpoint.startswith(name + ".")


def take_rule(
    rules: list[list[Any]],
    endpoint: str,
    name_of: Callable[[Any], str],
    accepts: Callable[[Any], bool] | None = None,
) -> Any:
    """Consume one use of the first rule `[fault, skip_left, times_left]` matching `endpoint`
    (and `accepts`, when given).

    The caller holds the lock guarding `rules`; a rule is dropped once its uses are spent.
    """
    for rule in rules:
        if not _matches(endpoint, name_of(rule[0])):
            continue
        if accepts is not None and not accepts(rule[0]):
            continue
        if rule[1] > 0:
            rule[1] -= 1
            continue
        if rule[2] is not None:
            rule[2] -= 1
            if rule[2] <= 0:
                rules.remove(rule)
        return rule[0]
    return None


class FaultPlan:
    """Thread-safe ordered list of fault rules, consumed as requests arrive."""

    def __init__(self, faults: list[Fault] | None = None) -> None:
        self._lock = threading.Lock()
        self._rules: list[list] = []  # [fault, skip_left, times_left]
        for fault in faults or []:
            self.add(fault)

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._rules.append([fault, fault.skip, fault.times])

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def drop(self, kind: FaultKind) -> None:
        """Remove every rule of this kind."""
        with self._lock:
            self._rules = [rule for rule in self._rules if rule[0].kind != kind]

    def pending(self) -> list[Fault]:
        with self._lock:
            return [rule[0] for rule in self._rules]

    def take(self, endpoint: str, caller: Callable[[], int | None] | None = None) -> Fault | None:
        """The fault to apply to this request, if any (consumes one use of it). A `kill` rule
        with `callers` applies only to a request from one of those pids (`caller` finds the
        request's pid) and then kills that caller."""
        found: dict[str, int | None] = {}

        def accepts(fault: Fault) -> bool:
            if fault.callers is None:
                return True
            if "pid" not in found:
                found["pid"] = caller() if caller is not None else None
            return found["pid"] in fault.callers

        with self._lock:
            fault = take_rule(self._rules, endpoint, lambda f: f.endpoint, accepts)
        if fault is not None and fault.callers is not None:
            fault = fault.model_copy(update={"pid": found["pid"]})
        return fault


class RequestLog:
    """Per-endpoint counts (unbounded) and the most recent requests with their headers."""

    def __init__(self, keep: int = 20_000) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._recent: deque[RecordedRequest] = deque(maxlen=keep)

    def record(
        self, endpoint: str, method: str, path: str, headers: dict[str, str], fault: Fault | None
    ) -> None:
        kept = {
            k.lower(): ("<redacted>" if k.lower() in _REDACTED else v) for k, v in headers.items()
        }
        entry = RecordedRequest(
            endpoint=endpoint,
            method=method,
            path=path,
            headers=kept,
            at=time.time(),
            fault=fault.kind if fault else None,
        )
        with self._lock:
            self._counts[endpoint] += 1
            self._recent.append(entry)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def count(self, endpoint: str) -> int:
        with self._lock:
            return sum(n for e, n in self._counts.items() if _matches(e, endpoint))

    def requests(self, endpoint: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self._recent if endpoint is None or r.endpoint == endpoint]

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()
            self._recent.clear()
