"""A push for a hirer on demand, against the sandbox over real HTTP: the files come from SEEK at
push time, our content policy is decided from SEEK's bytes (never the declared type) before
anything is sent, big files travel as proxy URLs for that one attachment."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from seek_sync.ats.base import AtsFile, CandidateRecord, UploadRecord
from seek_sync.local_stack import sandbox_settings
from seek_sync.pipeline.ats_state import AtsState
from seek_sync.pipeline.on_demand import OnDemand, OnDemandFile, OnDemandSource
from seek_sync.proxy.tokens import verify_token
from seek_sync.sandbox.server import SandboxServer
from seek_sync.seek.client import SeekClient, http_client
from seek_sync.store.blobs import BlobStore
from seek_sync.store.signed_urls import SignedBlobSource
from seek_sync.store.warehouse_duckdb import DuckDBWarehouse
from tests.test_proxy import direct

SECRET = "proxy-signing-secret-for-tests-0123456789"
PROXY = "http://proxy.example:8702"


class Target:
    """What `prepare` reads of a target: its inline limit."""

    kind = "kombo"

    def __init__(self, data_limit: int) -> None:
        self.data_limit = data_limit


def edge_case(sandbox: SandboxServer, name: str) -> tuple[OnDemandFile, AtsFile, bytes]:
    application_id, attachment_id = sandbox.state.world.edge_cases[name]
    application = sandbox.state.world.by_application_id[application_id]
    url = f"{sandbox.base_url}/anzPublicTest/applications/{application_id}/attachments/"
    data = direct(sandbox, url + attachment_id).content
    sha = hashlib.sha256(data).hexdigest()
    found = OnDemandFile(
        application.hirer_id,
        application.profile_id,
        attachment_id,
        url + attachment_id,
        "kombo",
        sha,
    )
    file = AtsFile(
        attachment_id=attachment_id,
        hirer_id=application.hirer_id,
        profile_id=application.profile_id,
        role=None,
        filename="x.pdf",
        content_type="application/pdf",  # as declared: the policy must not believe it
        size=len(data),
        sha256=sha,
        blob_key="",
    )
    return found, file, data


def settings(sandbox: SandboxServer, tmp_path: Path) -> Any:
    return sandbox_settings(
        sandbox.info(),
        tmp_path,
        proxy_public_url=PROXY,
        proxy_signing_secret=SECRET,
        proxy_url_ttl_seconds=900,
    )


@pytest.mark.parametrize("inline", [True, False])
async def test_policy_from_seek_bytes_before_anything_is_sent(
    sandbox: SandboxServer, tmp_path: Path, inline: bool
) -> None:
    config = settings(sandbox, tmp_path)
    source = OnDemandSource(
        SignedBlobSource(
            BlobStore(tmp_path.as_uri()), public_base="http://r", secret=None, ttl=900
        ),
        config,
    )
    names = ("type_mismatch", "disallowed_zip", "exe_as_pdf")  # DOCX named PDF, ZIP, EXE as PDF
    cases = {}
    for name in names:
        found, file, data = edge_case(sandbox, name)
        key = source.register(found)
        cases[name] = (file.model_copy(update={"blob_key": key}), data)
    files = [file for file, _ in cases.values()]
    journaled: list[tuple[CandidateRecord | None, list[UploadRecord]]] = []
    with DuckDBWarehouse(tmp_path / "w.duckdb").session() as db:
        state = AtsState(db, "kombo", files[0].hirer_id)
    async with http_client(config) as http:
        seek = SeekClient(http, config)
        on_demand = OnDemand(source, seek)
        target = Target(10_000_000 if inline else 0)
        before = sandbox.count("attachment")
        await on_demand.prepare(target, state, files, {}, lambda c, u: journaled.append((c, u)))  # type: ignore[arg-type]
        assert sandbox.count("attachment") - before == 3  # each read from SEEK at push time

    docx, docx_bytes = cases["type_mismatch"]
    assert files == [docx]  # the DOCX named PDF goes on; the ZIP and the EXE do not
    reasons = {u.attachment_id: u.last_error for _, ups in journaled for u in ups}
    assert "archive" in str(reasons[cases["disallowed_zip"][0].attachment_id])
    assert "executable" in str(reasons[cases["exe_as_pdf"][0].attachment_id])
    assert {state.uploads[a].state for a in reasons} == {"rejected"}
    if inline:  # streamed through memory, then let go after the push
        assert source.read_bytes(docx.blob_key) == docx_bytes
        on_demand.release(files)
    with pytest.raises(LookupError):
        source.read_bytes(docx.blob_key)


def test_a_big_file_is_a_proxy_url_for_that_one_attachment(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    config = settings(sandbox, tmp_path)
    inner = SignedBlobSource(
        BlobStore(tmp_path.as_uri()),
        public_base="http://r",
        secret=b"blob-signing-secret-0123456789",
        ttl=900,
    )
    source = OnDemandSource(inner, config)
    found, _, _ = edge_case(sandbox, "type_mismatch")
    key = source.register(found)
    first = source.signed_url(key, "application/pdf", now=1_000_000)
    assert first.startswith(f"{PROXY}/attachments/")
    assert source.signed_url(key, "application/pdf", now=1_000_100) == first  # a resend: same
    claims = verify_token(first.rsplit("/", 1)[1], SECRET.encode(), now=1_000_100)
    assert (claims.hirer_id, claims.attachment_id, claims.url, claims.target) == (
        found.hirer_id,
        found.attachment_id,
        found.url,
        "kombo",
    )
    assert claims.expires >= 1_000_100 + 900
    # A stored file still gets a signed blob URL of the receiver (positive control).
    assert source.signed_url("h/ab/" + "a" * 64, "application/pdf").startswith("http://r/blobs/")


async def test_a_file_seek_removed_since_is_failed_with_the_reason(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    config = settings(sandbox, tmp_path)
    inner = SignedBlobSource(
        BlobStore(tmp_path.as_uri()), public_base="http://r", secret=None, ttl=9
    )
    source = OnDemandSource(inner, config)
    found, file, _ = edge_case(sandbox, "type_mismatch")
    application_id, removed = sandbox.state.world.edge_cases["removed"]
    url = f"{sandbox.base_url}/anzPublicTest/applications/{application_id}/attachments/{removed}"
    gone = OnDemandFile(found.hirer_id, found.profile_id, removed, url, "kombo", "0" * 64)
    files = [
        file.model_copy(update={"blob_key": source.register(found)}),
        file.model_copy(update={"attachment_id": removed, "blob_key": source.register(gone)}),
    ]
    journaled: list[UploadRecord] = []
    with DuckDBWarehouse(tmp_path / "w.duckdb").session() as db:
        state = AtsState(db, "kombo", file.hirer_id)
    async with http_client(config) as http:
        on_demand = OnDemand(source, SeekClient(http, config))
        await on_demand.prepare(
            Target(10_000_000),  # type: ignore[arg-type]
            state,
            files,
            {},
            lambda _, uploads: journaled.extend(uploads),
        )
    assert [f.attachment_id for f in files] == [found.attachment_id]  # the other goes on
    (record,) = journaled
    assert (record.attachment_id, record.state) == (removed, "failed")
    assert "SEEK no longer has the file" in str(record.last_error)
