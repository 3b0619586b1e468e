"""Every fault kind the sandbox injects is observable over real HTTP."""

from __future__ import annotations

import time

import httpx
import pytest

from seek_sync.sandbox.server import SandboxServer
from tests.sandbox.test_seek_http import _attachment, authed_client

VERSION = {"query": "{ version }"}


def post_version(client: httpx.Client, sandbox: SandboxServer) -> httpx.Response:
    return client.post(sandbox.info()["seek_graphql_url"], json=VERSION)


def test_latency_delays_the_answer(sandbox: SandboxServer) -> None:
    with authed_client(sandbox) as client:
        sandbox.add_fault("graphql", "latency", delay=0.4)
        started = time.perf_counter()
        assert post_version(client, sandbox).status_code == 200
        assert time.perf_counter() - started >= 0.4


def test_rate_limit_answers_429_with_retry_after(sandbox: SandboxServer) -> None:
    with authed_client(sandbox) as client:
        sandbox.add_fault("graphql", "rate_limit", retry_after=3, times=2)
        first, second, third = (post_version(client, sandbox) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert first.headers["retry-after"] == "3"
    assert [r.fault for r in sandbox.requests("graphql")] == ["rate_limit", "rate_limit", None]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors(sandbox: SandboxServer, status: int) -> None:
    with authed_client(sandbox) as client:
        sandbox.add_fault("graphql", "error", status=status)
        assert post_version(client, sandbox).status_code == status
        assert post_version(client, sandbox).status_code == 200


def test_skip_lets_requests_through_first(sandbox: SandboxServer) -> None:
    with authed_client(sandbox) as client:
        sandbox.add_fault("graphql", "error", status=503, skip=2)
        codes = [post_version(client, sandbox).status_code for _ in range(4)]
    assert codes == [200, 200, 503, 200]


def test_connection_reset(sandbox: SandboxServer) -> None:
    with authed_client(sandbox) as client:
        sandbox.add_fault("graphql", "reset")
        with pytest.raises(httpx.TransportError):
            post_version(client, sandbox)
        assert post_version(client, sandbox).status_code == 200


def test_truncated_graphql_body(sandbox: SandboxServer) -> None:
    with authed_client(sandbox) as client:
        sandbox.add_fault("graphql", "truncate")
        with pytest.raises(httpx.TransportError):
            post_version(client, sandbox)


def test_truncated_download_is_shorter_than_content_length(sandbox: SandboxServer) -> None:
    url, record = _attachment(sandbox, "spaces_filename")
    with authed_client(sandbox) as client:
        sandbox.add_fault("attachment", "truncate")
        received = 0
        with pytest.raises(httpx.TransportError), client.stream("GET", url) as response:
            assert int(response.headers["content-length"]) == record.size
            for chunk in response.iter_raw():
                received += len(chunk)
    assert 0 < received < record.size


def test_slow_body_arrives_whole_but_late(sandbox: SandboxServer) -> None:
    url, record = _attachment(sandbox, "spaces_filename")
    with authed_client(sandbox) as client:
        sandbox.add_fault("attachment", "slow_body", delay=0.6)
        started = time.perf_counter()
        response = client.get(url)
    assert time.perf_counter() - started >= 0.5
    assert len(response.content) == record.size


def test_token_expiry_mid_run(sandbox: SandboxServer) -> None:
    with authed_client(sandbox) as client:
        assert "errors" not in post_version(client, sandbox).json()
        sandbox.add_fault("graphql", "expire_token")
        body = post_version(client, sandbox).json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_lost_response_does_the_work_but_never_answers(sandbox: SandboxServer) -> None:
    info = sandbox.info()
    sandbox.add_fault("token", "lose_response")
    body = {
        "client_id": info["client_id"],
        "client_secret": info["client_secret"],
        "audience": info["audience"],
        "grant_type": "client_credentials",
    }
    issued = sandbox.state.tokens.issued
    with pytest.raises(httpx.TransportError):
        httpx.post(info["seek_token_url"], json=body)
    assert sandbox.state.tokens.issued == issued + 1


def test_faults_can_be_set_over_http(sandbox: SandboxServer) -> None:
    admin = sandbox.info()["admin_url"]
    added = httpx.post(f"{admin}/faults", json=[{"endpoint": "graphql", "kind": "error"}])
    assert added.json() == {"added": 1}
    assert httpx.get(f"{admin}/faults").json()[0]["kind"] == "error"
    assert httpx.post(f"{admin}/faults", json={"kind": "explode"}).status_code == 400
    with authed_client(sandbox) as client:
        assert post_version(client, sandbox).status_code == 503
    httpx.delete(f"{admin}/faults")
    assert httpx.get(f"{admin}/faults").json() == []
