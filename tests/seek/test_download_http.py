"""Attachment downloads over real HTTP: hashes, types, names, limits, faults and the allow-list."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import logging
import threading
import time
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import psutil
import pytest
from pydantic import SecretStr

from seek_sync.http import RetryPolicy
from seek_sync.http.clients import async_client
from seek_sync.sandbox import files
from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.server import SandboxServer
from seek_sync.sandbox.world import AttachmentRecord
from seek_sync.seek.auth import PartnerTokenProvider
from seek_sync.seek.client import SeekClient
from seek_sync.seek.downloads import (
    AttachmentDownloader,
    DownloadResult,
    FileSink,
    HashOnlySink,
)
from seek_sync.seek.errors import (
    DownloadError,
    DownloadRefusedError,
    TruncatedDownloadError,
    UnexpectedStatusError,
)
from tests.processes import sandbox_process
from tests.seek.test_client_http import client_settings


@pytest.fixture
async def client(sandbox: SandboxServer, tmp_path: Path) -> AsyncIterator[SeekClient]:
    async with async_client(httpx.Timeout(60)) as http:
        yield SeekClient(http, client_settings(sandbox, tmp_path))


def edge(sandbox: SandboxServer, name: str) -> tuple[str, AttachmentRecord]:
    application_id, attachment_id = sandbox.state.world.edge_cases[name]
    record = sandbox.state.world.attachment(application_id, attachment_id)
    assert record is not None
    path = f"/anzPublicTest/applications/{application_id}/attachments/{attachment_id}"
    return sandbox.base_url + path, record


def expected_sha(record: AttachmentRecord) -> str:
    data = files.render_file(record.kind, record.size, record.seed, record.title, record.lines)
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("case", "sniffed"),
    [
        (
            "spaces_filename",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("unicode_filename", "application/pdf"),
        ("image_png", "image/png"),
        ("image_jpeg", "image/jpeg"),
        ("rtf_cover", "application/rtf"),
        ("txt_other", "text/plain"),
        ("disallowed_zip", "application/zip"),
        ("disallowed_exe", "application/vnd.microsoft.portable-executable"),
    ],
)
async def test_download_hash_size_type_and_name(
    sandbox: SandboxServer, client: SeekClient, tmp_path: Path, case: str, sniffed: str
) -> None:
    url, record = edge(sandbox, case)
    sink = FileSink(tmp_path / "file.part")
    result = await client.download(url, sink)
    sink.close()
    assert result.size == record.size == sink.path.stat().st_size
    assert (
        result.sha256 == expected_sha(record) == hashlib.sha256(sink.path.read_bytes()).hexdigest()
    )
    assert result.sniffed_type == sniffed
    assert result.type_matches == (case != "disallowed_exe")  # declared octet-stream
    assert result.original_filename == record.filename


async def test_type_mismatch_is_flagged(sandbox: SandboxServer, client: SeekClient) -> None:
    url, _ = edge(sandbox, "type_mismatch")
    result = await client.download(url, HashOnlySink())
    assert result.declared_type == "application/pdf"
    assert result.sniffed_type.endswith("wordprocessingml.document")  # type: ignore[union-attr]
    assert not result.type_matches


async def test_hostile_filename_made_safe(sandbox: SandboxServer, client: SeekClient) -> None:
    url, record = edge(sandbox, "hostile_filename")
    result = await client.download(url, HashOnlySink())
    assert result.original_filename == record.filename
    for bad in ("/", "\\", "\r", "\n", "\x00", '"'):
        assert bad not in result.safe_filename
    assert not result.safe_filename.startswith(".")
    assert result.safe_filename.endswith(".pdf")


async def test_removed_file_is_not_found_and_not_retried(
    sandbox: SandboxServer, client: SeekClient
) -> None:
    url, _ = edge(sandbox, "removed")
    with pytest.raises(DownloadError) as caught:
        await client.download(url, HashOnlySink())
    assert caught.value.reason == "not_found"
    assert sandbox.count("attachment") == 1


async def test_truncation_detected_and_retried(sandbox: SandboxServer, client: SeekClient) -> None:
    url, record = edge(sandbox, "spaces_filename")
    sandbox.add_fault("attachment", "truncate")
    result = await client.download(url, HashOnlySink())
    assert result.sha256 == expected_sha(record)
    assert sandbox.count("attachment") == 2


async def test_persistent_truncation_is_a_clear_error(
    sandbox: SandboxServer, client: SeekClient
) -> None:
    url, record = edge(sandbox, "spaces_filename")
    sandbox.add_fault("attachment", "truncate", times=None)
    with pytest.raises(TruncatedDownloadError, match=f"of {record.size} bytes.*request id"):
        await client.download(url, HashOnlySink())
    assert sandbox.count("attachment") == client.settings.retry_max_attempts


@pytest.mark.parametrize(
    ("kind", "options"),
    [("rate_limit", {"retry_after": 0.05}), ("error", {"status": 503}), ("reset", {})],
)
async def test_transient_faults_are_retried(
    sandbox: SandboxServer, client: SeekClient, kind: str, options: dict[str, float]
) -> None:
    url, record = edge(sandbox, "image_png")
    sandbox.add_fault("attachment", kind, times=2, **options)
    assert (await client.download(url, HashOnlySink())).size == record.size
    assert sandbox.count("attachment") == 3


async def test_expired_token_is_refreshed_once(sandbox: SandboxServer, client: SeekClient) -> None:
    url, record = edge(sandbox, "image_png")
    await client.graphql.query("{ version }")
    sandbox.expire_tokens()
    assert (await client.download(url, HashOnlySink())).size == record.size
    assert sandbox.count("token") == 2


async def test_too_large_is_refused_from_the_headers(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    url, _ = edge(sandbox, "url_limit_over")
    settings = client_settings(sandbox, tmp_path, max_download_bytes=1_000_000)
    async with async_client(httpx.Timeout(5.0)) as http:
        started = time.perf_counter()
        with pytest.raises(DownloadError) as caught:
            await SeekClient(http, settings).download(url, HashOnlySink())
    assert caught.value.reason == "too_large"
    assert time.perf_counter() - started < 2  # the 25 MB body was never read


async def test_tracing_headers_on_downloads(sandbox: SandboxServer, client: SeekClient) -> None:
    url, _ = edge(sandbox, "image_png")
    await client.download(url, HashOnlySink(), session_id="session-42")
    seen = sandbox.requests("attachment")[-1].headers
    assert seen["user-agent"].startswith("seek-sync/")
    assert seen["x-session-id"] == "session-42" and len(seen["x-request-id"]) == 36


async def test_other_origins_are_refused_with_no_request(
    sandbox: SandboxServer, client: SeekClient
) -> None:
    url, _ = edge(sandbox, "image_png")
    path = url.removeprefix(sandbox.base_url)
    with SandboxServer(SandboxConfig(applications=1, edge_cases=False)) as other:
        host, port = sandbox.base_url.removeprefix("http://").split(":")
        refused = [
            other.base_url + path,  # same host, other port
            f"https://{host}:{port}{path}",  # other scheme
            f"http://localhost:{port}{path}",  # other host name for the same machine
            f"http://{host}:{port}@{other.base_url.removeprefix('http://')}{path}",  # userinfo
            f"ftp://{host}:{port}{path}",
            f"http://{host}:{port}\\@{other.base_url.removeprefix('http://')}{path}",  # backslash
            f"http://{host}:{port}{path}\t",  # urllib drops the tab, httpx refuses it
            f" {sandbox.base_url}{path}",  # leading space: two parsers, two answers
            f"http:/{host}:{port}{path}",  # no authority
            f"http://[::1]:{port}{path}",
            "not a url at all",
        ]
        for bad in refused:
            with pytest.raises(DownloadRefusedError):
                await client.download(bad, HashOnlySink())
        assert other.counts() == {}
    assert sandbox.count("attachment") == 0 and sandbox.count("token") == 0


def test_25_mb_download_in_constant_memory(tmp_path: Path) -> None:
    """The sandbox in its own process, so only the client's memory is measured."""
    with sandbox_process() as sandbox:
        info = sandbox.info
        summary = httpx.get(f"{info['admin_url']}/summary").json()
        application_id, attachment_id = summary["edge_cases"]["url_limit_over_mib"]
        path = f"/anzPublicTest/applications/{application_id}/attachments/{attachment_id}"
        url = info["base_url"] + path
        result, seconds, rss_peak = _download(url, info, tmp_path, traced=False)
        traced, _, _ = _download(url, info, tmp_path, traced=True)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert result.size == traced.size == 26_214_401 == (tmp_path / "big.part").stat().st_size
    assert result.sha256 == traced.sha256
    assert peak < 5_000_000, peak  # Python allocations stay far below the 26 MB file
    assert rss_peak < 20_000_000, rss_peak
    print(
        f"\n26,214,401 bytes in {seconds:.2f} s = {result.size / seconds / 1e6:.0f} MB/s; "
        f"tracemalloc peak {peak / 1e6:.2f} MB; peak RSS growth {rss_peak / 1e6:.1f} MB"
    )


def _download(
    url: str, info: dict[str, str], tmp_path: Path, *, traced: bool
) -> tuple[DownloadResult, float, int]:
    """One download to a file: its result, seconds, and the peak RSS growth while it ran."""
    from seek_sync.local_stack import sandbox_settings

    settings = sandbox_settings(info, tmp_path)
    process = psutil.Process()
    before = process.memory_info().rss
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.002):
            peak[0] = max(peak[0], process.memory_info().rss)

    async def run() -> DownloadResult:
        async with async_client(httpx.Timeout(60)) as http:
            with FileSink(tmp_path / "big.part") as sink:
                return await SeekClient(http, settings).download(url, sink)

    sampler = threading.Thread(target=sample)
    sampler.start()
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    result = asyncio.run(run())
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return result, seconds, peak[0] - before


class RecordingSink:
    """Keeps the bytes and counts restarts, to prove each attempt starts from nothing."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.begins = 0

    def begin(self) -> None:
        self.begins += 1
        self.data.clear()

    def write(self, chunk: bytes) -> None:
        self.data += chunk


async def test_every_attempt_restarts_the_sink(sandbox: SandboxServer, client: SeekClient) -> None:
    url, record = edge(sandbox, "image_jpeg")
    sandbox.add_fault("attachment", "truncate")
    sink = RecordingSink()
    result = await client.download(url, sink)
    assert sink.begins == 2 and len(sink.data) == record.size == result.size
    assert hashlib.sha256(sink.data).hexdigest() == result.sha256 == expected_sha(record)


async def test_head_reads_metadata_without_the_body(
    sandbox: SandboxServer, client: SeekClient
) -> None:
    url, record = edge(sandbox, "unicode_filename")
    assert await client.downloader.head(url) == (record.size, "application/pdf", record.filename)
    assert [r.method for r in sandbox.requests("attachment")] == ["HEAD"]


@pytest.mark.parametrize(("status", "reason"), [(403, "forbidden"), (410, "not_found")])
async def test_final_statuses_are_not_retried(
    sandbox: SandboxServer, client: SeekClient, status: int, reason: str
) -> None:
    url, _ = edge(sandbox, "image_png")
    sandbox.add_fault("attachment", "error", status=status, times=None)
    with pytest.raises(DownloadError) as caught:
        await client.download(url, HashOnlySink())
    assert caught.value.reason == reason and "request id" in str(caught.value)
    assert sandbox.count("attachment") == 1


async def test_other_errors_are_unexpected_and_not_retried(
    sandbox: SandboxServer, client: SeekClient
) -> None:
    url, _ = edge(sandbox, "image_png")
    sandbox.add_fault("attachment", "error", status=500, times=None)
    with pytest.raises(UnexpectedStatusError, match="HTTP 500"):
        await client.download(url, HashOnlySink())
    assert sandbox.count("attachment") == 1


async def test_token_revoked_mid_flight_is_refreshed_once(
    sandbox: SandboxServer, client: SeekClient
) -> None:
    url, record = edge(sandbox, "txt_other")
    sandbox.add_fault("attachment", "expire_token")
    assert (await client.download(url, HashOnlySink())).size == record.size
    assert sandbox.count("attachment") == 2 and sandbox.count("token") == 2


async def test_slow_body_and_a_read_timeout_are_survived(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    url, record = edge(sandbox, "rtf_cover")
    sandbox.add_fault("attachment", "slow_body", delay=0.3)
    sandbox.add_fault("attachment", "latency", delay=1.0)  # the second request waits too long
    async with async_client(httpx.Timeout(0.5)) as http:
        client = SeekClient(http, client_settings(sandbox, tmp_path))
        result = await client.download(url, HashOnlySink())  # slow body: fine
        assert result.sha256 == expected_sha(record)
        result = await client.download(url, HashOnlySink())  # read timeout, then retried
        assert result.sha256 == expected_sha(record)
    assert sandbox.count("attachment") == 3


async def test_each_request_has_its_own_id_and_the_callers_session(
    sandbox: SandboxServer, client: SeekClient
) -> None:
    url, _ = edge(sandbox, "image_png")
    sandbox.add_fault("attachment", "error", status=503, times=2)
    result = await client.download(url, HashOnlySink(), session_id="interaction-7")
    seen = [r.headers for r in sandbox.requests("attachment")]
    ids = [h["x-request-id"] for h in seen]
    assert len(set(ids)) == 3 and all(str(uuid.UUID(i)) == i for i in ids)
    assert {h["x-session-id"] for h in seen} == {"interaction-7"}
    assert result.request_id == ids[-1]
    assert {h["accept-encoding"] for h in seen} == {"identity"}


async def test_no_token_or_filename_in_errors_or_logs(
    sandbox: SandboxServer, client: SeekClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="seek_sync")
    url, _ = edge(sandbox, "unicode_filename")
    token = await client.tokens.token()
    await client.download(url, HashOnlySink())
    sandbox.add_fault("attachment", "truncate", times=None)
    with pytest.raises(TruncatedDownloadError) as caught:
        await client.download(url + "?secret=1", HashOnlySink())
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("seek_sync")]
    assert len(ours) >= 5  # one line per download and per retry
    text = "\n".join(ours) + str(caught.value)
    assert token not in text and "Zo" not in text and "secret" not in text
    assert caught.value.request_id == sandbox.requests("attachment")[-1].headers["x-request-id"]


# --- what the sandbox does not do: redirects, encodings, missing lengths, empty files ----------

SEEK = "https://seek.test/anzPublicTest/applications/a/attachments/b"


async def streamed(data: bytes, size: int = 4096) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@asynccontextmanager
async def mock_downloader(
    handler: Callable[[httpx.Request], httpx.Response], *, max_bytes: int = 1_000_000
) -> AsyncIterator[AttachmentDownloader]:
    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "tok-123", "expires_in": 3600})
        return handler(request)

    transport = httpx.MockTransport(route)  # bodies as async iterators: streamed, as on a wire
    async with httpx.AsyncClient(transport=transport, follow_redirects=True) as http:
        tokens = PartnerTokenProvider(
            http,
            token_url="https://auth.test/oauth/token",
            client_id="c",
            client_secret=SecretStr("s"),
            audience="a",
        )
        yield AttachmentDownloader(
            http,
            tokens=tokens,
            allowed_origins=frozenset({"https://seek.test:443"}),
            max_bytes=max_bytes,
            policy=RetryPolicy(initial_backoff=0.01, max_backoff=0.02),
        )


async def test_redirects_are_never_followed_even_by_a_following_client() -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(302, headers={"Location": "https://evil.test/steal"})

    async with mock_downloader(handler) as downloader:
        with pytest.raises(DownloadError) as caught:
            await downloader.download(SEEK, HashOnlySink())
    assert caught.value.reason == "redirect"
    assert [u.host for u in seen] == ["seek.test"]


async def test_an_encoded_body_is_stored_decoded() -> None:
    data = b"References\n" * 1000

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["accept-encoding"] == "identity"
        body = gzip.compress(data)
        headers = {"Content-Encoding": "gzip", "Content-Length": str(len(body))}
        headers["Content-Type"] = "text/plain; charset=utf-8"
        return httpx.Response(200, headers=headers, content=streamed(body))

    async with mock_downloader(handler) as downloader:
        sink = RecordingSink()
        result = await downloader.download(SEEK, sink)
    assert bytes(sink.data) == data and result.size == len(data)
    assert result.sha256 == hashlib.sha256(data).hexdigest() and result.type_matches


async def test_too_large_without_content_length_stops_streaming() -> None:
    sent: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        for index in range(1000):
            sent.append(index)
            yield b"\0" * 10_000

    async with mock_downloader(lambda _: httpx.Response(200, content=body())) as downloader:
        with pytest.raises(DownloadError) as caught:
            await downloader.download(SEEK, HashOnlySink())
    assert caught.value.reason == "too_large" and len(sent) < 200


async def test_an_empty_file_gets_a_fallback_name() -> None:
    headers = {"Content-Type": "application/pdf", "Content-Length": "0"}
    headers["Content-Disposition"] = 'attachment; filename="/"'

    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=headers, content=streamed(b""))

    async with mock_downloader(handler) as downloader:
        result = await downloader.download(SEEK, HashOnlySink())
    assert (result.size, result.sniffed_type, result.type_matches) == (0, None, False)
    assert result.sha256 == hashlib.sha256(b"").hexdigest()
    assert (result.original_filename, result.safe_filename) == ("/", "attachment")
