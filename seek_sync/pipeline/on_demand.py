"""Hirers on demand (`attachments: on_demand`): none of their documents is stored (no Dagster).

The files stage reads each file from SEEK once, hashing and sniffing it as it streams, and keeps
the facts only (`on_demand`: SHA-256, size, types; no blob). At push time each file is fetched
again from SEEK: an inline upload streams into memory (its SHA-256 must match what was recorded),
and a URL upload hands the ATS a short-lived URL of the proxy role for that one attachment, after
its first bytes were read from SEEK. Our content policy is decided from those bytes before
anything is sent. `OnDemandSource` is the targets' blob source: the stored hirers' blobs as
before, the on-demand hirers' files from memory or as proxy URLs.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from seek_sync.ats.base import (
    SETTLED,
    AtsFile,
    AtsTarget,
    BlobSource,
    ProgressHook,
    UploadRecord,
)
from seek_sync.file_policy import refusal
from seek_sync.pipeline.ats_state import AtsState
from seek_sync.proxy.tokens import ProxyClaims, expiry, proxy_url
from seek_sync.seek.client import SeekClient
from seek_sync.seek.errors import DownloadError, SeekError
from seek_sync.seek.sniff import HEAD_BYTES, sniff_type
from seek_sync.settings import Settings

log = logging.getLogger("seek_sync.on_demand")

KEY_PREFIX = "on-demand/"  # blob keys of on-demand files: no blob store path has this form


class MemorySink:
    """A download sink that keeps the bytes (inline uploads only: at most the inline limit)."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def begin(self) -> None:
        self.buffer.clear()

    def write(self, chunk: bytes) -> None:
        self.buffer.extend(chunk)


class HeadSink:
    """A download sink that keeps only the first bytes (for sniffing) and discards the rest."""

    def __init__(self) -> None:
        self.head = b""

    def begin(self) -> None:
        self.head = b""

    def write(self, chunk: bytes) -> None:
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]


@dataclass(frozen=True)
class OnDemandFile:
    """What a proxy token names, for one file of a hirer on demand."""

    hirer_id: str
    profile_id: str
    attachment_id: str
    url: str
    target: str
    sha256: str


class OnDemandSource:
    """The targets' blob source: stored blobs through `inner`; on-demand files from memory
    (fetched just before their push) or as proxy URLs."""

    def __init__(self, inner: BlobSource, settings: Settings) -> None:
        self.inner, self.ttl = inner, settings.proxy_url_ttl_seconds
        self.public_base = settings.proxy_public_url
        secret = settings.proxy_signing_secret
        self.secret = secret.get_secret_value().encode() if secret else None
        self.files: dict[str, OnDemandFile] = {}
        self.fetched: dict[str, bytes] = {}

    def register(self, file: OnDemandFile) -> str:
        """The blob key the file travels under."""
        key = f"{KEY_PREFIX}{file.target}/{file.attachment_id}"
        self.files[key] = file
        return key

    def read_bytes(self, blob_key: str) -> bytes:
        if blob_key not in self.files:
            return self.inner.read_bytes(blob_key)
        if blob_key not in self.fetched:
            raise LookupError("an on-demand file was not fetched from SEEK before its push")
        return self.fetched[blob_key]

    def signed_url(self, blob_key: str, content_type: str, *, now: float | None = None) -> str:
        """A proxy URL for an on-demand file, the same throughout one TTL window (a resend
        under the same key carries the same URL); a signed blob URL for any other."""
        file = self.files.get(blob_key)
        if file is None:
            return self.inner.signed_url(blob_key, content_type, now=now)
        if self.secret is None or not self.public_base:
            raise ValueError(
                "SEEK_SYNC_PROXY_PUBLIC_URL and SEEK_SYNC_PROXY_SIGNING_SECRET must be set "
                "to hand an ATS a proxy URL"
            )
        claims = ProxyClaims(
            hirer_id=file.hirer_id,
            profile_id=file.profile_id,
            attachment_id=file.attachment_id,
            url=file.url,
            target=file.target,
            expires=expiry(self.ttl, now=now),
        )
        return proxy_url(self.public_base, claims, self.secret)


def _may_send(record: UploadRecord | None) -> bool:
    """Whether this pass may send the file: never sent, to send again, or a send to repeat."""
    if record is None:
        return True
    return record.state not in SETTLED and (record.state == "pending" or record.outcome_unknown)


class OnDemand:
    """Fetches the on-demand files of one application from SEEK just before its push."""

    def __init__(self, source: OnDemandSource, seek: SeekClient) -> None:
        self.source, self.seek = source, seek

    def register(self, state: AtsState, row: dict[str, Any]) -> str:
        """The key an on-demand file (a row of `load_work`) travels under to its target."""
        found = OnDemandFile(
            hirer_id=state.hirer_id,
            profile_id=row["profile_id"],
            attachment_id=row["attachment_id"],
            url=row["url"],
            target=state.target,
            sha256=row["sha256"],
        )
        return self.source.register(found)

    async def prepare(
        self,
        target: AtsTarget,
        state: AtsState,
        files: list[AtsFile],
        uploads: Mapping[str, UploadRecord],
        journal: ProgressHook,
    ) -> None:
        """Fetch each on-demand file this pass may send (inline: whole, into memory; by URL:
        its first bytes) and apply our content policy to what SEEK sent; a refused file is
        recorded `rejected` (journaled at once) and taken out of `files`. So is a file SEEK
        did not give: `failed` when SEEK no longer has it and it was never sent, else it stays
        owed for the next run."""
        refused: list[UploadRecord] = []
        for file in list(files):
            found = self.source.files.get(file.blob_key)
            if found is None or file.blob_key in self.source.fetched:
                continue
            if not _may_send(uploads.get(file.attachment_id)):
                continue
            inline = file.size <= getattr(target, "data_limit", 0)
            sink = MemorySink() if inline else HeadSink()
            try:
                async with self.seek.download_gate:
                    if inline:
                        await self.seek.download(found.url, sink)
                    else:
                        await self._head(found.url, sink)
            except SeekError as error:
                log.warning("on-demand file %s not fetched: %s", file.attachment_id, error)
                files.remove(file)
                known = uploads.get(file.attachment_id)
                gone = isinstance(error, DownloadError) and error.reason == "not_found"
                if gone and (known is None or not known.attempts):  # never sent: settle it
                    refused.append(self._gone(state, file, known, str(error)))
                continue
            body = bytes(sink.buffer) if isinstance(sink, MemorySink) else sink.head
            reason = refusal(sniff_type(body[:HEAD_BYTES]), body[:HEAD_BYTES])
            if inline and not reason and hashlib.sha256(body).hexdigest() != found.sha256:
                reason = "the file at SEEK is not the one recorded (its SHA-256 differs)"
            if reason:
                state.refuse(file, reason)
                refused.append(state.uploads[file.attachment_id])
                files.remove(file)
            elif inline:
                self.source.fetched[file.blob_key] = body
        if refused:
            journal(None, refused)

    @staticmethod
    def _gone(
        state: AtsState, file: AtsFile, known: UploadRecord | None, error: str
    ) -> UploadRecord:
        """SEEK no longer has a file we never sent (removed since): `failed`, with the reason."""
        record = (
            known.model_copy()
            if known
            else UploadRecord(
                target=state.target, hirer_id=state.hirer_id, attachment_id=file.attachment_id
            )
        )
        record.refused(f"SEEK no longer has the file ({error})")
        state.uploads[file.attachment_id] = record
        return record

    async def _head(self, url: str, sink: HeadSink) -> None:
        """The first bytes of `url` (one request, closed once they are read)."""
        sink.begin()
        async with self.seek.downloader.opened(url) as response:
            async for chunk in response.aiter_raw(HEAD_BYTES):
                sink.write(chunk)
                if len(sink.head) >= HEAD_BYTES:
                    break

    def release(self, files: Sequence[AtsFile]) -> None:
        """Drop the bytes held for these files once their push returned."""
        for file in files:
            self.source.fetched.pop(file.blob_key, None)
