"""Files of the Onderwijsregio fake: decoding data URIs and fetching URLs when a mutation runs.

A URL item is fetched by the engine, not at request time: the answer must be 2xx, its Content-Type
in the allow-list and its body at most `url_limit_bytes`; otherwise the whole mutation fails after
its 202 (reported in the callback, nothing stored).
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp

from seek_sync.sandbox.onderwijsregio_schema import (
    ATTACHMENT_FIELDS,
    ATTACHMENT_ID_PREFIX,
    OnderwijsregioConfig,
)
from seek_sync.sandbox.received import ReceivedFiles

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
FILES_PATH = "/_sandbox/onderwijsregio/files"  # where stored files are served (their `url`)


class MutationFailed(Exception):
    """A mutation that cannot be applied; its message goes into the callback's `error`."""


def record_id(prefix: str) -> str:
    """An Airtable-style id: prefix + 14 alphanumerics."""
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(14))


@dataclass
class StoredFile:
    """One attachment the fake stored: its size and digest (the bytes only if spilled)."""

    id: str
    field: str
    filename: str
    size: int
    type: str
    sha256: str
    source: Literal["data", "url"]
    operation: str  # the mutation (route) that brought it: create, upsert or attachments
    sandbox: bool
    candidate_id: str = ""
    requested_at: float | None = None  # epoch seconds: its mutation was accepted (the 202)
    stored_at: float | None = None  # epoch seconds: the mutation applied, the fake holds it

    def public(self, base_url: str) -> dict[str, Any]:
        """As `GET /candidates/{id}` shows it (Airtable-style)."""
        return {
            "id": self.id,
            "filename": self.filename,
            "size": self.size,
            "type": self.type,
            "url": f"{base_url}{FILES_PATH}/{self.id}",
        }

    def record(self) -> dict[str, Any]:
        """For tests: everything the fake keeps."""
        return {
            "id": self.id,
            "candidate_id": self.candidate_id,
            "field": self.field,
            "filename": self.filename,
            "size": self.size,
            "type": self.type,
            "sha256": self.sha256,
            "source": self.source,
            "operation": self.operation,
            "sandbox": self.sandbox,
            "requested_at": self.requested_at,
            "stored_at": self.stored_at,
        }


def decode_data_uri(value: str) -> tuple[str, bytes]:
    """(MIME type, bytes) of `data:<mime>[;k=v]*;base64,<data>`; ValueError if malformed."""
    head, sep, encoded = value.partition(",")
    if not head.startswith("data:") or not sep or not head.endswith(";base64"):
        raise ValueError("is not a base64 data URI")
    try:
        data = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise ValueError("is not valid base64") from None
    return head[5:].partition(";")[0], data


class FileFetcher:
    """Turns the attachment items of one mutation into StoredFiles (decoding or fetching)."""

    def __init__(
        self,
        config: OnderwijsregioConfig,
        session: aiohttp.ClientSession,
        operation: str,
        sandbox: bool,
        received: ReceivedFiles,
    ) -> None:
        self.config = config
        self.session = session
        self.received = received
        self.operation = operation
        self.sandbox = sandbox

    async def all(self, body: dict[str, Any], where: str) -> list[StoredFile]:
        files = []
        for name in ATTACHMENT_FIELDS:
            for index, item in enumerate(body.get(name) or []):
                files.append(await self.one(item, name, f"{where}{name}[{index}]"))
        return files

    async def one(self, item: dict[str, Any], field_name: str, where: str) -> StoredFile:
        c = self.config
        if c.data_field in item:
            try:
                mime, data = decode_data_uri(item[c.data_field])
            except ValueError as error:
                raise MutationFailed(f"{where}.{c.data_field} {error}") from None
            if len(data) > c.data_limit_bytes:
                raise MutationFailed(f"{where}.{c.data_field} is over the data limit")
            source: Literal["data", "url"] = "data"
        else:
            mime, data = await self.fetch(item[c.url_field], f"{where}.{c.url_field}")
            source = "url"
        kept = self.received.take(data)
        return StoredFile(
            id=record_id(ATTACHMENT_ID_PREFIX),
            field=field_name,
            filename=item[c.filename_field],
            size=kept.size,
            type=mime,
            sha256=kept.sha256,
            source=source,
            operation=self.operation,
            sandbox=self.sandbox,
        )

    async def fetch(self, url: str, where: str) -> tuple[str, bytes]:
        limit = self.config.url_limit_bytes
        timeout = aiohttp.ClientTimeout(total=self.config.fetch_timeout_seconds)
        try:
            async with self.session.get(url, timeout=timeout) as response:
                if not 200 <= response.status < 300:
                    raise MutationFailed(f"{where}: fetching the file answered {response.status}")
                mime = response.content_type.lower()
                if mime not in self.config.allowed_mime_types:
                    raise MutationFailed(f"{where}: Content-Type {mime!r} is not allowed")
                if response.content_length is not None and response.content_length > limit:
                    raise MutationFailed(f"{where}: the file is over the {limit}-byte URL limit")
                buffer = bytearray()
                async for chunk in response.content.iter_chunked(256 * 1024):
                    buffer += chunk
                    if len(buffer) > limit:
                        raise MutationFailed(
                            f"{where}: the file is over the {limit}-byte URL limit"
                        )
                return mime, bytes(buffer)
        except (aiohttp.ClientError, TimeoutError) as error:
            reason = type(error).__name__
            raise MutationFailed(f"{where}: the file could not be fetched ({reason})") from None
