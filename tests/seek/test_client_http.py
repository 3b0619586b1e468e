"""The SEEK client over real HTTP against the sandbox: tokens, tracing, paging, faults."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from seek_sync.http.clients import async_client
from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.server import SandboxServer
from seek_sync.seek.client import SeekClient
from seek_sync.seek.errors import SeekAuthError, SeekGraphQLError, SeekTransportError
from seek_sync.settings import Settings, load_settings


def client_settings(sandbox: SandboxServer, home: Path, **overrides: object) -> Settings:
    info = sandbox.info()
    values: dict[str, object] = {
        "seek_client_id": info["client_id"],
        "seek_client_secret": info["client_secret"],
        "seek_audience": info["audience"],
        "seek_token_url": info["seek_token_url"],
        "seek_graphql_url": info["seek_graphql_url"],
        "seek_scheme_id": info["scheme_id"],
        "seek_webhook_secret": info["webhook_secret"],
        "home": home,
        "retry_initial_backoff_seconds": 0.01,
        "retry_max_backoff_seconds": 0.2,
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
async def client(sandbox: SandboxServer, tmp_path: Path) -> AsyncIterator[SeekClient]:
    async with async_client(httpx.Timeout(30)) as http:
        yield SeekClient(http, client_settings(sandbox, tmp_path))


async def test_token_is_cached_across_calls(sandbox: SandboxServer, client: SeekClient) -> None:
    for _ in range(5):
        await client.graphql.query("{ version }")
    assert sandbox.count("token") == 1
    assert sandbox.count("graphql") == 5


async def test_one_refresh_under_concurrency(sandbox: SandboxServer, client: SeekClient) -> None:
    await client.graphql.query("{ version }")
    sandbox.expire_tokens()
    await asyncio.gather(*(client.graphql.query("{ version }") for _ in range(20)))
    assert sandbox.count("token") == 2  # the first fetch and exactly one refresh
    assert client.tokens.fetches == 2


async def test_cold_start_under_concurrency_fetches_one_token(
    sandbox: SandboxServer, client: SeekClient
) -> None:
    await asyncio.gather(*(client.graphql.query("{ version }") for _ in range(20)))
    assert sandbox.count("token") == 1


async def test_token_refreshed_before_it_expires(tmp_path: Path) -> None:
    config = SandboxConfig(applications=1, edge_cases=False, token_lifetime_seconds=2)
    with SandboxServer(config) as short:
        settings = client_settings(short, tmp_path, seek_token_refresh_margin_seconds=1)
        async with async_client(httpx.Timeout(5.0)) as http:
            client = SeekClient(http, settings)
            await client.graphql.query("{ version }")
            await client.graphql.query("{ version }")
            assert short.count("token") == 1
            await asyncio.sleep(1.1)  # inside the margin: due for refresh, not yet expired
            await client.graphql.query("{ version }")
        assert short.count("token") == 2


async def test_bad_credentials_fail_once_with_no_secret_in_message(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    settings = client_settings(sandbox, tmp_path, seek_client_secret="wrong-secret-value")
    async with async_client(httpx.Timeout(5.0)) as http:
        with pytest.raises(SeekAuthError) as caught:
            await SeekClient(http, settings).graphql.query("{ version }")
    assert "wrong-secret-value" not in str(caught.value)
    assert "request id" in str(caught.value)
    assert sandbox.count("token") == 1  # refused credentials are not retried


async def test_tracing_headers_on_every_request(sandbox: SandboxServer, client: SeekClient) -> None:
    session = str(uuid.uuid4())
    await client.graphql.query("{ version }", session_id=session)
    await client.graphql.query("{ version }")
    token_req, *graphql_reqs = sandbox.requests()
    assert token_req.endpoint == "token"
    request_ids = set()
    for seen in [token_req, *graphql_reqs]:
        assert seen.headers["user-agent"].startswith("seek-sync/")
        request_ids.add(str(uuid.UUID(seen.headers["x-request-id"])))
    assert len(request_ids) == 3
    assert graphql_reqs[0].headers["x-session-id"] == session
    assert graphql_reqs[1].headers["x-session-id"] == client.tracing.session_id


async def test_paging_to_the_end(sandbox: SandboxServer, client: SeekClient) -> None:
    ids = [e.event_id async for page in client.event_pages(None) for e in page.events]
    assert ids == [e.id for e in sandbox.state.world.events]


async def test_forbidden_is_not_retried(sandbox: SandboxServer, client: SeekClient) -> None:
    world = sandbox.state.world
    no_relationship = next(h for h in world.hirers.values() if not h.relationship)
    job = next(j for j in world.jobs.values() if j.hirer_id == no_relationship.id)
    with pytest.raises(SeekGraphQLError) as caught:
        await client.graphql.query(
            "query ($id: String!) { positionProfile(id: $id) { positionTitle } }", {"id": job.id}
        )
    assert caught.value.code == "FORBIDDEN"
    assert sandbox.count("graphql") == 1


async def test_bad_user_input_is_not_retried(sandbox: SandboxServer, client: SeekClient) -> None:
    with pytest.raises(SeekGraphQLError) as caught:
        await client.graphql.query('{ events(schemeId: "nope") { edges { cursor } } }')
    assert caught.value.code == "BAD_USER_INPUT"
    assert sandbox.count("graphql") == 1


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("rate_limit", {"retry_after": 0.05}),
        ("error", {"status": 502}),
        ("error", {"status": 503}),
        ("error", {"status": 504}),
        ("reset", {}),
        ("truncate", {}),
        ("slow_body", {"delay": 0.1}),
        ("latency", {"delay": 0.1}),
        ("expire_token", {"times": 1}),
    ],
)
async def test_recovers_from_every_fault_kind(
    sandbox: SandboxServer, client: SeekClient, kind: str, options: dict[str, float]
) -> None:
    await client.graphql.query("{ version }")
    sandbox.add_fault("graphql", kind, **{"times": 2, **options})
    assert (await client.graphql.query("{ version }"))["version"]


async def test_rate_limit_honours_retry_after(sandbox: SandboxServer, client: SeekClient) -> None:
    await client.graphql.query("{ version }")
    sandbox.add_fault("graphql", "rate_limit", retry_after=0.4)
    started = asyncio.get_running_loop().time()
    await client.graphql.query("{ version }")
    assert asyncio.get_running_loop().time() - started >= 0.2  # capped by max backoff (0.2 s)


async def test_500_is_reported_not_retried(sandbox: SandboxServer, client: SeekClient) -> None:
    await client.graphql.query("{ version }")
    sandbox.add_fault("graphql", "error", status=500)
    with pytest.raises(Exception, match="HTTP 500"):
        await client.graphql.query("{ version }")
    assert sandbox.count("graphql") == 2


async def test_persistent_failure_gives_a_clear_error_after_the_attempts(
    sandbox: SandboxServer, client: SeekClient
) -> None:
    await client.graphql.query("{ version }")
    sandbox.add_fault("graphql", "reset", times=None)
    with pytest.raises(SeekTransportError, match="request id"):
        await client.graphql.query("{ version }")
    assert sandbox.count("graphql") == 1 + client.settings.retry_max_attempts


async def test_hiring_organizations(sandbox: SandboxServer, client: SeekClient) -> None:
    hirers = await client.hiring_organizations()
    names = [h.name for h in hirers]
    assert names == sorted(names)
    expected = {h.id for h in sandbox.state.world.hirers.values() if h.relationship}
    assert {h.id.value for h in hirers} == expected


async def test_profiles_concurrently_with_statuses(
    sandbox: SandboxServer, client: SeekClient
) -> None:
    world = sandbox.state.world
    ids = list(world.applications)[:12]
    results = await client.profiles([*ids, "seekAnzPublicTest:candidateProfile:apply:missing"])
    assert [r.profile_id for r in results[:-1]] == ids
    assert all(r.status == "ok" and r.profile for r in results[:-1])
    assert results[-1].status == "not_found"
    first = results[0].profile
    assert first is not None and first.attachments
    assert first.hirer_id == world.applications[ids[0]].hirer_id
