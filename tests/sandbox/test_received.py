"""The ATS fakes keep sizes and digests of what they receive; bytes only when spilled for a test."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import httpx

from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.kombo import kombo_fake
from seek_sync.sandbox.received import NOT_KEPT, ReceivedFiles
from tests.sandbox.onderwijsregio_helpers import PDF, item, running_api


def test_without_keeping_only_size_and_digest_remain_and_nothing_is_spilled() -> None:
    with running_api() as api:
        candidate = api.created(
            {"firstName": "Ada", "email": "ada@example.com", "curriculumVitae": [item()]}
        )
        (upload,) = api.fake.uploads
        assert (upload["size"], upload["sha256"]) == (len(PDF), hashlib.sha256(PDF).hexdigest())
        assert not hasattr(api.fake.engine.stores[False].files[upload["id"]], "data")
        received = api.sandbox.state.received
        seeded = sum(a.size for a in kombo_fake(api.sandbox.state).attachments())  # Kombo's own
        assert received.folder is None and received.bytes_received == seeded + len(PDF)
        # A succeeded mutation no longer holds its request (the base64 files in it).
        assert all(m.payload is None for m in api.fake.engine.stores[False].mutations.values())
        answer = httpx.get(candidate["curriculumVitae"][0]["url"])
        assert answer.status_code == 404 and answer.json()["error"] == NOT_KEPT


def test_kept_files_are_spilled_to_the_sandboxs_own_folder_and_removed_at_stop() -> None:
    config = SandboxConfig(applications=1, keep_received_files=True)
    with running_api(config) as api:
        candidate = api.created(
            {"firstName": "Alan", "email": "alan@example.com", "curriculumVitae": [item()]}
        )
        answer = httpx.get(candidate["curriculumVitae"][0]["url"])
        assert answer.status_code == 200 and answer.content == PDF
        folder = api.sandbox.state.received.folder
        assert folder is not None and (folder / hashlib.sha256(PDF).hexdigest()).is_file()
        home = Path(os.environ.get("SEEK_SYNC_HOME", Path.cwd() / ".seek-sync")).resolve()
        assert home not in folder.resolve().parents
        assert folder.resolve().parent == Path(tempfile.gettempdir()).resolve()
    assert not folder.exists()


def test_the_same_bytes_are_spilled_once_and_read_back_by_digest() -> None:
    received = ReceivedFiles(keep=True)
    try:
        first, again = received.take(b"same bytes"), received.take(bytearray(b"same bytes"))
        assert first == again and received.bytes_received == 20
        assert received.folder is not None and len(list(received.folder.iterdir())) == 1
        assert received.read(first.sha256) == b"same bytes"
        assert received.read("../" + first.sha256[3:]) is None
    finally:
        received.close()
