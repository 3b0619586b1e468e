"""The Onderwijsregio target against the sandbox fake over real HTTP, callbacks included."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
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
from seek_sync.sandbox.server import SandboxServer
from seek_sync.settings import Settings, load_receiver_settings, load_settings
from seek_sync.store.blobs import BlobStore
from seek_sync.store.signed_urls import sign_blob_url

HIRER = "seekAnzPublicTest:organization:seek:AAAA1111"


@dataclass
class Blobs:
    store: BlobStore
    base_url: str
    secret: bytes

    def read_bytes(self, blob_key: str) -> bytes:
        return self.store.read_bytes(blob_key)

    def signed_url(self, blob_key: str, content_type: str, *, now: float | None = None) -> str:
        return sign_blob_url(
            self.base_url,
            blob_key,
            self.secret,
            ttl_seconds=300,
            content_type=content_type,
            now=now,
        )


@dataclass
class World:
    sandbox: SandboxServer
    fake: OnderwijsregioFake
    settings: Settings
    inbox: Inbox
    target: OnderwijsregioTarget
    blobs: Blobs


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[SandboxServer, Settings, Inbox, str]]:
    with SandboxServer(SandboxConfig(applications=1, edge_cases=False)) as sandbox:
        info = sandbox.info()
        settings = load_settings(
            seek_client_id="x",
            seek_client_secret="y",
            seek_webhook_secret="w" * 32,
            onderwijsregio_callback_secret=info["onderwijsregio_callback_secret"],
            blob_signing_secret="blob-signing-secret-0123456789",
            retry_initial_backoff_seconds=0.01,
            ats_confirm_timeout_seconds=0.2,  # then an upload without a callback is read back
            home=tmp_path,
        )
        inbox = Inbox(settings.inbox_path)
        receiver_settings = load_receiver_settings(
            seek_webhook_secret="w" * 32,
            onderwijsregio_callback_secret=info["onderwijsregio_callback_secret"],
            blob_signing_secret="blob-signing-secret-0123456789",
            home=tmp_path,
        )
        with running_receiver(receiver_settings, inbox) as receiver:
            yield sandbox, settings, inbox, receiver


@pytest.fixture
async def world(stack: tuple[SandboxServer, Settings, Inbox, str]) -> AsyncIterator[World]:
    sandbox, settings, inbox, receiver = stack
    info = sandbox.info()
    blobs = Blobs(BlobStore(settings.blob_url), receiver, b"blob-signing-secret-0123456789")
    async with httpx.AsyncClient(timeout=30) as http:
        client = OnderwijsregioClient(
            http,
            base_url=info["onderwijsregio_url"],
            api_key=SecretStr(info["onderwijsregio_api_key"]),
            settings=settings,
        )
        target = OnderwijsregioTarget(
            client, blobs, callback_url=f"{receiver}/callbacks/onderwijsregio"
        )
        fake = sandbox.state.fakes["onderwijsregio"]
        assert isinstance(fake, OnderwijsregioFake)
        yield World(sandbox, fake, settings, inbox, target, blobs)


def stored_file(
    world: World, n: int, role: str | None, size: int = 6000, kind: str = "pdf"
) -> AtsFile:
    data = sandbox_files.render_file(kind, size, n, f"Document {n}", ["line"])
    sink = world.blobs.store.sink(HIRER)
    sink.begin()
    sink.write(data)
    sha = hashlib.sha256(data).hexdigest()
    return AtsFile(
        attachment_id=f"att-{n}",
        hirer_id=HIRER,
        profile_id="profile-1",
        role=role,  # type: ignore[arg-type]
        filename=f"document-{n}{sandbox_files.EXTENSION[kind]}",
        content_type=sandbox_files.MIME[kind],
        size=size,
        sha256=sha,
        blob_key=sink.commit(sha),
    )


CANDIDATE = AtsCandidate(
    hirer_id=HIRER,
    seek_candidate_id="cand-1",
    profile_id="profile-1",
    given_name="Zoë",
    family_name="O'Brien",
    email="zoe.obrien@example.com",
    phone="+61 400 000 000",
)


async def settle(world: World, count: int) -> list[callbacks.CallbackResult]:
    for _ in range(200):
        rows = world.inbox.callbacks_after(0)
        if len(rows) >= count:
            return callbacks.results([r.raw for r in rows])
        await asyncio.sleep(0.02)
    raise AssertionError("callbacks did not arrive")


def by_id(records: list[UploadRecord]) -> dict[str, UploadRecord]:
    return {r.attachment_id: r for r in records}


async def test_new_candidate_created_once_then_files_appended_and_confirmed(world: World) -> None:
    files = [stored_file(world, 0, "Resume")] + [stored_file(world, i, None) for i in range(1, 7)]
    files.append(stored_file(world, 7, None, size=5_000_001))  # too big for base64: by URL
    first = await world.target.push(CANDIDATE, files, None, {})
    assert first.candidate.state == "pending_create"
    states = by_id(first.uploads)
    assert sum(1 for r in states.values() if r.state == "accepted") == 6  # 1 CV + 5 others
    # The candidate applies again before the create settles: nothing is created twice.
    again = await world.target.push(CANDIDATE, files, first.candidate, states)
    assert again.candidate.state == "pending_create"
    assert world.sandbox.count("onderwijsregio.create") == 1
    results = await settle(world, 1)
    done = await world.target.reconcile(
        CANDIDATE, files, again.candidate, by_id(again.uploads), results
    )
    assert done.candidate.state == "exists" and done.candidate.ats_id
    rest = await world.target.push(CANDIDATE, files, done.candidate, by_id(done.uploads))
    assert all(r.state in ("accepted", "confirmed") for r in rest.uploads)
    results = await settle(world, 2)
    final = await world.target.reconcile(
        CANDIDATE, files, rest.candidate, by_id(rest.uploads), results
    )
    assert {r.state for r in final.uploads} == {"confirmed"}
    assert len(world.fake.candidates()) == 1
    got = {(u["filename"], u["size"], u["sha256"]) for u in world.fake.uploads}
    assert got == {(f.filename, f.size, f.sha256) for f in files}, got
    big = next(u for u in world.fake.uploads if u["size"] == 5_000_001)
    assert big["field"] == "otherAttachments"


async def test_disallowed_type_is_rejected_and_never_sent(world: World) -> None:
    files = [stored_file(world, 0, "Resume"), stored_file(world, 1, None, kind="zip")]
    result = await world.target.push(CANDIDATE, files, None, {})
    states = by_id(result.uploads)
    assert states["att-1"].state == "rejected" and "allow-list" in (
        states["att-1"].last_error or ""
    )
    await settle(world, 1)
    assert [u["filename"] for u in world.fake.uploads] == ["document-0.pdf"]


async def test_retry_after_a_lost_202_uploads_once(world: World) -> None:
    files = [stored_file(world, 0, "Resume"), stored_file(world, 1, None)]
    created = await world.target.push(CANDIDATE, files[:1], None, {})
    results = await settle(world, 1)
    known = await world.target.reconcile(
        CANDIDATE, files, created.candidate, by_id(created.uploads), results
    )
    world.sandbox.add_fault("onderwijsregio.attachments", "lose_response")
    pushed = await world.target.push(CANDIDATE, files, known.candidate, by_id(known.uploads))
    assert by_id(pushed.uploads)["att-1"].state == "accepted"
    await settle(world, 2)
    assert world.sandbox.count("onderwijsregio.attachments") == 2  # the lost one and the retry
    assert world.fake.replayed == 1
    assert [u["filename"] for u in world.fake.uploads].count("document-1.pdf") == 1


async def test_confirmed_by_reading_back_when_no_callback_comes(world: World) -> None:
    world.fake.lose_callbacks = 5
    files = [stored_file(world, 0, "Resume")]
    created = await world.target.push(CANDIDATE, files, None, {})
    await asyncio.sleep(0.3)
    done = await world.target.reconcile(
        CANDIDATE, files, created.candidate, by_id(created.uploads), []
    )
    assert done.candidate.state == "exists"
    assert by_id(done.uploads)["att-0"].state == "confirmed"
    assert world.inbox.callbacks_after(0) == []
