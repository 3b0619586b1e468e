"""The attachment proxy over real HTTP, in front of the sandbox: each refusal with its positive
control, SEEK's answers passed on, bounded concurrency, logs of ids only."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from seek_sync.proxy.app import _failure
from seek_sync.proxy.settings import ProxySettings
from seek_sync.proxy.tokens import ProxyClaims
from seek_sync.sandbox.server import SandboxServer
from seek_sync.seek.errors import DownloadError, RetryableHTTPError, SeekTransportError
from seek_sync.settings import SettingsError, env_names
from tests.proxy_helpers import (
    SECRET,
    claims_for,
    proxy_environment,
    proxy_process,
    proxy_settings,
    running_proxy,
    url_for,
)
from tests.sandbox.test_browser_tokens import attachment_of, two_hirers


@pytest.fixture
def proxy(sandbox: SandboxServer) -> Iterator[str]:
    with running_proxy(proxy_settings(sandbox.info(), retry_max_attempts=1)) as base:
        yield base


def claims(sandbox: SandboxServer, hirer_index: int = 0, **changes: object) -> ProxyClaims:
    hirer = two_hirers(sandbox)[hirer_index]
    record = attachment_of(sandbox, hirer)
    return claims_for(sandbox, record.application_id, record.id, **changes)  # type: ignore[arg-type]


def direct(sandbox: SandboxServer, url: str) -> httpx.Response:
    info = sandbox.info()
    body = {
        "client_id": info["client_id"],
        "client_secret": info["client_secret"],
        "audience": info["audience"],
        "grant_type": "client_credentials",
    }
    token = httpx.post(info["seek_token_url"], json=body).json()["access_token"]
    return httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_streams_the_attachment_and_again_within_its_lifetime(
    sandbox: SandboxServer, proxy: str
) -> None:
    mine = claims(sandbox)
    url = url_for(proxy, mine)
    first, second = httpx.get(url, timeout=30), httpx.get(url, timeout=30)
    seek = direct(sandbox, mine.url)
    assert first.status_code == second.status_code == seek.status_code == 200
    assert hashlib.sha256(first.content).digest() == hashlib.sha256(seek.content).digest()
    assert second.content == first.content
    for header in ("Content-Type", "Content-Disposition", "Content-Length"):
        assert first.headers[header] == seek.headers[header]
    assert first.headers["Cache-Control"] == "no-store"


def test_another_hirers_attachment_is_refused(sandbox: SandboxServer, proxy: str) -> None:
    hirer_a, hirer_b = two_hirers(sandbox)
    theirs = claims(sandbox, 1)  # hirer B's attachment ...
    forged = theirs.model_copy(update={"hirer_id": hirer_a})  # ... in a token for hirer A
    before = sandbox.count("attachment")
    assert httpx.get(url_for(proxy, forged), timeout=30).status_code == 403
    assert sandbox.count("attachment") == before  # refused before any download
    assert httpx.get(url_for(proxy, theirs), timeout=30).status_code == 200  # positive control
    assert theirs.hirer_id == hirer_b


def test_tampered_or_foreign_tokens_are_refused(sandbox: SandboxServer, proxy: str) -> None:
    good = url_for(proxy, claims(sandbox))
    base, token = good.rsplit("/", 1)
    payload, signature = token.split(".")
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    other_key = url_for(proxy, claims(sandbox), secret="another-key-of-at-least-32-bytes!!")
    for bad in (
        f"{base}/{flipped}.{signature}",
        f"{base}/{payload}.{'0' * 64}",
        other_key,
        base + "/x",
    ):
        response = httpx.get(bad, timeout=30)
        assert response.status_code == 403, bad
    assert sandbox.count("graphql") == sandbox.count("attachment") == 0
    assert httpx.get(good, timeout=30).status_code == 200  # positive control


def test_expired_token_is_refused(sandbox: SandboxServer, proxy: str) -> None:
    expired = claims(sandbox, expires=1_000_000)
    response = httpx.get(url_for(proxy, expired), timeout=30)
    assert response.status_code == 403 and response.json()["error"] == "expired"
    assert httpx.get(url_for(proxy, claims(sandbox)), timeout=30).status_code == 200


def test_attachment_seek_no_longer_has(sandbox: SandboxServer) -> None:
    with running_proxy(proxy_settings(sandbox.info())) as proxy:
        record = attachment_of(sandbox, two_hirers(sandbox)[0])
        token = claims_for(sandbox, record.application_id, record.id)
        assert httpx.get(url_for(proxy, token), timeout=30).status_code == 200  # control
        sandbox.state.world.remove_attachment(record.application_id, record.id)
        try:
            assert httpx.get(url_for(proxy, token), timeout=30).status_code == 404
        finally:
            record.removed = False


def test_seek_failures_are_502(sandbox: SandboxServer, proxy: str) -> None:
    sandbox.add_fault("attachment", "error", status=500, count=1)
    assert httpx.get(url_for(proxy, claims(sandbox)), timeout=30).status_code == 502
    sandbox.add_fault("attachment", "error", status=503, count=1)
    assert httpx.get(url_for(proxy, claims(sandbox)), timeout=30).status_code == 502
    assert httpx.get(url_for(proxy, claims(sandbox)), timeout=30).status_code == 200  # control


def test_seek_timeout_is_504(sandbox: SandboxServer) -> None:
    settings = proxy_settings(sandbox.info(), proxy_first_byte_timeout_seconds=0.5)
    with running_proxy(settings) as proxy:
        sandbox.add_fault("attachment", "latency", delay=3.0, count=1)
        assert httpx.get(url_for(proxy, claims(sandbox)), timeout=30).status_code == 504
        assert httpx.get(url_for(proxy, claims(sandbox)), timeout=30).status_code == 200


def test_origin_outside_the_allow_list_is_refused(sandbox: SandboxServer, proxy: str) -> None:
    outside = claims(sandbox).model_copy(update={"url": "http://127.0.0.2:9/anz/x/attachments/y"})
    assert httpx.get(url_for(proxy, outside), timeout=30).status_code == 403
    assert sandbox.count("graphql") == 0


def test_concurrency_is_bounded(sandbox: SandboxServer) -> None:
    with running_proxy(proxy_settings(sandbox.info(), proxy_concurrency=1)) as proxy:
        sandbox.add_fault("attachment", "slow_body", delay=2.0, count=1)
        url = url_for(proxy, claims(sandbox))
        slow: list[int] = []
        worker = threading.Thread(
            target=lambda: slow.append(httpx.get(url, timeout=30).status_code)
        )
        worker.start()
        deadline = time.monotonic() + 20
        while sandbox.count("attachment") == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        busy = httpx.get(url, timeout=30)
        worker.join()
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
        assert slow == [200]
        assert httpx.get(url, timeout=30).status_code == 200  # the slot is free again


def test_logs_ids_only(sandbox: SandboxServer, tmp_path: Path) -> None:
    """The proxy as its own process, as deployed: its log lines name ids, never the token."""
    mine = claims(sandbox)
    log_path = tmp_path / "proxy.log"
    with (
        log_path.open("wb") as log_file,
        proxy_process(sandbox.info(), stderr=log_file) as (
            _,
            base,
        ),
    ):
        url = url_for(base, mine)
        assert httpx.get(url, timeout=30).status_code == 200
        assert httpx.get(url + "x", timeout=30).status_code == 403
    text = log_path.read_text()
    assert mine.hirer_id in text and mine.attachment_id in text  # control: the lines are there
    assert "status=200" in text and "status=403" in text
    token = url.rsplit("/", 1)[1]
    assert token.split(".")[0][:40] not in text and token.split(".")[1] not in text
    assert SECRET not in text and sandbox.info()["client_secret"] not in text
    assert mine.url not in text and "Bearer" not in text


def test_proxy_settings_hold_the_partner_credential_and_key_only() -> None:
    names = env_names(ProxySettings)
    assert "SEEK_SYNC_PROXY_SIGNING_SECRET" in names and "SEEK_SYNC_SEEK_CLIENT_SECRET" in names
    for other in (
        "WEBHOOK_SECRET",
        "CALLBACK_SECRET",
        "BLOB",
        "INBOX",
        "WAREHOUSE",
        "KOMBO",
        "ONDERWIJS",
    ):
        assert not any(other in name for name in names), other
    with pytest.raises(SettingsError, match="SEEK_SYNC_PROXY_SIGNING_SECRET"):
        proxy_settings({**_info_stub()}, proxy_signing_secret="short")


def _info_stub() -> dict[str, str]:
    return {
        "client_id": "c",
        "client_secret": "s",
        "audience": "https://graphql.seek.com",
        "seek_token_url": "http://127.0.0.1:1/oauth/token",
        "seek_graphql_url": "http://127.0.0.1:1/graphql",
        "seek_browser_token_url": "http://127.0.0.1:1/auth/token",
        "scheme_id": "seekAnz",
        "webhook_secret": "w",
    }


def test_check_settings_of_the_proxy_role(sandbox: SandboxServer) -> None:
    env = proxy_environment(sandbox.info())
    command = [sys.executable, "-m", "seek_sync.cli", "check-settings", "--role", "proxy"]
    shown = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert shown.returncode == 0, shown.stderr
    assert "proxy_signing_secret = **********" in shown.stdout and SECRET not in shown.stdout
    assert "webhook" not in shown.stdout and "blob" not in shown.stdout
    del env["SEEK_SYNC_PROXY_SIGNING_SECRET"]
    missing = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert missing.returncode == 2
    assert missing.stderr.strip() == "seek-sync: setting SEEK_SYNC_PROXY_SIGNING_SECRET is missing"


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (DownloadError("not_found", "gone", status=404), 404),
        (DownloadError("not_found", "gone", status=410), 410),
        (DownloadError("forbidden", "refused", status=None), 502),
        (RetryableHTTPError(503), 502),
        (RetryableHTTPError(504), 504),
        (SeekTransportError(httpx.ReadTimeout("slow")), 504),
        (SeekTransportError(httpx.ConnectError("refused")), 502),
        (TimeoutError(), 504),
    ],
)
def test_seek_failure_statuses(error: Exception, status: int) -> None:
    """Unit test of the one mapping (the sandbox answers neither 410 nor 504 by itself)."""
    claims = ProxyClaims(
        hirer_id="h", profile_id="p", attachment_id="a", url="u", target="t", expires=0
    )
    assert _failure(error, claims).status_code == status
