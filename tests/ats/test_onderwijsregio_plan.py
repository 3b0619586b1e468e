"""How the Onderwijsregio target plans a push: fields, batches of 5, data URI vs URL, rejections."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest

from seek_sync.ats.base import AtsFile, UploadRecord, idempotency_key
from seek_sync.ats.onderwijsregio import OnderwijsregioTarget
from seek_sync.ats.onderwijsregio_api import OnderwijsregioClient
from seek_sync.settings import load_settings

HIRER = "seekAnzPublicTest:organization:seek:AAAA1111"


class MemoryBlobs:
    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def read_bytes(self, blob_key: str) -> bytes:
        return self.data[blob_key]

    def signed_url(self, blob_key: str, content_type: str, *, now: float | None = None) -> str:
        return f"https://receiver.example/blobs/{blob_key}?signature=x"


def file(n: int, role: str | None, size: int = 100, kind: str = "application/pdf") -> AtsFile:
    return AtsFile(
        attachment_id=f"att-{n}",
        hirer_id=HIRER,
        profile_id="profile-1",
        role=role,  # type: ignore[arg-type]
        filename=f"file {n}.pdf",
        content_type=kind,
        size=size,
        sha256="0" * 64,
        blob_key=f"blob-{n}",
    )


@pytest.fixture
def target(tmp_path: Path) -> OnderwijsregioTarget:
    settings = load_settings(
        seek_client_id="x", seek_client_secret="y", seek_webhook_secret="w" * 32, home=tmp_path
    )
    client = OnderwijsregioClient(
        httpx.AsyncClient(),
        base_url="http://x/api/v2",
        api_key="k",
        settings=settings,  # type: ignore[arg-type]
    )
    return OnderwijsregioTarget(client, MemoryBlobs(), callback_url=None)


def test_resume_to_cv_field_others_to_other_at_most_five_each(target: OnderwijsregioTarget) -> None:
    files = [file(0, "Resume")] + [file(i, None) for i in range(1, 8)] + [file(8, "CoverLetter")]
    batches = target.batches(files)
    assert [len(b) for b in batches] == [6, 3]
    for batch in batches:
        assert sum(1 for f in batch if f.role == "Resume") <= 5
        assert sum(1 for f in batch if f.role != "Resume") <= 5
    assert {f.attachment_id for b in batches for f in b} == {f.attachment_id for f in files}


def test_small_files_inline_big_files_by_signed_url(target: OnderwijsregioTarget) -> None:
    target.blobs.data["blob-1"] = b"%PDF-small"  # type: ignore[attr-defined]
    small, big = file(1, "Resume", size=10), file(2, None, size=5_000_001)
    fields = target.fields([small, big])
    [cv] = fields["curriculumVitae"]
    assert cv["filename"] == "file 1.pdf"
    assert cv["data"] == "data:application/pdf;base64," + base64.b64encode(b"%PDF-small").decode()
    [other] = fields["otherAttachments"]
    assert other["url"].startswith("https://receiver.example/blobs/blob-2") and "data" not in other


@pytest.mark.parametrize(
    ("size", "kind", "reason"),
    [
        (100, "application/zip", "allow-list"),
        (100, "application/vnd.microsoft.portable-executable", "allow-list"),
        (25_000_001, "application/pdf", "URL limit"),
    ],
)
def test_rejections_name_the_reason(
    target: OnderwijsregioTarget, size: int, kind: str, reason: str
) -> None:
    assert reason in (target.rejection(file(1, None, size, kind)) or "")


def test_accepted_limits_are_inclusive(target: OnderwijsregioTarget) -> None:
    assert target.rejection(file(1, None, 25_000_000)) is None
    target.blobs.data["blob-1"] = b"x"  # type: ignore[attr-defined]
    assert "data" in target.item(file(1, None, 5_000_000))


def test_keys_are_deterministic_per_attachment_set_and_failure(
    target: OnderwijsregioTarget,
) -> None:
    from seek_sync.ats.base import AtsCandidate

    candidate = AtsCandidate(
        hirer_id=HIRER,
        seek_candidate_id="c1",
        profile_id="profile-1",
        given_name="Zoë",
        family_name="O'Brien",
        email="z@example.com",
        phone=None,
    )
    batch = [file(1, "Resume"), file(2, None)]
    records = {
        f.attachment_id: UploadRecord(target="onderwijsregio", hirer_id=HIRER, attachment_id=a)
        for f in batch
        for a in [f.attachment_id]
    }
    first = target.key(candidate, batch, records)
    assert first == target.key(candidate, list(reversed(batch)), records)
    assert first != target.key(candidate, batch[:1], records)
    records["att-2"].failures = 1
    assert first != target.key(candidate, batch, records)
    assert first != idempotency_key(
        "onderwijsregio", "another hirer", "profile-1", "att-1", "att-2"
    )
