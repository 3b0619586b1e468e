"""Streaming attachment downloads: constant memory, SHA-256 while streaming, origin allow-list.

The partner token goes only to allow-listed origins (scheme, host and port, default ports made
explicit); any other URL (another port, http for https, userinfo, a non-http scheme, a URL two
parsers read differently) is refused before any request, and redirects are never followed. The
body is streamed into a sink in chunks, hashed as it goes, and only its first `HEAD_BYTES` are kept
(for sniffing). Truncation (fewer bytes than Content-Length, or a dropped connection) is retried by
the retry policy, and every attempt restarts the sink so nothing half-written survives.

Nothing here logs or raises the token, the query string or the filename: logs carry sizes, types
and request ids only.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, Self
from urllib.parse import urlsplit

import httpx

from seek_sync.http import RetryPolicy, Tracing, raise_for_retryable
from seek_sync.seek.auth import PartnerTokenProvider
from seek_sync.seek.errors import (
    DownloadError,
    DownloadRefusedError,
    RetryableHTTPError,
    SeekError,
    SeekTransportError,
    TruncatedDownloadError,
    UnexpectedStatusError,
)
from seek_sync.seek.sniff import (
    EXTENSIONS,
    HEAD_BYTES,
    base_type,
    original_filename,
    safe_filename,
    sniff_type,
    types_match,
)
from seek_sync.settings import Settings, origin_of

__all__ = [
    "AttachmentDownloader",
    "DownloadResult",
    "DownloadSink",
    "FileSink",
    "HashOnlySink",
    "original_filename",
    "safe_filename",
    "sniff_type",
]

log = logging.getLogger("seek_sync.seek")

_DEFAULT_PORTS = {"http": 80, "https": 443}


class DownloadSink(Protocol):
    def begin(self) -> None:
        """Start, or restart after a failed attempt: discard anything written so far."""

    def write(self, chunk: bytes) -> None: ...


class FileSink:
    """Writes the download to `path` (truncated at every attempt); close it, or use `with`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO | None = None

    def begin(self) -> None:
        self.close()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("wb")

    def write(self, chunk: bytes) -> None:
        assert self._file is not None, "begin() first"
        self._file.write(chunk)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class HashOnlySink:
    """Discards the bytes (the result still carries size, SHA-256 and type)."""

    def begin(self) -> None:
        pass

    def write(self, chunk: bytes) -> None:
        pass


@dataclass(frozen=True)
class DownloadResult:
    url: str
    size: int
    sha256: str
    declared_type: str | None
    sniffed_type: str | None
    type_matches: bool
    original_filename: str | None
    safe_filename: str
    request_id: str


def _content_length(response: httpx.Response) -> int | None:
    value = response.headers.get("Content-Length", "").strip()
    return int(value) if value.isdigit() else None


class AttachmentDownloader:
    """Downloads SEEK attachment URLs with the partner token, into a caller's sink."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        tokens: PartnerTokenProvider,
        allowed_origins: frozenset[str],
        max_bytes: int,
        tracing: Tracing | None = None,
        policy: RetryPolicy | None = None,
        chunk_size: int = 65536,
    ) -> None:
        self._http = http
        self._tokens = tokens
        self._allowed = allowed_origins
        self._max_bytes = max_bytes
        self._tracing = tracing or Tracing()
        self._policy = policy or RetryPolicy()
        self._chunk_size = chunk_size

    @classmethod
    def from_settings(
        cls, http: httpx.AsyncClient, tokens: PartnerTokenProvider, settings: Settings
    ) -> AttachmentDownloader:
        return cls(
            http,
            tokens=tokens,
            allowed_origins=settings.token_origins,
            max_bytes=settings.max_download_bytes,
            policy=RetryPolicy.from_settings(settings),
        )

    def check_origin(self, url: str) -> httpx.URL:
        """The URL as httpx will send it, or `DownloadRefusedError` (and no request at all).

        The URL is read by both `urllib` (`origin_of`, as the settings are) and httpx (which sends
        it); both must see the same allow-listed origin and no userinfo.
        """
        try:
            parsed = httpx.URL(url)
            parts = urlsplit(url)
            split_origin = origin_of(url)
        except (httpx.InvalidURL, ValueError):
            raise DownloadRefusedError("attachment URL refused: malformed") from None
        scheme = parsed.scheme
        if scheme not in _DEFAULT_PORTS or not parsed.host:
            raise DownloadRefusedError("attachment URL refused: not an absolute http(s) URL")
        if parsed.userinfo or parts.username is not None or parts.password is not None:
            raise DownloadRefusedError("attachment URL refused: it carries userinfo")
        origin = f"{scheme}://{parsed.host}:{parsed.port or _DEFAULT_PORTS[scheme]}"
        if origin != split_origin:
            raise DownloadRefusedError("attachment URL refused: ambiguous origin")
        if origin not in self._allowed:
            raise DownloadRefusedError(f"attachment URL refused: origin {origin} is not allowed")
        return parsed

    async def head(
        self, url: str, *, session_id: str | None = None
    ) -> tuple[int | None, str | None, str | None]:
        """Content-Length, Content-Type and original filename, without the body (retried)."""
        target = self.check_origin(url)
        async for attempt in self._policy.retrying(SeekError.service, log):
            with attempt:
                response, request_id = await self._send("HEAD", target, session_id)
                self._check_status(response, request_id)
                return (
                    _content_length(response),
                    response.headers.get("Content-Type"),
                    original_filename(response.headers.get("Content-Disposition")),
                )
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def download(
        self, url: str, sink: DownloadSink, *, session_id: str | None = None
    ) -> DownloadResult:
        """Stream `url` into `sink`; on any error the sink holds nothing worth keeping."""
        target = self.check_origin(url)
        async for attempt in self._policy.retrying(SeekError.service, log):
            with attempt:
                return await self._attempt(url, target, sink, session_id)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    @asynccontextmanager
    async def opened(
        self, url: str, *, session_id: str | None = None
    ) -> AsyncIterator[httpx.Response]:
        """`url`'s answer, open for streaming once its status is 200 (one attempt: the caller
        relays it and its own client retries); the same errors as `download`."""
        target = self.check_origin(url)
        response, request_id = await self._send("GET", target, session_id, stream=True)
        try:
            self._check_status(response, request_id)
            yield response
        finally:
            await response.aclose()

    async def _send(
        self, method: str, url: httpx.URL, session_id: str | None, *, stream: bool = False
    ) -> tuple[httpx.Response, str]:
        """One request with a 401-refresh-once; a streamed response is left open."""
        for refreshed in (False, True):
            token = await self._tokens.token()
            headers = self._tracing.headers(session_id)
            headers["Authorization"] = f"Bearer {token}"
            headers["Accept-Encoding"] = "identity"  # hash and store the file's own bytes
            request_id = headers["X-Request-Id"]
            request = self._http.build_request(method, url, headers=headers)
            try:
                response = await self._http.send(request, stream=stream, follow_redirects=False)
            except httpx.TransportError as error:
                raise SeekTransportError(error, request_id=request_id) from None
            if response.status_code != 401 or refreshed:
                return response, request_id
            await response.aclose()
            log.info("attachment download got 401 (request id %s); refreshing once", request_id)
            await self._tokens.refresh(token)
        raise AssertionError("unreachable")

    def _check_status(self, response: httpx.Response, request_id: str) -> None:
        raise_for_retryable(response, request_id, RetryableHTTPError)
        status = response.status_code
        if status in (404, 410):
            raise DownloadError(
                "not_found",
                f"attachment gone (HTTP {status})",
                request_id=request_id,
                status=status,
            )
        if status in (401, 403):
            raise DownloadError(
                "forbidden", f"attachment refused (HTTP {status})", request_id=request_id
            )
        if 300 <= status < 400:
            raise DownloadError(
                "redirect",
                f"attachment redirected (HTTP {status}); not followed",
                request_id=request_id,
            )
        if status != 200:
            raise UnexpectedStatusError(status, "attachment download", request_id=request_id)

    async def _attempt(
        self, url: str, target: httpx.URL, sink: DownloadSink, session_id: str | None
    ) -> DownloadResult:
        sink.begin()
        response, request_id = await self._send("GET", target, session_id, stream=True)
        try:
            self._check_status(response, request_id)
            expected = _content_length(response)
            if expected is not None and expected > self._max_bytes:
                raise DownloadError(
                    "too_large",
                    f"attachment is {expected} bytes, over the {self._max_bytes}-byte limit",
                    request_id=request_id,
                )
            encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
            chunks = (  # raw: as the transport delivers them (re-chunking copied every byte)
                response.aiter_raw()
                if encoding in ("", "identity")
                else response.aiter_bytes(self._chunk_size)  # the server encoded it anyway
            )
            digest, head, size = hashlib.sha256(), b"", 0
            try:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > self._max_bytes:
                        raise DownloadError(
                            "too_large",
                            f"attachment exceeds the {self._max_bytes}-byte limit",
                            request_id=request_id,
                        )
                    digest.update(chunk)
                    if len(head) < HEAD_BYTES:
                        head += chunk[: HEAD_BYTES - len(head)]
                    sink.write(chunk)
            except httpx.TransportError as error:
                received = response.num_bytes_downloaded
                if expected is not None and received < expected:
                    raise TruncatedDownloadError(
                        received, expected, request_id=request_id
                    ) from None
                raise SeekTransportError(error, request_id=request_id) from None
            if expected is not None and response.num_bytes_downloaded != expected:
                raise TruncatedDownloadError(
                    response.num_bytes_downloaded, expected, request_id=request_id
                )
        finally:
            await response.aclose()
        declared = base_type(response.headers.get("Content-Type"))
        sniffed = sniff_type(head)
        original = original_filename(response.headers.get("Content-Disposition"))
        matches = types_match(declared, sniffed)
        log.info(
            "downloaded attachment: %d bytes, declared %s, sniffed %s%s (request id %s)",
            size,
            declared,
            sniffed,
            "" if matches else ", type mismatch",
            request_id,
        )
        return DownloadResult(
            url=url,
            size=size,
            sha256=digest.hexdigest(),
            declared_type=declared,
            sniffed_type=sniffed,
            type_matches=matches,
            original_filename=original,
            safe_filename=safe_filename(original, extension=EXTENSIONS.get(sniffed or "")),
            request_id=request_id,
        )
