"""Webhooks to receiver replicas: round-robin behind one subscription URL, a share duplicated."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import httpx
import pytest

from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.server import SandboxServer
from tests.sandbox.test_webhooks_and_cli import Catcher


@pytest.fixture
def replicas() -> Iterator[list[Catcher]]:
    servers = [Catcher(statuses=[]) for _ in range(2)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield servers
    for server in servers:
        server.shutdown()


def url_of(catcher: Catcher) -> str:
    return f"http://127.0.0.1:{catcher.server_address[1]}/webhooks/seek"


def test_round_robin_with_duplicates_counted_by_the_admin_api(replicas: list[Catcher]) -> None:
    urls = [url_of(c) for c in replicas]
    with SandboxServer(SandboxConfig(applications=20, edge_cases=False)) as server:
        admin = server.info()["admin_url"]
        routing = {"replicas": urls, "duplicate_share": 0.5}
        assert httpx.put(f"{admin}/webhooks", json=routing).json()["routing"]["url"] == urls[0]
        report = httpx.post(f"{admin}/webhooks/deliver", json={"batch_size": 2}, timeout=30).json()
        totals = httpx.get(f"{admin}/webhooks").json()["delivered"]
        events = len(server.state.world.events)
    assert report == totals and report["failed_batches"] == 0
    assert 0 < report["duplicated_batches"] < report["batches"]
    received = [len(c.received) for c in replicas]
    assert [totals["delivered_by_url"][u] for u in urls] == received
    assert sum(received) == report["batches"] + report["duplicated_batches"]
    bodies = [json.loads(body) for c in replicas for _, body in c.received]
    assert {b["url"] for b in bodies} == {urls[0]}  # the one subscription URL, whoever got it
    ids = [e["id"] for b in bodies for e in b["events"]]
    assert len(set(ids)) == events and len(ids) == events + report["duplicated_events"]


def test_one_url_and_no_share_is_the_single_receiver_of_old(replicas: list[Catcher]) -> None:
    config = SandboxConfig(applications=3, edge_cases=False, webhook_url=url_of(replicas[0]))
    with SandboxServer(config) as server:
        answer = httpx.post(f"{server.info()['admin_url']}/applications", json={"count": 25})
    webhooks = answer.json()["webhooks"]
    assert (webhooks["batches"], webhooks["duplicated_batches"]) == (3, 0)
    assert len(replicas[0].received) == 3 and replicas[1].received == []


def test_the_round_robin_carries_over_between_deliveries(replicas: list[Catcher]) -> None:
    urls = [url_of(c) for c in replicas]
    config = SandboxConfig(applications=3, edge_cases=False, webhook_urls=urls)
    with SandboxServer(config) as server:
        for _ in range(3):  # one batch each
            httpx.post(f"{server.info()['admin_url']}/applications", json={"count": 2})
    assert [len(c.received) for c in replicas] == [2, 1]
