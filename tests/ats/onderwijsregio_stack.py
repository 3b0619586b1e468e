"""A whole Onderwijsregio stack for tests over real HTTP: the sandbox (with its fake), the receiver
(callbacks and signed blob URLs), a blob store, and our client and target, with every request the
client sends recorded (method, URL, headers, body) so a test can read the wire."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from seek_sync.ats import callbacks
from seek_sync.ats.base import AtsCandidate, AtsFile, UploadRecord
from seek_sync.ats.onderwijsregio import OnderwijsregioTarget
from seek_sync.ats.onderwijsregio_api import OnderwijsregioClient
from seek_sync.receiver.app import running_receiver
from seek_sync.runstate.inbox import Inbox
from seek_sync.sandbox import files as sandbox_files
from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.onderwijsregio import OnderwijsregioFake
from seek_sync.sandbox.onderwijsregio_schema import OnderwijsregioConfig
from seek_sync.sandbox.server import SandboxServer
from seek_sync.sandbox.world import AttachmentRecord
from seek_sync.settings import Settings, load_receiver_settings, load_settings
from seek_sync.store.blobs import BlobStore
from seek_sync.store.signed_urls import sign_blob_url

BLOB_SECRET = "blob-signing-secret-0123456789"
HIRER = "seekAnzPublicTest:organization:seek:AAAA1111"
CANDIDATE = AtsCandidate(
    hirer_id=HIRER,
    seek_candidate_id="cand-1",
    profile_id="profile-1",
    given_name="Zoë",
    family_name="O'Brien",
    email="zoe.obrien@example.com",
    phone="+61 400 000 000",
)


@dataclass
class Sent:
    """One request our client put on the wire."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Blobs:
    """The target's BlobSource: the receiver's blob store, signed URLs served by the receiver."""

    store: BlobStore
    base_url: str
    types: dict[str, str] = field(default_factory=dict)

    def read_bytes(self, blob_key: str) -> bytes:
        return self.store.read_bytes(blob_key)

    def signed_url(self, blob_key: str, content_type: str, *, now: float | None = None) -> str:
        assert content_type == self.types.get(blob_key, content_type)
        secret = BLOB_SECRET.encode()
        return sign_blob_url(
            self.base_url, blob_key, secret, ttl_seconds=300, content_type=content_type, now=now
        )

    def put(
        self,
        attachment_id: str,
        data: bytes,
        *,
        filename: str,
        content_type: str,
        role: str | None = None,
    ) -> AtsFile:
        sink = self.store.sink(HIRER)
        sink.begin()
        sink.write(data)
        sha = hashlib.sha256(data).hexdigest()
        key = sink.commit(sha)
        self.types[key] = content_type
        return AtsFile(
            attachment_id=attachment_id,
            hirer_id=HIRER,
            profile_id=CANDIDATE.profile_id,
            role=role,  # type: ignore[arg-type]
            filename=filename,
            content_type=content_type,
            size=len(data),
            sha256=sha,
            blob_key=key,
        )


@dataclass
class Stack:
    sandbox: SandboxServer
    fake: OnderwijsregioFake
    settings: Settings
    inbox: Inbox
    receiver: str
    blobs: Blobs
    client: OnderwijsregioClient
    target: OnderwijsregioTarget
    sent: list[Sent]
    raw: httpx.AsyncClient  # straight to the fake's API (authenticated, not recorded)

    @property
    def callback_url(self) -> str:
        return f"{self.receiver}/callbacks/onderwijsregio"

    def edge_file(self, name: str) -> AtsFile:
        """A named edge case of the sandbox world (`world.edge_cases`), stored as a blob; its
        attachment id is the edge case's name."""
        world = self.sandbox.state.world
        record = world.attachment(*world.edge_cases[name])
        assert record is not None, name
        return self.world_file(record, name)

    def world_file(self, record: AttachmentRecord, attachment_id: str) -> AtsFile:
        """One of the sandbox world's attachments, rendered and stored as a blob."""
        data = sandbox_files.render_file(
            record.kind, record.size, record.seed, record.title, record.lines
        )
        assert len(data) == record.size
        return self.blobs.put(
            attachment_id,
            data,
            filename=record.filename,
            content_type=record.declared_type,
            role=record.role,
        )

    def small_file(
        self, n: int, role: str | None = None, kind: str = "pdf", size: int = 6000
    ) -> AtsFile:
        data = sandbox_files.render_file(kind, size, n, f"Document {n}", ["line"])
        return self.blobs.put(
            f"att-{n}",
            data,
            filename=f"document-{n}{sandbox_files.EXTENSION[kind]}",
            content_type=sandbox_files.MIME[kind],
            role=role,
        )

    def writes(self) -> list[Sent]:
        return [s for s in self.sent if s.method != "GET"]

    async def callbacks(self, count: int, timeout: float = 10.0) -> list[callbacks.CallbackResult]:
        """The first `count` callbacks the receiver stored, as outcomes."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            rows = self.inbox.callbacks_after(0)
            if len(rows) >= count:
                return callbacks.results([r.raw for r in rows])
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{len(rows)} of {count} callbacks arrived")
            await asyncio.sleep(0.02)


def by_id(records: list[UploadRecord]) -> dict[str, UploadRecord]:
    return {r.attachment_id: r for r in records}


@asynccontextmanager
async def onderwijsregio_stack(
    tmp_path: Path,
    *,
    fake: OnderwijsregioConfig | None = None,
    edge_cases: bool = False,
    **overrides: Any,
) -> AsyncIterator[Stack]:
    """Everything running; `fake` configures the fake, `overrides` are our client's settings."""
    config = SandboxConfig(
        applications=2, edge_cases=edge_cases, onderwijsregio=fake or OnderwijsregioConfig()
    )
    with SandboxServer(config) as sandbox:
        info = sandbox.info()
        settings = load_settings(
            seek_client_id="x",
            seek_client_secret="y",
            seek_webhook_secret="w" * 32,
            onderwijsregio_callback_secret=info["onderwijsregio_callback_secret"],
            blob_signing_secret=BLOB_SECRET,
            retry_initial_backoff_seconds=0.01,
            home=tmp_path,
            **overrides,
        )
        inbox = Inbox(settings.inbox_path)
        sent: list[Sent] = []

        async def record(request: httpx.Request) -> None:
            body = request.content if isinstance(request.stream, httpx.ByteStream) else b""
            sent.append(Sent(request.method, str(request.url), dict(request.headers), body))

        receiver_settings = load_receiver_settings(
            seek_webhook_secret="w" * 32,
            onderwijsregio_callback_secret=info["onderwijsregio_callback_secret"],
            blob_signing_secret=BLOB_SECRET,
            home=tmp_path,
        )
        with running_receiver(receiver_settings, inbox) as receiver:
            blobs = Blobs(BlobStore(settings.blob_url), receiver)
            hooks = {"request": [record]}
            key = {"x-api-key": info["onderwijsregio_api_key"]}
            async with (
                httpx.AsyncClient(timeout=60, event_hooks=hooks) as http,
                httpx.AsyncClient(
                    base_url=info["onderwijsregio_url"], headers=key, timeout=60
                ) as raw,
            ):
                client = OnderwijsregioClient(
                    http,
                    base_url=info["onderwijsregio_url"],
                    api_key=SecretStr(info["onderwijsregio_api_key"]),
                    settings=settings,
                )
                target = OnderwijsregioTarget(
                    client, blobs, callback_url=f"{receiver}/callbacks/onderwijsregio"
                )
                found = sandbox.state.fakes["onderwijsregio"]
                assert isinstance(found, OnderwijsregioFake)
                yield Stack(
                    sandbox, found, settings, inbox, receiver, blobs, client, target, sent, raw
                )
                await found.settled()
