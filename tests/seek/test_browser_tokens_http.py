"""The SEEK client's browser tokens against the sandbox: cached per (hirer, user, scope) until near
the expiry SEEK answered, then fetched again; the token downloads its hirer's attachment only."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.server import SandboxServer
from seek_sync.seek.browser_tokens import DOWNLOAD_SCOPE
from seek_sync.seek.client import SeekClient
from seek_sync.seek.errors import SeekForbiddenError
from tests.sandbox.test_browser_tokens import attachment_of, two_hirers, url_of
from tests.seek.test_client_http import client_settings


def browser_settings(sandbox: SandboxServer, home: Path, **overrides: object) -> object:
    url = sandbox.info()["seek_browser_token_url"]
    return client_settings(sandbox, home, seek_browser_token_url=url, **overrides)


@pytest.fixture
async def client(sandbox: SandboxServer, tmp_path: Path) -> AsyncIterator[SeekClient]:
    async with httpx.AsyncClient(timeout=30) as http:
        yield SeekClient(http, browser_settings(sandbox, tmp_path))  # type: ignore[arg-type]


async def test_cached_per_hirer_user_and_scope(sandbox: SandboxServer, client: SeekClient) -> None:
    hirer_a, hirer_b = two_hirers(sandbox)
    first = await client.browser_tokens.token(hirer_a, "user-1")
    again = await asyncio.gather(
        *(client.browser_tokens.token(hirer_a, "user-1") for _ in range(8))
    )
    assert {t.access_token for t in again} == {first.access_token}
    assert sandbox.count("browser_token") == 1
    # Another hirer, user or scope is another token; a reordered scope is the same one.
    await client.browser_tokens.token(hirer_b, "user-1")
    await client.browser_tokens.token(hirer_a, "user-2")
    both = f"query:organizations {DOWNLOAD_SCOPE}"
    await client.browser_tokens.token(hirer_a, "user-1", both)
    await client.browser_tokens.token(hirer_a, "user-1", f"{DOWNLOAD_SCOPE}  query:organizations")
    assert sandbox.count("browser_token") == 4
    assert client.browser_tokens.fetches == 4
    assert sandbox.count("token") == 1  # one partner token behind them all


async def test_token_downloads_own_hirers_attachment_only(
    sandbox: SandboxServer, client: SeekClient
) -> None:
    hirer_a, hirer_b = two_hirers(sandbox)
    grant = await client.browser_tokens.token(hirer_a, "user-1")
    headers = {"Authorization": f"Bearer {grant.access_token}"}
    async with httpx.AsyncClient(timeout=30) as http:
        mine = await http.get(url_of(sandbox, attachment_of(sandbox, hirer_a)), headers=headers)
        theirs = await http.get(url_of(sandbox, attachment_of(sandbox, hirer_b)), headers=headers)
    assert mine.status_code == 200 and len(mine.content) == attachment_of(sandbox, hirer_a).size
    assert theirs.status_code == 403


async def test_refreshed_before_expiry_and_expired_token_refused(tmp_path: Path) -> None:
    config = SandboxConfig(applications=12, browser_token_lifetime_seconds=2)
    with SandboxServer(config) as sandbox:
        hirer_a, _ = two_hirers(sandbox)
        url = url_of(sandbox, attachment_of(sandbox, hirer_a))
        async with httpx.AsyncClient(timeout=30) as http:
            client = SeekClient(http, browser_settings(sandbox, tmp_path))  # type: ignore[arg-type]
            first = await client.browser_tokens.token(hirer_a, "user-1")
            assert first.expires_in == 2
            assert (await client.browser_tokens.token(hirer_a, "user-1")) == first
            assert sandbox.count("browser_token") == 1
            await asyncio.sleep(1.1)  # past half its life: refreshed while it still works
            second = await client.browser_tokens.token(hirer_a, "user-1")
            assert second.access_token != first.access_token
            assert sandbox.count("browser_token") == 2
            await asyncio.sleep(1.0)  # the first one has now expired at SEEK
            auth = {"Authorization": f"Bearer {first.access_token}"}
            assert (await http.head(url, headers=auth)).status_code == 401
            auth = {"Authorization": f"Bearer {second.access_token}"}
            assert (await http.head(url, headers=auth)).status_code == 200


async def test_unrelated_hirer_is_refused(sandbox: SandboxServer, client: SeekClient) -> None:
    unrelated = next(h.id for h in sandbox.state.world.hirers.values() if not h.relationship_codes)
    with pytest.raises(SeekForbiddenError):
        await client.browser_tokens.token(unrelated, "user-1")
    assert sandbox.count("browser_token") == 1  # refused, not retried


def test_cli_prints_one_token(sandbox: SandboxServer, tmp_path: Path) -> None:
    hirer_a, _ = two_hirers(sandbox)
    settings = browser_settings(sandbox, tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEEK_SYNC_")}
    for name, value in settings.model_dump().items():  # type: ignore[attr-defined]
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        if isinstance(value, str | int | float | Path):
            env[f"SEEK_SYNC_{name.upper()}"] = str(value)
    command = [sys.executable, "-m", "seek_sync.cli", "browser-token", "--hirer", hirer_a]
    done = subprocess.run(
        [*command, "--user", "user-9"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert token.startswith("sbxb.") and "\n" not in token
    assert sandbox.count("browser_token") == 1
    url = url_of(sandbox, attachment_of(sandbox, hirer_a))
    assert httpx.head(url, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    refused = subprocess.run(
        [*command[:-2], "--user", "user-9", "--hirer", "seekAnzPublicTest:organization:seek:nope"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode != 0 and "refused" in refused.stderr
