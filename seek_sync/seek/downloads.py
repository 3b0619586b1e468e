"""Streaming attachment downloads: constant memory, SHA-256 while streaming, origin allow-list.

The partner token goes only to allow-listed origins (scheme, host and port); any other URL is
refused before a request is made, and redirects are never followed. The body is streamed into a
sink in chunks; truncation (fewer bytes than Content-Length) is detected and retried, and every
attempt restarts the sink so nothing half-written survives.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import urlsplit

import httpx
import pyrfc6266

from seek_sync.seek.auth import PartnerTokenProvider
from seek_sync.seek.errors import (
    DownloadError,
    DownloadRefusedError,
    SeekTransportError,
    TruncatedDownloadError,
    UnexpectedStatusError,
)
from seek_sync.seek.http import RetryPolicy, Tracing, raise_for_retryable
from seek_sync.seek.sniff import HEAD_BYTES, base_type, safe_filename, sniff_type, types_match
from seek_sync.settings import Settings, origin_of

log = logging.getLogger("seek_sync.seek")


class DownloadSink(Protocol):
    def begin(self) -> None:
        """Start, or restart after a failed attempt: discard anything written so far."""

    def write(self, chunk: bytes) -> None: ...


class FileSink:
    """Writes the download to `path` (truncated at every attempt)."""

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


class HashOnlySink:
    """Discards the bytes (the result still carries size and SHA-256)."""

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


def original_filename(disposition: str | None) -> str | None:
    """The sender's filename, unsanitised: RFC 6266 `filename*` first, else `filename`."""
    if not disposition:
        return None
    try:
        _, params = pyrfc6266.parse(disposition)
    except Exception:  # pyparsing's errors; a malformed header must not fail the download
        return None
    values = {p.name.lower(): p.value for p in params}
    return values.get("filename*") or values.get("filename")


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

    def check_origin(self, url: str) -> None:
        """Refuse (before any request) a URL the partner token must not be sent to."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.username or parts.password:
            raise DownloadRefusedError("attachment URL refused: not a plain http(s) URL")
        try:
            origin = origin_of(url)
        except ValueError:
            raise DownloadRefusedError("attachment URL refused: malformed") from None
        if origin not in self._allowed:
            raise DownloadRefusedError(f"attachment URL refused: origin {origin} is not allowed")

    async def head(
        self, url: str, *, session_id: str | None = None
    ) -> tuple[int | None, str | None, str | None]:
        """Content-Length, Content-Type and original filename, without the body."""
        self.check_origin(url)
        response, request_id = await self._send("HEAD", url, session_id)
        self._check_status(response, request_id)
        length = response.headers.get("Content-Length")
        return (
            int(length) if length and length.isdigit() else None,
            response.headers.get("Content-Type"),
            original_filename(response.headers.get("Content-Disposition")),
        )

    async def download(
        self, url: str, sink: DownloadSink, *, session_id: str | None = None
    ) -> DownloadResult:
        self.check_origin(url)
        async for attempt in self._policy.retrying():
            with attempt:
                return await self._attempt(url, sink, session_id)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _send(
        self, method: str, url: str, session_id: str | None, *, stream: bool = False
    ) -> tuple[httpx.Response, str]:
        """One request with a 401-refresh-once; a streamed response is left open."""
        for refreshed in (False, True):
            token = await self._tokens.token()
            headers = self._tracing.headers(session_id)
            headers["Authorization"] = f"Bearer {token}"
            request_id = headers["X-Request-Id"]
            request = self._http.build_request(method, url, headers=headers)
            try:
                response = await self._http.send(request, stream=stream)
            except httpx.TransportError as error:
                raise SeekTransportError(error, request_id=request_id) from None
            if response.status_code != 401 or refreshed:
                return response, request_id
            await response.aclose()
            await self._tokens.refresh(token)
        raise AssertionError("unreachable")

    def _check_status(self, response: httpx.Response, request_id: str) -> None:
        raise_for_retryable(response, request_id)
        status = response.status_code
        if status in (404, 410):
            raise DownloadError(
                "not_found", f"attachment gone (HTTP {status})", request_id=request_id
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
        self, url: str, sink: DownloadSink, session_id: str | None
    ) -> DownloadResult:
        response, request_id = await self._send("GET", url, session_id, stream=True)
        try:
            self._check_status(response, request_id)
            declared_length = response.headers.get("Content-Length")
            expected = (
                int(declared_length) if declared_length and declared_length.isdigit() else None
            )
            if expected is not None and expected > self._max_bytes:
                raise DownloadError(
                    "too_large",
                    f"attachment is {expected} bytes, over the {self._max_bytes}-byte limit",
                    request_id=request_id,
                )
            sink.begin()
            digest, head, size = hashlib.sha256(), b"", 0
            try:
                async for chunk in response.aiter_raw(self._chunk_size):
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
                if expected is not None:
                    raise TruncatedDownloadError(size, expected, request_id=request_id) from None
                raise SeekTransportError(error, request_id=request_id) from None
            if expected is not None and size != expected:
                raise TruncatedDownloadError(size, expected, request_id=request_id)
        finally:
            await response.aclose()
        declared = base_type(response.headers.get("Content-Type"))
        sniffed = sniff_type(head)
        original = original_filename(response.headers.get("Content-Disposition"))
        log.info("downloaded attachment: %d bytes, %s (request id %s)", size, sniffed, request_id)
        return DownloadResult(
            url=url,
            size=size,
            sha256=digest.hexdigest(),
            declared_type=declared,
            sniffed_type=sniffed,
            type_matches=types_match(declared, sniffed),
            original_filename=original,
            safe_filename=safe_filename(
                original, extension=mimetypes.guess_extension(sniffed or "") or None
            ),
            request_id=request_id,
        )
