"""Attachment downloads over real HTTP: hashes, types, names, limits, faults and the allow-list."""

from __future__ import annotations

import hashlib
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import psutil
import pytest

from seek_sync.sandbox import files
from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.server import SandboxServer
from seek_sync.sandbox.world import AttachmentRecord
from seek_sync.seek.client import SeekClient
from seek_sync.seek.downloads import FileSink, HashOnlySink
from seek_sync.seek.errors import DownloadError, DownloadRefusedError, TruncatedDownloadError
from tests.processes import sandbox_process
from tests.seek.test_client_http import client_settings


@pytest.fixture
async def client(sandbox: SandboxServer, tmp_path: Path) -> AsyncIterator[SeekClient]:
    async with httpx.AsyncClient(timeout=60) as http:
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
    async with httpx.AsyncClient() as http:
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
        result, peak, rss_growth, seconds = _measure(info["base_url"] + path, info, tmp_path)
    assert result.size == 26_214_401
    assert peak < 5_000_000, peak  # Python allocations stay far below the 26 MB file
    print(
        f"\n26,214,401 bytes in {seconds:.2f} s = {result.size / seconds / 1e6:.0f} MB/s; "
        f"tracemalloc peak {peak / 1e6:.2f} MB; RSS growth {rss_growth / 1e6:.1f} MB"
    )


def _measure(url: str, info: dict[str, str], tmp_path: Path) -> tuple[object, int, int, float]:
    import asyncio

    from seek_sync.demo import sandbox_settings

    settings = sandbox_settings(info, tmp_path)

    async def run() -> object:
        async with httpx.AsyncClient(timeout=60) as http:
            return await SeekClient(http, settings).download(url, FileSink(tmp_path / "big.part"))

    rss_before = psutil.Process().memory_info().rss
    tracemalloc.start()
    started = time.perf_counter()
    result = asyncio.run(run())
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, peak, psutil.Process().memory_info().rss - rss_before, seconds
