"""Whether each kind of cluster process answers, and waiting until all of them do.

HTTP for the sandbox, moto, the receivers (`/healthz`) and the webserver (`/server_info`); the
gRPC health check for the code server (what `dagster api grpc-health-check` asks); the daemon's
heartbeats in the instance (every daemon the instance requires, healthy); the workers by a Celery
ping over the broker, by their node names. A process that exits while being waited for stops the
wait with its log's tail.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from seek_sync.cluster.config import ProcessRecord
from seek_sync.cluster.processes import leader, log_tail

if TYPE_CHECKING:
    import dagster as dg


class ClusterError(RuntimeError):
    """The cluster could not be brought up or used; the message says why, in a line or a log."""


def http_ok(url: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return httpx.get(url, timeout=2).status_code < 500
        except httpx.HTTPError:
            return False

    return check


def grpc_serving(port: int) -> Callable[[], bool]:
    """The code server's gRPC health service answers SERVING (the question `dagster api
    grpc-health-check` asks, without its printing every refused connection)."""

    def check() -> bool:
        import grpc
        from grpc_health.v1 import health_pb2
        from grpc_health.v1.health_pb2_grpc import HealthStub

        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            ask = health_pb2.HealthCheckRequest(service="DagsterApi")
            try:
                answer = HealthStub(channel).Check(ask, timeout=2)
            except grpc.RpcError:
                return False
        return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)

    return check


def daemon_healthy(instance: dg.DagsterInstance) -> Callable[[], bool]:
    """Every daemon the instance requires has sent a heartbeat recently (the database is the
    cluster's own, so every heartbeat is this daemon's)."""

    def check() -> bool:
        statuses = instance.get_daemon_statuses()
        return bool(statuses) and all(s.healthy for s in statuses.values() if s.required)

    return check


def workers_answer(broker_url: str, nodes: list[str]) -> Callable[[], bool]:
    """Every worker node answers a Celery ping (as tests/cluster/celery_helpers.wait_ready)."""

    def check() -> bool:
        from celery import Celery

        app = Celery(broker=broker_url)
        try:
            answers = app.control.ping(destination=nodes, timeout=1.0) or []
        finally:
            app.close()
        return set(nodes) <= {name for answer in answers for name in answer}

    return check


def sandbox_info(record: ProcessRecord) -> dict[str, Any] | None:
    """The sandbox's one JSON start-up line, once it is in its log."""
    try:
        lines = record.log.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return None
    for line in lines:
        if line.startswith("{") and '"base_url"' in line:
            return dict(json.loads(line))
    return None


def wait_until(
    checks: dict[str, Callable[[], bool]],
    watched: list[ProcessRecord],
    deadline: float,
    on_progress: Callable[[list[str]], None] = lambda _: None,
) -> None:
    """Until every check passes; `ClusterError` when a watched process exits or time runs out."""
    pending = dict(checks)
    while pending:
        for record in watched:
            if leader(record) is None:
                raise ClusterError(f"{record.name} exited:\n{log_tail(record)}")
        for name, check in list(pending.items()):
            try:
                passed = check()
            except Exception:
                passed = False
            if passed:
                del pending[name]
        on_progress(sorted(pending))
        if not pending:
            return
        if time.monotonic() > deadline:
            names = ", ".join(sorted(pending))
            tails = "\n".join(
                f"--- {r.name}:\n{log_tail(r, 1500)}" for r in watched if r.name in pending
            )
            raise ClusterError(f"not answering in time: {names}\n{tails}")
        time.sleep(0.5)
