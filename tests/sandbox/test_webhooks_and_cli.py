"""Webhook delivery from the sandbox, and `seek-sync sandbox serve` as a real process."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.server import SandboxServer
from tests.processes import sandbox_process


class Catcher(ThreadingHTTPServer):
    """A throwaway webhook endpoint: records every POST and answers from a script of statuses."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[tuple[dict[str, str], bytes]] = []
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: Catcher

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        status = self.server.statuses.pop(0) if self.server.statuses else 204
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def catcher() -> Iterator[Catcher]:
    server = Catcher(statuses=[])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def _url(catcher: Catcher) -> str:
    return f"http://127.0.0.1:{catcher.server_address[1]}/webhooks/seek"


def test_batches_are_signed_and_carry_the_hirer(sandbox: SandboxServer, catcher: Catcher) -> None:
    events = [e for e in sandbox.state.world.events if e.profile_id][:23]
    report = sandbox.deliver_webhooks(_url(catcher), events)
    assert report.batches == 3 and report.failed_batches == 0
    secret = sandbox.info()["webhook_secret"].encode()
    delivered = []
    for headers, body in catcher.received:
        assert headers["seek-signature"] == hmac.new(secret, body, hashlib.sha512).hexdigest()
        assert headers["x-request-id"]
        payload = json.loads(body)
        assert set(payload) == {"events", "subscriptionId", "url", "expireDateTime"}
        assert 1 <= len(payload["events"]) <= 10
        delivered += payload["events"]
    assert [e["id"] for e in delivered] == [e.id for e in events]
    assert all(e["hirerId"] and e["type"] == "CandidateApplicationCreated" for e in delivered)
    assert all(e["createDateTime"].endswith("Z") for e in delivered)


def test_non_2xx_is_retried(sandbox: SandboxServer, catcher: Catcher) -> None:
    catcher.statuses = [500, 503]
    events = [e for e in sandbox.state.world.events if e.profile_id][:3]
    report = sandbox.deliver_webhooks(_url(catcher), events)
    assert report.attempts == 3 and report.statuses == [204]
    assert catcher.received[0][1] == catcher.received[2][1]  # the same body, re-sent


def test_duplicated_and_reordered_delivery(sandbox: SandboxServer, catcher: Catcher) -> None:
    events = [e for e in sandbox.state.world.events if e.profile_id][:20]
    sandbox.deliver_webhooks(_url(catcher), events, duplicate=True, reorder=True, batch_size=7)
    ids = [e["id"] for _, body in catcher.received for e in json.loads(body)["events"]]
    assert len(ids) == 40 and set(ids) == {e.id for e in events}
    assert ids[:20] != [e.id for e in events]


def test_webhooks_over_the_admin_endpoint(sandbox: SandboxServer, catcher: Catcher) -> None:
    wanted = [e.id for e in sandbox.state.world.events if e.profile_id][:4]
    response = httpx.post(
        f"{sandbox.info()['admin_url']}/webhooks/deliver",
        json={"url": _url(catcher), "event_ids": wanted, "batch_size": 2},
        timeout=30,
    )
    assert response.json()["batches"] == 2
    assert len(catcher.received) == 2


def test_serve_prints_one_json_line_once_listening() -> None:
    with sandbox_process() as sandbox:
        info = sandbox.info
        for key in (
            "seek_token_url",
            "seek_graphql_url",
            "client_id",
            "client_secret",
            "audience",
            "scheme_id",
            "webhook_secret",
        ):
            assert info[key], key
        assert sandbox.seconds_to_ready < 15
        token = httpx.post(
            info["seek_token_url"],
            json={
                "client_id": info["client_id"],
                "client_secret": info["client_secret"],
                "audience": info["audience"],
                "grant_type": "client_credentials",
            },
        )
        assert token.status_code == 200
        # The ATS fakes on the same port: their base URLs and credentials are on the line too.
        for key in (
            "onderwijsregio_url",
            "onderwijsregio_api_key",
            "onderwijsregio_callback_secret",
            "kombo_url",
            "kombo_api_key",
            "kombo_integration_id",
        ):
            assert info[key], key
        assert info["onderwijsregio_url"] == info["base_url"] + "/api/v2"
        assert info["kombo_url"] == info["base_url"] + "/v1"
        schema = httpx.get(
            info["onderwijsregio_url"] + "/schema",
            headers={"x-api-key": info["onderwijsregio_api_key"]},
        )
        assert schema.status_code == 200 and schema.json()["statusCode"] == 200
        jobs = httpx.get(
            info["kombo_url"] + "/ats/jobs",
            headers={
                "Authorization": f"Bearer {info['kombo_api_key']}",
                "X-Integration-Id": info["kombo_integration_id"],
            },
        )
        assert jobs.status_code == 200 and jobs.json()["status"] == "success"
    assert sandbox.process.stdout.read() == ""  # type: ignore[union-attr]


def test_new_applications_are_pushed_to_the_configured_url(catcher: Catcher) -> None:
    config = SandboxConfig(applications=3, edge_cases=False, webhook_url=_url(catcher))
    with SandboxServer(config) as server:
        answer = httpx.post(f"{server.info()['admin_url']}/applications", json={"count": 4}).json()
    assert answer["webhooks"]["failed_batches"] == 0
    pushed = [e["id"] for _, body in catcher.received for e in json.loads(body)["events"]]
    assert pushed == answer["events"]
